"""OPML import and export of the source list.

Reading uses lxml with entity resolution, DTD loading and network access all
off, after the same entity-declaration screen feeds get: an OPML file is
user-supplied XML like any other.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from samachar.errors import FeedError
from samachar.extract.sanitize import sanitize_text
from samachar.sources.xmlguard import check_xml_prolog


def parse_opml(data: bytes) -> list[tuple[str, str | None]]:
    """(feed URL, title) for every outline with an ``xmlUrl``, nested ones too, in order, once each."""
    from lxml import etree

    if not data or not data.strip():
        raise FeedError("not an OPML file: empty")
    try:
        root_name = check_xml_prolog(data)
    except FeedError as exc:
        raise FeedError(str(exc).replace("not a feed", "not an OPML file")) from None
    if root_name != "opml":
        raise FeedError(f"not an OPML file: root element is <{root_name or 'none'}>")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not an OPML file: {str(exc).splitlines()[0][:120]}") from None
    if root is None:
        raise FeedError("not an OPML file: unreadable XML")
    found: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        attrs = {k.lower(): v for k, v in outline.attrib.items() if isinstance(k, str)}
        url = (attrs.get("xmlurl") or "").strip()
        if not url or urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = sanitize_text(attrs.get("title") or attrs.get("text") or "") or None
        found.append((url, title))
    return found


def write_opml(items: list[tuple[str, str | None]], title: str = "samachar sources") -> str:
    """An OPML 2.0 document listing the sources, readable by any feed reader."""
    created = format_datetime(datetime.now(timezone.utc), usegmt=True)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{escape(title)}</title>",
        f"    <dateCreated>{created}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for url, name in items:
        label = quoteattr(name or url)
        lines.append(f'    <outline type="rss" text={label} title={label} xmlUrl={quoteattr(url)}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
