"""Feeds out: RSS 2.0, Atom 1.0 and JSON Feed 1.1 from one description.

Written with lxml (XML) and ``json`` rather than a feed library, so every
element is ours: the channel ``link`` is the site's HTML page, ``atom:link
rel="self"`` is the feed itself, ids are our article URLs, and dates are
RFC 822 (RSS) or RFC 3339 (Atom, JSON Feed). All text arrives as plain
strings and is escaped by the serializer; ``content_html`` is HTML that the
site already sanitized.

Dates: an item's ``published`` is the original publisher's date (RSS
``pubDate``, Atom ``published``, JSON Feed ``date_published``) and ``updated``
is when we republished it (Atom ``updated``, JSON Feed ``date_modified``); the
feed's own ``updated`` is its newest republication. The other publishers that
reported an item's story are credited in its content (the attribution block),
as Atom ``link rel="related"`` and under ``_samachar.also_reported_by`` in JSON Feed. A feed's ``note`` (such
as "base_url is not set") travels as an XML comment, or under ``_samachar``
in JSON Feed, the extension key the spec reserves for such things.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "samachar"
GENERATOR_URI = "https://github.com/samachar/samachar"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class FeedItem:
    """One published article as the feeds see it; URLs are absolute."""

    url: str  # the article on our site; also its id
    title: str
    content_html: str
    published: datetime  # the original's date (ours where the original's is unknown)
    summary: str = ""
    original_url: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    image: str | None = None
    language: str | None = None
    updated: datetime | None = None  # when we republished it; None: ``published``
    credits: list[tuple[str, str]] = field(default_factory=list)  # (publisher, URL): the story's other reports

    @property
    def last_updated(self) -> datetime:
        return self.updated or self.published


@dataclass
class FeedInfo:
    """A feed's channel: who it is, where it lives, what it holds."""

    title: str
    description: str
    home_url: str  # HTML page the feed mirrors
    rss_url: str
    atom_url: str
    json_url: str
    language: str
    author: str
    items: list[FeedItem]
    updated: datetime | None = None
    note: str | None = None  # for whoever reads the file, e.g. that its URLs are placeholders

    @property
    def last_updated(self) -> datetime:
        if self.updated:
            return self.updated
        if self.items:
            return max(_utc(item.last_updated) for item in self.items)
        return datetime(2000, 1, 1, tzinfo=UTC)


def rfc822(value: datetime) -> str:
    """``Sun, 29 Nov 2026 04:43:27 GMT`` (RSS ``pubDate``)."""
    return format_datetime(_utc(value), usegmt=True)


def rfc3339(value: datetime) -> str:
    """``2026-11-29T04:43:27Z`` (Atom, JSON Feed)."""
    return _utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = xml_text(text)
    return element


def _note(root: etree._Element, feed: FeedInfo) -> None:
    if feed.note:
        root.insert(0, xml_comment(feed.note))


def xml_comment(text: str) -> etree._Comment:
    """A comment for the file's human readers (XML comments may not hold ``--``)."""
    return etree.Comment(" " + xml_text(text).replace("--", "- -") + " ")


def xml_text(text: str) -> str:
    """Drop the control characters XML 1.0 cannot carry (lxml would refuse them)."""
    return _NOT_XML.sub("", text)


def rss_feed(feed: FeedInfo) -> bytes:
    nsmap = {"atom": ATOM_NS, "dc": DC_NS, "content": CONTENT_NS}
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=nsmap)
    _note(rss, feed)
    channel = _sub(rss, "channel")
    _sub(channel, "title", feed.title)
    _sub(channel, "link", feed.home_url)
    _sub(channel, "description", feed.description or feed.title)
    _sub(channel, f"{{{ATOM_NS}}}link", href=feed.rss_url, rel="self", type="application/rss+xml")
    _sub(channel, "language", feed.language)
    _sub(channel, "lastBuildDate", rfc822(feed.last_updated))
    _sub(channel, "generator", GENERATOR)
    for item in feed.items:
        node = _sub(channel, "item")
        _sub(node, "title", item.title)
        _sub(node, "link", item.url)
        _sub(node, "guid", item.url, isPermaLink="true")
        _sub(node, "pubDate", rfc822(item.published))
        if item.authors:
            _sub(node, f"{{{DC_NS}}}creator", ", ".join(item.authors))
        for category in item.categories:
            _sub(node, "category", category)
        _sub(node, "description", html.escape(item.summary) if item.summary else item.content_html)
        _sub(node, f"{{{CONTENT_NS}}}encoded", item.content_html)
    return etree.tostring(rss, xml_declaration=True, encoding="utf-8", pretty_print=True)


