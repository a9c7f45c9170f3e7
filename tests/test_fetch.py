"""HttpClient against servers this test starts on loopback (127.0.0.1/127.0.0.2, port 0).

Every server counts the requests that reach it, so "refused" means "zero
requests arrived", not just "an exception was raised".
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from samachar.errors import (
    BlockedAddress,
    FetchError,
    HTTPStatusError,
    RobotsDisallowed,
    RobotsUnavailable,
    TooLarge,
    TooManyRedirects,
)
from samachar.fetch import FetchResult, HttpClient, decode_body, parse_retry_after
from samachar.fetch.guard import blocked_reason

pytestmark = pytest.mark.timeout(60)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Loop</title>
<link>http://feeds.test/</link><description>x</description>
<item><title>One</title><link>http://feeds.test/1</link><guid>http://feeds.test/1</guid></item>
</channel></rss>"""


class LoopbackServer:
    """An aiohttp.web app on a loopback address and a free port, counting requests per path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.routes: dict[str, Handler] = {}
        self.app = web.Application(middlewares=[self._count])
        self.app.router.add_get("/{tail:.*}", self._dispatch)
        self.port = 0
        self._runner: web.AppRunner | None = None

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.headers.append(dict(request.headers))
        return await handler(request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self.routes.get(request.path)
        if handler is None:
            prefixes = [p for p in self.routes if p.endswith("*") and request.path.startswith(p[:-1])]
            if not prefixes:
                return web.Response(status=404)
            handler = self.routes[max(prefixes, key=len)]
        return await handler(request)

    def route(self, path: str, handler: Handler) -> None:
        """Serve ``path`` (a trailing ``*`` matches any rest); routes may be added while running."""
        self.routes[path] = handler

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    async def __aenter__(self) -> LoopbackServer:
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


class StaticResolver(AbstractResolver):
    """DNS for made-up names (``*.test``): the edge of the unit, nothing else is faked."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.names:
            raise OSError(f"unknown host {host}")
        return [ResolveResult(hostname=host, host=self.names[host], port=port, family=socket.AF_INET, proto=0, flags=0)]

    async def close(self) -> None:
        return None


def feed_handler(body: bytes = RSS, etag: str = '"v1"', content_type: str = "application/rss+xml") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})

    return handler


def redirect_to(target: Callable[[], str], status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": target()})

    return handler


def run(coro: Awaitable[object]) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


# --- SSRF guard ---------------------------------------------------------------


def test_default_client_never_reaches_a_loopback_server() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler())
            async with HttpClient() as client:
                for url in (
                    server.url("/feed.xml"),  # IP literal
                    server.url("/feed.xml", "localhost"),  # name resolved by the system resolver
                    f"http://[::ffff:127.0.0.1]:{server.port}/feed.xml",  # IPv4-mapped IPv6 literal
                ):
                    with pytest.raises(BlockedAddress) as caught:
                        await client.fetch(url)
                    assert "\n" not in str(caught.value)
                # 127.0.0.1 as one decimal number: refused one way or another, never sent.
                with pytest.raises(FetchError):
                    await client.fetch(f"http://2130706433:{server.port}/feed.xml")
            assert server.total == 0

    run(scenario())


def test_guard_checks_the_resolved_address_not_the_name() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler())
            resolver = StaticResolver({"news.test": "127.0.0.1"})
            async with HttpClient(resolver=resolver) as client:
                with pytest.raises(BlockedAddress, match="127.0.0.1"):
                    await client.fetch(server.url("/feed.xml", "news.test"))
            assert server.total == 0
            async with HttpClient(resolver=resolver, allow_private=True) as client:
                result = await client.fetch(server.url("/feed.xml", "news.test"))
                assert result.status == 200 and b"<rss" in result.body
            assert server.total == 1

    run(scenario())


def test_guard_applies_on_every_redirect_hop() -> None:
    """127.0.0.1 is let through by name; its redirects to 127.0.0.2 are refused before connecting."""

    async def scenario() -> None:
        async with LoopbackServer("127.0.0.1") as front, LoopbackServer("127.0.0.2") as inner:
            inner.route("/feed.xml", feed_handler())
            front.route("/to-literal", redirect_to(lambda: inner.url("/feed.xml")))
            front.route("/to-name", redirect_to(lambda: inner.url("/feed.xml", "inner.test"), 301))
            resolver = StaticResolver({"inner.test": "127.0.0.2"})
            async with HttpClient(allow_addresses={"127.0.0.1"}, resolver=resolver) as client:
                with pytest.raises(BlockedAddress):
                    await client.fetch(front.url("/to-literal"))
                with pytest.raises(BlockedAddress):
                    await client.fetch(front.url("/to-name"))
            assert front.hits["/to-literal"] == 1 and front.hits["/to-name"] == 1
            assert inner.total == 0
            async with HttpClient(allow_private=True, resolver=resolver) as client:
                result = await client.fetch(front.url("/to-name"))
            assert inner.hits["/feed.xml"] == 1
            assert result.url == inner.url("/feed.xml", "inner.test")
            assert result.permanent_url == result.url  # a 301 chain moves the feed

    run(scenario())


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "not globally routable"),
        ("fc00::1", "private"),
    ],
)
def test_blocked_reason(address: str, reason: str) -> None:
    assert blocked_reason(address) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None


