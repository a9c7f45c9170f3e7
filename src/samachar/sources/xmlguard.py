"""Screening of XML before any parser sees it.

Entity declarations are refused outright instead of trusting each parser's
settings: a billion-laughs DTD or an external entity never reaches libxml2 or
expat. Real feeds do not declare entities (none of the 150 in the shared
corpus does); refusing them costs nothing.
"""

from __future__ import annotations

import codecs
import re

from samachar.errors import FeedError

_PROLOG_WINDOW = 256 * 1024
# Prolog pieces that may stand before the root element.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]*)(?:\[.*?\])?\s*>", re.S | re.I)
_ELEMENT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def head_text(body: bytes, size: int = _PROLOG_WINDOW) -> str:
    """The start of a document as text, good enough to read markup in any encoding."""
    head = body[:size]
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "replace")
    if head[:2] == b"<\x00":
        return head.decode("utf-16-le", "replace")
    if head[:2] == b"\x00<":
        return head.decode("utf-16-be", "replace")
    return head.decode("latin-1")  # byte-transparent for the ASCII markup we look for


def check_xml_prolog(body: bytes) -> str | None:
    """Refuse entity declarations; return the root element's local name (lowercase).

    ``None`` when no element starts the document (plain text, binary junk).
    """
    text = head_text(body).lstrip("\ufeff")
    pos = 0
    while True:
        match = _PROLOG_ITEM.match(text, pos)
        if not match or match.end() == pos:
            break
        if match.group(0)[:2] == "<!" and re.search(r"<!ENTITY", match.group(0), re.I):
            raise FeedError("not a feed: XML entity declarations refused")
        pos = match.end()
    rest = text[pos:]
    if rest[:9].upper() == "<!DOCTYPE":
        # An unterminated or oversized DOCTYPE: whatever it declares is not read.
        if re.search(r"<!ENTITY", rest, re.I):
            raise FeedError("not a feed: XML entity declarations refused")
        return "html" if re.match(r"<!DOCTYPE\s+html", rest, re.I) else None
    element = _ELEMENT.match(rest)
    if not element:
        # Junk before the root: parsers may still recover the document, so
        # entity declarations anywhere in the head are refused as well.
        if re.search(r"<!ENTITY", rest, re.I):
            raise FeedError("not a feed: XML entity declarations refused")
        return None
    return element.group(2).lower()
