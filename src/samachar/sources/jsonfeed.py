"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org) to a :class:`ParsedFeed`.

Written here rather than taken from a parser library because the format is
small and the libraries differ on the parts that matter to us: relative item
URLs, 1.1's ``authors`` list, ``banner_image`` and ``content_text``.
"""

from __future__ import annotations

import html as html_lib
import json
from typing import Any
from urllib.parse import urljoin

from samachar.errors import FeedError
from samachar.extract.sanitize import sanitize_html, sanitize_text
from samachar.model import FeedEntry, ParsedFeed
from samachar.sources.dates import parse_date


def looks_like_json(body: bytes) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"not a feed: invalid JSON ({_short(exc)})") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError("not a feed: JSON without a jsonfeed.org version")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without an items list")
    site_url = _text(data.get("home_page_url")) or None
    # Relative item URLs are read against the site, else the feed's own URL.
    base = urljoin(url, site_url or _text(data.get("feed_url")) or url)
    feed_authors = _authors(data)
    entries = [_entry(item, base, feed_authors) for item in items if isinstance(item, dict)]
    return ParsedFeed(
        title=sanitize_text(_text(data.get("title"))) or None,
        site_url=urljoin(base, site_url) if site_url else None,
        entries=entries,
        format="json",
    )


def _entry(item: dict[str, Any], base: str, feed_authors: list[str]) -> FeedEntry:
    raw_url = _text(item.get("url")) or _text(item.get("external_url"))
    url = urljoin(base, raw_url) if raw_url else None
    content_html = _text(item.get("content_html"))
    content_text = _text(item.get("content_text"))
    if not content_html and content_text:
        content_html = "".join(f"<p>{html_lib.escape(p)}</p>" for p in content_text.split("\n\n") if p.strip())
    summary = _text(item.get("summary"))
    image = _text(item.get("image")) or _text(item.get("banner_image"))
    if not image:
        for attachment in item.get("attachments") or []:
            if isinstance(attachment, dict) and _text(attachment.get("mime_type")).startswith("image/"):
                image = _text(attachment.get("url"))
                break
    authors = _authors(item) or feed_authors
    guid = item.get("id")
    return FeedEntry(
        title=sanitize_text(_text(item.get("title"))),
        url=url,
        guid=str(guid).strip() or None if guid is not None else None,
        summary=sanitize_html(html_lib.escape(summary), url or base) or None if summary else None,
        content_html=sanitize_html(content_html, url or base) or None,
        author=", ".join(authors) or None,
        published=parse_date(_text(item.get("date_published"))),
        updated=parse_date(_text(item.get("date_modified"))),
        image=urljoin(url or base, image) if image else None,
        categories=_categories(item.get("tags")),
    )


def _authors(obj: dict[str, Any]) -> list[str]:
    found = obj.get("authors")
    if not isinstance(found, list):
        found = [obj["author"]] if isinstance(obj.get("author"), dict) else []
    names = [sanitize_text(_text(a.get("name"))) for a in found if isinstance(a, dict)]
    return [n for n in names if n]


def _categories(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        return []
    seen: list[str] = []
    for tag in tags:
        name = sanitize_text(_text(tag))
        if name and name not in seen:
            seen.append(name)
    return seen


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
