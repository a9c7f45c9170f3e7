"""Measuring whether a translation kept an article's structure: the CI gate's yardstick.

A translated block is *intact* when it keeps its kind, each link exactly once
with text in it, its sentence count, its quotation marks, its numbers, and
when its text reads exactly as the engine translates the block's plain text
(so markup did not change the translation). Whitespace is folded before the
comparison, as a browser folds it.

:func:`translate_text_nodes` is the baseline samachar replaces: every HTML
text node sent to the engine on its own, as Argos Translate and
LibreTranslate's HTML mode do.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from samachar.model import Article, Block
from samachar.translate.engine import Engine, translate_segments
from samachar.translate.markup import html_to_tagged, strip_tags
from samachar.translate.qa import numbers, repair_segment
from samachar.translate.segment import count_sentences

QUOTE_MARKS = "“”\"«»„"
_SPACE = re.compile(r"\s+")


def load_corpus(folder: Path) -> list[Article]:
    """The fidelity corpus: each page of ``manifest.json`` through extraction,
    or ``spec.json``'s bodies when extraction is unavailable or disagrees."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    spec = {a["id"]: a for a in json.loads((folder / "spec.json").read_text(encoding="utf-8"))}
    articles = []
    for key, meta in manifest.items():
        article = None
        try:
            from samachar.extract.article import extract_article

            article = extract_article((folder / f"{key}.html").read_bytes(), meta["url"])
        except Exception:  # noqa: BLE001 - another stage's failure falls back to the spec
            article = None
        expected = _blocks_from_spec(spec[key]["body"]) if key in spec else None
        if expected is not None and (article is None or [b.kind for b in article.blocks] != [b.kind for b in expected]):
            article = Article(url=meta["url"], title=meta["title"], blocks=expected)
        articles.append(article)
    return articles


def _blocks_from_spec(body: str) -> list[Block]:
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(body, create_parent="div")
    blocks: list[Block] = []

    def inner(el) -> str:  # noqa: ANN001
        text = html_lib.escape(el.text or "", quote=False)
        return text + "".join(lxml_html.tostring(c, encoding="unicode") for c in el)

    for group, el in enumerate(root):
        tag = el.tag
        if tag == "p":
            blocks.append(Block("paragraph", inner(el)))
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            blocks.append(Block("heading", inner(el), level=int(tag[1])))
        elif tag == "blockquote":
            blocks.append(Block("quote", "".join(inner(p) for p in el.iter("p")) or inner(el)))
        elif tag in ("ul", "ol"):
            for li in el.iter("li"):
                blocks.append(Block("list_item", inner(li), group=group, ordered=tag == "ol"))
        elif tag == "figure":
            from samachar.model import Image

            img = el.find(".//img")
            caption = el.find(".//figcaption")
            image = Image(img.get("src", ""), img.get("alt", "")) if img is not None else None
            blocks.append(Block("figure", inner(caption) if caption is not None else "", image=image))
    return blocks


def plain_text(block_html: str) -> str:
    return strip_tags(html_to_tagged(block_html).text)


def links(block_html: str) -> list[tuple[str, str]]:
    """(href, text) of each link in a block's inner HTML."""
    from lxml import html as lxml_html

    if "<a" not in block_html:
        return []
    root = lxml_html.fragment_fromstring(block_html, create_parent="div")
    return [(a.get("href", ""), _SPACE.sub(" ", a.text_content()).strip()) for a in root.iter("a")]


def block_defects(
    source: Block, translated: Block, reference: str, source_lang: str, target_lang: str
) -> list[str]:
    """Why ``translated`` is not an intact translation of ``source`` (empty: intact)."""
    defects: list[str] = []
    if translated.kind != source.kind:
        defects.append(f"kind {source.kind} became {translated.kind}")
    src_text, tgt_text = plain_text(source.html), plain_text(translated.html)
    src_links = Counter(href for href, _ in links(source.html))
    tgt_links = links(translated.html)
    tgt_count = Counter(href for href, _ in tgt_links)
    for href, count in src_links.items():
        if tgt_count.get(href, 0) != count:
            defects.append(f"link {href} appears {tgt_count.get(href, 0)} times")
    if any(not text for _, text in tgt_links):
        defects.append("a link has no text")
    if count_sentences(src_text, source_lang) != count_sentences(tgt_text, target_lang):
        defects.append(
            f"{count_sentences(src_text, source_lang)} sentences became {count_sentences(tgt_text, target_lang)}"
        )
    if [src_text.count(q) for q in QUOTE_MARKS] != [tgt_text.count(q) for q in QUOTE_MARKS]:
        defects.append("quotation marks changed")
    if sorted(numbers(src_text)) != sorted(numbers(tgt_text)):
        defects.append(f"numbers {sorted(numbers(src_text))} became {sorted(numbers(tgt_text))}")
    if _SPACE.sub(" ", tgt_text).strip() != _SPACE.sub(" ", reference).strip():
        defects.append("text differs from the engine's translation of the plain block")
    return defects


def references(articles: list[Article], engine: Engine, source: str, target: str) -> list[list[str]]:
    """The engine's translation of each block's plain text, in one call, with the repairs samachar
    makes to every translation (end punctuation, words run together)."""
    texts = [plain_text(b.html) for a in articles for b in a.blocks]
    answers = translate_segments(engine, texts, source, target)
    out = [repair_segment(t, o, source, target)[0] for t, o in zip(texts, answers, strict=True)]
    result, i = [], 0
    for article in articles:
        result.append(out[i : i + len(article.blocks)])
        i += len(article.blocks)
    return result


def translate_text_nodes(articles: list[Article], engine: Engine, source: str, target: str) -> list[list[Block]]:
    """The baseline: every text node of every block translated on its own."""
    from lxml import html as lxml_html

    trees = []
    nodes: list[str] = []
    for article in articles:
        for block in article.blocks:
            root = lxml_html.fragment_fromstring(block.html or "", create_parent="div")
            slots = []
            for el in root.iter():
                for attr in ("text", "tail"):
                    if el is root and attr == "tail":
                        continue
                    value = getattr(el, attr)
                    if value and value.strip():
                        slots.append((el, attr, value))
                        nodes.append(value.strip())
            trees.append((block, root, slots))
    out = translate_segments(engine, nodes, source, target) if nodes else []
    i = 0
    blocks: list[Block] = []
    for block, root, slots in trees:
        for el, attr, value in slots:
            lead = value[: len(value) - len(value.lstrip())]
            trail = value[len(value.rstrip()) :]
            setattr(el, attr, lead + out[i] + trail)
            i += 1
        html = html_lib.escape(root.text or "", quote=False) + "".join(
            lxml_html.tostring(c, encoding="unicode") for c in root
        )
        blocks.append(replace(block, html=html))
    result, j = [], 0
    for article in articles:
        result.append(blocks[j : j + len(article.blocks)])
        j += len(article.blocks)
    return result
