"""poll_source / poll_many against loopback servers: ingestion, 304s, every hostile case."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web
from test_fetch import RSS, LoopbackServer, feed_handler, redirect_to, run

from samachar.fetch import HttpClient
from samachar.model import PollOutcome, SourceState
from samachar.sources.poll import MAX_BACKOFF, MIN_INTERVAL, backoff_minutes, normal_interval, poll_many, poll_source

pytestmark = pytest.mark.timeout(60)
FEEDS = Path(__file__).resolve().parent / "data" / "feeds"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def _hostile_server(server: LoopbackServer) -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(text="late")

    async def status(code: int) -> web.Response:
        return web.Response(status=code)

    def fixed(body: bytes, **headers: str):
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers=headers)

        return handler

    def code(n: int):
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=n, text=f"status {n}")

        return handler

    bomb = gzip.compress(b" " * (48 * 1024 * 1024), compresslevel=9)
    server.route("/good.xml", feed_handler((FEEDS / "wellformed" / "rss20_full.xml").read_bytes()))
    server.route("/malformed", fixed(b"\x00\x01garbage that is not a feed at all"))
    server.route("/html", fixed((FEEDS / "illformed" / "html_page.html").read_bytes(), **{"Content-Type": "text/html"}))
    server.route("/loop-a", redirect_to(lambda: "/loop-b"))
    server.route("/loop-b", redirect_to(lambda: "/loop-a"))
    server.route("/missing", code(404))
    server.route("/gone", code(410))
    server.route("/hang", hang)
    server.route("/huge", fixed(b"<rss>" + b"x" * 3_000_000 + b"</rss>"))
    server.route("/bomb", fixed(bomb, **{"Content-Encoding": "gzip"}))
    server.route("/entity-bomb", fixed((FEEDS / "illformed" / "billion_laughs.xml").read_bytes()))


HOSTILE = {
    "/malformed": "not a feed",
    "/html": "HTML page",
    "/loop-a": "redirect loop",
    "/missing": "404",
    "/hang": "timed out",
    "/huge": "cap",
    "/bomb": "decompression",
    "/entity-bomb": "entity",
}


def test_private_feeds_are_ingested_only_when_allowed() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler((FEEDS / "wellformed" / "atom10.xml").read_bytes()))
            state = SourceState(id=1, url=server.url("/feed.xml"))
            async with HttpClient() as client:
                refused = await poll_source(client, state, NOW)
            assert refused.status == "error" and "loopback" in refused.error
            assert server.total == 0
            async with HttpClient(allow_private=True) as client:
                outcome = await poll_source(client, state, NOW)
            assert outcome.status == "ok" and outcome.error is None
            assert [e.title for e in outcome.feed.entries][:1] == ["Elections & results"]
            assert len(outcome.feed.entries) == 3 and outcome.etag == '"v1"'

    run(scenario())


def test_second_poll_is_conditional_and_adds_nothing() -> None:
    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler(RSS, etag='"abc"'))
            state = SourceState(id=7, url=server.url("/feed.xml"))
            async with HttpClient(allow_private=True) as client:
                first = await poll_source(client, state, NOW)
                state.etag, state.last_modified = first.etag, first.last_modified
                second = await poll_source(client, state, NOW)
            assert first.status == "ok" and len(first.feed.entries) == 1
            assert second.status == "not_modified" and second.feed is None
            assert second.etag == '"abc"' and second.error_count == 0
            assert server.headers[1]["If-None-Match"] == '"abc"'
            assert second.next_poll_at > NOW

    run(scenario())


def test_every_hostile_source_is_a_recorded_error_and_the_good_one_is_not_delayed() -> None:
    finished: dict[int, float] = {}

    async def scenario() -> list[PollOutcome]:
        async with LoopbackServer() as server:
            _hostile_server(server)
            paths = ["/good.xml", "/gone", *HOSTILE]
            states = [SourceState(id=i, url=server.url(p)) for i, p in enumerate(paths)]
            started = time.monotonic()

            def seen(outcome: PollOutcome) -> None:
                finished[outcome.source_id] = time.monotonic() - started

            async with HttpClient(allow_private=True, timeout=1.5, max_bytes=2_000_000, per_host=16) as client:
                outcomes = await poll_many(client, states, NOW, concurrency=16, on_outcome=seen)
            assert time.monotonic() - started < 10
            return outcomes

    outcomes = run(scenario())
    assert [o.source_id for o in outcomes] == list(range(len(outcomes)))
    good, gone, *bad = outcomes
    assert good.status == "ok" and len(good.feed.entries) == 3
    assert gone.status == "gone" and "410" in gone.error
    for outcome, (path, words) in zip(bad, HOSTILE.items(), strict=True):
        assert outcome.status == "error", path
        assert words.lower() in outcome.error.lower(), (path, outcome.error)
        assert "\n" not in outcome.error
        assert outcome.error_count == 1 and outcome.next_poll_at > NOW
    assert finished[0] < 1.0  # the good feed did not wait for the hanging one (1.5 s)
    assert finished[2 + list(HOSTILE).index("/hang")] >= 1.4  # that one really did hang until the timeout


def test_outer_time_limit_per_source() -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" ")
            await asyncio.sleep(0.1)
        return response

    async def scenario() -> PollOutcome:
        async with LoopbackServer() as server:
            server.route("/drip", drip)
            async with HttpClient(allow_private=True, timeout=30) as client:
                started = time.monotonic()
                [outcome] = await poll_many(client, [SourceState(id=1, url=server.url("/drip"))], NOW, time_limit=0.5)
                assert time.monotonic() - started < 3
                return outcome

    outcome = run(scenario())
    assert outcome.status == "error" and "time limit" in outcome.error


def test_permanent_redirect_reports_new_url_and_temporary_does_not() -> None:
    async def scenario() -> tuple[PollOutcome, PollOutcome]:
        async with LoopbackServer() as server:
            server.route("/new.xml", feed_handler())
            server.route("/old.xml", redirect_to(lambda: server.url("/new.xml"), 301))
            server.route("/tmp.xml", redirect_to(lambda: server.url("/new.xml"), 302))
            async with HttpClient(allow_private=True) as client:
                moved = await poll_source(client, SourceState(id=1, url=server.url("/old.xml")), NOW)
                temporary = await poll_source(client, SourceState(id=2, url=server.url("/tmp.xml")), NOW)
                assert moved.new_url == server.url("/new.xml")
            return moved, temporary

    moved, temporary = run(scenario())
    assert moved.status == "ok" and temporary.status == "ok"
    assert temporary.new_url is None


def test_retry_after_sets_the_next_poll() -> None:
    async def busy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "7200"})

    async def scenario() -> PollOutcome:
        async with LoopbackServer() as server:
            server.route("/busy", busy)
            async with HttpClient(allow_private=True) as client:
                return await poll_source(client, SourceState(id=1, url=server.url("/busy"), error_count=2), NOW)

    outcome = run(scenario())
    assert outcome.status == "error" and outcome.error_count == 3
    assert outcome.next_poll_at >= NOW + timedelta(minutes=120)


def test_schedule_respects_ttl_max_age_operator_and_clamps() -> None:
    state = SourceState(id=1, url="http://x.test/")
    assert normal_interval(state) == 30
    assert normal_interval(state, ttl=90) == 90
    assert normal_interval(state, ttl=10, max_age=3600) == 60
    assert normal_interval(state, ttl=1) == MIN_INTERVAL
    assert normal_interval(state, ttl=100_000) == 24 * 60
    assert normal_interval(SourceState(id=1, url="u", interval_minutes=15), ttl=90) == 15


def test_ttl_from_the_feed_drives_next_poll() -> None:
    async def scenario() -> PollOutcome:
        async with LoopbackServer() as server:
            server.route("/f", feed_handler((FEEDS / "wellformed" / "rss20_full.xml").read_bytes()))  # <ttl>30
            async with HttpClient(allow_private=True) as client:
                return await poll_source(client, SourceState(id=1, url=server.url("/f"), interval_minutes=None), NOW)

    outcome = run(scenario())
    assert outcome.feed.ttl == 30 and outcome.next_poll_at == NOW + timedelta(minutes=30)


def test_backoff_grows_is_capped_and_never_gives_up() -> None:
    state = SourceState(id=1, url="u")
    steps = [backoff_minutes(state, n) for n in range(1, 12)]
    assert steps[:4] == [30, 60, 120, 240]
    assert steps == sorted(steps) and max(steps) == MAX_BACKOFF
    assert backoff_minutes(state, 10_000) == MAX_BACKOFF  # a day, not "disabled"
    assert backoff_minutes(state, 1, retry_after=3 * 3600) >= 180


def test_poll_source_never_raises_on_bad_urls() -> None:
    async def scenario() -> list[PollOutcome]:
        async with HttpClient() as client:
            return await poll_many(
                client,
                [SourceState(id=1, url="not a url"), SourceState(id=2, url="ftp://x.test/f"), SourceState(id=3, url="")],
                NOW,
            )

    outcomes = run(scenario())
    assert [o.status for o in outcomes] == ["error", "error", "error"]


def test_a_page_over_the_size_cap_falls_back_to_the_feeds_content_at_once(tmp_path) -> None:
    from conftest import database_url
    from loopback import LoopbackSite

    from samachar.config import Config, FetchConfig
    from samachar.pipeline import Pipeline, RunReport
    from samachar.store import Store

    feed = """<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><link>{{BASE}}/</link>
