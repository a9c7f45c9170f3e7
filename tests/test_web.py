"""The ASGI app, driven over real HTTP on 127.0.0.1 (uvicorn in a thread)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import replace
from urllib.parse import quote

import pytest
from lxml import html as lxml_html
from site_data import BASE, loopback, samples
from sqlalchemy import create_engine

from samachar.config import SiteConfig
from samachar.publish.search import index_articles, search_hits
from samachar.publish.site import render_site
from samachar.web.app import create_app


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def site():
    return SiteConfig(base_url=BASE, per_page=3)


@pytest.fixture(scope="module")
def server(site):
    calls = {"n": 0}

    def load():
        calls["n"] += 1
        return samples.sample_articles()

    app = create_app(load, site, refresh_seconds=3600)
    with loopback.serve_app(app) as url:
        yield url, app, calls


def test_pages_match_the_static_export(server, site):
    url, _, _ = server
    static = render_site(samples.sample_articles(), site)
    for path in ("articles/moscow-pyongyang-talks/", "sources/2/", "tags/शहर/", "page/2/"):
        status, headers, body = get(url + "/" + quote(path))
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        served = lxml_html.fromstring(body)
        built = lxml_html.fromstring(static[path + "index.html"])
        assert served.xpath("//main")[0].text_content() == built.xpath("//main")[0].text_content()
        assert served.xpath("//head/link/@href") == built.xpath("//head/link/@href")
        assert served.xpath("//form[@role='search']") and not built.xpath("//form[@role='search']")
    for path in ("feed.xml", "atom.xml", "feed.json", "static/site.css"):
        status, _, body = get(f"{url}/{path}")
        assert status == 200 and body == static[path]


def test_caching_headers_etag_and_304(server):
    url, _, _ = server
    status, headers, body = get(url + "/articles/heritage-walk/")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    status, headers304, body304 = get(url + "/articles/heritage-walk/", {"If-None-Match": etag})
    assert status == 304 and body304 == b"" and headers304["ETag"] == etag
    status, _, _ = get(url + "/articles/heritage-walk/", {"If-None-Match": f'"other", W/{etag}'})
    assert status == 304
    status, _, again = get(url + "/articles/heritage-walk/", {"If-None-Match": '"stale"'})
    assert status == 200 and again == body
    _, feed_headers, _ = get(url + "/atom.xml")
    assert feed_headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert feed_headers["Cache-Control"] == "public, max-age=300"
    _, css_headers, _ = get(url + "/static/site.css")
    assert css_headers["Content-Type"].startswith("text/css") and "max-age=86400" in css_headers["Cache-Control"]


def test_security_headers_on_every_response(server):
    url, _, _ = server
    for path in ("/", "/articles/heritage-walk/", "/feed.json", "/nope", "/search?q=x"):
        _, headers, _ = get(url + path)
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp  # no script may run at all
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_not_found_and_redirects(server):
    url, _, _ = server
    for path in ("/nope/", "/articles/missing/", "/page/99/", "/page/1/", "/sources/999/", "/static/../x",
                 "/articles/heritage-walk/extra"):
        status, headers, body = get(url + path)
        assert status == 404, path
        assert "पृष्ठ नहीं मिला" in body.decode("utf-8")
    status, headers, _ = get(url + "/articles/heritage-walk")
    assert status == 308 and headers["Location"].endswith("/articles/heritage-walk/")


def test_head_requests(server):
    url, _, _ = server
    status, headers, body = get(url + "/", method="HEAD")
    assert status == 200 and body == b"" and headers["ETag"]


def test_search_without_a_store_indexes_the_snapshot_in_memory(server):
    url, _, _ = server
    status, headers, body = get(url + "/search?q=" + quote("मॉस्को"))
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    page = lxml_html.fromstring(body)
    assert page.xpath("//h2[@class='card-title']/a/text()") == ["मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"]
    assert page.xpath("//input[@name='q']/@value") == ["मॉस्को"]
    _, _, none = get(url + "/search?q=" + quote("ज्वालामुखी"))
    assert "“ज्वालामुखी” के लिए कुछ नहीं मिला।" in none.decode("utf-8")
    _, _, hostile = get(url + "/search?q=" + quote("<script>alert(1)</script>"))
    assert b"<script>alert" not in hostile and b"&lt;script&gt;alert(1)&lt;/script&gt;" in hostile


def test_search_through_the_index_serves_the_same_cards_without_the_articles(tmp_path, site):
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    articles = samples.sample_articles()
    with engine.begin() as conn:
        index_articles(conn, articles)
    by_id = {a.id: a for a in articles}
    queries: list[str] = []

    def search(query: str):
        queries.append(query)
        with engine.connect() as conn:
            return search_hits(conn, query, "hi")

    pages = []
    for found in (search, lambda q: [by_id[hit.id] for hit in search(q)]):  # hits; whole articles, as before
        app = create_app(lambda: articles, site, search=found)
        with loopback.serve_app(app) as url:
            pages.append((get(url + "/search?q=" + quote("  जलाशय   "))[2], get(url + "/search?q=" + quote("शहर"))[2]))
    assert queries == ["जलाशय", "शहर"] * 2
    assert lxml_html.fromstring(pages[0][0]).xpath("//h2[@class='card-title']/a/@href") == ["articles/monsoon-reservoirs-full/"]  # relative to /search
    assert len(lxml_html.fromstring(pages[0][1]).xpath("//li[@class='card']")) == 3
    assert pages[0] == pages[1]  # title, excerpt and date from the index: the page is the same
    engine.dispose()


def test_snapshot_reloads_only_when_articles_change(site):
    articles = samples.sample_articles()
    state = {"articles": articles[1:], "calls": 0}

    def load():
        state["calls"] += 1
        return state["articles"]

    app = create_app(load, site, refresh_seconds=3600)
    with loopback.serve_app(app) as url:
        _, first_headers, _ = get(url + "/")
        assert get(url + "/articles/moscow-pyongyang-talks/")[0] == 404
        assert state["calls"] == 1
        app.state.live_site.invalidate()
        _, same_headers, _ = get(url + "/")  # reloaded, unchanged: same page, same ETag
        assert state["calls"] == 2 and same_headers["ETag"] == first_headers["ETag"]
        state["articles"] = articles
        app.state.live_site.invalidate()
        assert get(url + "/articles/moscow-pyongyang-talks/")[0] == 200
        _, new_headers, body = get(url + "/")
        assert new_headers["ETag"] != first_headers["ETag"] and "मॉस्को" in body.decode("utf-8")


def test_loader_failure_is_a_503_then_last_good_snapshot(site):
    state = {"fail": True}
    articles = samples.sample_articles()

    def load():
        if state["fail"]:
            raise RuntimeError("database is locked")
        return articles

    app = create_app(load, site, refresh_seconds=3600)
    with loopback.serve_app(app) as url:
        status, headers, body = get(url + "/")
        assert status == 503 and headers["Retry-After"] == "30" and b"could not be loaded" in body
        state["fail"] = False
        assert get(url + "/")[0] == 200
        state["fail"] = True
        app.state.live_site.invalidate()
        assert get(url + "/articles/heritage-walk/")[0] == 200  # the last good snapshot keeps serving


def test_concurrent_requests_share_one_load(site):
    barrier = threading.Barrier(8)
    calls = []

    def load():
        calls.append(1)
        return samples.sample_articles()

    app = create_app(load, site)
    results: list[int] = []
    with loopback.serve_app(app) as url:
        def worker():
            barrier.wait()
            results.append(get(url + "/articles/heritage-walk/")[0])

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert results == [200] * 8 and len(calls) == 1


def test_base_path_prefix(site):
    app = create_app(samples.sample_articles, replace(site, base_url="https://example.in/hindi/"))
    with loopback.serve_app(app) as url:
        assert get(url + "/hindi/articles/heritage-walk/")[0] == 200
        assert get(url + "/articles/heritage-walk/")[0] == 404
        status, headers, _ = get(url + "/hindi")
        assert status == 308 and headers["Location"] == "/hindi/"


def test_articles_load_at_startup(site):
    calls = []

    def load():
        calls.append(1)
        return samples.sample_articles()

    app = create_app(load, site)
    with loopback.serve_app(app, lifespan="on") as url:
        assert calls == [1]  # before any request
        assert get(url + "/")[0] == 200 and calls == [1]


def test_startup_failure_does_not_stop_the_server(site):
    def load():
        raise RuntimeError("no such table: entries")

    app = create_app(load, site)
    with loopback.serve_app(app, lifespan="on") as url:
        assert get(url + "/")[0] == 503


def test_broken_search_index_falls_back_to_the_snapshot(site):
    def search(query: str):
        raise RuntimeError("no such table: post_search")

    app = create_app(samples.sample_articles, site, search=search)
    with loopback.serve_app(app) as url:
        status, _, body = get(url + "/search?q=" + quote("कांस्य"))
    assert status == 200
    assert lxml_html.fromstring(body).xpath("//h2[@class='card-title']/a/@href") == ["articles/chess-olympiad-result/"]  # relative to /search
