"""A loopback HTTP server for the bundled demo samples.

The demo cannot know its port in advance, so the sample files say ``{{BASE}}``
and this server replaces it with its own base URL (``http://127.0.0.1:PORT``)
when it loads them. It behaves like a well-configured news site, so the
pipeline's fetcher meets the real thing: proper Content-Types, ETag and
Last-Modified validators, 304 answers to conditional requests, a robots.txt.

    with SampleServer() as base_url:
        feed_url = base_url + feed_paths()[0]
        ...

The server runs on a daemon thread and stops when the ``with`` block ends.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from samachar.demo import BASE_PLACEHOLDER, samples_dir

log = logging.getLogger(__name__)

FEED_CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
CONTENT_TYPES_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Metadata for tests and the demo runner, not part of the fictional web.
NOT_SERVED = {"manifest.json"}


@dataclass(frozen=True)
class SampleResource:
    """One file as the server sends it: placeholder filled, validators computed."""

    body: bytes
    content_type: str
    etag: str  # quoted, strong
    last_modified: int  # seconds since the epoch

    @property
    def last_modified_header(self) -> str:
        return formatdate(self.last_modified, usegmt=True)


def load_resources(root: Path, base_url: str) -> dict[str, SampleResource]:
    """Every servable file under ``root``, keyed by URL path (``/a/b.html``)."""
    feed_types = _feed_content_types(root)
    resources: dict[str, SampleResource] = {}
    for file in sorted(root.rglob("*")):
        if not file.is_file() or file.name.startswith("."):
            continue
        rel = file.relative_to(root).as_posix()
        if rel in NOT_SERVED:
            continue
        path = "/" + rel
        body = file.read_bytes().replace(BASE_PLACEHOLDER.encode(), base_url.encode())
        content_type = feed_types.get(path) or CONTENT_TYPES_BY_SUFFIX.get(
            file.suffix.lower(), "application/octet-stream"
        )
        resources[path] = SampleResource(
            body=body,
            content_type=content_type,
            etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
            last_modified=int(file.stat().st_mtime),
        )
    return resources


def _feed_content_types(root: Path) -> dict[str, str]:
    """Feed paths → Content-Type, from the manifest (XML alone cannot tell RSS from Atom by name)."""
    manifest = root / "manifest.json"
    if not manifest.is_file():
        return {}
    feeds = json.loads(manifest.read_text(encoding="utf-8")).get("feeds", [])
    return {f["path"]: FEED_CONTENT_TYPES[f["format"]] for f in feeds if f.get("format") in FEED_CONTENT_TYPES}


class _SampleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    resources: dict[str, SampleResource]
    request_log: list[tuple[str, str, int]]


class _SampleRequestHandler(BaseHTTPRequestHandler):
    server: _SampleHTTPServer
    server_version = "SamacharSamples/1.0"
    timeout = 15  # a stalled client must not hold a thread for ever

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        resource = self.server.resources.get(path)
        if resource is None:
            if path + "/index.html" in self.server.resources:
                self._send_redirect(path + "/")
            else:
                self._send_plain(HTTPStatus.NOT_FOUND, "not found\n", send_body)
            return
        if self._not_modified(resource):
            self._record(HTTPStatus.NOT_MODIFIED)
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_validators(resource)
            self.end_headers()
            return
        self._record(HTTPStatus.OK)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self._send_validators(resource)
        self.end_headers()
        if send_body:
            self._write(resource.body)

    def _not_modified(self, resource: SampleResource) -> bool:
        """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip() for tag in if_none_match.split(",")]
            return "*" in tags or any(tag.removeprefix("W/") == resource.etag for tag in tags)
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError, IndexError):
                return False
            return resource.last_modified <= since
        return False

    def _send_validators(self, resource: SampleResource) -> None:
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", resource.last_modified_header)
        self.send_header("Cache-Control", "no-cache")

    def _send_redirect(self, location: str) -> None:
        self._record(HTTPStatus.MOVED_PERMANENTLY)
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_plain(self, status: HTTPStatus, text: str, send_body: bool) -> None:
        body = text.encode()
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self._write(body)

    def _write(self, body: bytes) -> None:
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("sample server: client went away during %s", self.path)

    def _record(self, status: int) -> None:
        self.server.request_log.append((self.command, self.path, int(status)))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("sample server: " + format, *args)


class SampleServer:
    """Serves the demo samples on a loopback port from a background thread.

    ``with SampleServer() as base_url:`` starts it and yields
    ``http://127.0.0.1:PORT``; leaving the block shuts it down and closes the
    socket. ``request_log`` keeps ``(method, path, status)`` for every request,
    so a test can see, say, that a second poll was answered with 304.
    """

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"sample server host must be an IPv4 loopback address, got {host!r}") from None
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"sample server host must be an IPv4 loopback address, got {host!r}")
        self.root = Path(root) if root is not None else samples_dir()
        if not self.root.is_dir():
            raise FileNotFoundError(f"sample folder not found: {self.root}")
        self.host = host
        self.port = port
        self.request_log: list[tuple[str, str, int]] = []
        self._httpd: _SampleHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("sample server is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """Absolute URL of a served path such as ``/konkan-tide/atom.xml``."""
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        httpd = _SampleHTTPServer((self.host, self.port), _SampleRequestHandler)
        httpd.request_log = self.request_log
        self._httpd = httpd
        try:
            httpd.resources = load_resources(self.root, self.base_url)
        except Exception:
            httpd.server_close()
            self._httpd = None
            raise
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="samachar-sample-server", daemon=True
        )
        self._thread.start()
        log.debug("sample server: serving %s at %s", self.root, self.base_url)
        return self.base_url

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    """``python -m samachar.demo.server``: browse the samples by hand."""
    import time

    with SampleServer() as base_url:
        print(f"serving the demo samples at {base_url}/ (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