<item><title>Huge page</title><link>{{BASE}}/huge.html</link><guid>{{BASE}}/huge.html</guid>
<description>&lt;p&gt;The feed says enough about the huge page to stand in for it.&lt;/p&gt;</description></item>
<item><title>Huge, nothing else</title><link>{{BASE}}/huge2.html</link><guid>{{BASE}}/huge2.html</guid></item>
</channel></rss>"""
    huge = "<html><body><p>" + "word " * 40_000 + "</p></body></html>"
    routes = {"/feed.xml": (200, "application/rss+xml", feed), "/huge.html": (200, "text/html", huge),
              "/huge2.html": (200, "text/html", huge), "/robots.txt": (404, "text/plain", "")}
    config = Config(home=tmp_path, fetch=FetchConfig(max_bytes=50_000))
    with LoopbackSite(routes) as site:
        pipeline = Pipeline(Store(database_url(tmp_path)), config, allow_private=True)
        pipeline.store.sources.add(site.url("/feed.xml"))
        report = pipeline.poll()
        pipeline.fetch_pages(report)
    entries = {e.title: e for e in pipeline.store.entries.list()}
    with_feed, bare = entries["Huge page"], entries["Huge, nothing else"]
    assert with_feed.state == "extracted" and with_feed.attempts == 0
    assert "cap" in with_feed.note and "feed's content" in with_feed.note
    assert bare.state == "failed" and "cap" in bare.error
    assert isinstance(report, RunReport) and report.failed == 1 and report.extracted == 1


def test_a_poll_keeps_the_feeds_title_as_the_sources_name(tmp_path) -> None:
    from conftest import database_url
    from loopback import LoopbackSite

    from samachar.config import Config
    from samachar.pipeline import Pipeline
    from samachar.store import Store

    feed = """<?xml version="1.0"?><rss version="2.0"><channel><title>Hill Post</title><link>https://hillpost.example/</link>
