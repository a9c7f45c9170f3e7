"""HTML body → list of :class:`~samachar.model.Block`.

One walker serves both paths: a feed's own ``content:encoded`` fragment and
the XML tree trafilatura keeps of a page's main content (its tags are first
renamed to their HTML equivalents). The walker keeps text and inline markup
together inside each block, so a sentence is never cut at a link or an
emphasis; every block's inner HTML goes through the :func:`sanitize_html` allow-list with
``inline_only=True``, which makes links absolute and drops anything active.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from samachar.extract.sanitize import Sanitizer, sanitize_text
from samachar.model import Block, Image

# Elements whose content is never article text (or is active content).
SKIPPED_TAGS = frozenset(
    "script style iframe frame frameset object embed noscript template svg math canvas video audio "
    "form input button select textarea option nav head title meta link source track map area dialog "
    "applet param base".split()
)
# Elements that live inside a sentence; their markup is kept (or unwrapped by the sanitizer).
INLINE_TAGS = frozenset(
    "a em strong b i q code sub sup br abbr cite mark s u small span font time del ins var kbd samp "
    "dfn bdi bdo label data tt big strike wbr acronym nobr".split()
)
HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}
_MAX_DEPTH = 120
# A table whose cells hold these is a layout table: walk it like a <div>.
_LAYOUT_MARKERS = frozenset("p div table ul ol h1 h2 h3 h4 h5 h6 blockquote figure img pre section article".split())
_LAZY_SRC_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-url", "data-hi-res-src")
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_HREFLESS_LINK = re.compile(r"<a(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)
_VISIBLE = re.compile(r"[^\s\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CAPTION_MARK = re.compile(r"caption|credit", re.I)
# Site furniture, not article images.
_FURNITURE_SRC = re.compile(r"(?:^|[/_.-])(?:logo|icon|favicon|avatar|sprite|spacer|badge)s?(?:[_.-][^/]*)?$", re.I)
_EDGE_BREAKS = re.compile(r"^(?:\s*<br\s*/?>)+|(?:<br\s*/?>\s*)+$", re.I)


@dataclass(frozen=True)
class _Context:
    """What kind of block a flushed run of inline content becomes."""

    kind: str = "paragraph"
    group: int | None = None
    ordered: bool = False


def blocks_from_html(fragment: str, base_url: str) -> list[Block]:
    """Turn an HTML body fragment (feed content, a page's article) into blocks."""
    if not fragment or not fragment.strip():
        return []
    try:
        # huge_tree: libxml2 otherwise silently drops everything nested deeper than 256 levels
        parser = lxml_html.HTMLParser(huge_tree=True)  # one per call: lxml parsers are not thread-safe
        root = lxml_html.fragment_fromstring(fragment, create_parent="div", parser=parser)
    except (etree.ParserError, ValueError):
        return []
    return blocks_from_tree(root, base_url)


def blocks_from_tree(root: etree._Element, base_url: str, images: dict[str, PageImage] | None = None) -> list[Block]:
    """Walk a parsed HTML element; its own tag is treated as a plain container.

    ``images`` maps an absolute image URL to what the page says around it, for
    trees (trafilatura's) that kept an image but lost its ``<figcaption>``, size
    and credit.
    """
    builder = _BlockBuilder(base_url, images or {})
    builder.walk_container(root, _Context())
    builder.flush(_Context())
    return _without_repeats(builder.blocks)


def _without_repeats(blocks: list[Block]) -> list[Block]:
    """Drop a long block that repeats one of the few just before it (a caption rendered twice),
    and a paragraph that only repeats (part of) the caption of the figure just before it.

    Blocks are compared by their sanitized HTML: repeats come from the same markup.
    """
    kept: list[Block] = []
    recent: list[str] = []
    for block in blocks:
        html = block.html
        if len(html) >= 40 and html in recent:
            continue
        if block.kind != "figure" and html and kept and kept[-1].kind == "figure" and html in recent[-1]:
            continue  # the caption, kept by trafilatura as a paragraph after its image
        kept.append(block)
        recent = [*recent[-2:], html]
    return kept


def blocks_from_trafilatura(body: etree._Element, base_url: str, page: etree._Element | None = None,
                            images: dict[str, PageImage] | None = None) -> list[Block]:
    """Blocks from the body tree of ``trafilatura.bare_extraction`` (its own XML dialect).

    trafilatura keeps a figure's image but not its ``<figcaption>`` or size, and
    drops images whose URL has no image extension (SVG, CDN paths); with the
    original ``page`` tree the captions are found again by image URL and the
    dropped figures are put back between the paragraphs they stood between.
    """
    if images is None:
        images = page_images(page, base_url) if page is not None else {}
    blocks = blocks_from_tree(html_from_trafilatura(body), base_url, images)
    return _with_dropped_figures(blocks, page, base_url, images) if page is not None else blocks


@dataclass(frozen=True)
class PageImage:
    """What a page says around one of its images, by the image's absolute URL."""

    alt: str = ""
    width: int | None = None
    height: int | None = None
    caption_html: str = ""  # the whole <figcaption>, credit included: a body figure's block HTML
    caption: str = ""  # plain text, the credit left out: the lead image's caption
    credit: str = ""  # as the page states it: "Photo: Deccan Courier"


def page_images(page: etree._Element, base_url: str) -> dict[str, PageImage]:
    """Absolute image URL → :class:`PageImage` for every ``<img>`` of a page (the first one wins)."""
    found: dict[str, PageImage] = {}
    sanitize = Sanitizer(base_url, inline_only=True)
    for img in page.iter("img"):
        srcs = [urljoin(base_url, v.strip()) for v in (img.get(a) for a in ("src", *_LAZY_SRC_ATTRS))
                if v and v.strip() and not v.strip().startswith("data:")]
        if not srcs or all(src in found for src in srcs):
            continue
        figure = next((a for a in img.iterancestors("figure")), None)
        caption_el = next(figure.iter("figcaption"), None) if figure is not None else None
        caption_html = clean_inline(_inner_html(caption_el), sanitize) if caption_el is not None else ""
        caption, credit = split_credit(figure) if figure is not None else ("", "")
        info = PageImage(alt=sanitize_text(img.get("alt") or img.get("title")), width=_int(img.get("width")),
                         height=_int(img.get("height")), caption_html=caption_html, caption=caption, credit=credit)
        for src in srcs:
            found.setdefault(src, info)
    return found


# A credit inside a figure: an element marked as one, or "Photo: …" at the end of the caption.
_CREDIT_MARK = re.compile(r"credit|copyright|photographer|byline|attribution|courtesy", re.IGNORECASE)
_CREDIT_TAIL = re.compile(
    r"[\s(\[|/·•—–-]*\b((?:photo(?:graph)?|picture|image|illustration|graphic|credit|courtesy|source)s?"
    r"(?:\s+by)?\s*[:：]\s*[^()\[\]:]{1,80}?|(?:photo(?:graph)?|picture|image|illustration)\s+by\s+"
    r"[^()\[\]:]{1,80}?)[\s.]*[)\]]?\s*$",
    re.IGNORECASE,
)
_CAPTION_END = re.compile(r"[\s|/·•—–-]+$")


def split_credit(figure: etree._Element) -> tuple[str, str]:
    """A figure's caption and credit as plain text, each without the other."""
    caption_el = next(figure.iter("figcaption"), None)
    marked = next((el for el in figure.iterdescendants() if isinstance(el.tag, str) and el is not caption_el
                   and _CREDIT_MARK.search(f"{el.get('class', '')} {el.get('itemprop', '')}")), None)
    if marked is None and caption_el is not None:
        marked = next((el for el in caption_el.iter("small", "cite") if el is not caption_el), None)
    credit = _text_of(marked) if marked is not None else ""
    caption = _text_of(caption_el, leave_out=marked) if caption_el is not None else ""
    if not credit and (tail := _CREDIT_TAIL.search(caption)):
        credit = tail.group(1).strip()
        caption = caption[: tail.start()]
    return _CAPTION_END.sub("", caption).strip(), credit


def _text_of(el: etree._Element, leave_out: etree._Element | None = None) -> str:
    """Visible text of an element (skipped elements and ``leave_out`` left out), spaces folded."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child is not leave_out and isinstance(child.tag, str) and child.tag.lower() not in SKIPPED_TAGS:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return sanitize_text(" ".join(parts))


# Text elements whose words tell where a figure stood among the blocks.
_ANCHOR_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote"})
_ANCHOR_MIN_CHARS = 30


def _with_dropped_figures(blocks: list[Block], page: etree._Element, base_url: str,
                          images: dict[str, PageImage]) -> list[Block]:
    """Put back the page's ``<figure>`` images the blocks lack, after the block they followed on the page.

    A figure comes back only when the text just before it and the text just
    after it on the page are both blocks of the article, in that order: a figure
    between two paragraphs of the story is part of it, one in a sidebar is not.
    """
    known = {b.image.src for b in blocks if b.image is not None}
    index_of: dict[str, int] = {}
    for i, block in enumerate(blocks):
        key = _anchor_key(block.text)
        if block.kind != "figure" and len(key) >= _ANCHOR_MIN_CHARS:
            index_of.setdefault(key, i)
    if not index_of:
        return blocks
    sequence: list[int | list[Block]] = []  # block indices of anchors, and figures between them
    for el in page.iter("figure", *_ANCHOR_TAGS):
        if el.tag == "figure":
            found = [b for img in el.iter("img") if (b := _figure_block(img, base_url, images, known))]
            if found:
                sequence.append(found)
        elif not any(a.tag == "figure" for a in el.iterancestors()):
            index = index_of.get(_anchor_key(el.text_content()))
            if index is not None:
                sequence.append(index)
    after: dict[int, list[Block]] = {}
    for position, item in enumerate(sequence):
        if isinstance(item, int):
            continue
        before = next((s for s in reversed(sequence[:position]) if isinstance(s, int)), None)
        following = next((s for s in sequence[position + 1:] if isinstance(s, int)), None)
        if before is not None and following is not None and before < following:
            fresh = [b for b in item if b.image is not None and b.image.src not in known]
            known.update(b.image.src for b in fresh if b.image is not None)
            after.setdefault(before, []).extend(fresh)
    if not after:
        return blocks
    out: list[Block] = []
    for i, block in enumerate(blocks):
        out.append(block)
        out.extend(after.get(i, []))
    return out


def _figure_block(img: etree._Element, base_url: str, images: dict[str, PageImage], known: set[str]) -> Block | None:
    image = image_from_element(img, base_url)
    if image is None or image.src in known:
        return None
    info = images.get(image.src)
    return Block(kind="figure", html=info.caption_html if info else "", image=image)


def _anchor_key(text: str) -> str:
    return " ".join(text.split()).casefold()


# trafilatura's XML dialect → HTML. ``hi`` carries the kind of emphasis in ``rend``.
_EMPHASIS_BY_REND = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}
_RENAMED = {"item": "li", "quote": "blockquote", "lb": "br", "del": "s", "row": "tr", "div": "div", "p": "p"}
_CODE_INLINE_PARENTS = frozenset({"p", "hi", "ref", "head", "item", "cell", "quote", "code"})


def html_from_trafilatura(body: etree._Element) -> etree._Element:
    """Rename trafilatura's tags in place (the tree is ours to change) and return it.

    Loose text between top-level elements is page residue trafilatura itself
    leaves out of its text output, so it is dropped here too.
    """
    body.text = None
    for child in body:
        child.tail = None
    for el in list(body.iter()):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        rend = el.get("rend", "")
        if tag == "head":
            el.tag = rend if rend in HEADING_TAGS else "h2"
        elif tag == "list":
            el.tag = "ol" if rend == "ol" else "ul"
        elif tag == "hi":
            el.tag = _EMPHASIS_BY_REND.get(rend, "em")
        elif tag == "ref":
            el.tag = "a"
            target = el.get("target")
            if target:
                el.set("href", target)
        elif tag == "graphic":
            el.tag = "img"
        elif tag == "cell":
            el.tag = "th" if el.get("role") == "head" else "td"
        elif tag == "code":
            parent = el.getparent()
            el.tag = "code" if parent is not None and parent.tag in _CODE_INLINE_PARENTS else "pre"
        elif tag in _RENAMED:
            el.tag = _RENAMED[tag]
        elif tag in ("body", "table"):
            pass
        else:
            el.tag = "span"
    return body


class _BlockBuilder:
    """Collects inline content and emits a block each time a block element starts or ends."""

    def __init__(self, base_url: str, images: dict[str, PageImage]) -> None:
        self.base_url = base_url
        self.sanitize = Sanitizer(base_url, inline_only=True)
        self.images = images
        self.blocks: list[Block] = []
        self.inline: list[str] = []
        self.next_group = 0
        self.depth = 0

    # -- emitting -------------------------------------------------------------
    def flush(self, ctx: _Context) -> None:
        if not self.inline:
            return
        fragment = "".join(self.inline)
        self.inline = []
        inner = clean_inline(fragment, self.sanitize)
        if inner:
            self.blocks.append(Block(kind=ctx.kind, html=inner, group=ctx.group, ordered=ctx.ordered))

    def emit(self, block: Block) -> None:
        self.blocks.append(block)

    # -- walking --------------------------------------------------------------
    def walk_container(self, el: etree._Element, ctx: _Context) -> None:
        if self.depth >= _MAX_DEPTH:  # pathological nesting: keep the words, not the structure
            self.inline.append(html_lib.escape(" ".join(el.itertext()), quote=False))
            return
        self.depth += 1
        try:
            self._walk_children(el, ctx)
        finally:
            self.depth -= 1

    def _walk_children(self, el: etree._Element, ctx: _Context) -> None:
        if el.text:
            self.inline.append(html_lib.escape(el.text, quote=False))
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):  # comment or processing instruction
                pass
            else:
                tag = tag.lower()
                if tag in SKIPPED_TAGS:
                    pass
                elif tag in INLINE_TAGS and not _holds_blocks(child):
                    self.inline.append(_outer_html(child))
                else:
                    self.flush(ctx)
                    if not self.take_as_caption(child):
                        self.walk_block(child, tag, ctx)
                    self.flush(ctx)
            if child.tail:
                self.inline.append(html_lib.escape(child.tail, quote=False))

    def take_as_caption(self, el: etree._Element) -> bool:
        """A caption-classed block right after a bare image is that image's caption."""
        last = self.blocks[-1] if self.blocks else None
        if last is None or last.kind != "figure" or last.html:
            return False
        if not _CAPTION_MARK.search(f"{el.get('class', '')} {el.get('id', '')}") or _holds_blocks(el):
            return False
        last.html = clean_inline(_inner_html(el), self.sanitize)
        return True

    def walk_block(self, el: etree._Element, tag: str, ctx: _Context) -> None:
        if tag in HEADING_TAGS:
            inner = clean_inline(_inner_html(el), self.sanitize)
            if inner:
                self.emit(Block(kind="heading", html=inner, level=HEADING_TAGS[tag]))
        elif tag in ("ul", "ol", "menu", "dir"):
            self.next_group += 1
            list_ctx = _Context("list_item", self.next_group, tag == "ol")
            for item in el:
                if not isinstance(item.tag, str) or item.tag.lower() in SKIPPED_TAGS:
                    continue
                self.walk_container(item, list_ctx)
                self.flush(list_ctx)
        elif tag == "li":
            item_ctx = ctx if ctx.kind == "list_item" else _Context("list_item", self._new_group(), False)
            self.walk_container(el, item_ctx)
            self.flush(item_ctx)
        elif tag == "blockquote":
            quote_ctx = _Context("quote") if ctx.kind == "paragraph" else ctx
            self.walk_container(el, quote_ctx)
            self.flush(quote_ctx)
        elif tag == "pre":
            inner = self.sanitize(_inner_html(el)).strip("\n")
            if inner.strip():
                self.emit(Block(kind="preformatted", html=inner))
        elif tag == "img":
            image = image_from_element(el, self.base_url)
            if image:
                info = self.images.get(image.src)
                if info is not None:  # trafilatura keeps neither the caption nor the size
                    image.alt = image.alt or info.alt
                    image.width, image.height = image.width or info.width, image.height or info.height
                self.emit(Block(kind="figure", html=info.caption_html if info else "", image=image))
        elif tag == "figure":
            self.walk_figure(el, ctx)
        elif tag == "table" and not _is_layout_table(el):
            self.walk_table(el)
        elif tag == "hr":
            pass
        else:
            self.walk_container(el, ctx)
            self.flush(ctx)

    def walk_figure(self, el: etree._Element, ctx: _Context) -> None:
        images = [image for img in el.iter("img") if (image := image_from_element(img, self.base_url))]
        if not images:  # a <figure> used for a pull quote or an embed: keep its text
            self.walk_container(el, ctx)
            self.flush(ctx)
            return
        caption = ""
        for cap in el.iter("figcaption"):
            caption = clean_inline(_inner_html(cap), self.sanitize)
            break
        for i, image in enumerate(images):
            self.emit(Block(kind="figure", html=caption if i == len(images) - 1 else "", image=image))

    def walk_table(self, el: etree._Element) -> None:
        """A data table becomes one paragraph per row, cells separated by `` | ``."""
        for cap in el.iter("caption"):
            self.inline.append(_inner_html(cap))
            self.flush(_Context())
        for row in el.iter("tr"):
            cells = [clean_inline(_inner_html(c), self.sanitize) for c in row if c.tag in ("td", "th")]
            cells = [c for c in cells if c]
            if cells:
                self.emit(Block(kind="paragraph", html=" | ".join(cells)))

    def _new_group(self) -> int:
        self.next_group += 1
        return self.next_group


def clean_inline(fragment: str, sanitize: Sanitizer) -> str:
    """Sanitize to inline markup, fold whitespace, drop leading/trailing ``<br>``."""
    cleaned = sanitize(fragment)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if "<a " in cleaned:  # a link whose href was unsafe is no link
        cleaned = _HREFLESS_LINK.sub(r"\1", cleaned)
    if "<br" in cleaned:
        cleaned = _EDGE_BREAKS.sub("", cleaned).strip()
    return cleaned if _is_visible(cleaned) else ""


def _is_visible(fragment: str) -> bool:
    """Some character a reader can see (zero-width spaces and soft hyphens are not)."""
    if fragment[:1].isalnum():
        return True
    text = _TAG.sub("", fragment) if "<" in fragment else fragment
    if "&" in text:
        text = html_lib.unescape(text)
    return bool(_VISIBLE.search(text))


def image_from_element(el: etree._Element, base_url: str | None) -> Image | None:
    """An ``<img>`` as :class:`Image` with an absolute http(s) ``src``, or None."""
    src = (el.get("src") or "").strip()
    if not src or src.startswith("data:"):
        src = next((el.get(a).strip() for a in _LAZY_SRC_ATTRS if el.get(a)), "")
        if not src and el.get("srcset"):
            src = el.get("srcset").strip().split(",")[0].strip().split(" ")[0]
    if not src:
        return None
    src = urljoin(base_url or "", src)
    parts = urlsplit(src)
    if parts.scheme not in ("http", "https") or _FURNITURE_SRC.search(parts.path):
        return None
    width, height = _int(el.get("width")), _int(el.get("height"))
    if (width and width <= 32) or (height and height <= 32):  # tracking pixels and icons
        return None
    return Image(src=src, alt=sanitize_text(el.get("alt") or el.get("title")), width=width, height=height)


def _int(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        number = int(value.strip())
        return number if 0 < number < 100_000 else None
    return None


def _outer_html(el: etree._Element) -> str:
    return etree.tostring(el, method="html", encoding="unicode", with_tail=False)


def _inner_html(el: etree._Element) -> str:
    parts = [html_lib.escape(el.text, quote=False)] if el.text else []
    for child in el:
        if isinstance(child.tag, str) and child.tag.lower() in SKIPPED_TAGS:
            if child.tail:
                parts.append(html_lib.escape(child.tail, quote=False))
            continue
        parts.append(etree.tostring(child, method="html", encoding="unicode", with_tail=True))
    return "".join(parts)


def _holds_blocks(el: etree._Element) -> bool:
    """An inline element wrapping block content (``<a><img></a>``, ``<span><p>``) is walked as a container."""
    for sub in el.iterdescendants():
        tag = sub.tag
        if isinstance(tag, str) and tag.lower() not in INLINE_TAGS and tag.lower() not in SKIPPED_TAGS:
            return True
    return False


def _is_layout_table(el: etree._Element) -> bool:
    for sub in el.iterdescendants():
        if isinstance(sub.tag, str) and sub.tag.lower() in _LAYOUT_MARKERS:
            return True
    return False
