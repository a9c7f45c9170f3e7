"""Sitemaps and robots.txt: what the site tells crawlers, from plain descriptions.

``sitemap_xml`` writes a sitemaps.org ``urlset`` (or, past
:data:`MAX_URLS_PER_FILE`, the site splits it and ``sitemap_index`` lists the
parts); ``news_sitemap_xml`` writes the Google News extension (publication
name and language, publication date, title per article); ``robots_txt``
points crawlers at both. URLs arrive absolute and dates as datetimes; a
``note`` (say, that ``base_url`` is missing) becomes an XML or ``#`` comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from samachar.publish.feeds import rfc3339, xml_comment, xml_text

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_URLS_PER_FILE = 50_000  # the sitemaps.org limit
MAX_NEWS_URLS = 1_000  # Google News' limit per news sitemap


@dataclass
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


@dataclass
class NewsUrl:
    loc: str
    title: str
    language: str
    published: datetime


def _root(tag: str, nsmap: dict[str | None, str], note: str | None) -> etree._Element:
    root = etree.Element(f"{{{SITEMAP_NS}}}{tag}", nsmap=nsmap)
    if note:
        root.append(xml_comment(note))
    return root


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = xml_text(text)
    return element


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def sitemap_xml(urls: list[SitemapUrl], note: str | None = None) -> bytes:
    return _locations("urlset", "url", urls, note)


def sitemap_index(parts: list[SitemapUrl], note: str | None = None) -> bytes:
    return _locations("sitemapindex", "sitemap", parts, note)


def _locations(root_tag: str, item_tag: str, items: list[SitemapUrl], note: str | None) -> bytes:
    """A sitemap or a sitemap index: the same ``loc``/``lastmod`` items under different tags."""
    root = _root(root_tag, {None: SITEMAP_NS}, note)
    for item in items:
        node = _sub(root, f"{{{SITEMAP_NS}}}{item_tag}")
        _sub(node, f"{{{SITEMAP_NS}}}loc", item.loc)
        if item.lastmod:
            _sub(node, f"{{{SITEMAP_NS}}}lastmod", rfc3339(item.lastmod))
    return _bytes(root)


def news_sitemap_xml(items: list[NewsUrl], publication: str, note: str | None = None) -> bytes:
    root = _root("urlset", {None: SITEMAP_NS, "news": NEWS_NS}, note)
    for item in items[:MAX_NEWS_URLS]:
        node = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(node, f"{{{SITEMAP_NS}}}loc", item.loc)
        news = _sub(node, f"{{{NEWS_NS}}}news")
        source = _sub(news, f"{{{NEWS_NS}}}publication")
        _sub(source, f"{{{NEWS_NS}}}name", publication)
        _sub(source, f"{{{NEWS_NS}}}language", item.language)
        _sub(news, f"{{{NEWS_NS}}}publication_date", rfc3339(item.published))
        _sub(news, f"{{{NEWS_NS}}}title", item.title)
    return _bytes(root)


def robots_txt(sitemaps: list[str], *, disallow: list[str], notes: list[str]) -> bytes:
    lines = [f"# {note}" for note in notes]
    lines += ["User-agent: *", *(f"Disallow: {path}" for path in disallow), ""]
    lines += [f"Sitemap: {url}" for url in sitemaps]
    return ("\n".join(lines) + "\n").encode("utf-8")
