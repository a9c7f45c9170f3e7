"""The bundled demo sources: served correctly, linked together, and true to their manifest."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree, html

from samachar.demo import BASE_PLACEHOLDER, article_entries, feed_paths, load_manifest, samples_dir
from samachar.demo.server import SampleServer

EXPECTED_FEED_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
TIMEOUT = 5


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def media_type(headers: dict[str, str]) -> str:
    return headers["Content-Type"].split(";")[0].strip()


@pytest.fixture(scope="module")
def server() -> Iterator[SampleServer]:
    sample_server = SampleServer()
    with sample_server:
        yield sample_server


@pytest.fixture(scope="module")
def base_url(server: SampleServer) -> str:
    return server.base_url


def served_files() -> list[str]:
    root = samples_dir()
    return sorted(
        "/" + p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != "manifest.json"
    )


def feed_links(base_url: str, path: str, body: bytes) -> list[tuple[str, str]]:
    """(guid, link) of every item, parsed the way the format demands."""
    if path.endswith(".json"):
        return [(item["id"], item["url"]) for item in json.loads(body)["items"]]
    parsed = feedparser.parse(body)
    return [(entry.id, entry.link) for entry in parsed.entries]


def json_ld_news_article(doc: html.HtmlElement) -> tuple[dict, dict[str, dict]]:
    """The page's NewsArticle and a map of @id → node, looking inside @graph too."""
    nodes: list[dict] = []
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        data = json.loads(script.text)
        for item in data if isinstance(data, list) else [data]:
            nodes.extend(item.get("@graph", [item]))
    by_id = {n["@id"]: n for n in nodes if "@id" in n}
    articles = [n for n in nodes if n.get("@type") == "NewsArticle"]
    assert len(articles) == 1, "exactly one NewsArticle per page"
    return articles[0], by_id


def body_paragraphs(doc: html.HtmlElement) -> list[html.HtmlElement]:
    """Substantial paragraphs of the element that holds the most of them (the story body)."""
    best: list[html.HtmlElement] = []
    for element in doc.iter("div", "section", "article", "main"):
        paragraphs = [p for p in element if p.tag == "p" and len(p.text_content().split()) >= 15]
        if len(paragraphs) > len(best):
            best = paragraphs
    return best


# --------------------------------------------------------------------------- manifest


def test_manifest_describes_three_feed_formats_and_enough_articles() -> None:
    manifest = load_manifest()
    assert sorted(f["format"] for f in manifest["feeds"]) == ["atom", "json", "rss"]
    assert feed_paths() == [f["path"] for f in manifest["feeds"]]
    assert len({f["publisher"] for f in manifest["feeds"]}) == 3
    articles = article_entries()
    assert len(articles) >= 10
    assert len({a["path"] for a in articles}) == len(articles)
    assert len({a["canonical_url"] for a in articles}) == len(articles)
    assert [a["has_body"] for a in articles].count(False) == 1
    assert any(len(a["feed"]) == 2 for a in articles), "one story must be carried by two feeds"
    for article in articles:
        assert urlsplit(article["canonical_url"]).hostname.endswith(".example")
        assert set(article["feed"]) <= set(feed_paths())
        for key in ("publisher", "title", "author", "published"):
            assert article[key], (article["path"], key)


# --------------------------------------------------------------------------- server


def test_every_feed_is_served_with_its_content_type(base_url: str) -> None:
    for feed in load_manifest()["feeds"]:
        status, headers, body = fetch(base_url + feed["path"])
        assert status == 200
        assert media_type(headers) == EXPECTED_FEED_TYPES[feed["format"]]
        assert int(headers["Content-Length"]) == len(body)


def test_every_article_page_is_served_as_utf8_html(base_url: str) -> None:
    for article in article_entries():
        status, headers, body = fetch(base_url + article["path"])
        assert status == 200, article["path"]
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert body.lstrip().startswith(b"<!DOCTYPE html>")


