"""HTML sanitizing with nh3 (Ammonia): one allow-list for every body we store.

Scripts, event handlers, iframes, ``javascript:``/``data:`` URLs and styles
are removed; relative links are made absolute; links get
``rel="noopener noreferrer"``. Sanitizing never drops the article: it returns
the cleaned fragment, possibly empty.
"""

from __future__ import annotations

import html as html_lib
from urllib.parse import urljoin, urlsplit

import nh3

INLINE_TAGS = {"a", "em", "strong", "b", "i", "q", "code", "sub", "sup", "br", "abbr", "cite", "mark", "s", "u", "small"}
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "figure", "figcaption", "img", "pre", "hr"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}, "q": {"cite"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _absolutize(base_url: str | None):
    def filter_attribute(element: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src", "cite"):
            value = value.strip()
            if base_url:
                value = urljoin(base_url, value)
            scheme = urlsplit(value).scheme.lower()
            if scheme not in URL_SCHEMES:
                return None
        return value

    return filter_attribute


_CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "noscript", "template"}


def _options(base_url: str | None, inline_only: bool) -> dict:
    tags = INLINE_TAGS if inline_only else INLINE_TAGS | BLOCK_TAGS
    return dict(
        tags=tags,
        attributes={k: v for k, v in ATTRIBUTES.items() if k in tags},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_absolutize(base_url),
        strip_comments=True,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
    )


def sanitize_html(fragment: str, base_url: str | None = None, *, inline_only: bool = False) -> str:
    """Clean an HTML fragment; relative URLs resolved against ``base_url``."""
    if not fragment:
        return ""
    return nh3.clean(fragment, **_options(base_url, inline_only)).strip()


class Sanitizer:
    """:func:`sanitize_html` with its allow-list built once, for the many blocks of one page."""

    def __init__(self, base_url: str | None = None, *, inline_only: bool = False) -> None:
        self._cleaner = nh3.Cleaner(**_options(base_url, inline_only))

    def __call__(self, fragment: str) -> str:
        return self._cleaner.clean(fragment).strip() if fragment else ""


def sanitize_text(value: str | None) -> str:
    """Feed-supplied names and titles are text: strip any markup, decode entities."""
    if not value:
        return ""
    cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    return " ".join(html_lib.unescape(cleaned).split())
