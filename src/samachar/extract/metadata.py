"""What a page says about itself: JSON-LD, OpenGraph, ``<meta>``, microdata.

Attribution must come from the article, never from a template, so every
field here is read from the page; a field the page does not state stays
empty. Where sources disagree the order is: JSON-LD (the publisher's
structured statement) → OpenGraph / article:* → plain ``<meta>`` → microdata.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from samachar.extract.sanitize import sanitize_text

ARTICLE_TYPES = frozenset(
    "Article NewsArticle ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle BackgroundNewsArticle "
    "ReviewNewsArticle AskPublicNewsArticle BlogPosting LiveBlogPosting Report TechArticle ScholarlyArticle "
    "SocialMediaPosting DiscussionForumPosting SatiricalArticle".split()
)
PAGE_TYPES = frozenset("WebPage ItemPage CollectionPage".split())
ORGANIZATION_TYPES = frozenset("Organization NewsMediaOrganization Corporation".split())
# Hosts that never serve a public canonical page (`.example` is allowed: the test corpus uses it).
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".invalid", ".lan", ".home.arpa", ".intranet")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|von|par|por|द्वारा)\s+", re.I)
_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


@dataclass
class PageMetadata:
    """Fields read from the page's head and structured data; empty when the page is silent."""

    title: str | None = None
    canonical_url: str | None = None
    publisher: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    image: str | None = None
    image_alt: str | None = None  # og:image:alt, twitter:image:alt
    image_caption: str | None = None  # JSON-LD ImageObject caption
    image_credit: str | None = None  # JSON-LD creditText, else copyrightHolder
    image_width: int | None = None
    image_height: int | None = None
    language: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    base_url: str | None = None


def read_page_metadata(tree: etree._Element, url: str) -> PageMetadata:
    """Read a parsed page (``lxml.html``) fetched from ``url``."""
    head = _scan(tree)
    metas = head.metas
    ld = _JsonLd.from_scripts(head.json_ld)
    meta = PageMetadata()

    base = head.base
    meta.base_url = urljoin(url, base) if base and _is_http(urljoin(url, base)) else url

    meta.title = _first_text(
        ld.article_value("headline"), metas.get("og:title"), metas.get("twitter:title"), ld.article_value("name")
    )
    candidates = head.canonical + metas.get("og:url", [])
    meta.canonical_url = next((c for c in (canonical_or_none(x, url) for x in candidates) if c), None)

    meta.publisher = _first_text(ld.publisher_name(), metas.get("og:site_name"), ld.organization_name())
    meta.authors = _dedupe(
        ld.author_names()
        or _names(metas.get("author", []) + metas.get("article:author", []) + metas.get("parsely-author", [])
                  + metas.get("sailthru.author", []) + metas.get("dc.creator", []) + metas.get("byl", []))
        or _microdata_authors(tree)
    )
    meta.published = _first_date(
        ld.article_value("datePublished"), ld.article_value("dateCreated"),
        *(metas.get(k) for k in ("article:published_time", "og:published_time", "datepublished", "pubdate",
                                  "publishdate", "publish-date", "parsely-pub-date", "sailthru.date",
                                  "dc.date.issued", "dc.date", "dcterms.created", "date")),
    ) or _first_date(_microdata_values(tree, "datePublished"))
    meta.modified = _first_date(
        ld.article_value("dateModified"),
        *(metas.get(k) for k in ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
                                  "last-modified")),
    ) or _first_date(_microdata_values(tree, "dateModified"))
    image = _first_text(metas.get("og:image"), metas.get("og:image:url"), metas.get("og:image:secure_url"),
                        metas.get("twitter:image"), metas.get("twitter:image:src"), ld.image_url())
    if image:
        image = urljoin(meta.base_url, image.strip())
        meta.image = image if _is_http(image) else None
    if meta.image:
        _read_image_details(meta, metas, ld)
    meta.language = normalize_language(
        _first_text([tree.get("lang") or ""], [tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""],
                    metas.get("content-language"), metas.get("og:locale"), metas.get("dc.language"),
                    ld.article_value("inLanguage"))
    )
    section = ld.article_value("articleSection")
    meta.section = _first_text(metas.get("article:section"), section, metas.get("parsely-section"))
    keywords = metas.get("article:tag") or _split_keywords(ld.article_raw("keywords")) \
        or _split_keywords(metas.get("keywords")) or _split_keywords(metas.get("news_keywords"))
    meta.tags = _dedupe([_plain(k) for k in keywords if isinstance(k, str)])[:30]
    meta.summary = _first_text(metas.get("og:description"), metas.get("description"),
                               ld.article_value("description"), metas.get("twitter:description"))
    return meta