# --- HTTP behaviour -------------------------------------------------------------


def test_conditional_get_user_agent_and_headers() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler())
            async with HttpClient(allow_private=True, user_agent="samachar-test/1") as client:
                first = await client.fetch(server.url("/feed.xml"))
                second = await client.fetch(server.url("/feed.xml"), etag=first.etag)
            assert first.status == 200 and not first.not_modified and first.etag == '"v1"'
            assert second.status == 304 and second.not_modified and second.body == b""
            assert second.etag == '"v1"'
            assert server.headers[0]["User-Agent"] == "samachar-test/1"
            assert "If-None-Match" not in server.headers[0]
            assert server.headers[1]["If-None-Match"] == '"v1"'

    run(scenario())


def test_if_modified_since_is_sent() -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-Modified-Since") == stamp:
            return web.Response(status=304)
        return web.Response(body=RSS, headers={"Last-Modified": stamp})

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/f", handler)
            async with HttpClient(allow_private=True) as client:
                first = await client.fetch(server.url("/f"))
                second = await client.fetch(server.url("/f"), last_modified=first.last_modified)
            assert first.last_modified == stamp and second.not_modified
            assert second.last_modified == stamp

    run(scenario())


def test_redirect_loop_and_redirect_limit() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/a", redirect_to(lambda: server.url("/b")))
            server.route("/b", redirect_to(lambda: "/a"))
            for i in range(10):
                server.route(f"/chain{i}", redirect_to(lambda i=i: f"/chain{i + 1}"))
            async with HttpClient(allow_private=True, max_redirects=3) as client:
                with pytest.raises(TooManyRedirects, match="loop"):
                    await client.fetch(server.url("/a"))
                with pytest.raises(TooManyRedirects, match="more than 3"):
                    await client.fetch(server.url("/chain0"))
            assert server.hits["/chain4"] == 0

    run(scenario())


def test_status_errors_carry_status_and_retry_after() -> None:
    async def not_found(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404)

    async def busy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "120"})

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/missing", not_found)
            server.route("/busy", busy)
            server.route("/other", feed_handler())
            async with HttpClient(allow_private=True) as client:
                with pytest.raises(HTTPStatusError) as missing:
                    await client.fetch(server.url("/missing"))
                assert missing.value.status == 404 and "404" in str(missing.value)
                with pytest.raises(HTTPStatusError) as limited:
                    await client.fetch(server.url("/busy"))
                assert limited.value.status == 429 and limited.value.retry_after == 120
                # Politeness: the host asked for two minutes; the next request to it waits, unsent.
                with pytest.raises(HTTPStatusError, match="Retry-After"):
                    await client.fetch(server.url("/other"))
            assert server.hits["/other"] == 0

    run(scenario())


def test_never_answering_server_times_out() -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(text="late")

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/hang", hang)
            async with HttpClient(allow_private=True, timeout=0.5) as client:
                started = time.monotonic()
                with pytest.raises(FetchError, match="timed out"):
                    await client.fetch(server.url("/hang"))
                assert time.monotonic() - started < 3

    run(scenario())


def test_body_cap_declared_streamed_and_gzip_bomb() -> None:
    big = b"x" * 300_000
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # ~64 KB on the wire

    async def declared(request: web.Request) -> web.StreamResponse:
        return web.Response(body=big)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"y" * 20_000)
        await response.write_eof()
        return response

    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/declared", declared)
            server.route("/streamed", streamed)
            server.route("/bomb", gzip_bomb)
            async with HttpClient(allow_private=True, max_bytes=100_000) as client:
                with pytest.raises(TooLarge, match="cap"):
                    await client.fetch(server.url("/declared"))
                with pytest.raises(TooLarge, match="cap"):
                    await client.fetch(server.url("/streamed"))
                with pytest.raises(TooLarge, match="decompression"):
                    await client.fetch(server.url("/bomb"))

    run(scenario())
    assert len(bomb) < 200_000