def atom_feed(feed: FeedInfo) -> bytes:
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    root.set(f"{{{XML_NS}}}lang", feed.language)
    _note(root, feed)
    _sub(root, f"{{{ATOM_NS}}}id", feed.atom_url)
    _sub(root, f"{{{ATOM_NS}}}title", feed.title, type="text")
    if feed.description:
        _sub(root, f"{{{ATOM_NS}}}subtitle", feed.description, type="text")
    _sub(root, f"{{{ATOM_NS}}}updated", rfc3339(feed.last_updated))
    _sub(root, f"{{{ATOM_NS}}}link", rel="self", type="application/atom+xml", href=feed.atom_url)
    _sub(root, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=feed.home_url)
    author = _sub(root, f"{{{ATOM_NS}}}author")
    _sub(author, f"{{{ATOM_NS}}}name", feed.author)
    _sub(author, f"{{{ATOM_NS}}}uri", feed.home_url)
    _sub(root, f"{{{ATOM_NS}}}generator", GENERATOR, uri=GENERATOR_URI)
    for item in feed.items:
        entry = _sub(root, f"{{{ATOM_NS}}}entry")
        if item.language and item.language != feed.language:
            entry.set(f"{{{XML_NS}}}lang", item.language)
        _sub(entry, f"{{{ATOM_NS}}}id", item.url)
        _sub(entry, f"{{{ATOM_NS}}}title", item.title, type="text")
        _sub(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=item.url)
        if item.original_url:
            _sub(entry, f"{{{ATOM_NS}}}link", rel="related", type="text/html", href=item.original_url)
        for publisher, url in item.credits:
            _sub(entry, f"{{{ATOM_NS}}}link", rel="related", type="text/html", href=xml_text(url),
                 title=xml_text(publisher))
        _sub(entry, f"{{{ATOM_NS}}}published", rfc3339(item.published))
        _sub(entry, f"{{{ATOM_NS}}}updated", rfc3339(item.last_updated))
        for name in item.authors:
            person = _sub(entry, f"{{{ATOM_NS}}}author")
            _sub(person, f"{{{ATOM_NS}}}name", name)
        for category in item.categories:
            _sub(entry, f"{{{ATOM_NS}}}category", term=xml_text(category))
        if item.summary:
            _sub(entry, f"{{{ATOM_NS}}}summary", item.summary, type="text")
        _sub(entry, f"{{{ATOM_NS}}}content", item.content_html, type="html")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def json_feed(feed: FeedInfo) -> bytes:
    items = []
    for item in feed.items:
        data: dict[str, object] = {
            "id": item.url,
            "url": item.url,
            "title": item.title,
            "content_html": item.content_html,
            "date_published": rfc3339(item.published),
            "date_modified": rfc3339(item.last_updated),
        }
        if item.original_url:
            data["external_url"] = item.original_url
        if item.summary:
            data["summary"] = item.summary
        if item.image:
            data["image"] = item.image
        if item.authors:
            data["authors"] = [{"name": name} for name in item.authors]
        if item.categories:
            data["tags"] = list(item.categories)
        if item.language:
            data["language"] = item.language
        if item.credits:  # the extension key JSON Feed reserves: the story's other publishers
            data["_samachar"] = {"also_reported_by": [{"name": name, "url": url} for name, url in item.credits]}
        items.append(data)
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.json_url,
        "description": feed.description,
        "language": feed.language,
        "authors": [{"name": feed.author, "url": feed.home_url}],
        "items": items,
    }
    if feed.note:
        document["_samachar"] = {"warning": feed.note}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