def _read_image_details(meta: PageMetadata, metas: dict[str, list[str]], ld: _JsonLd) -> None:
    """Alt, caption, credit and size of the lead image, where the page states them for that image."""
    assert meta.image is not None
    from_og = meta.image in {urljoin(meta.base_url or "", v.strip()) for v in metas.get("og:image", [])}
    meta.image_alt = _first_text(metas.get("og:image:alt"), metas.get("twitter:image:alt"))
    if from_og:
        meta.image_width = _dimension(_first_text(metas.get("og:image:width")))
        meta.image_height = _dimension(_first_text(metas.get("og:image:height")))
    node = ld.image_node()
    if node is None:
        return
    url = node.get("url") or node.get("contentUrl")
    if not isinstance(url, str) or not same_image(urljoin(meta.base_url or "", url.strip()), meta.image):
        return  # a caption of another picture is no caption of this one
    meta.image_caption = _first_text(ld.text_of(node.get("caption")), ld.text_of(node.get("description")))
    meta.image_credit = _first_text(ld.text_of(node.get("creditText")), ld.text_of(node.get("copyrightHolder")),
                                    ld.text_of(node.get("author")))
    meta.image_width = meta.image_width or _dimension(node.get("width"))
    meta.image_height = meta.image_height or _dimension(node.get("height"))


def same_image(a: str, b: str) -> bool:
    """Two URLs of one picture: equal, or equal but for the query (a resized copy: ``?w=1200``)."""
    return a == b or urlsplit(a)._replace(query="", fragment="") == urlsplit(b)._replace(query="", fragment="")


def _dimension(value: Any) -> int | None:
    """A pixel size from JSON-LD or a meta tag: 1200, "1200", "1200px"; None when implausible."""
    if isinstance(value, dict):
        value = value.get("value") or value.get("@value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, str) and (match := re.fullmatch(r"\s*(\d{1,6})(?:\.0+)?\s*(?:px)?\s*", value)):
        number = int(match.group(1))
    else:
        return None
    return number if 0 < number < 100_000 else None


# -- URLs ---------------------------------------------------------------------
def canonical_or_none(candidate: str | None, fetched_url: str) -> str | None:
    """A canonical/og:url candidate if it is an http(s) URL on a plausible public host."""
    if not candidate or not candidate.strip():
        return None
    candidate = candidate.strip()
    if candidate.startswith("//"):
        candidate = f"{urlsplit(fetched_url).scheme or 'https'}:{candidate}"
    elif not urlsplit(candidate).scheme and candidate.startswith("/"):
        candidate = urljoin(fetched_url, candidate)
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https") or not plausible_host(parts.hostname):
        return None
    # A canonical pointing at the site's front page from an article is a template bug, not the article.
    if parts.path in ("", "/") and not parts.query and urlsplit(fetched_url).path not in ("", "/"):
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def plausible_host(host: str | None) -> bool:
    """A public DNS name: dotted labels, alphabetic TLD, not an IP literal or a private name."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        return False
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1]))


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).netloc)


# -- dates and languages --------------------------------------------------------
def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (or RFC 2822) to a timezone-aware datetime; naive times are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    candidates = [text, text.replace(" ", "T", 1)]
    if re.search(r"[+-]\d{4}$", text):  # +0530 → +05:30
        candidates.append(f"{text[:-2]}:{text[-2:]}".replace(" ", "T", 1))
    for candidate in candidates:
        try:
            parsed = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if not 1990 <= parsed.year <= datetime.now(timezone.utc).year + 1:
        return None
    return parsed


def normalize_language(value: str | None) -> str | None:
    """``en-US``, ``en_GB``, ``EN`` → ``en`` (the primary subtag the engines are keyed on)."""
    if not value:
        return None
    match = _LANG.match(value.strip())
    return match.group(1).lower() if match else None


# -- JSON-LD ----------------------------------------------------------------------
class _JsonLd:
    """The JSON-LD nodes of a page, with ``@id`` references resolved on demand."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = nodes
        self.by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
        self.article = next((n for n in nodes if _types(n) & ARTICLE_TYPES), None) or next(
            (n for n in nodes if _types(n) & PAGE_TYPES and ("headline" in n or "datePublished" in n)), None
        )

    @classmethod
    def from_scripts(cls, scripts: list[str]) -> _JsonLd:
        nodes: list[dict[str, Any]] = []
        for text in scripts:
            data = _load_json(text)
            if data is not None:
                _collect_nodes(data, nodes, depth=0)
        return cls(nodes)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in self.by_id:
            return self.by_id[value["@id"]]
        return value

    def article_raw(self, key: str) -> Any:
        return self.article.get(key) if self.article is not None else None

    def article_value(self, key: str) -> Any:
        if self.article is None:
            return None
        value = self.resolve(self.article.get(key))
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, dict):
            value = value.get("name") or value.get("@value")
        return value if isinstance(value, str) else None

    def publisher_name(self) -> str | None:
        if self.article is None:
            return None
        publisher = self.article.get("publisher") or self.article.get("sourceOrganization")
        if isinstance(publisher, list):
            publisher = publisher[0] if publisher else None
        publisher = self.resolve(publisher)
        if isinstance(publisher, dict):
            return _name_of(publisher)
        return publisher if isinstance(publisher, str) and not _looks_like_url(publisher) else None

    def organization_name(self) -> str | None:
        """A page-level Organization node (``@graph``) names the publisher when the article node does not."""
        for node in self.nodes:
            if _types(node) & ORGANIZATION_TYPES:
                name = _name_of(node)
                if name:
                    return name
        return None

    def author_names(self) -> list[str]:
        if self.article is None:
            return []
        authors = self.article.get("author") or self.article.get("creator")
        if not isinstance(authors, list):
            authors = [authors]
        names: list[str] = []
        for author in authors:
            author = self.resolve(author)
            if isinstance(author, dict):
                names.extend(_names([_name_of(author) or ""]))
            elif isinstance(author, str):
                names.extend(_names([author]))
        return names

    def image_url(self) -> str | None:
        if self.article is None:
            return None
        image = self.resolve(self.article.get("image") or self.article.get("thumbnailUrl"))
        if isinstance(image, list):
            image = self.resolve(image[0]) if image else None
        if isinstance(image, dict):
            image = image.get("url") or image.get("contentUrl")
        return image if isinstance(image, str) else None

    def image_node(self) -> dict[str, Any] | None:
        """The article's first image as an ``ImageObject`` node, when it is one."""
        if self.article is None:
            return None
        image = self.resolve(self.article.get("image"))
        if isinstance(image, list):
            image = self.resolve(image[0]) if image else None
        return image if isinstance(image, dict) else None

    def text_of(self, value: Any) -> str | None:
        """A JSON-LD value as text: a string, a ``{"@value": …}``, or a node's name."""
        value = self.resolve(value)
        if isinstance(value, list):
            value = next((v for v in value if v), None)
            value = self.resolve(value)
        if isinstance(value, dict):
            return _name_of(value) or (value["@value"] if isinstance(value.get("@value"), str) else None)
        return value if isinstance(value, str) else None