<item><title>One</title><link>https://hillpost.example/one</link></item></channel></rss>"""
    with LoopbackSite({"/feed.xml": (200, "application/rss+xml", feed)}) as site:
        pipeline = Pipeline(Store(database_url(tmp_path)), Config(home=tmp_path), allow_private=True)
        pipeline.store.sources.add(site.url("/feed.xml"))
        assert pipeline.poll().new_entries == 1
    [source] = pipeline.store.sources.list()
    assert (source.feed_title, source.site_url, source.display_name) == (
        "Hill Post", "https://hillpost.example/", "Hill Post")


def test_polling_loads_the_feed_parser_only_when_a_feed_comes_back() -> None:
    """A poll where every feed answers 304 parses nothing: its start-up must not pay for the parser."""
    import subprocess
    import sys

    probe = ("import sys; import samachar.sources.poll; "
             "print(sorted(m for m in sys.modules if m in ('samachar.sources.parse', 'samachar.extract')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def _feed_of_relative_links(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://news.example/{n}/story.html</link>"
        f"<description>&lt;p&gt;See &lt;a href=\"more.html\" onclick=\"x()\"&gt;more&lt;/a&gt; and "
        f"&lt;img src=\"../img/{n}.jpg\" alt=\"pic {n}\"&gt;&lt;/p&gt;</description></item>"
        for n in range(count))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            f'<link>https://news.example/</link>{items}</channel></rss>').encode()


