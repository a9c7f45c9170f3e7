"""The one HTTP client for feeds and article pages.

Every request goes through :meth:`HttpClient.fetch`, which adds, on top of
aiohttp: the SSRF guard (see :mod:`samachar.fetch.guard`) on every hop,
redirects followed by hand to a limit, conditional GET, a cap on the
*decompressed* body, ``Retry-After`` remembered per host, a per-host
concurrency limit and, for article pages, robots.txt (Protego), cached per
host. Every failure is a :class:`samachar.errors.FetchError` subclass with a
one-line message.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict

from samachar.errors import (
    BlockedAddress,
    FetchError,
    HTTPStatusError,
    RobotsDisallowed,
    RobotsUnavailable,
    TooLarge,
    TooManyRedirects,
)
from samachar.fetch.guard import GuardedResolver, check_ip_literal
from samachar.fetch.result import FetchResult
from samachar.retry_after import parse_retry_after

DEFAULT_USER_AGENT = "samachar/0.1 (+https://github.com/samachar/samachar; news syndication)"
ROBOTS_AGENT = "samachar"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
PERMANENT_STATUSES = {301, 308}
WAIT_AT_MOST = 2.0  # a Retry-After shorter than this is waited out; a longer one fails fast
ROBOTS_TTL = 24 * 3600.0
ROBOTS_ERROR_TTL = 600.0
ROBOTS_MAX_BYTES = 512 * 1024


class HttpClient:
    """``async with HttpClient() as client: result = await client.fetch(url)``."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 20.0,
        connect_timeout: float = 10.0,
        max_bytes: int = 10 * 1024 * 1024,
        per_host: int = 2,
        max_redirects: int = 5,
        host_interval: float = 0.0,
        allow_addresses: Iterable[str] = (),
        resolver: AbstractResolver | None = None,
    ) -> None:
        """``allow_addresses`` lets named addresses through the guard without
        opening all private networks (an operator's internal feed host);
        ``resolver`` replaces DNS (custom resolvers, tests); the guard still
        checks what it returns."""
        self.allow_private = allow_private
        self.user_agent = user_agent
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_bytes = max_bytes
        self.per_host = max(1, per_host)
        self.max_redirects = max(0, max_redirects)
        self.host_interval = max(0.0, host_interval)
        self.allow_addresses = frozenset(allow_addresses)
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._last_start: dict[str, float] = {}
        self._not_before: dict[str, float] = {}
        self._crawl_delay: dict[str, float] = {}
        self._robots: dict[str, tuple[float, Any]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> HttpClient:
        inner = self._resolver or DefaultResolver()
        resolver = inner if self.allow_private else GuardedResolver(inner, self.allow_addresses)
        connector = aiohttp.TCPConnector(limit=200, limit_per_host=0, resolver=resolver, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,  # no proxy from the environment: the guard must see the real target
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=self.timeout, connect=self.connect_timeout, sock_connect=self.connect_timeout
            ),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = False,
        accept: str | None = None,
    ) -> FetchResult:
        """GET ``url`` following redirects; 304 comes back as a result, 4xx/5xx raise."""
        if self._session is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        if robots:
            await self._check_robots(url)
        headers = {"Accept": accept or FEED_ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        seen = {url}
        all_permanent = True
        for _ in range(self.max_redirects + 1):
            host = self._check_target(current)
            async with self._host_slot(host):
                status, location, result = await self._request(current, host, headers, etag, last_modified)
            if result is not None:
                if all_permanent and current != url:
                    result.permanent_url = current
                return result
            assert location is not None
            target = urljoin(current, location)
            if status not in PERMANENT_STATUSES:
                all_permanent = False
            if target in seen:
                raise TooManyRedirects(f"redirect loop: {_short(current)} -> {_short(target)}")
            seen.add(target)
            current = target
        raise TooManyRedirects(f"more than {self.max_redirects} redirects from {_short(url)}")

    def _check_target(self, url: str) -> str:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError(f"invalid URL: {_short(url)}") from None
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"unsupported URL scheme {parts.scheme or '(none)'!r}: {_short(url)}")
        if not parts.hostname:
            raise FetchError(f"URL has no host: {_short(url)}")
        if not self.allow_private:
            check_ip_literal(parts.hostname, self.allow_addresses)
        return f"{parts.hostname.lower()}:{port or (443 if parts.scheme == 'https' else 80)}"

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """At most ``per_host`` requests at once to one host, spaced by its interval."""
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = asyncio.Semaphore(self.per_host)
        async with slot:
            now = time.monotonic()
            wait = self._not_before.get(host, 0.0) - now
            if wait > WAIT_AT_MOST:
                raise HTTPStatusError(
                    f"{host.rsplit(':', 1)[0]} asked to wait {wait:.0f}s more (Retry-After)", 429, retry_after=wait
                )
            interval = max(self.host_interval, self._crawl_delay.get(host.rsplit(":", 1)[0], 0.0))
            wait = max(wait, self._last_start.get(host, -1e9) + interval - now)
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_start[host] = time.monotonic()
            yield

    async def _request(
        self, url: str, host: str, headers: dict[str, str], etag: str | None, last_modified: str | None
    ) -> tuple[int, str | None, FetchResult | None]:
        assert self._session is not None
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.get(url, headers=headers, allow_redirects=False) as response:
                    status = response.status
                    if status in REDIRECT_STATUSES and response.headers.get("Location"):
                        return status, response.headers["Location"], None
                    if status == 304:
                        return status, None, FetchResult(
                            url=url,
                            status=304,
                            body=b"",
                            headers=CIMultiDict(response.headers),
                            etag=response.headers.get("ETag") or etag,
                            last_modified=response.headers.get("Last-Modified") or last_modified,
                        )
                    if status >= 400 or status < 200:
                        raise self._status_error(url, host, response)
                    body = await self._read_body(url, response)
                    return status, None, FetchResult(
                        url=url,
                        status=status,
                        body=body,
                        headers=CIMultiDict(response.headers),
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                    )
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(f"timed out after {self.timeout:g}s: {_short(url)}") from None
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error if getattr(exc, "os_error", None) else exc
            raise FetchError(f"cannot connect to {host}: {_reason(cause)}") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"{type(exc).__name__} from {_short(url)}: {_reason(exc)}") from None
        except (OSError, ValueError, zlib.error) as exc:
            raise FetchError(f"{type(exc).__name__} from {_short(url)}: {_reason(exc)}") from None

    def _status_error(self, url: str, host: str, response: aiohttp.ClientResponse) -> HTTPStatusError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if response.status in (429, 503):
            # Politeness: the whole host waits, not just this URL.
            self._not_before[host] = time.monotonic() + min(retry_after if retry_after is not None else 60.0, 3600.0)
        reason = (response.reason or "").strip()
        text = f"HTTP {response.status}{' ' + reason if reason else ''} from {_short(url)}"
        if retry_after is not None:
            text += f" (retry after {retry_after:.0f}s)"
        return HTTPStatusError(text, response.status, retry_after=retry_after)

    async def _read_body(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate", ""):
            raise FetchError(f"unsupported Content-Encoding {encoding!r} from {_short(url)}")
        length = response.content_length
        if length is not None and length > self.max_bytes:
            raise TooLarge(f"body of {length} bytes is over the {self.max_bytes}-byte cap: {_short(url)}")
        decoder = _BoundedDecoder(encoding, self.max_bytes) if encoding not in ("identity", "") else None
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            data = decoder.feed(chunk) if decoder else chunk
            size += len(data)
            if size > self.max_bytes:
                raise TooLarge(f"body over the {self.max_bytes}-byte cap (after decompression): {_short(url)}")
            chunks.append(data)
        if decoder:
            tail = decoder.finish()
            size += len(tail)
            if size > self.max_bytes:
                raise TooLarge(f"body over the {self.max_bytes}-byte cap (after decompression): {_short(url)}")
            chunks.append(tail)
        return b"".join(chunks)

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return  # fetch() reports the bad URL itself
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None or cached[0] < time.monotonic():
                cached = await self._load_robots(origin, parts.hostname.lower())
                self._robots[origin] = cached
        rules = cached[1]
        if isinstance(rules, str):
            raise RobotsUnavailable(rules)
        if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
            raise RobotsDisallowed(f"robots.txt of {parts.hostname} disallows {_short(parts.path or '/')}")

    async def _load_robots(self, origin: str, hostname: str) -> tuple[float, Any]:
        """(expiry, rules): Protego rules, None (allow all) or a refusal message.

        Following RFC 9309: 4xx means no rules; a 5xx or unreachable robots.txt
        means "disallow all" for now, retried after ``ROBOTS_ERROR_TTL``.
        """
        from protego import Protego

        now = time.monotonic()
        try:
            result = await self.fetch(origin + "/robots.txt", accept="text/plain, */*;q=0.5")
        except HTTPStatusError as exc:
            if exc.status < 500:
                return now + ROBOTS_TTL, None
            return now + ROBOTS_ERROR_TTL, f"robots.txt of {hostname} unavailable (HTTP {exc.status}); not fetching"
        except BlockedAddress:
            raise
        except FetchError as exc:
            return now + ROBOTS_ERROR_TTL, f"robots.txt of {hostname} unreachable ({exc}); not fetching"
        rules = Protego.parse(result.text()[:ROBOTS_MAX_BYTES])
        delay = rules.crawl_delay(ROBOTS_AGENT)
        if delay:
            self._crawl_delay[hostname] = min(float(delay), 30.0)
        return now + ROBOTS_TTL, rules


class _BoundedDecoder:
    """gzip/deflate decompression that never produces more than ``limit`` bytes.

    zlib's ``max_length`` stops each step at what is still allowed, so a gzip
    bomb costs at most the cap in memory, never its expanded size.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.produced = 0
        self.raw_deflate_retry = encoding == "deflate"
        self._d = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected

    def feed(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        data = chunk
        while data:
            try:
                piece = self._d.decompress(data, self.limit - self.produced + 1)
            except zlib.error:
                if self.raw_deflate_retry and self.produced == 0:
                    self.raw_deflate_retry = False
                    self._d = zlib.decompressobj(wbits=-15)  # "deflate" sent without its zlib header
                    continue
                raise
            self.raw_deflate_retry = False
            self.produced += len(piece)
            out.append(piece)
            if self.produced > self.limit:
                break
            if self._d.eof and self._d.unused_data:
                data = self._d.unused_data  # the next gzip member
                self._d = zlib.decompressobj(wbits=47)
            else:
                data = self._d.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        return self._d.flush()


def _short(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