def _load_json(text: str) -> Any:
    text = text.strip()
    for wrapper in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        text = text.replace(wrapper, "")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return None


def _collect_nodes(data: Any, nodes: list[dict[str, Any]], depth: int) -> None:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            _collect_nodes(item, nodes, depth + 1)
    elif isinstance(data, dict):
        if "@graph" in data:
            _collect_nodes(data["@graph"], nodes, depth + 1)
        if "@type" in data:
            nodes.append(data)
            # a WebPage whose mainEntity is the article
            main = data.get("mainEntity")
            if isinstance(main, dict) and "@type" in main:
                nodes.append(main)


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", v)[-1] for v in values if isinstance(v, str)}


def _name_of(node: dict[str, Any]) -> str | None:
    name = node.get("name") or node.get("legalName") or node.get("alternateName")
    if isinstance(name, list):
        name = next((n for n in name if isinstance(n, str)), None)
    if isinstance(name, dict):
        name = name.get("@value")
    name = sanitize_text(name) if isinstance(name, str) else ""
    return name or None


# -- <meta> and microdata -----------------------------------------------------------
@dataclass
class _Head:
    """The elements metadata is read from, gathered in one pass over the page."""

    metas: dict[str, list[str]] = field(default_factory=dict)
    canonical: list[str] = field(default_factory=list)
    json_ld: list[str] = field(default_factory=list)
    base: str | None = None


def _scan(tree: etree._Element) -> _Head:
    """``<meta>`` contents keyed by lower-cased ``property``/``name``/``itemprop``/``http-equiv``,
    ``rel=canonical`` links, JSON-LD scripts and ``<base href>``."""
    head = _Head()
    for el in tree.iter("meta", "link", "script", "base"):
        tag = el.tag
        if tag == "meta":
            content = el.get("content")
            if content is None or not content.strip():
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = el.get(attr)
                if key:
                    head.metas.setdefault(key.strip().lower(), []).append(content.strip())
        elif tag == "link":
            if el.get("href") and "canonical" in (el.get("rel") or "").lower().split():
                head.canonical.append(el.get("href"))
        elif tag == "script":
            if el.text and "ld+json" in (el.get("type") or "").lower():
                head.json_ld.append(el.text)
        elif head.base is None and el.get("href"):
            head.base = el.get("href")
    return head