def test_placeholder_never_leaks_and_is_replaced_by_the_base(base_url: str) -> None:
    files = served_files()
    assert len(files) > 20
    replaced = 0
    for path in files:
        status, _, body = fetch(base_url + path)
        assert status == 200, path
        assert BASE_PLACEHOLDER.encode() not in body, path
        raw = (samples_dir() / path.lstrip("/")).read_bytes()
        if BASE_PLACEHOLDER.encode() in raw:
            assert base_url.encode() in body
            replaced += 1
    assert replaced >= 10


def test_conditional_requests_get_304(base_url: str) -> None:
    url = base_url + feed_paths()[0]
    status, headers, body = fetch(url)
    assert status == 200 and body
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')

    status, headers, body = fetch(url, {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag
    assert fetch(url, {"If-None-Match": f'"nope", W/{etag}'})[0] == 304
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    # A changed validator means a full answer; If-None-Match takes precedence over the date.
    assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
    assert fetch(url, {"If-None-Match": '"stale"', "If-Modified-Since": last_modified})[0] == 200
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})[0] == 200
    assert fetch(url, {"If-Modified-Since": "not a date"})[0] == 200


def test_head_robots_missing_and_hidden_paths(base_url: str) -> None:
    status, headers, body = fetch(base_url + "/deccan-courier/feed.xml", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000

    status, headers, body = fetch(base_url + "/robots.txt")
    assert status == 200 and media_type(headers) == "text/plain"
    from protego import Protego

    robots = Protego.parse(body.decode())
    assert robots.can_fetch(base_url + article_entries()[0]["path"], "samachar")

    assert fetch(base_url + "/no/such/page.html")[0] == 404
    assert fetch(base_url + "/manifest.json")[0] == 404
    assert fetch(base_url + "/../manifest.json")[0] == 404
    status, headers, _ = fetch(base_url + "/konkan-tide")
    assert status == 301 and headers["Location"] == "/konkan-tide/"
    status, headers, body = fetch(base_url + "/konkan-tide/")
    assert status == 200 and b'rel="alternate" type="application/atom+xml"' in body


def test_server_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SampleServer(host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        SampleServer(host="localhost.example")


def test_server_shuts_down_cleanly_and_logs_requests(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text('<a href="{{BASE}}/x">x</a>', encoding="utf-8")
    server = SampleServer(root=tmp_path)
    with server as base_url:
        assert server.running
        status, headers, body = fetch(base_url + "/page.html")
        assert body == f'<a href="{base_url}/x">x</a>'.encode()
        assert fetch(base_url + "/page.html", {"If-None-Match": headers["ETag"]})[0] == 304
        port = urlsplit(base_url).port
    assert not server.running
    assert server.request_log == [("GET", "/page.html", 200), ("GET", "/page.html", 304)]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --------------------------------------------------------------------------- feeds


def test_feeds_are_well_formed(base_url: str) -> None:
    formats = {f["path"]: f["format"] for f in load_manifest()["feeds"]}
    for path, fmt in formats.items():
        _, _, body = fetch(base_url + path)
        if fmt == "json":
            feed = json.loads(body)
            assert feed["version"] == "https://jsonfeed.org/version/1.1"
            assert feed["feed_url"] == base_url + path
            for item in feed["items"]:
                assert item["id"] and item["url"] and item["title"] and item["date_published"]
                assert "content_html" in item or "content_text" in item
            continue
        root = etree.fromstring(body)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        if fmt == "rss":
            assert root.tag == "rss" and root.get("version") == "2.0"
            assert parsed.version == "rss20"
            assert root.findtext("channel/ttl") == "30"
            assert any(e.get("content") for e in parsed.entries), "content:encoded on some items"
            assert all(e.get("media_content") or e.get("enclosures") for e in parsed.entries)
            assert all(len(e.tags) >= 1 for e in parsed.entries)
        else:
            assert root.tag == "{http://www.w3.org/2005/Atom}feed"
            assert parsed.version == "atom10"
            assert all(e.get("updated") and e.get("id") for e in parsed.entries)
        assert 3 <= len(parsed.entries) <= 5


def test_every_feed_item_links_to_a_served_page_in_the_manifest(base_url: str) -> None:
    by_path = {a["path"]: a for a in article_entries()}
    seen: dict[str, list[str]] = {}
    guids: set[str] = set()
    for feed in feed_paths():
        _, _, body = fetch(base_url + feed)
        items = feed_links(base_url, feed, body)
        assert 3 <= len(items) <= 5
        for guid, link in items:
            assert link.startswith(base_url + "/"), link
            path = link[len(base_url) :]
            assert path in by_path, f"{feed} links to {path}, which the manifest does not list"
            assert feed in by_path[path]["feed"]
            status, headers, _ = fetch(link)
            assert status == 200 and media_type(headers) == "text/html"
            seen.setdefault(path, []).append(feed)
            assert guid not in guids
            guids.add(guid)
    assert sorted(seen) == sorted(by_path), "every article is in some feed"
    for path, feeds in seen.items():
        assert sorted(feeds) == sorted(by_path[path]["feed"])


def test_bodiless_page_has_its_text_in_the_feed(base_url: str) -> None:
    [video] = [a for a in article_entries() if not a["has_body"]]
    _, _, page = fetch(base_url + video["path"])
    assert len(body_paragraphs(html.fromstring(page))) < 4, "a video page: headline, standfirst and a one-line description"
    [feed] = video["feed"]
    _, _, body = fetch(base_url + feed)
    entry = next(e for e in feedparser.parse(body).entries if e.link == base_url + video["path"])
    content = html.fromstring(entry.content[0].value)
    assert len([p for p in content.iter("p") if len(p.text_content().split()) >= 15]) >= 4


# --------------------------------------------------------------------------- pages


def test_pages_metadata_matches_the_manifest(base_url: str) -> None:
    for article in article_entries():
        _, _, body = fetch(base_url + article["path"])
        doc = html.fromstring(body)

        def meta(attr: str, name: str, doc=doc) -> str:
            [value] = doc.xpath(f'//meta[@{attr}="{name}"]/@content')
            return value

        assert doc.xpath('//link[@rel="canonical"]/@href') == [article["canonical_url"]]
        assert meta("property", "og:url") == article["canonical_url"]
        assert meta("property", "og:site_name") == article["publisher"]
        assert meta("property", "og:title") == article["title"]
        assert meta("name", "author") == article["author"]
        assert meta("property", "article:published_time") == article["published"]
        assert meta("property", "og:image") == base_url + article["image"]
        assert doc.xpath("//h1")[0].text_content().strip() == article["title"]

        news, by_id = json_ld_news_article(doc)
        assert news["headline"] == article["title"]
        assert news["datePublished"] == article["published"]
        assert news.get("dateModified") == article["modified"]
        publisher = news["publisher"]
        publisher = {**by_id.get(publisher.get("@id"), {}), **publisher}
        assert publisher["@type"] == "Organization" and publisher["name"] == article["publisher"]
        authors = news["author"] if isinstance(news["author"], list) else [news["author"]]
        assert [a["name"] for a in authors] == [article["author"]]
        entity = news["mainEntityOfPage"]
        assert (entity["@id"] if isinstance(entity, dict) else entity) == article["canonical_url"]
        image = news["image"]
        image = image[0] if isinstance(image, list) else image
        assert (image["url"] if isinstance(image, dict) else image) == base_url + article["image"]
    assert any(a["modified"] for a in article_entries()) and not all(a["modified"] for a in article_entries())


def test_pages_carry_site_chrome(base_url: str) -> None:
    for article in article_entries():
        _, _, body = fetch(base_url + article["path"])
        doc = html.fromstring(body)
        text = doc.text_content()
        assert doc.xpath("//header") and doc.xpath("//nav") and doc.xpath("//footer"), article["path"]
        assert doc.xpath('//*[contains(@class, "share")]//a[contains(@href, "facebook.com/sharer")]')
        assert re.search(r"cookies", text, re.I) and re.search(r"newsletter|sign up|subscribe", text, re.I)
        assert re.search(r"related|more from|most read", text, re.I)
        assert re.search(r"comment", text, re.I)
        assert "©" in doc.xpath("//footer")[-1].text_content()


def test_article_bodies_are_substantial(base_url: str) -> None:
    for article in article_entries():
        if not article["has_body"]:
            continue
        _, _, body = fetch(base_url + article["path"])
        paragraphs = body_paragraphs(html.fromstring(body))
        assert 4 <= len(paragraphs) <= 8, (article["path"], len(paragraphs))
        assert any(p.xpath(".//a[@href]") for p in paragraphs), "inline links inside sentences"


def test_bodies_exercise_the_hard_cases(base_url: str) -> None:
    """Quotes, numbers, abbreviations and structure that translation must survive."""
    pages = {a["path"]: fetch(base_url + a["path"])[2].decode() for a in article_entries() if a["has_body"]}
    everything = "\n".join(pages.values())
    for needle in ("“", "”", '"', "₹", "crore", "lakh", "%", "p.m.", "Dr. ", "U.S.", "A. K. Sharma"):
        assert needle in everything, needle
    assert re.search(r"\d+\.\d+", everything)
    assert re.search(r"\b\d{1,2}:\d{2} [ap]\.m\.", everything)
    # A quotation running over two sentences, and a quote inside a sentence.
    assert re.search(r"“[^”]*?[.;] [A-Z][^”]*”", everything)
    assert re.search(r'\w "[^"]+" \w', everything) or re.search(r"\w “[^”]+” \w", everything)
    structure = {
        "<h2>": sum("<h2>" in page for page in pages.values()),
        "<blockquote>": sum("<blockquote>" in page for page in pages.values()),
        "<ul>": sum("<li>" in page for page in pages.values()),
        "<figcaption>": sum("<figcaption>" in page.split("story-body")[-1] for page in pages.values()),
    }
    assert structure["<h2>"] == len(pages)
    assert structure["<blockquote>"] >= 2 and structure["<ul>"] >= 3 and structure["<figcaption>"] >= 2
    # One city named several times in the same article.
    lakes = next(page for path, page in pages.items() if "lakes" in path)
    assert lakes.count("Hyderabad") >= 4


def test_loopback_links_all_resolve(base_url: str) -> None:
    """Every image and link that points at the sample server exists there."""
    targets: set[str] = set()
    for path in served_files():
        if not path.endswith((".html", ".xml", ".json")):
            continue
        _, _, body = fetch(base_url + path)
        text = body.decode()
        targets.update(re.findall(re.escape(base_url) + r'(/[^"<\s)\\]*)', text))
        if path.endswith(".html"):
            doc = html.fromstring(body)
            targets.update(
                v for v in doc.xpath("//@src | //link/@href | //a/@href") if v.startswith("/") and not v.startswith("//")
            )
    assert len(targets) > 20
    for target in sorted(targets):
        status = fetch(base_url + target, method="HEAD")[0]
        assert status == 200, target


def test_every_sample_file_is_package_data() -> None:
    """A wheel must carry every sample, or the installed demo serves broken images."""
    import fnmatch
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    patterns = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["samachar"]
    package_root = samples_dir().parents[1]
    missing = sorted(
        p.relative_to(package_root).as_posix()
        for p in samples_dir().rglob("*")
        if p.is_file() and not any(fnmatch.fnmatch(p.name, pattern.rsplit("/", 1)[-1]) for pattern in patterns)
    )
    suffixes = sorted({Path(m).suffix for m in missing})
    assert not missing, f"add {['**/*' + s for s in suffixes]} to [tool.setuptools.package-data] in pyproject.toml"
