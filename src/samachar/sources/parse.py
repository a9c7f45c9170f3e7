"""Feed bytes to a :class:`ParsedFeed`: RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed.

How a body is read, in order:

1. JSON bodies go to :mod:`samachar.sources.jsonfeed`.
2. XML bodies are screened first: an internal DTD that declares entities is
   refused (billion laughs, external entities), an HTML page is named as such.
3. fastfeedparser parses the rest (measured about 125x faster than
   feedparser on the shared corpus, and it found as many entries or more in
   every feed there).
4. feedparser parses it again when fastfeedparser is known to fall short:
   RSS 0.90/1.0 (RDF: it drops ``content:encoded``), fewer entries than the
   document has ``<item>``/``<entry>`` tags (broken XML that feedparser's
   lenient mode reads further), or relative links under ``xml:base``. The
   result with more entries wins.
5. Every field is normalized here: titles, authors and categories through
   :func:`sanitize_text`, HTML through :func:`sanitize_html` with links made
   absolute, dates to aware datetimes, the lead image from Media RSS,
   enclosures or ``rel=enclosure`` links.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from samachar.errors import FeedError
from samachar.extract.sanitize import join_url, sanitize_text
from samachar.model import FeedEntry, ParsedFeed
from samachar.sources.dates import parse_date
from samachar.sources.jsonfeed import looks_like_json, parse_json_feed
from samachar.sources.xmlguard import check_xml_prolog

_ITEM_TAG = re.compile(rb"<(?:atom:|rss:)?(?:item|entry)[\s>/]")
_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.I)
_SY_PERIOD = re.compile(rb"<sy:updatePeriod>\s*(\w+)\s*</sy:updatePeriod>", re.I)
_SY_FREQUENCY = re.compile(rb"<sy:updateFrequency>\s*(\d{1,5})\s*</sy:updateFrequency>", re.I)
_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_FEED_ROOTS = {"rss": "rss", "feed": "atom", "rdf": "rdf", "channel": "rss"}


def parse_feed(body: bytes, url: str) -> ParsedFeed:
    """Parse a feed document fetched from ``url``; raise FeedError with a one-line reason."""
    if not body or not body.strip():
        raise FeedError("not a feed: empty response")
    if looks_like_json(body):
        return parse_json_feed(body, url)
    root = check_xml_prolog(body)
    if root in ("html", "body", "head"):
        raise FeedError("not a feed: got an HTML page")
    fmt = _FEED_ROOTS.get(root or "")

    fast, fast_error = _parse_fast(body)
    raw = fast
    if fast is None or _needs_second_opinion(fast, body, fmt):
        slow = _parse_slow(body, url)
        if slow is not None and (raw is None or len(slow["entries"]) >= len(raw["entries"])):
            raw = slow
    if raw is None or (fmt is None and not raw["entries"]):
        reason = fast_error or (f"XML document with root <{root}>" if root else "no XML element found")
        raise FeedError(f"not a feed: {reason}")

    feed = raw.get("feed") or {}
    site = _str(feed.get("link"))
    base = urljoin(url, site) if site else url
    head = body[: _first_item_offset(body)]
    sanitize = _FeedSanitizer()
    return ParsedFeed(
        title=sanitize.text(_str(feed.get("title"))) or None,
        site_url=urljoin(url, site) if site else None,
        entries=[_entry(e, base, fmt, sanitize) for e in raw["entries"]],
        format=fmt or "rss",
        ttl=_ttl(head),
    )


def _parse_fast(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    import fastfeedparser

    try:
        parsed = fastfeedparser.parse(body)
    except Exception as exc:  # the library raises ValueError and lxml errors alike
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "HTML" in message:
            message = "got an HTML page"
        return None, message[:160]
    return {"feed": parsed.get("feed") or {}, "entries": list(parsed.get("entries") or [])}, None


def _parse_slow(body: bytes, url: str) -> dict[str, Any] | None:
    import feedparser

    try:
        parsed = feedparser.parse(
            body, response_headers={"content-location": url}, sanitize_html=False, resolve_relative_uris=True
        )
    except Exception:
        return None
    if not parsed.get("version") and not parsed.entries:
        return None
    return {"feed": parsed.feed, "entries": list(parsed.entries), "slow": True}


def _needs_second_opinion(fast: dict[str, Any], body: bytes, fmt: str | None) -> bool:
    if fmt == "rdf" or not fast["entries"]:
        return True
    if len(fast["entries"]) < len(_ITEM_TAG.findall(body)):
        return True
    if b"xml:base" in body:
        return any(_is_relative(_str(e.get("link"))) for e in fast["entries"])
    return False


class _FeedSanitizer:
    """:mod:`samachar.extract.sanitize` for the many entries of one feed, at a fraction of the cost.

    ``html`` is :func:`sanitize_html` with one nh3 cleaner for the whole feed: building it
    (allow-lists) cost as much as cleaning a typical entry, and only the base that relative
    links resolve against changes from entry to entry. ``text`` is :func:`sanitize_text`
    remembered for the feed: authors and categories repeat.
    """

    def __init__(self) -> None:
        from samachar.extract.sanitize import Sanitizer

        self._sanitize = Sanitizer()
        self._texts: dict[str, str] = {}

    def html(self, fragment: str, base_url: str | None) -> str:
        return self._sanitize(fragment, base_url)

    def text(self, value: str) -> str:
        cleaned = self._texts.get(value)
        if cleaned is None:
            cleaned = self._texts[value] = sanitize_text(value)
        return cleaned


def _entry(raw: dict[str, Any], base: str, fmt: str | None, sanitize: _FeedSanitizer) -> FeedEntry:
    raw_link = _str(raw.get("link"))
    url = join_url(base, raw_link) if raw_link else None
    guid = _str(raw.get("id")) or None
    if guid and guid == raw_link:
        guid = None  # the parser filled the id from the link; the link is the identity
    page = url or base
    summary_raw = _str(raw.get("summary")) or _str(raw.get("description"))
    content_raw = _best_content(raw.get("content"))
    if content_raw and content_raw.strip() == summary_raw.strip():
        # Parsers copy one into the other: Atom's content is the body, RSS's
        # description is a summary.
        if fmt == "atom":
            summary_raw = ""
        else:
            content_raw = ""
    published = _date(raw, "published")
    updated = _date(raw, "updated")
    return FeedEntry(
        title=sanitize.text(_str(raw.get("title"))),
        url=url,
        guid=guid,
        summary=sanitize.html(summary_raw, page) or None if summary_raw else None,
        content_html=sanitize.html(content_raw, page) or None if content_raw else None,
        author=_author(raw, sanitize.text),
        published=published or updated,
        updated=updated,
        image=_image(raw, page),
        categories=_categories(raw.get("tags"), sanitize.text),
    )


def _best_content(contents: Any) -> str:
    if not isinstance(contents, list):
        return ""
    best = ""
    for item in contents:
        if isinstance(item, dict):
            value = _str(item.get("value"))
            if len(value) > len(best):
                best = value
    return best


def _date(raw: dict[str, Any], key: str) -> Any:
    found = parse_date(_str(raw.get(key)))
    if found is None and raw.get(f"{key}_parsed"):
        import calendar
        from datetime import datetime, timezone

        found = datetime.fromtimestamp(calendar.timegm(raw[f"{key}_parsed"]), tz=timezone.utc)
    return found


def _author(raw: dict[str, Any], sanitize_text: Callable[[str], str]) -> str | None:
    names = []
    for detail in raw.get("authors") or []:
        if isinstance(detail, dict):
            name = sanitize_text(_str(detail.get("name")))
            if name and name not in names:
                names.append(name)
    if not names:
        name = sanitize_text(_str(raw.get("author")))
        if name:
            names.append(name)
    return ", ".join(names) or None


def _categories(tags: Any, sanitize_text: Callable[[str], str]) -> list[str]:
    found: list[str] = []
    for tag in tags or []:
        if not isinstance(tag, dict):
            continue
        name = sanitize_text(_str(tag.get("label")) or _str(tag.get("term")))
        if name and name not in found:
            found.append(name)
    return found


def _image(raw: dict[str, Any], page: str) -> str | None:
    """The lead image: Media RSS image, thumbnail, image enclosure, image link."""
    candidates: list[str] = []
    for media in raw.get("media_content") or []:
        if not isinstance(media, dict):
            continue
        src = _str(media.get("url"))
        kind = _str(media.get("medium")) or _str(media.get("type"))
        if src and (kind.startswith("image") or (not kind and _looks_like_image(src))):
            candidates.append(src)
    for thumb in raw.get("media_thumbnail") or []:
        if isinstance(thumb, dict) and _str(thumb.get("url")):
            candidates.append(_str(thumb.get("url")))
    for enclosure in raw.get("enclosures") or []:
        if isinstance(enclosure, dict) and _str(enclosure.get("type")).startswith("image/"):
            candidates.append(_str(enclosure.get("url")) or _str(enclosure.get("href")))
    for link in raw.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "enclosure" and _str(link.get("type")).startswith("image/"):
            candidates.append(_str(link.get("href")))
    image = raw.get("image")
    if isinstance(image, dict):
        candidates.append(_str(image.get("href")) or _str(image.get("url")))
    elif isinstance(image, str):
        candidates.append(image)
    for src in candidates:
        if src:
            absolute = urljoin(page, src)
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return None


def _ttl(head: bytes) -> int | None:
    match = _TTL.search(head)
    if match and int(match.group(1)) > 0:
        return int(match.group(1))
    period = _SY_PERIOD.search(head)
    if period and period.group(1).decode("ascii", "replace").lower() in _PERIOD_MINUTES:
        minutes = _PERIOD_MINUTES[period.group(1).decode("ascii").lower()]
        frequency = _SY_FREQUENCY.search(head)
        times = int(frequency.group(1)) if frequency else 1
        return max(1, minutes // max(times, 1))
    return None


def _first_item_offset(body: bytes) -> int:
    match = _ITEM_TAG.search(body)
    return match.start() if match else min(len(body), 65536)


def _looks_like_image(src: str) -> bool:
    return urlsplit(src).path.lower().endswith(_IMAGE_SUFFIXES)


def _is_relative(link: str) -> bool:
    return bool(link) and not urlsplit(link).scheme


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
