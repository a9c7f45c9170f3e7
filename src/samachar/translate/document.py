"""Translate a whole article: segment, translate, restore markup, check.

The steps, for the title, the summary and every block:

1. the block's inner HTML becomes tagged text (:mod:`.markup`) and is cut into
   sentences that never split inside a link or a quotation (:mod:`.segment`);
   tags are renumbered within each sentence;
2. sentences already in the translation memory are taken from it; the rest,
   plus each name and glossary term on its own, go to the engine in one call.
   An engine with ``tag_aware = False`` gets each tagged sentence twice, with
   and without tags: the plain translation is kept, the tags are projected
   onto it;
3. tags are repaired so each source tag appears once, nested, around text;
4. QA checks run on every sentence; names get one rendering per article and
   glossary terms are enforced (:mod:`.names`);
5. sentences are put back with the gaps (spaces, ``<br>``) between them, and
   tags become the original elements again.

Blocks keep their kind and order; figures keep their image; preformatted
blocks (code) are not translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from samachar.errors import TranslationError
from samachar.model import Article, Block, Flag, TranslatedArticle
from samachar.translate.engine import Engine
from samachar.translate.markup import (
    TAG_RE,
    Tagged,
    html_to_tagged,
    project,
    rename,
    renumber,
    restore,
    strip_tags,
    tagged_to_html,
)
from samachar.translate.memory import MemoryKey, TranslationMemory
from samachar.translate.names import SegmentText, clean_rendering, enforce_glossary, enforce_names, find_names
from samachar.translate.qa import check_segment
from samachar.translate.segment import sentence_spans

BATCH_SEGMENTS = 200
_TAGS_IN_GAP = re.compile(r"<\s*x\s*\d+\s*/?\s*>")


@dataclass
class _Unit:
    """One text of the article: the title, the summary or a block."""

    block: int | None
    tagged: Tagged
    pieces: list[str | int] = field(default_factory=list)  # gaps and segment indices


@dataclass
class _Segment:
    unit: int
    source: str  # tagged, ids local to the segment
    ids: dict[str, str]  # local id → the unit's id
    target: str = ""
    problems: list[str] = field(default_factory=list)
    from_memory: bool = False

    @property
    def plain(self) -> str:
        return strip_tags(self.source)

    @property
    def has_tags(self) -> bool:
        return bool(TAG_RE.search(self.source))


def _cut(unit_index: int, unit: _Unit, lang: str, segments: list[_Segment]) -> None:
    text = unit.tagged.text
    pos = 0
    for start, end in sentence_spans(text, lang):
        gap = text[pos:start]
        if gap:
            unit.pieces.append(gap)
        local, ids = renumber(text[start:end])
        unit.pieces.append(len(segments))
        segments.append(_Segment(unit_index, local, ids))
        pos = end
    if text[pos:]:
        unit.pieces.append(text[pos:])


def _gap(text: str) -> str:
    """A gap between sentences as it goes back: its standalone tags, else one space."""
    tags = _TAGS_IN_GAP.findall(text)
    if tags:
        return (" " if text[:1].isspace() else "") + "".join(tags) + (" " if text[-1:].isspace() else "")
    return " " if text.strip() == "" and text else text


def _call_engine(
    engine: Engine, texts: list[str], source: str, target: str, glossary: dict[str, str] | None
) -> list[str]:
    out: list[str] = []
    with_glossary = bool(glossary) and getattr(engine, "supports_glossary", False)
    for i in range(0, len(texts), BATCH_SEGMENTS):
        chunk = texts[i : i + BATCH_SEGMENTS]
        if with_glossary:
            result = engine.translate(chunk, source, target, glossary=glossary)  # type: ignore[call-arg]
        else:
            result = engine.translate(chunk, source, target)
        if len(result) != len(chunk):
            raise TranslationError(
                f"engine {engine.name} returned {len(result)} segments for {len(chunk)}"
            )
        out.extend(result)
    return out


def translate_article(
    article: Article,
    engine: Engine,
    source: str,
    target: str,
    *,
    memory: TranslationMemory | None = None,
    glossary: dict[str, str] | None = None,
) -> TranslatedArticle:
    """The article in ``target``: same blocks in the same order, with QA flags."""
    glossary = dict(glossary or {})
    units: list[_Unit] = []
    segments: list[_Segment] = []
    title_unit = _add_unit(units, segments, None, Tagged(_plain_title(article.title)), source)
    summary_unit = None
    if article.summary:
        summary_unit = _add_unit(units, segments, None, _summary_tagged(article.summary), source)
    block_units: list[int | None] = []
    for i, block in enumerate(article.blocks):
        if block.kind == "preformatted" or not block.html.strip():
            block_units.append(None)
            continue
        block_units.append(_add_unit(units, segments, i, html_to_tagged(block.html), source))

    tag_aware = getattr(engine, "tag_aware", True)
    # The exact model for this pair when the engine can say (one engine may hold many models).
    model_for = getattr(engine, "model_for", None)
    model = str((model_for(source, target) if callable(model_for) else getattr(engine, "model", "")) or "")

    def key(text: str) -> MemoryKey:
        return MemoryKey(engine.name, model, source, target, text)

    # Names and glossary terms are translated on their own too, for the name pass.
    plains = [s.plain for s in segments]
    names = find_names(plains) if _cased(source) else []
    article_text = "\n".join(plains)
    terms = [t for t in glossary if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", article_text, re.I)]
    lookups = list(dict.fromkeys(names + terms))

    unique_sources = list(dict.fromkeys(s.source for s in segments))
    wanted = [key(s) for s in unique_sources] + [key(n) for n in lookups]
    cached = memory.get_many(wanted) if memory is not None else {}
    translated: dict[str, str] = {k.source_text: v for k, v in cached.items()}

    requests: list[str] = []
    plans: list[tuple[str, int, int | None]] = []  # source, index of plain/tagged output, index of tagged
    for text in unique_sources + lookups:
        if text in translated:
            continue
        has_tags = bool(TAG_RE.search(text))
        if has_tags and not tag_aware:
            plans.append((text, len(requests), len(requests) + 1))
            requests.extend([strip_tags(text), text])
        else:
            plans.append((text, len(requests), None))
            requests.append(text)
    outputs = _call_engine(engine, requests, source, target, _glossary_for(glossary, terms)) if requests else []

    fresh: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for text, first, tagged_index in plans:
        if tagged_index is not None:
            restored = project(outputs[tagged_index], outputs[first], text)
        elif TAG_RE.search(text):
            restored = restore(outputs[first], text)
        else:
            restored = None
        if restored is not None:
            fresh[text] = restored.text
            problems[text] = restored.problems
        else:
            fresh[text] = re.sub(r"\s+", " ", strip_tags(outputs[first])).strip()
    translated.update(fresh)

    flags: list[Flag] = []
    storable: dict[MemoryKey, str] = {}
    for seg in segments:
        seg.target = translated[seg.source]
        seg.from_memory = seg.source not in fresh
        block = units[seg.unit].block
        for problem in problems.get(seg.source, []):
            flags.append(
                Flag("tags", "warning", seg.plain, strip_tags(seg.target), f"markup: {problem}", block)
            )
        seg_flags = check_segment(seg.plain, strip_tags(seg.target), source, target)
        for f in seg_flags:
            f.block = block
        flags.extend(seg_flags)
        if seg.source in fresh and not any(f.severity == "error" for f in seg_flags):
            storable[key(seg.source)] = fresh[seg.source]
    for text in lookups:
        if text in fresh:
            storable[key(text)] = fresh[text]
    if memory is not None and storable:
        memory.put_many(storable)

    # One rendering per name; glossary terms enforced.
    views = [SegmentText(s.plain, s.target, units[s.unit].block) for s in segments]
    isolated = {t: clean_rendering(strip_tags(translated[t])) for t in lookups if t in translated}
    flags.extend(enforce_glossary(views, glossary, isolated))
    flags.extend(enforce_names(views, names, isolated, glossary))
    for seg, view in zip(segments, views):
        seg.target = view.target

    title = strip_tags(_assemble(units[title_unit], segments)) if title_unit is not None else ""
    summary = None
    if summary_unit is not None:
        summary_tagged = _assemble(units[summary_unit], segments)
        unit = units[summary_unit]
        summary = tagged_to_html(summary_tagged, unit.tagged.tags) if unit.tagged.tags else strip_tags(summary_tagged)
    blocks: list[Block] = []
    for block, unit_index in zip(article.blocks, block_units):
        if unit_index is None:
            blocks.append(replace(block))
            continue
        unit = units[unit_index]
        blocks.append(replace(block, html=tagged_to_html(_assemble(unit, segments), unit.tagged.tags)))
    return TranslatedArticle(
        title=title or article.title,
        blocks=blocks,
        source_lang=source,
        target_lang=target,
        engine=engine.name,
        flags=flags,
        summary=summary,
    )


def _add_unit(units: list[_Unit], segments: list[_Segment], block: int | None, tagged: Tagged, lang: str) -> int | None:
    if not tagged.text.strip():
        return None
    unit = _Unit(block, tagged)
    units.append(unit)
    _cut(len(units) - 1, unit, lang, segments)
    return len(units) - 1


def _assemble(unit: _Unit, segments: list[_Segment]) -> str:
    out: list[str] = []
    for piece in unit.pieces:
        if isinstance(piece, int):
            seg = segments[piece]
            out.append(rename(seg.target, seg.ids))
        else:
            out.append(_gap(piece))
    return "".join(out).strip()


def _plain_title(title: str) -> str:
    """Titles are plain text; anything that looks like our tags is not markup there."""
    return re.sub(r"\s+", " ", TAG_RE.sub(" ", title or "")).strip()


def _summary_tagged(summary: str) -> Tagged:
    if re.search(r"<[a-zA-Z/]", summary):
        return html_to_tagged(summary)
    return Tagged(_plain_title(summary))


def _glossary_for(glossary: dict[str, str], terms: list[str]) -> dict[str, str] | None:
    return {t: glossary[t] for t in terms} or None


def _cased(lang: str) -> bool:
    """Whether names can be found by their capital letters in this language's script."""
    from samachar.translate.qa import LANG_SCRIPT

    return LANG_SCRIPT.get(lang, "Latin") in ("Latin", "Cyrillic", "Greek")
