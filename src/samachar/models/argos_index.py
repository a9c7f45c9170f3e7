"""Installing models from the Argos Translate package index.

The index is one JSON list of packages (``from_code``, ``to_code``,
``package_version``, ``links``). ``install_model`` downloads the package for a
pair with a progress bar, checks its size against ``Content-Length`` (and the
index's ``size``/``sha256`` when it gives them), then imports it like
``samachar models import`` would. Offline, it fails with one line that says
how to import a package fetched elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from samachar.errors import ConfigError, SamacharError
from samachar.models.registry import InstalledModel, import_model
from samachar.translate.engines.http_api import open_url

DEFAULT_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
CHUNK = 256 * 1024


class DownloadError(SamacharError):
    """The index or a package could not be fetched or failed its checks."""


def index_url() -> str:
    """``$SAMACHAR_MODEL_INDEX`` (a URL of an index.json), else Argos Translate's public index."""
    return os.environ.get("SAMACHAR_MODEL_INDEX") or DEFAULT_INDEX_URL


def _offline_hint(source: str, target: str) -> str:
    return (f"download the {source}→{target} .argosmodel on a connected machine and run "
            "'samachar models import FILE'")


def fetch_index(url: str | None = None, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    url = url or index_url()
    request = urllib.request.Request(url, headers={"User-Agent": "samachar"})
    try:
        with open_url(request, timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"cannot reach the model index {url}: {getattr(exc, 'reason', exc)}") from None
    except ValueError as exc:
        raise DownloadError(f"the model index {url} is not JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("packages", [])
    if not isinstance(data, list):
        raise DownloadError(f"the model index {url} is not a list of packages")
    return [p for p in data if isinstance(p, dict)]


def _version_key(package: dict[str, Any]) -> tuple:
    parts = str(package.get("package_version", "0")).replace("_", ".").split(".")
    return tuple(int(p) if p.isdigit() else 0 for p in parts)


def choose_package(index: list[dict[str, Any]], source: str, target: str) -> dict[str, Any]:
    matches = [p for p in index if p.get("from_code") == source and p.get("to_code") == target
               and p.get("package_type", "translate") == "translate" and p.get("links")]
    if not matches:
        pairs = sorted({f"{p.get('from_code')}→{p.get('to_code')}" for p in index if p.get("from_code")})
        near = [p for p in pairs if p.startswith(f"{source}→") or p.endswith(f"→{target}")]
        hint = f" (the index has {', '.join(near[:8])})" if near else ""
        raise DownloadError(f"the model index has no {source}→{target} package{hint}")
    return max(matches, key=_version_key)


def download(url: str, destination: Path, *, expected_size: int | None = None, sha256: str | None = None,
             timeout: float = 60.0, show_progress: bool = True) -> Path:
    """Stream ``url`` into ``destination``, checking its size and, when known, its SHA-256."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    request = urllib.request.Request(url, headers={"User-Agent": "samachar"})
    digest = hashlib.sha256()
    received = 0
    try:
        with open_url(request, timeout) as response, open(destination, "wb") as out:
            header = response.headers.get("Content-Length")
            announced = int(header) if header and header.isdigit() else None
            total = announced or expected_size
            with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                          disable=not show_progress, transient=True) as progress:
                task = progress.add_task(f"downloading {url.rsplit('/', 1)[-1]}", total=total)
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.update(task, advance=len(chunk))
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"download of {url} failed: {getattr(exc, 'reason', exc)}") from None
    for label, size in (("Content-Length", announced), ("the index", expected_size)):
        if size is not None and received != size:
            raise DownloadError(f"download of {url} is incomplete: {received} bytes, {label} says {size}")
    if sha256 and digest.hexdigest().lower() != sha256.lower():
        raise DownloadError(f"download of {url} fails its checksum (sha256 {digest.hexdigest()[:12]}…, "
                            f"expected {sha256[:12]}…)")
    return destination


def install_model(source: str, target: str, models_dir: Path, *, url: str | None = None, timeout: float = 60.0,
                  show_progress: bool = True, index: list[dict[str, Any]] | None = None) -> InstalledModel:
    """Download the newest Argos package for ``source``→``target`` and import it.

    ``index`` is an index already fetched (the demo asks it with a deadline of its own).
    """
    try:
        package = choose_package(index if index is not None else fetch_index(url, timeout=timeout), source, target)
    except DownloadError as exc:
        if "cannot reach" in str(exc):
            raise DownloadError(f"{exc}; {_offline_hint(source, target)}") from None
        raise
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    size = package.get("size") or package.get("filesize")
    checksum = package.get("sha256") or package.get("checksum")
    errors = []
    with tempfile.TemporaryDirectory(prefix=".download-", dir=models_dir) as tmp:
        for link in package["links"]:
            target_file = Path(tmp) / (link.rsplit("/", 1)[-1] or "package.argosmodel")
            try:
                download(link, target_file, expected_size=int(size) if size else None, sha256=checksum,
                         timeout=timeout, show_progress=show_progress)
            except DownloadError as exc:
                errors.append(str(exc))
                continue
            try:
                return import_model(target_file, models_dir, source=source, target=target)
            except ConfigError as exc:
                raise DownloadError(f"the downloaded package is not usable: {exc}") from None
    raise DownloadError(f"{errors[-1]}; {_offline_hint(source, target)}" if errors else "no download link")
