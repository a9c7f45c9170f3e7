"""Carrying samachar's segment tags (``<g1>…</g1>``, ``<x1/>``) through HTML- and XML-aware APIs.

Segments are plain text with numbered tags. APIs that understand markup want
well-formed input: text escaped, tags they know. For XML mode (DeepL) the
tags stay as they are and only text is escaped; for HTML mode (LibreTranslate,
Google) ``<gN>`` becomes ``<span data-s="gN">`` and ``<xN/>`` becomes
``<img data-s="xN">``, and the answer is mapped back with a stack so a moved
``</span>`` still closes the right tag.
"""

from __future__ import annotations

import html
import re

SEGMENT_TAG = re.compile(r"<(/?)([gx])(\d+)\s*(/?)>")
HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
DATA_S = re.compile(r"""data-s\s*=\s*["']?([gx]\d+)""")


def _escape_text(text: str) -> str:
    return html.escape(text, quote=False)


def _convert(segment: str, open_tag, close_tag, empty_tag) -> str:
    out, pos = [], 0
    for match in SEGMENT_TAG.finditer(segment):
        out.append(_escape_text(segment[pos:match.start()]))
        closing, kind, number, self_closing = match.groups()
        if kind == "x":
            out.append(empty_tag(number))
        elif closing:
            out.append(close_tag(number))
        else:
            out.append(open_tag(number))
        pos = match.end()
    out.append(_escape_text(segment[pos:]))
    return "".join(out)


def to_xml(segment: str) -> str:
    """Escape the text of a segment, keeping its tags: input for ``tag_handling=xml``."""
    return _convert(segment, lambda n: f"<g{n}>", lambda n: f"</g{n}>", lambda n: f"<x{n}/>")


def from_xml(text: str) -> str:
    """Back from XML: tags normalised (``<x1 />`` → ``<x1/>``), entities decoded."""
    out, pos = [], 0
    for match in SEGMENT_TAG.finditer(text):
        out.append(html.unescape(text[pos:match.start()]))
        closing, kind, number, _ = match.groups()
        out.append(f"<x{number}/>" if kind == "x" else f"<{closing}g{number}>")
        pos = match.end()
    out.append(html.unescape(text[pos:]))
    return "".join(out)


def to_html(segment: str) -> str:
    """A segment as an HTML fragment whose elements carry the tag numbers."""
    return _convert(segment, lambda n: f'<span data-s="g{n}">', lambda n: "</span>",
                    lambda n: f'<img data-s="x{n}">')


def from_html(text: str) -> str:
    """Back from HTML: our spans and images become tags again; other markup is dropped."""
    out, pos = [], 0
    stack: list[str | None] = []
    for match in HTML_TAG.finditer(text):
        out.append(html.unescape(text[pos:match.start()]))
        pos = match.end()
        closing, name, attributes = match.groups()
        name = name.lower()
        marker = DATA_S.search(attributes)
        if closing:
            if name == "span" and stack:
                opened = stack.pop()
                if opened:
                    out.append(f"</{opened}>")
            continue
        if marker and marker.group(1).startswith("x"):
            out.append(f"<{marker.group(1)}/>")
        elif name == "span":
            label = marker.group(1) if marker else None
            stack.append(label)
            if label:
                out.append(f"<{label}>")
    out.append(html.unescape(text[pos:]))
    for label in reversed(stack):  # an engine dropped a closing tag: close it at the end
        if label:
            out.append(f"</{label}>")
    return "".join(out)
