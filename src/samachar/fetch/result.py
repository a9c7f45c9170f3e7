"""What a fetch returns, and how its bytes become text."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Mapping

_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:\-]+)", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:\-]+)[\"']", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:\-]+)", re.I)
_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class FetchResult:
    """One finished fetch. ``url`` is the final URL after redirects.

    ``permanent_url`` is set when every redirect on the way was permanent
    (301/308): the caller should store the new address.
    """

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return (_header(self.headers, "content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def max_age(self) -> int | None:
        """Seconds from ``Cache-Control: max-age`` (or s-maxage), None when absent."""
        control = _header(self.headers, "cache-control") or ""
        if re.search(r"no-store|no-cache", control, re.I):
            return None
        match = _MAX_AGE.search(control)
        return int(match.group(2)) if match else None

    def text(self) -> str:
        """The body as text: BOM, then the charset header, then the XML or
        meta declaration, then detection (charset-normalizer), then UTF-8 with
        replacement characters. Never raises."""
        return decode_body(self.body, _header(self.headers, "content-type"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # Browsers read latin-1 labels as windows-1252; so do we (curly quotes survive).
    return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found


def decode_body(body: bytes, content_type: str | None = None) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, "replace")
    declared: list[str | None] = []
    if content_type:
        match = _CHARSET_PARAM.search(content_type)
        declared.append(_codec(match.group(1)) if match else None)
    head = body[:4096]
    xml = _XML_DECL.match(head)
    declared.append(_codec(xml.group(1).decode("ascii")) if xml else None)
    meta = _META_CHARSET.search(head)
    declared.append(_codec(meta.group(1).decode("ascii")) if meta else None)
    for codec in declared:
        if codec is None:
            continue
        if codec == "cp1252" and _is_utf8_with_high_bytes(body):
            return body.decode("utf-8")  # a server default of latin-1 over UTF-8 bytes: the usual mojibake
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only undeclared, non-UTF-8 bodies need it

    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        try:
            return body.decode(best.encoding, "replace")
        except LookupError:
            pass
    return body.decode("utf-8", "replace")


def _is_utf8_with_high_bytes(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
