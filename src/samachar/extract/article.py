"""A fetched page (or a feed entry) → :class:`~samachar.model.Article`.

How the body is found, in order:

1. trafilatura picks the main content of the page (links, emphasis, images
   and tables kept, comments dropped) and :mod:`samachar.extract.blocks`
   turns its tree into sanitized blocks;
2. if the page yields no body, :func:`extract_article` raises
   :class:`ExtractionError` and the pipeline calls :func:`article_from_feed`,
   which builds the body from the entry's ``content:encoded``, else its summary.

Metadata comes from the page's own statements (:mod:`.metadata`); only when
the page states no author or date do its visible byline and htmldate fill
in, because both read the page too.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from lxml import etree

from samachar.errors import ExtractionError
from samachar.extract.blocks import PageImage, blocks_from_html, blocks_from_trafilatura, page_images
from samachar.extract.metadata import PageMetadata, byline_authors, read_page_metadata, same_image
from samachar.extract.sanitize import sanitize_text
from samachar.model import Article, Block, FeedEntry, Image, html_to_text

_FOLD = re.compile(r"\W+")


def extract_article(html: str | bytes, url: str, *, feed_title: str | None = None) -> Article:
    """Extract body and metadata from a page fetched from ``url`` (after redirects)."""
    import trafilatura
    from trafilatura.utils import load_html

    if not html or (isinstance(html, (str, bytes)) and not html.strip()):
        raise ExtractionError(f"empty page: {url}")
    try:
        tree = load_html(html)
    except (ValueError, TypeError, etree.LxmlError) as err:
        raise ExtractionError(f"unparsable HTML at {url}: {err}") from err
    if tree is None:
        raise ExtractionError(f"unparsable HTML at {url}")

    meta = read_page_metadata(tree, url)
    try:
        document = _trafilatura_document(trafilatura, tree)
    except Exception as err:  # a library failure on one odd page must not stop the run
        raise ExtractionError(f"extraction failed at {url}: {type(err).__name__}: {err}") from err
    body = getattr(document, "body", None)
    images = page_images(tree, meta.base_url or url)
    blocks = blocks_from_trafilatura(body, meta.base_url or url, page=tree, images=images) if body is not None else []
    title = _title(meta, tree, feed_title)
    blocks = _drop_title_heading(blocks, title)
    if not any(b.kind != "figure" and b.text for b in blocks):
        raise ExtractionError(f"no article body found at {url}")

    authors = meta.authors or byline_authors(tree)
    published = meta.published or _htmldate(tree, url)
    lead_image = _lead_image(meta, blocks, images)
    return Article(
        url=url,
        title=title or "",
        blocks=blocks,
        canonical_url=meta.canonical_url or url,
        publisher=meta.publisher or (sanitize_text(feed_title) or None),
        authors=authors,
        published=published,
        modified=meta.modified,
        image=lead_image,
        language=meta.language,
        section=meta.section,
        tags=meta.tags,
        summary=meta.summary,
        source="page",
    )


def _lead_image(meta: PageMetadata, blocks: list[Block], images: dict[str, PageImage]) -> Image | None:
    """The page's lead image (og:image, JSON-LD, else the first figure) with its alt, caption and credit.

    What the page says next to the image (its ``<figure>``) comes first, then its
    structured data; an alt the page does not give stays empty.
    """
    first_figure = next((b.image for b in blocks if b.image), None)
    src = meta.image or (first_figure.src if first_figure else None)
    if not src:
        return None
    info = images.get(src) or next((i for u, i in images.items() if same_image(u, src)), None) or PageImage()
    return Image(
        src=src,
        alt=meta.image_alt or info.alt,
        width=info.width or meta.image_width,
        height=info.height or meta.image_height,
        caption=info.caption or meta.image_caption or "",
        credit=info.credit or meta.image_credit or "",
    )


def _trafilatura_document(trafilatura, tree: etree._Element):
    """trafilatura's main-content tree: links, emphasis, images and tables kept, comments dropped."""
    return trafilatura.bare_extraction(
        tree,
        url=None,  # links are resolved by our sanitizer; courlan per link is slow
        output_format="xml",  # skips trafilatura's own text rendering; we walk its tree
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=True,
        include_formatting=True,
        with_metadata=False,
    )


def article_from_feed(entry: FeedEntry, url: str, *, feed_title: str | None = None) -> Article:
    """The fallback when the page cannot be fetched or has no body: the feed's own content."""
    blocks = blocks_from_html(entry.content_html or "", url) if entry.content_html else []
    if not any(b.text for b in blocks):
        blocks = blocks_from_html(entry.summary or "", url) if entry.summary else []
    if not any(b.text for b in blocks):
        raise ExtractionError(f"feed entry has neither content nor summary: {url}")
    summary = html_to_text(entry.summary) if entry.summary else None
    return Article(
        url=url,
        title=sanitize_text(entry.title),
        blocks=blocks,
        canonical_url=url,
        publisher=sanitize_text(feed_title) or None,
        authors=[a for a in [sanitize_text(entry.author)] if a],
        published=_aware(entry.published),
        modified=_aware(entry.updated),
        image=Image(src=entry.image) if entry.image else next((b.image for b in blocks if b.image), None),
        tags=[t for t in (sanitize_text(c) for c in entry.categories) if t],
        summary=summary or None,
        source="feed",
    )


def _title(meta: PageMetadata, tree: etree._Element, feed_title: str | None) -> str | None:
    title = meta.title
    if not title:
        from trafilatura.metadata import extract_title

        title = sanitize_text(extract_title(tree)) or None
    if title:
        for name in (meta.publisher, sanitize_text(feed_title)):
            if name and len(title) > len(name) + 3:
                for sep in (" | ", " - ", " – ", " — ", " :: ", " · "):
                    if title.endswith(sep + name):
                        title = title[: -len(sep + name)].strip()
    return title


def _drop_title_heading(blocks: list[Block], title: str | None) -> list[Block]:
    """The page's ``<h1>`` repeats the title, which the Article carries on its own."""
    if not title or not blocks:
        return blocks
    folded = _FOLD.sub(" ", title).strip().casefold()
    for i, block in enumerate(blocks[:3]):
        if block.kind == "heading" and _FOLD.sub(" ", block.text).strip().casefold() == folded:
            return blocks[:i] + blocks[i + 1 :]
    return blocks


def _htmldate(tree: etree._Element, url: str) -> datetime | None:
    from htmldate import find_date

    try:
        found = find_date(tree, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate is a heuristic; its failure must not lose the article
        return None
    if not found:
        return None
    try:
        return datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