def test_parsing_a_feed_builds_its_html_sanitizer_once_not_per_entry(monkeypatch) -> None:
    import nh3

    from samachar.sources.parse import parse_feed

    builds: list[str] = []
    real_clean, real_cleaner = nh3.clean, nh3.Cleaner

    def clean(html, **options):
        if "p" in (options.get("tags") or ()):  # the HTML allow-list, not the text one
            builds.append("clean")
        return real_clean(html, **options)

    def cleaner(**options):
        builds.append("Cleaner")
        return real_cleaner(**options)

    monkeypatch.setattr(nh3, "clean", clean)
    monkeypatch.setattr(nh3, "Cleaner", cleaner)
    feed = parse_feed(_feed_of_relative_links(40), "https://news.example/feed.xml")
    assert len(feed.entries) == 40
    assert len(builds) <= 1, builds


def test_each_entry_of_a_feed_resolves_its_links_against_its_own_page() -> None:
    from samachar.extract.sanitize import sanitize_html
    from samachar.sources.parse import parse_feed

    feed = parse_feed(_feed_of_relative_links(3), "https://news.example/feed.xml")
    for n, entry in enumerate(feed.entries):
        page = f"https://news.example/{n}/story.html"
        raw = f'<p>See <a href="more.html" onclick="x()">more</a> and <img src="../img/{n}.jpg" alt="pic {n}"></p>'
        assert entry.summary == sanitize_html(raw, page)
        assert f'href="https://news.example/{n}/more.html"' in entry.summary
        assert f'src="https://news.example/img/{n}.jpg"' in entry.summary and "onclick" not in entry.summary


def test_many_big_feeds_are_parsed_on_a_few_threads_not_one_per_feed(monkeypatch) -> None:
    """Parsing holds the GIL most of the time: more parse threads than cores only slow the storing thread."""
    import threading

    import samachar.sources.parse as parse
    from samachar.sources import poll

    real_parse = parse.parse_feed
    threads: set[int] = set()

    def watched(body: bytes, url: str):
        threads.add(threading.get_ident())
        time.sleep(0.05)  # long enough for the feeds to overlap
        return real_parse(body, url)

    monkeypatch.setattr(parse, "parse_feed", watched)
    big = _feed_of_relative_links(400)
    assert len(big) > poll.PARSE_IN_THREAD_BYTES

    loop_thread: list[int] = []

    async def scenario() -> list[PollOutcome]:
        loop_thread.append(threading.get_ident())
        async with LoopbackServer() as server:
            server.route("/feed/*", feed_handler(big))
            states = [SourceState(id=i, url=server.url(f"/feed/{i}")) for i in range(12)]
            async with HttpClient(allow_private=True, per_host=12) as client:
                return await poll_many(client, states, NOW)

    outcomes = run(scenario())
    assert [o.status for o in outcomes] == ["ok"] * 12 and all(len(o.feed.entries) == 400 for o in outcomes)
    assert poll.PARSE_THREADS == min(2, os.cpu_count() or 1)  # never more parse threads than two cores
    assert threads and loop_thread[0] not in threads  # every big feed was parsed off the event loop
    assert len(threads) <= poll.PARSE_THREADS  # 12 feeds at once, yet only the pool's threads parsed
