"""Entry identity, URL normalization, OPML and feed discovery."""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from test_fetch import RSS, LoopbackServer, feed_handler, run

from samachar.errors import FeedError
from samachar.fetch import HttpClient
from samachar.model import FeedEntry
from samachar.sources.discover import discover_feed_urls, resolve_feed_url
from samachar.sources.identity import entry_identity, normalize_url
from samachar.sources.opml import parse_opml, write_opml


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("HTTPS://News.Example.COM:443/a/b?id=5&utm_source=rss&utm_medium=feed#comments", "https://news.example.com/a/b?id=5"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=abc&gclid=1&p=2", "http://example.com:8080/x?p=2"),
        ("https://example.com/story?mc_cid=1&mc_eid=2&_ga=3&WT.mc_id=4", "https://example.com/story"),
        (
            "https://news.google.com/url?sa=t&url=https://site.example.org/story%3Fa%3D1&ct=ga",
            "https://site.example.org/story?a=1",
        ),
        ("https://www.google.com/url?q=https%3A%2F%2Fsite.example.org%2Fx%3Futm_source%3Dg&sa=D", "https://site.example.org/x"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fsite.example.org%2Fy&h=AT0", "https://site.example.org/y"),
        ("https://tracker.example.net/redirect?url=https%3A%2F%2Fsite.example.org%2Fz", "https://site.example.org/z"),
        ("https://site.example.org/search?url=relative-not-a-url", "https://site.example.org/search?url=relative-not-a-url"),
        ("https://site.example.org/a?b=2&a=1", "https://site.example.org/a?b=2&a=1"),  # order kept
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_identity_order_guid_url_then_hash() -> None:
    url_guid = FeedEntry(title="A", url="https://x.example/a?utm_source=rss", guid="https://X.example/a")
    assert entry_identity(url_guid, 1).key == "url:https://x.example/a"
    assert entry_identity(url_guid, 1).normalized_url == "https://x.example/a"

    opaque = FeedEntry(title="A", url="https://x.example/a", guid="post-17")
    assert entry_identity(opaque, 3).key == "guid:3:post-17"
    assert entry_identity(opaque, 4).key == "guid:4:post-17"  # opaque GUIDs are per source
    assert entry_identity(opaque, 3).normalized_url == "https://x.example/a"

    no_guid = FeedEntry(title="A", url="https://x.example/a?fbclid=zz")
    assert entry_identity(no_guid, 1).key == "url:https://x.example/a"

    bare = FeedEntry(title="Headline", summary="<p>Body  text</p>")
    same = FeedEntry(title="Headline ", content_html="<p>Body text</p>")
    other = FeedEntry(title="Headline", summary="<p>Different</p>")
    key = entry_identity(bare, 1).key
    assert key.startswith("hash:") and len(key) == 5 + 64
    assert key == entry_identity(same, 9).key
    assert key != entry_identity(other, 1).key
    assert entry_identity(bare, 1).normalized_url is None


def test_same_story_from_two_sources_has_one_key() -> None:
    a = FeedEntry(title="x", url="https://site.example.org/story?utm_campaign=a", guid="https://site.example.org/story")
    b = FeedEntry(title="x", url="https://news.google.com/url?url=https://site.example.org/story")
    assert entry_identity(a, 1).key == entry_identity(b, 2).key


NOW_PAGE = "https://blog.example.org/now.html"


def _now_page_entries(days: range, *, link_fragment: bool = True) -> list[FeedEntry]:
    """Entries of a "now" page: one anchor per day, as a real Atom feed writes them."""
    return [FeedEntry(title=f"Now, 2026-02-{d:02}", guid=f"{NOW_PAGE}#2026-02-{d:02}",
                      url=f"{NOW_PAGE}#2026-02-{d:02}" if link_fragment else NOW_PAGE,
                      summary=f"<p>Day {d}.</p>") for d in days]


@pytest.mark.parametrize("link_fragment", [True, False])
def test_ids_that_differ_only_by_their_fragment_are_different_entries(link_fragment: bool) -> None:
    idents = [entry_identity(e, 1) for e in _now_page_entries(range(1, 31), link_fragment=link_fragment)]
    assert len({i.key for i in idents}) == 30
    assert len({i.normalized_url for i in idents}) == 30  # the store dedupes on the link too
    assert idents[0].key == f"url:{NOW_PAGE}#2026-02-01"
    assert idents[0].legacy_key == f"url:{NOW_PAGE}"  # what older versions stored, to recognise it


def test_a_fragment_id_keeps_the_link_of_another_page_as_it_normalises() -> None:
    ident = entry_identity(FeedEntry(title="x", guid=f"{NOW_PAGE}#7", url="https://blog.example.org/post?utm_source=x"), 1)
    assert ident.key == f"url:{NOW_PAGE}#7" and ident.normalized_url == "https://blog.example.org/post"


def test_ids_without_a_fragment_keep_the_key_older_versions_stored() -> None:
    ident = entry_identity(FeedEntry(title="x", guid="https://Blog.example.org/p/1?utm_medium=rss"), 1)
    assert ident.key == "url:https://blog.example.org/p/1" and ident.legacy_key is None


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
<outline text="News">
  <outline text="Front &amp; centre" title="Front &amp; Centre" type="rss" xmlUrl="https://a.example/feed.xml" htmlUrl="https://a.example/"/>
  <outline text="Deeper"><outline text="Deep" xmlurl="https://b.example/atom"/></outline>
</outline>
<outline text="No url"/>
<outline text="Bad scheme" xmlUrl="javascript:alert(1)"/>
<outline text="&lt;b&gt;Tagged&lt;/b&gt;" xmlUrl="https://c.example/rss"/>
<outline text="Again" xmlUrl="https://a.example/feed.xml"/>
</body></opml>"""


def test_parse_opml_nested_and_cleaned() -> None:
    assert parse_opml(OPML) == [
        ("https://a.example/feed.xml", "Front & Centre"),
        ("https://b.example/atom", "Deep"),
        ("https://c.example/rss", "Tagged"),
    ]


def test_opml_round_trip() -> None:
    items = [("https://a.example/feed?x=1&y=2", 'Quotes "and" 1 < 2 & more'), ("https://b.example/rss", None)]
    text = write_opml(items, title="Mine & yours")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert parse_opml(text.encode()) == [items[0], ("https://b.example/rss", "https://b.example/rss")]


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"<html><body>no</body></html>", "root element"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<opml><body><outline text="&b;" xmlUrl="https://x.example/"/></body></opml>',
            "entity",
        ),
        (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml><body/></opml>', "entity"),
    ],
)
def test_hostile_opml_is_refused(data: bytes, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match=words):
        parse_opml(data)
    assert time.monotonic() - started < 1


PAGE = """<!doctype html><html><head>
<base href="https://site.example.org/news/">
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="feed.xml">
<link rel="alternate" type="application/atom+xml" href="https://site.example.org/atom">
<link rel="Alternate" type="application/feed+json; charset=utf-8" href="/feed.json">
<link rel="alternate" hreflang="hi" href="https://site.example.org/hi/">
<link rel="alternate" type="application/rss+xml" href="feed.xml">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body></body></html>"""


def test_discover_feed_urls() -> None:
    assert discover_feed_urls(PAGE, "https://site.example.org/") == [
        "https://site.example.org/news/feed.xml",
        "https://site.example.org/atom",
        "https://site.example.org/feed.json",
    ]
    assert discover_feed_urls("<p>nothing</p>", "https://x.example/") == []


def test_resolve_feed_url_for_feed_page_and_neither() -> None:
    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text='<html><head><link rel="alternate" type="application/rss+xml" href="/broken.xml">'
            '<link rel="alternate" type="application/atom+xml" href="/feed.xml"></head></html>',
            content_type="text/html",
        )

    async def bare(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html><body>no feeds here</body></html>", content_type="text/html")

    async def broken(request: web.Request) -> web.StreamResponse:
        return web.Response(text="oops", content_type="text/plain")

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.route("/feed.xml", feed_handler(RSS))
            server.route("/site", html)
            server.route("/bare", bare)
            server.route("/broken.xml", broken)
            async with HttpClient(allow_private=True) as client:
                assert await resolve_feed_url(client, server.url("/feed.xml")) == server.url("/feed.xml")
                assert await resolve_feed_url(client, server.url("/site")) == server.url("/feed.xml")
                with pytest.raises(FeedError, match="no feed found"):
                    await resolve_feed_url(client, server.url("/bare"))
            async with HttpClient() as client:  # the guard applies to discovery too
                with pytest.raises(Exception, match="loopback"):
                    await resolve_feed_url(client, server.url("/site"))

    run(scenario())
