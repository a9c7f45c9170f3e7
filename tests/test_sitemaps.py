"""sitemap.xml, sitemap-news.xml and robots.txt: valid, namespaced, absolute, and honest about noindex."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from lxml import etree
from site_data import BASE, loopback, samples

from samachar.config import SiteConfig
from samachar.publish import site as site_module
from samachar.publish.site import SiteView, render_site
from samachar.web.app import create_app

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"sm": SM, "news": NEWS}
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def built(articles, **site) -> dict[str, bytes]:
    return SiteView(articles, SiteConfig(base_url=BASE, per_page=3, **site), now=NOW).render_all()


def urls(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    assert root.tag == f"{{{SM}}}urlset"
    return {u.findtext("sm:loc", namespaces=NS): u.findtext("sm:lastmod", namespaces=NS)
            for u in root.findall("sm:url", NS)}


def test_sitemap_lists_every_indexable_page_with_lastmod(articles):
    entries = urls(built(articles)["sitemap.xml"])
    expected = {BASE, *(BASE + f"sources/{n}/" for n in (1, 2, 3)),
                *(BASE + quote(f"tags/{t}/") for t in ("शहर", "कारोबार", "विश्व")),
                *(BASE + f"articles/{a.slug}/" for a in articles)}
    assert expected <= set(entries)
    assert not any("/page/" in url for url in entries)  # paginated lists are reached by links
    assert all(W3C_DATETIME.match(lastmod) for lastmod in entries.values())
    assert entries[BASE + "articles/moscow-pyongyang-talks/"] == "2026-11-29T06:15:00Z"  # our page changed then
    assert entries[BASE] == "2026-11-29T06:15:00Z"  # the newest article on it
    assert entries[BASE + "sources/3/"] == "2026-11-28T18:30:00Z"


def test_noindex_articles_stay_out_of_both_sitemaps(articles):
    quiet = [replace(a, seo="noindex") if a.source_id == 2 else a for a in articles]
    pages = built(quiet)
    entries = urls(pages["sitemap.xml"])
    assert BASE + "articles/monsoon-reservoirs-full/" not in entries
    assert BASE + "articles/moscow-pyongyang-talks/" in entries
    news = etree.fromstring(pages["sitemap-news.xml"]).findall("sm:url/sm:loc", NS)
    assert BASE + "articles/monsoon-reservoirs-full/" not in [n.text for n in news]
    assert not urls(built(articles, seo="noindex")["sitemap.xml"]).keys() & {BASE + f"articles/{a.slug}/"
                                                                              for a in articles}


def test_news_sitemap_holds_the_last_two_days_by_original_date(articles):
    root = etree.fromstring(built(articles)["sitemap-news.xml"])
    assert root.tag == f"{{{SM}}}urlset" and root.nsmap.get("news") == NEWS
    items = {u.findtext("sm:loc", namespaces=NS): u.find("news:news", NS) for u in root.findall("sm:url", NS)}
    # 104 was republished within two days but first published three days ago: not news any more
    assert list(items) == [BASE + f"articles/{slug}/" for slug in (
        "moscow-pyongyang-talks", "monsoon-reservoirs-full", "city-metro-extension", "chess-olympiad-result")]
    first = items[BASE + "articles/moscow-pyongyang-talks/"]
    assert first.findtext("news:publication/news:name", namespaces=NS) == "समाचार"
    assert first.findtext("news:publication/news:language", namespaces=NS) == "hi"
    assert first.findtext("news:publication_date", namespaces=NS) == "2026-11-28T21:40:00Z"
    assert first.findtext("news:title", namespaces=NS) == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    unknown = items[BASE + "articles/city-metro-extension/"]
    assert unknown.findtext("news:publication_date", namespaces=NS) == "2026-11-28T18:30:00Z"  # ours, no original


def test_news_sitemap_is_valid_when_nothing_is_recent(articles):
    view = SiteView(articles, SiteConfig(base_url=BASE), now=datetime(2027, 6, 1, tzinfo=UTC))
    root = etree.fromstring(view.render("sitemap-news.xml").body)
    assert root.tag == f"{{{SM}}}urlset" and root.findall("sm:url", NS) == []


def test_robots_txt_names_both_sitemaps(articles):
    lines = built(articles)["robots.txt"].decode().splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {BASE}sitemap.xml" in lines and f"Sitemap: {BASE}sitemap-news.xml" in lines
    assert "Disallow: /search" in lines  # result pages are noindex anyway; no need to crawl them
    prefixed = render_site(articles, SiteConfig(base_url="https://example.in/hindi/"))["robots.txt"].decode()
    assert "Sitemap: https://example.in/hindi/sitemap.xml" in prefixed.splitlines()
    assert "only at the root" in prefixed  # crawlers read /robots.txt, so the operator is told


def test_sitemaps_and_robots_say_when_base_url_is_missing(articles):
    pages = render_site(articles, SiteConfig())
    for name in ("sitemap.xml", "sitemap-news.xml"):
        comments = [c.text for c in etree.fromstring(pages[name]).iter(etree.Comment)]
        assert any("base_url is not set" in c for c in comments), name
    assert any(line.startswith("#") and "base_url is not set" in line
               for line in pages["robots.txt"].decode().splitlines())


def test_a_large_site_gets_a_sitemap_index(articles, monkeypatch):
    monkeypatch.setattr(site_module, "SITEMAP_MAX_URLS", 5)
    pages = built(articles)
    root = etree.fromstring(pages["sitemap.xml"])
    assert root.tag == f"{{{SM}}}sitemapindex"
    parts = [s.findtext("sm:loc", namespaces=NS) for s in root.findall("sm:sitemap", NS)]
    assert parts == [BASE + f"sitemap-{n}.xml" for n in range(1, len(parts) + 1)] and len(parts) >= 3
    chunks = [urls(pages[f"sitemap-{n}.xml"]) for n in range(1, len(parts) + 1)]
    assert all(len(chunk) <= 5 for chunk in chunks)
    listed = [url for chunk in chunks for url in chunk]
    assert len(listed) == len(set(listed))
    monkeypatch.undo()
    assert set(listed) == set(urls(built(articles)["sitemap.xml"]))


def test_the_app_serves_sitemaps_and_robots(articles):
    app = create_app(samples.sample_articles, SiteConfig(base_url=BASE))
    with loopback.serve_app(app) as url:
        for path, content_type in (("/sitemap.xml", "application/xml"), ("/sitemap-news.xml", "application/xml"),
                                   ("/robots.txt", "text/plain"), ("/static/devanagari.css", "text/css"),
                                   ("/static/fonts/noto-sans-devanagari-bold.woff2", "font/woff2")):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert response.status == 200 and response.headers["Content-Type"].startswith(content_type), path
                body = response.read()
            if path.endswith(".xml"):
                etree.fromstring(body)
            elif path.startswith("/static/"):
                assert body and "max-age=86400" in response.headers["Cache-Control"]
            else:
                assert f"Sitemap: {BASE}sitemap.xml".encode() in body


@pytest.mark.parametrize("name", ["sitemap.xml", "sitemap-news.xml"])
def test_sitemaps_are_utf8_xml_with_a_declaration(articles, name):
    body = built(articles)[name]
    assert body.startswith((b"<?xml version='1.0' encoding='utf-8'?>", b'<?xml version="1.0"'))


def test_the_app_renders_the_news_sitemap_afresh_as_articles_age(articles):
    from samachar.web.app import Snapshot

    snapshot = Snapshot(SiteView(articles, SiteConfig(base_url=BASE), live=True, now=NOW), "f", 0.0)
    assert etree.fromstring(snapshot.page("sitemap-news.xml").body).findall("sm:url", NS)
    snapshot.view.now = datetime(2026, 12, 9, tzinfo=UTC)  # a quiet week: nothing new, nothing recent
    assert etree.fromstring(snapshot.page("sitemap-news.xml").body).findall("sm:url", NS) == []
    assert snapshot.page("sitemap.xml") is snapshot.page("sitemap.xml")  # the rest is kept
