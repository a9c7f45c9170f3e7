"""The site's RSS 2.0, Atom 1.0 and JSON Feed 1.1 follow the rules a validator checks offline.

Rules taken from the RSS 2.0 spec and the W3C feed validator's messages
(required channel/item elements, RFC 822 dates, atom:link rel=self, absolute
URLs, guid isPermaLink), RFC 4287 (feed/entry ids, updated, authors, one
alternate link per type) and the JSON Feed 1.1 spec (version, title, items
with string ids and content, RFC 3339 dates, authors as objects).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html
from site_data import BASE

from samachar.config import SiteConfig
from samachar.publish.site import FEED_ITEMS, render_site

NS = {"atom": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/",
      "content": "http://purl.org/rss/1.0/modules/content/"}
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    r"\d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def absolute(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def assert_html_urls_absolute(fragment: str) -> None:
    if not fragment.strip():
        return
    tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for attr in ("href", "src"):
        for value in tree.xpath(f"//@{attr}"):
            assert absolute(value), f"relative or unsafe {attr} in feed content: {value}"


FEED_DIRS = ["", "sources/1/", "sources/3/", "tags/शहर/", "tags/कारोबार/"]


@pytest.mark.parametrize("base", FEED_DIRS)
def test_rss_20(pages, base):
    body = pages[base + "feed.xml"]
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>") or body.startswith(b'<?xml version="1.0"')
    root = etree.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    assert channel.findtext("link") == BASE + quote(base)
    self_links = channel.findall("atom:link", NS)
    assert len(self_links) == 1
    assert self_links[0].get("rel") == "self" and self_links[0].get("type") == "application/rss+xml"
    assert self_links[0].get("href") == BASE + quote(base + "feed.xml")
    assert RFC822.match(channel.findtext("lastBuildDate"))
    assert channel.findtext("language") == "hi"
    items = channel.findall("item")
    assert items
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == len(guids)
    for item in items:
        assert item.findtext("title") or item.findtext("description")
        assert absolute(item.findtext("link"))
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "true" and guid.text == item.findtext("link")
        assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
        assert item.find("author") is None  # RSS author must be an e-mail address; names go in dc:creator
        assert_html_urls_absolute(item.findtext("description"))
        encoded = item.findtext("content:encoded", namespaces=NS)
        assert_html_urls_absolute(encoded)
    # newest republished first, as the pages list them (pubDate is the original's date, in any order)
    assert guids == [i["url"] for i in json.loads(pages[base + "feed.json"])["items"]]


def test_rss_item_content(pages):
    channel = etree.fromstring(pages["feed.xml"]).find("channel")
    first = channel.find("item")
    assert first.findtext("title") == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    assert first.findtext("link") == BASE + "articles/moscow-pyongyang-talks/"
    assert first.findtext("pubDate") == "Sat, 28 Nov 2026 21:40:00 GMT"  # the original's date
    assert first.findtext("dc:creator", namespaces=NS) == "Anna Petrova, James Okafor"
    assert [c.text for c in first.findall("category")] == ["विश्व", "कूटनीति"]
    content = first.findtext("content:encoded", namespaces=NS)
    fragment = lxml_html.fragment_fromstring(content, create_parent="div")
    assert fragment.xpath("//aside[@class='attribution']//a/@href")[0] == \
        "https://dailyledger.example/world/moscow-pyongyang-talks"  # attribution travels with the content
    assert "रेल संपर्क" in fragment.text_content()


@pytest.mark.parametrize("base", FEED_DIRS)
def test_atom_10(pages, base):
    root = etree.fromstring(pages[base + "atom.xml"])
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "hi"
    assert absolute(root.findtext("atom:id", namespaces=NS))
    assert root.findtext("atom:title", namespaces=NS)
    assert RFC3339.match(root.findtext("atom:updated", namespaces=NS))
    links = {(link.get("rel"), link.get("type")): link.get("href") for link in root.findall("atom:link", NS)}
    assert links[("self", "application/atom+xml")] == BASE + quote(base + "atom.xml")
    assert links[("alternate", "text/html")] == BASE + quote(base)
    assert root.findtext("atom:author/atom:name", namespaces=NS)  # feed-level author covers every entry
    entries = root.findall("atom:entry", NS)
    ids = [e.findtext("atom:id", namespaces=NS) for e in entries]
    assert entries and len(set(ids)) == len(ids) and all(absolute(i) for i in ids)
    for entry in entries:
        assert entry.findtext("atom:title", namespaces=NS)
        assert RFC3339.match(entry.findtext("atom:updated", namespaces=NS))
        assert RFC3339.match(entry.findtext("atom:published", namespaces=NS))
        alternates = [link for link in entry.findall("atom:link", NS) if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1 and absolute(alternates[0].get("href"))
        content = entry.find("atom:content", NS)
        assert content.get("type") == "html" and content.text
        assert_html_urls_absolute(content.text)
        for category in entry.findall("atom:category", NS):
            assert category.get("term")


def test_atom_entry_details(pages):
    root = etree.fromstring(pages["atom.xml"])
    entry = root.find("atom:entry", NS)
    assert entry.findtext("atom:published", namespaces=NS) == "2026-11-28T21:40:00Z"  # the original's
    assert entry.findtext("atom:updated", namespaces=NS) == "2026-11-29T06:15:00Z"  # ours
    related = [link.get("href") for link in entry.findall("atom:link", NS) if link.get("rel") == "related"]
    assert related == ["https://dailyledger.example/world/moscow-pyongyang-talks"]
    assert [a.text for a in entry.findall("atom:author/atom:name", NS)] == ["Anna Petrova", "James Okafor"]


@pytest.mark.parametrize("base", FEED_DIRS)
def test_json_feed_11(pages, base):
    feed = json.loads(pages[base + "feed.json"].decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert feed["home_page_url"] == BASE + quote(base)
    assert feed["feed_url"] == BASE + quote(base + "feed.json")
    assert feed["language"] == "hi"
    assert "author" not in feed and all(isinstance(a["name"], str) for a in feed["authors"])
    assert isinstance(feed["items"], list) and feed["items"]
    ids = [item["id"] for item in feed["items"]]
    assert all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)
    for item in feed["items"]:
        assert item.get("content_html") or item.get("content_text")
        assert absolute(item["url"])
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert "author" not in item
        for author in item.get("authors", []):
            assert set(author) <= {"name", "url", "avatar"} and author["name"]
        assert all(isinstance(t, str) for t in item.get("tags", []))
        if "external_url" in item:
            assert absolute(item["external_url"])
        if "image" in item:
            assert absolute(item["image"])
        assert_html_urls_absolute(item["content_html"])
    modified = [datetime.fromisoformat(item["date_modified"]) for item in feed["items"]]
    assert modified == sorted(modified, reverse=True)  # newest republished first


def test_json_feed_item(pages):
    item = json.loads(pages["feed.json"])["items"][0]
    assert item["external_url"] == "https://dailyledger.example/world/moscow-pyongyang-talks"
    assert item["authors"] == [{"name": "Anna Petrova"}, {"name": "James Okafor"}]
    assert item["tags"] == ["विश्व", "कूटनीति"]
    assert item["image"] == "https://images.dailyledger.example/2026/moscow-lead.jpg"
    assert item["date_published"] == "2026-11-28T21:40:00Z"  # the original's
    assert item["date_modified"] == "2026-11-29T06:15:00Z"  # ours


def test_per_source_and_tag_feeds_hold_their_articles(pages, articles):
    source_titles = [i["title"] for i in json.loads(pages["sources/2/feed.json"])["items"]]
    assert source_titles == [a.title for a in articles if a.source_id == 2]
    tag_titles = [i["title"] for i in json.loads(pages["tags/शहर/feed.json"])["items"]]
    assert tag_titles == [a.title for a in articles if "शहर" in a.categories]


def test_pages_link_their_feeds(pages):
    tag_page = lxml_html.fromstring(pages["tags/शहर/index.html"])
    hrefs = tag_page.xpath("//link[@rel='alternate']/@href")
    assert hrefs[:3] == ["../../feed.xml", "../../atom.xml", "../../feed.json"]  # relative to the page
    assert "atom.xml" in hrefs and "feed.json" in hrefs


def test_feeds_cap_items_and_survive_control_characters(articles):
    many = [replace(articles[i % len(articles)], id=1000 + i, slug=f"s{i}") for i in range(FEED_ITEMS + 5)]
    many[0] = replace(many[0], title="नियंत्रण\x0b\x00वर्ण", authors=["A\x1fB"], categories=["x\x08y"])
    pages = render_site(many, SiteConfig(base_url=BASE))
    rss = etree.fromstring(pages["feed.xml"])
    assert len(rss.findall("channel/item")) == FEED_ITEMS
    assert rss.find("channel/item").findtext("title") == "नियंत्रणवर्ण"
    atom = etree.fromstring(pages["atom.xml"])
    assert atom.find("atom:entry/atom:category", NS).get("term") == "xy"
    assert len(json.loads(pages["feed.json"])["items"]) == FEED_ITEMS


def test_hostile_titles_stay_text_in_feeds(articles):
    hostile = replace(articles[0], title="<script>alert(1)</script>",
                      summary="&lt;script&gt;alert(1)&lt;/script&gt; खबर")
    pages = render_site([hostile], SiteConfig(base_url=BASE))
    item = etree.fromstring(pages["feed.xml"]).find("channel/item")
    assert item.findtext("title") == "<script>alert(1)</script>"
    # description is HTML for readers: the plain-text summary is escaped inside it
    assert item.findtext("description") == "&lt;script&gt;alert(1)&lt;/script&gt; खबर"
    encoded = lxml_html.fragment_fromstring(item.findtext("content:encoded", namespaces=NS), create_parent="div")
    assert not encoded.xpath("//script|//img[@onerror]")


def test_an_unknown_original_date_is_ours_in_every_feed(pages):
    url = BASE + "articles/city-metro-extension/"
    [item] = [i for i in etree.fromstring(pages["feed.xml"]).iter("item") if i.findtext("link") == url]
    assert item.findtext("pubDate") == "Sat, 28 Nov 2026 18:30:00 GMT"
    [entry] = [e for e in etree.fromstring(pages["atom.xml"]).findall("atom:entry", NS)
               if e.findtext("atom:id", namespaces=NS) == url]
    assert entry.findtext("atom:published", namespaces=NS) == entry.findtext("atom:updated", namespaces=NS) \
        == "2026-11-28T18:30:00Z"
    [data] = [i for i in json.loads(pages["feed.json"])["items"] if i["id"] == url]
    assert data["date_published"] == data["date_modified"] == "2026-11-28T18:30:00Z"


def test_feeds_say_when_base_url_is_missing(articles):
    missing = render_site(articles[:2], SiteConfig())
    for name in ("feed.xml", "atom.xml"):
        comments = [c.text for c in etree.fromstring(missing[name]).iter(etree.Comment)]
        assert any("base_url is not set" in c and "http://localhost:8000/" in c for c in comments), name
    assert "base_url is not set" in json.loads(missing["feed.json"])["_samachar"]["warning"]
    assert etree.fromstring(missing["feed.xml"]).findtext("channel/link") == "http://localhost:8000/"
    configured = render_site(articles[:2], SiteConfig(base_url=BASE))
    assert not list(etree.fromstring(configured["atom.xml"]).iter(etree.Comment))
    assert "_samachar" not in json.loads(configured["feed.json"])