def test_gzip_and_raw_deflate_bodies_are_decoded() -> None:
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(RSS) + raw.flush()

    async def gz(request: web.Request) -> web.StreamResponse:
        return web.Response(body=gzip.compress(RSS), headers={"Content-Encoding": "gzip"})

    async def df(request: web.Request) -> web.StreamResponse:
        return web.Response(body=deflated, headers={"Content-Encoding": "deflate"})

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/gz", gz)
            server.route("/df", df)
            async with HttpClient(allow_private=True) as client:
                assert (await client.fetch(server.url("/gz"))).body == RSS
                assert (await client.fetch(server.url("/df"))).body == RSS
            assert "gzip" in server.headers[0]["Accept-Encoding"]

    run(scenario())


def test_per_host_concurrency_limit() -> None:
    state = {"now": 0, "max": 0}

    async def slow(request: web.Request) -> web.StreamResponse:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.05)
        state["now"] -= 1
        return web.Response(body=RSS)

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/slow", slow)
            async with HttpClient(allow_private=True, per_host=2) as client:
                await asyncio.gather(*(client.fetch(server.url(f"/slow?n={i}")) for i in range(8)))
            assert server.hits["/slow"] == 8

    run(scenario())
    assert state["max"] == 2


def test_robots_txt_for_article_pages() -> None:
    async def robots(request: web.Request) -> web.StreamResponse:
        return web.Response(text="User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html><body>hi</body></html>", content_type="text/html")

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/robots.txt", robots)
            server.route("/news/*", page)
            server.route("/private/*", page)
            async with HttpClient(allow_private=True) as client:
                for n in range(3):
                    result = await client.fetch(server.url(f"/news/{n}"), robots=True)
                    assert result.status == 200
                with pytest.raises(RobotsDisallowed, match="disallows /private/1"):
                    await client.fetch(server.url("/private/1"), robots=True)
                await client.fetch(server.url("/private/2"))  # feeds and explicit fetches skip robots
            assert server.hits["/robots.txt"] == 1  # cached per host
            assert server.hits["/private/1"] == 0 and server.hits["/private/2"] == 1

    run(scenario())


def test_robots_txt_server_error_means_disallow_and_404_means_allow() -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<p>x</p>", content_type="text/html")

    async def scenario() -> None:
        async with LoopbackServer("127.0.0.1") as down, LoopbackServer("127.0.0.2") as plain:
            down.route("/robots.txt", broken)
            down.route("/a", page)
            plain.route("/a", page)
            async with HttpClient(allow_private=True) as client:
                with pytest.raises(RobotsUnavailable, match="unavailable"):
                    await client.fetch(down.url("/a"), robots=True)
                assert (await client.fetch(plain.url("/a"), robots=True)).status == 200
            assert down.hits["/a"] == 0 and plain.hits["/robots.txt"] == 1

    run(scenario())


# --- FetchResult ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        ("Café".encode("utf-8"), "text/html; charset=utf-8", "Café"),
        ("Café".encode("cp1252"), "text/html; charset=windows-1252", "Café"),
        ("“Café”".encode("utf-8"), "text/xml; charset=iso-8859-1", "“Café”"),  # wrong header over UTF-8
        ('<?xml version="1.0" encoding="iso-8859-1"?><t>Café</t>'.encode("latin-1"), "application/xml", "Café"),
        ('<meta charset="windows-1251"><p>Новости</p>'.encode("cp1251"), "text/html", "Новости"),
        ("समाचार".encode("utf-16"), None, "समाचार"),
        (("Привет, это новости дня. " * 20).encode("koi8-r"), None, "Привет, это новости дня."),
    ],
)
def test_text_decoding_order(body: bytes, content_type: str | None, expected: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert expected in FetchResult(url="http://x.test/", status=200, body=body, headers=headers).text()
    assert expected in decode_body(body, content_type)


def test_max_age_and_retry_after_parsing() -> None:
    def result(control: str) -> FetchResult:
        return FetchResult(url="u", status=200, body=b"", headers={"cache-control": control})

    assert result("public, max-age=3600").max_age == 3600
    assert result("s-maxage=60").max_age == 60
    assert result("no-cache, max-age=60").max_age is None
    assert FetchResult(url="u", status=200, body=b"").max_age is None
    assert parse_retry_after("120") == 120
    later = format_datetime(datetime.now(timezone.utc) + timedelta(minutes=10), usegmt=True)
    assert 540 < parse_retry_after(later) <= 600
    assert parse_retry_after("soon") is None


def test_bad_urls_are_one_line_errors() -> None:
    async def scenario() -> None:
        async with HttpClient() as client:
            for url in ("ftp://example.test/feed", "not a url", "http:///nohost", "file:///etc/passwd"):
                with pytest.raises(FetchError) as caught:
                    await client.fetch(url)
                assert "\n" not in str(caught.value)

    run(scenario())
