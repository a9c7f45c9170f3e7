"""HTML sanitizing with nh3 (Ammonia): one allow-list for every body we store.

Scripts, event handlers, iframes, ``javascript:``/``data:`` URLs and styles
are removed; relative links are made absolute; links get
``rel="noopener noreferrer"``. Sanitizing never drops the article: it returns
the cleaned fragment, possibly empty.
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin, urlsplit

import nh3

INLINE_TAGS = {"a", "em", "strong", "b", "i", "q", "code", "sub", "sup", "br", "abbr", "cite", "mark", "s", "u", "small"}
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "figure", "figcaption", "img", "pre", "hr"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}, "q": {"cite"}}
URL_SCHEMES = {"http", "https", "mailto"}


# nh3's output is serialized HTML: text escapes "<", so a "<" starts a tag, and attribute values
# are double-quoted with '"' escaped, so a value ends at the next quote.
_TAG = re.compile(r'<([a-z][a-z0-9]*)((?:\s[^\s=>]+="[^"]*")+)')
_ATTRIBUTE = re.compile(r'\s([^\s=>]+)="([^"]*)"')
_URL_ATTRIBUTES = ("href", "src", "cite")


# An absolute http(s) URL that urljoin would hand back unchanged: lowercase scheme, printable
# ASCII, no brackets (IPv6 hosts are checked), no path parameters, no empty query or fragment.
_PLAIN_ABSOLUTE_URL = re.compile(
    r"https?://[!\"$-.0-:<->@-Z\\^-~]+(?:/[!\"$-:<->@-Z\\^-~]*)?(?:\?[!\"$-~]+)?(?:#[!-~]+)?"
)


def join_url(base: str | None, link: str) -> str:
    """``urljoin(base, link)``, without its cost for the links that are already absolute (nearly all)."""
    return link if not base or _PLAIN_ABSOLUTE_URL.fullmatch(link) else urljoin(base, link)


def _checked_url(value: str, base_url: str | None) -> str | None:
    """The link as stored: stripped, made absolute against ``base_url``, None unless http(s)/mailto."""
    try:
        value = value.strip()
        if _PLAIN_ABSOLUTE_URL.fullmatch(value):
            return value
        if base_url:
            value = urljoin(base_url, value)
        return value if urlsplit(value).scheme.lower() in URL_SCHEMES else None
    except ValueError:  # "http://[::1": a link that urllib cannot even split is dropped
        return None


def _attribute_value(value: str) -> str:
    """Escape a value as nh3 (html5ever) serializes it."""
    escaped = value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def _resolve_tag_links(match: re.Match[str], base_url: str | None) -> str:
    attributes = _ATTRIBUTE.findall(match.group(2))
    for index, (name, value) in enumerate(attributes):
        if name not in _URL_ATTRIBUTES:
            continue
        url = _checked_url(html_lib.unescape(value), base_url)
        if url is not None:
            attributes[index] = (name, _attribute_value(url))
        else:  # where nh3's attribute_filter dropped one, the last attribute took its place
            last = attributes.pop()
            if index < len(attributes):
                attributes[index] = last
        break  # every allowed tag has at most one URL attribute
    return f"<{match.group(1)}" + "".join(f' {name}="{value}"' for name, value in attributes)


def _resolve_links(cleaned: str, base_url: str | None) -> str:
    """Resolve and check the links of a cleaned fragment in one pass over its tags.

    Done after cleaning rather than in nh3's ``attribute_filter``: that Python callback ran for
    nearly every attribute of the input, links or not, and was most of the cost of sanitizing.
    The output is byte for byte what the callback produced (attribute order included).
    """
    if 'href="' not in cleaned and 'src="' not in cleaned and 'cite="' not in cleaned:
        return cleaned
    return _TAG.sub(lambda match: _resolve_tag_links(match, base_url), cleaned)


_CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "noscript", "template"}


def _options(inline_only: bool) -> dict:
    tags = INLINE_TAGS if inline_only else INLINE_TAGS | BLOCK_TAGS
    return dict(
        tags=tags,
        attributes={k: v for k, v in ATTRIBUTES.items() if k in tags},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
    )


def sanitize_html(fragment: str, base_url: str | None = None, *, inline_only: bool = False) -> str:
    """Clean an HTML fragment; relative URLs resolved against ``base_url``."""
    if not fragment:
        return ""
    return _resolve_links(nh3.clean(fragment, **_options(inline_only)), base_url).strip()


class Sanitizer:
    """:func:`sanitize_html` with its allow-list built once, for the many blocks of one page."""

    def __init__(self, base_url: str | None = None, *, inline_only: bool = False) -> None:
        self._cleaner = nh3.Cleaner(**_options(inline_only))
        self._base_url = base_url

    def __call__(self, fragment: str, base_url: str | None = None) -> str:
        """Clean ``fragment``; links resolve against ``base_url`` if given, else the sanitizer's own."""
        if not fragment:
            return ""
        return _resolve_links(self._cleaner.clean(fragment), base_url or self._base_url).strip()


# What the HTML parser would act on in text: a tag or comment, an entity, a NUL or a byte-order mark (dropped).
_MARKUP = re.compile("[<&\x00\ufeff]")


def sanitize_text(value: str | None) -> str:
    """Feed-supplied names and titles are text: strip any markup, decode entities."""
    if not value:
        return ""
    if not _MARKUP.search(value):  # plain text (most titles): nh3 would hand it back unchanged
        return " ".join(value.split())
    cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    return " ".join(html_lib.unescape(cleaned).split())