def _microdata_values(tree: etree._Element, prop: str) -> list[str]:
    out = []
    for el in tree.xpath(f'//*[@itemprop="{prop}"]')[:3]:
        value = el.get("content") or el.get("datetime") or el.text_content()
        if value and value.strip():
            out.append(value.strip())
    return out


def _microdata_authors(tree: etree._Element) -> list[str]:
    names = []
    for el in tree.xpath('//*[@itemprop="author"]')[:5]:
        inner = el.xpath('.//*[@itemprop="name"]')
        source = inner[0] if inner else el
        names.append(source.get("content") or source.text_content())
    return _names(names)


_BYLINE_XPATH = (
    "//a[@rel='author'] | //*[@class and (contains(@class, 'byline') or contains(@class, 'Byline')"
    " or contains(@class, 'author') or contains(@class, 'Author'))]"
)
_NAME_SPLIT = re.compile(r"\s*(?:[,&|·•/;]|\band\b|\bwith\b|\bund\b|\bऔर\b)\s*", re.I)
_NOT_NAME_WORDS = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday published "
    "updated posted written share comments comment read more min staff reporter editor team follow email "
    "contact about news".split()
)
_PARTICLES = frozenset("de da del der den di du la le van von bin al el dos das y e".split())


def byline_authors(tree: etree._Element) -> list[str]:
    """Names from a visible byline (``rel=author``, ``class~=byline|author``) when nothing structured names them.

    Only text that looks like a person's name is taken: two to five words, no
    digits, no dates or "Published"; anything else is left out rather than guessed.
    """
    for el in tree.xpath(_BYLINE_XPATH)[:12]:
        pieces = [" ".join(t.split()) for t in el.itertext()]
        if not any(pieces) or sum(map(len, pieces)) > 120:
            continue
        # text nodes are separate parts: "<b>Jeff Foust</b> <time>Monday</time>" is one name and a date
        parts = [part for piece in pieces if piece for part in _NAME_SPLIT.split(_BYLINE_PREFIX.sub("", piece))]
        names = [n for n in (_name_before_stop_word(_BYLINE_PREFIX.sub("", p)) for p in parts) if _plausible_name(n)]
        if names:
            return _dedupe(names)
    return []


def _name_before_stop_word(value: str) -> str:
    """"Jeff Foust Monday" → "Jeff Foust": a byline often runs on into the date."""
    words = value.split()
    for i, word in enumerate(words):
        if word.strip(".'’-:").lower() in _NOT_NAME_WORDS:
            return " ".join(words[:i])
    return value


def _plausible_name(value: str) -> bool:
    words = value.split()
    if not 2 <= len(words) <= 5 or len(value) > 60 or any(ch.isdigit() for ch in value):
        return False
    for word in words:
        bare = word.strip(".'’-")
        if not bare or bare.lower() in _NOT_NAME_WORDS:
            return False
        if bare.lower() in _PARTICLES:
            continue
        first = bare[0]
        if not first.isalpha() or (first.lower() != first.upper() and not first.isupper()):
            return False  # Latin (cased) words of a name are capitalised; uncased scripts pass
    return True


# -- small value helpers ----------------------------------------------------------------
def _first_text(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str):
            text = _plain(value)
            if text:
                return text
    return None


def _plain(value: str) -> str:
    """:func:`sanitize_text`, skipping the sanitizer for the usual value with no markup or entity."""
    if "<" in value or "&" in value:
        return sanitize_text(value)
    return " ".join(value.split())


def _first_date(*values: Any) -> datetime | None:
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            parsed = parse_datetime(item)
            if parsed:
                return parsed
    return None


def _names(values: list[str]) -> list[str]:
    """Author strings as names: profile URLs and handles are not names; "By " is not part of one."""
    names = []
    for value in values:
        text = _plain(value)
        if not text or _looks_like_url(text) or text.startswith("@"):
            continue
        names.append(_BYLINE_PREFIX.sub("", text).strip())
    return [n for n in names if n]


def _looks_like_url(value: str) -> bool:
    return bool(re.match(r"^(?:https?:)?//|^www\.", value.strip(), re.I))


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out.extend(_split_keywords(v))
        return out
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return []


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out
