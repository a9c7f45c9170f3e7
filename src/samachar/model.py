"""Plain data that flows between the pipeline's stages.

Stages are functions from one of these to another; none of them does I/O.
Times are timezone-aware ``datetime`` objects in UTC unless a source gave an
offset, which is then kept.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

BLOCK_KINDS = ("heading", "paragraph", "quote", "list_item", "figure", "preformatted")
POLICIES = ("full", "excerpt", "link")
ROLES = ("editor", "admin")  # the desk's roles, least first: an admin may do everything an editor may


class EntryState(str, Enum):
    """Where an entry is on its way to the site; the stage table (:mod:`samachar.stages`) moves it on.

    A ``str`` enum: the database and JSON hold the same plain strings as before.
    ``filtered`` (a source's rule matched), ``published``, ``failed``,
    ``held`` (QA found an error) and ``merged`` (another entry of its story is
    the one published, crediting this one's source) are where entries rest
    until a person acts.
    """

    NEW = "new"
    FETCHED = "fetched"
    EXTRACTED = "extracted"
    FILTERED = "filtered"
    TRANSLATED = "translated"
    PUBLISHED = "published"
    FAILED = "failed"
    HELD = "held"
    MERGED = "merged"

    def __str__(self) -> str:
        return self.value


@dataclass
class Image:
    """An image in an article: absolute ``src``; ``alt`` may be empty (never the headline).

    ``caption`` and ``credit`` are plain text, kept for the lead image (a body
    figure's caption, credit included, is its block's HTML); ``credit`` is as the
    page states it, label and all ("Photo: Deccan Courier").
    """

    src: str
    alt: str = ""
    width: int | None = None
    height: int | None = None
    caption: str = ""
    credit: str = ""


@dataclass
class Block:
    """One block of an article body.

    ``html`` is the block's *inner* HTML, already sanitized: text plus inline
    markup only (``a``, ``em``, ``strong``, ``b``, ``i``, ``q``, ``code``,
    ``sub``, ``sup``, ``br``). ``kind`` is one of :data:`BLOCK_KINDS`.
    ``level`` is the heading level (1–6) for headings. Consecutive list items
    with the same ``group`` form one list (``ordered`` says which kind); a
    figure carries its ``image`` and its caption in ``html``.
    """

    kind: str
    html: str
    level: int | None = None
    group: int | None = None
    ordered: bool = False
    image: Image | None = None

    @property
    def text(self) -> str:
        return html_to_text(self.html)


@dataclass
class Article:
    """What extraction makes of one page (or of a feed entry's own content)."""

    url: str
    title: str
    blocks: list[Block]
    canonical_url: str | None = None
    publisher: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    image: Image | None = None
    language: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    source: str = "page"  # "page" or "feed": where the body came from

    @property
    def text(self) -> str:
        """Plain text, blocks separated by blank lines."""
        return "\n\n".join(b.text for b in self.blocks if b.text)

    @property
    def original_url(self) -> str:
        return self.canonical_url or self.url

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        data = dict(data)
        data["blocks"] = [block_from_dict(b) for b in data.get("blocks", [])]
        data["image"] = Image(**data["image"]) if data.get("image") else None
        for key in ("published", "modified"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)


def block_from_dict(data: dict[str, Any]) -> Block:
    data = dict(data)
    if data.get("image"):
        data["image"] = Image(**data["image"])
    return Block(**data)


@dataclass
class FeedEntry:
    """One item of a parsed feed, before identity and storage."""

    title: str
    url: str | None = None
    guid: str | None = None
    summary: str | None = None  # sanitized HTML
    content_html: str | None = None  # sanitized HTML (content:encoded, Atom content, …)
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    image: str | None = None
    categories: list[str] = field(default_factory=list)


@dataclass
class ParsedFeed:
    """A feed document turned into entries; ``ttl`` is in minutes."""

    title: str | None
    site_url: str | None
    entries: list[FeedEntry]
    format: str  # "rss", "atom", "rdf", "json"
    ttl: int | None = None


@dataclass
class Flag:
    """A QA finding on one translated segment.

    ``severity`` is ``error`` (the article is held for review) or ``warning``.
    """

    check: str
    severity: str
    source: str
    target: str
    message: str
    block: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TranslatedArticle:
    """An article's title and blocks in the target language, with QA flags."""

    title: str
    blocks: list[Block]
    source_lang: str
    target_lang: str
    engine: str
    flags: list[Flag] = field(default_factory=list)
    summary: str | None = None
    image: Image | None = None  # the lead image, alt, caption and credit translated
    tags: list[str] = field(default_factory=list)  # the article's tags translated, same order

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranslatedArticle:
        data = dict(data)
        data["blocks"] = [block_from_dict(b) for b in data.get("blocks", [])]
        data["flags"] = [Flag(**f) for f in data.get("flags", [])]
        data["image"] = Image(**data["image"]) if data.get("image") else None
        return cls(**data)


@dataclass
class Credit:
    """Another publisher's report of the same story, credited on the article published for it."""

    publisher: str
    title: str  # the report's own title, in its language
    url: str  # the report at its publisher
    site_url: str | None = None  # the publisher's home page, from its feed
    lang: str | None = None  # the report's language


@dataclass
class PublishedArticle:
    """Everything the site needs to render one published article.

    Built by the store from an entry, its source, its extracted article and its
    translation; the site templates see only this.
    """

    id: int  # entry id
    slug: str
    lang: str
    title: str  # translated
    blocks: list[Block]  # translated, already cut to the republish policy
    summary: str | None
    published_at: datetime  # when samachar published it
    policy: str  # full / excerpt / link
    original_title: str
    original_url: str
    publisher: str
    source_id: int
    source_name: str
    source_url: str
    authors: list[str] = field(default_factory=list)
    original_published: datetime | None = None
    image: Image | None = None
    categories: list[str] = field(default_factory=list)  # as the source named them: tag URLs derive from these
    source_lang: str | None = None
    tag_labels: dict[str, str] = field(default_factory=dict)  # category → its label in the site language
    seo: str | None = None  # the source's search-engine choice (canonical/noindex/index); None: the site's
    source_site_url: str | None = None  # the publisher's home page, from its feed (readers visit this, not the feed)
    held: bool = False  # held for review: only targets that take drafts (``publish_held``) get it
    also_reported_by: list[Credit] = field(default_factory=list)  # the story's other sources (merged entries)


_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<br\s*/?>", re.I)
_SPACE = re.compile(r"[ \t\r\f\v]+")


def html_to_text(fragment: str) -> str:
    """Inline HTML to plain text: tags dropped, entities decoded, spaces folded."""
    text = _BR.sub("\n", fragment or "")
    text = html_lib.unescape(_TAG.sub("", text))
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.split("\n")).strip()


def html_words(fragment: str) -> list[str]:
    """``html_to_text(fragment).split()``, without building the text line by line: 3x faster, for hashing."""
    return html_lib.unescape(_TAG.sub("", _BR.sub("\n", fragment or ""))).split()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class SourceState:
    """What polling needs to know about a source from the store."""

    id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    error_count: int = 0
    interval_minutes: int | None = None  # operator override of the schedule


@dataclass
class PollOutcome:
    """The result of polling one source once; the pipeline stores it.

    ``status``: ``ok`` (parsed), ``not_modified`` (304), ``error`` (recorded,
    retried with backoff) or ``gone`` (410: the source is muted).
    """

    source_id: int
    status: str
    next_poll_at: datetime
    feed: ParsedFeed | None = None
    error: str | None = None
    error_count: int = 0
    etag: str | None = None
    last_modified: str | None = None
    new_url: str | None = None  # a permanent redirect moved the feed


def blocks_to_html(blocks: list[Block]) -> str:
    """Blocks back to one HTML fragment: consecutive list items become one list."""
    out: list[str] = []
    open_list: tuple[int | None, bool] | None = None
    for block in blocks:
        if block.kind == "list_item":
            key = (block.group, block.ordered)
            if open_list != key:
                if open_list is not None:
                    out.append("</ol>" if open_list[1] else "</ul>")
                out.append("<ol>" if block.ordered else "<ul>")
                open_list = key
            out.append(f"<li>{block.html}</li>")
            continue
        if open_list is not None:
            out.append("</ol>" if open_list[1] else "</ul>")
            open_list = None
        if block.kind == "heading":
            level = min(max(block.level or 2, 1), 6)
            out.append(f"<h{level}>{block.html}</h{level}>")
        elif block.kind == "quote":
            out.append(f"<blockquote><p>{block.html}</p></blockquote>")
        elif block.kind == "preformatted":
            out.append(f"<pre>{block.html}</pre>")
        elif block.kind == "figure":
            img = ""
            if block.image:
                attrs = f' src="{html_lib.escape(block.image.src)}" alt="{html_lib.escape(block.image.alt)}"'
                if block.image.width and block.image.height:
                    attrs += f' width="{block.image.width}" height="{block.image.height}"'
                img = f'<img{attrs} loading="lazy">'
            caption = f"<figcaption>{block.html}</figcaption>" if block.html else ""
            out.append(f"<figure>{img}{caption}</figure>")
        else:
            out.append(f"<p>{block.html}</p>")
    if open_list is not None:
        out.append("</ol>" if open_list[1] else "</ul>")
    return "\n".join(out)
