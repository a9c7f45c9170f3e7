"""One small JSON-over-HTTP client for the hosted engines (OpenAI-compatible, LibreTranslate, DeepL, Google).

Engines are synchronous (``translate`` returns a list), so this uses the
standard library's ``urllib``. What it adds: JSON in and out, a timeout on
every request, retries with exponential backoff on 429 and 5xx that honour
``Retry-After``, and error messages that never contain the request headers
(where the keys travel).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from samachar.errors import TranslationError
from samachar.retry_after import parse_retry_after

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429})
PERMANENT_SERVER_STATUSES = frozenset({501, 505})  # "not implemented", "HTTP version": waiting will not help


def is_retryable(status: int) -> bool:
    """Worth another try after a wait: timeouts, rate limits and any 5xx but the permanent ones
    (gateways and CDNs answer 520–530 for a back end that is down for a while)."""
    return status in RETRY_STATUSES or (500 <= status < 600 and status not in PERMANENT_SERVER_STATUSES)


def public_host(url: str) -> str:
    """``host[:port]`` of ``url`` without any ``user:password@``: safe for logs, errors and memory keys."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def public_url(url: str) -> str:
    """``url`` without credentials or query string (where API keys sometimes travel)."""
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=public_host(url), query="", fragment="").geturl()


class ApiStatusError(TranslationError):
    """The API answered with an error status after the retries."""

    def __init__(self, message: str, status: int, body: str = ""):
        super().__init__(message)
        self.status = status
        self.body = body


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_url(request: urllib.request.Request, timeout: float):
    """``urlopen`` that never sends loopback traffic through an environment proxy."""
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(request.full_url) else []
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


@dataclass
class JsonApi:
    """POSTs JSON to one service, retrying what is worth retrying.

    ``headers`` may hold secrets; they are excluded from ``repr`` and never logged.
    """

    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 1.0  # first wait without Retry-After; doubles each time
    max_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def post(self, path: str, body: Any, *, form: bool = False, headers: dict[str, str] | None = None) -> Any:
        """POST ``body`` (JSON, or form-encoded when ``form``) and return the decoded JSON answer."""
        return self.request("POST", path, body, form=form, headers=headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, None, headers=headers)

    def request(self, method: str, path: str, body: Any, *, form: bool = False,
                headers: dict[str, str] | None = None) -> Any:
        url = self.url(path)
        all_headers = {"Accept": "application/json", "User-Agent": "samachar", **self.headers, **(headers or {})}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body, doseq=True).encode()
                all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                all_headers["Content-Type"] = "application/json"
        where = f"{method} {public_url(url)}"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
            wait: float | None = None
            try:
                with open_url(request, self.timeout) as response:
                    raw = response.read()
                    return json.loads(raw.decode("utf-8")) if raw.strip() else None
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")[:500]
                if not is_retryable(exc.code) or attempt >= self.max_retries:
                    raise ApiStatusError(f"{where} answered {exc.code}: {_one_line(text)}", exc.code, text) from None
                wait = parse_retry_after(exc.headers.get("Retry-After"))
                reason = f"status {exc.code}"
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
                if attempt >= self.max_retries:
                    raise TranslationError(f"{where} failed: {getattr(exc, 'reason', exc)}") from None
                reason = str(getattr(exc, "reason", exc))
            except ValueError as exc:
                raise TranslationError(f"{where} answered something that is not JSON: {exc}") from None
            if wait is None:
                wait = self.backoff * (2 ** attempt) * (0.75 + random.random() / 2)
            wait = min(wait, self.max_wait)
            attempt += 1
            log.warning("%s: %s; retry %d/%d in %.1fs", where, reason, attempt, self.max_retries, wait)
            self.sleep(wait)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def batches_by_size(segments: list[str], max_size: int, max_items: int = 1000,
                    measure: Callable[[str], int] = len) -> list[list[str]]:
    """Consecutive segments grouped under a size and an item limit (API request caps).

    ``measure`` is how the API counts: characters by default; ``utf8_bytes`` where the cap is on
    the request body (Devanagari takes three bytes a character).
    """
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for segment in segments:
        cost = measure(segment)
        if current and (size + cost > max_size or len(current) >= max_items):
            batches.append(current)
            current, size = [], 0
        current.append(segment)
        size += cost
    if current:
        batches.append(current)
    return batches


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))
