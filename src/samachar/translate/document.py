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
3. tags are repaired so each source tag appears once, nested, around text,
   and QA checks run on every sentence; then end punctuation is matched to
   the source's and run-together words are split (:mod:`.qa`);
4. one retry round: sentences with an error-level QA flag, or whose tags a
   tag-aware engine dropped, are sent again in one batched call per route —
   to the next engine of a :class:`~.fallback.FallbackEngine` chain, else back
   to the same engine when its answer can change (tag-aware and not
   ``deterministic``; never Apertium). The answer with fewer and less severe
   flags is kept. Each sentence remembers the engine that made it: the memory
   stores it under that engine's key (and only when QA found no error), and
   ``TranslatedArticle.engine`` names the engines actually used;
5. names get one rendering per article and glossary terms are enforced
   (:mod:`.names`);
6. sentences are put back with the gaps (spaces, ``<br>``) between them, and
   tags become the original elements again.

Blocks keep their kind and order; figures keep their image; preformatted
blocks (code) are not translated. The lead image's alt, caption and credit,
each body image's alt and the article's tags are plain texts of the same
article, cut and sent with its sentences; QA errors on an alt, a credit or a
tag (short labels, often names) are reported as warnings and never hold it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from samachar.errors import TranslationError
from samachar.model import Article, Block, Flag, Image, TranslatedArticle
from samachar.translate.engine import Engine
from samachar.translate.fallback import FallbackEngine
from samachar.translate.markup import (
    TAG_RE,
    Tagged,
    html_to_tagged,
    project,
    rename,
    renumber,
    restore,
    strip_tags,
    tag_ids,
    tagged_to_html,
)
from samachar.translate.memory import MemoryKey, TranslationMemory
from samachar.translate.names import (
    SegmentText,
    clean_rendering,
    enforce_glossary,
    enforce_names,
    find_names,
)
from samachar.translate.qa import check_segment, repair_segment
from samachar.translate.segment import sentence_spans

log = logging.getLogger(__name__)

BATCH_SEGMENTS = 200
_TAGS_IN_GAP = re.compile(r"<\s*x\s*\d+\s*/?\s*>")


@dataclass
class _Unit:
    """One text of the article: the title, the summary or a block."""

    block: int | None
    tagged: Tagged
    pieces: list[str | int] = field(default_factory=list)  # gaps and segment indices
    minor: bool = False  # an alt text, credit or tag label: its QA errors are warnings


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
) -> tuple[list[str], list[str]]:
    """The engine's outputs for ``texts`` and, for each, the name of the engine that made it."""
    out: list[str] = []
    made_by: list[str] = []
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
        used = engine.last_engines if isinstance(engine, FallbackEngine) else []
        made_by.extend(used if len(used) == len(chunk) else [engine.name] * len(chunk))
    return out, made_by


def _call_chain_after(
    chain: FallbackEngine, after: str, texts: list[str], source: str, target: str, glossary: dict[str, str] | None
) -> tuple[list[str], list[str]]:
    """``texts`` translated by the engines of ``chain`` after the one named ``after``."""
    out: list[str] = []
    made_by: list[str] = []
    for i in range(0, len(texts), BATCH_SEGMENTS):
        for text, name in chain.retry(texts[i : i + BATCH_SEGMENTS], source, target, after=after, glossary=glossary):
            out.append(text)
            made_by.append(name)
    return out, made_by


@dataclass
class _Answer:
    """One source text's translation as it will be used, who made it and what is wrong with it."""

    text: str  # tagged, tags repaired
    engine: str  # the engine that made it (a member's name for a fallback chain)
    problems: list[str] = field(default_factory=list)  # tag repairs worth a reviewer's look
    flags: list[Flag] = field(default_factory=list)  # QA on the plain text (segments only)
    dropped_tags: bool = False  # a tag-aware engine left out tags of the source

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.flags)

    @property
    def cost(self) -> tuple[int, int]:
        """Smaller is better: error flags first, then warnings and tag repairs."""
        errors = sum(1 for f in self.flags if f.severity == "error")
        return errors, len(self.flags) - errors + len(self.problems)


# A planned request: the source text, index of its (plain or tagged) output, index of the tagged output.
_Plan = tuple[str, int, int | None]


def _plan_requests(texts: list[str], tag_aware: bool) -> tuple[list[_Plan], list[str]]:
    """What to send for ``texts``: an engine that is not tag-aware gets tagged texts twice, plain and tagged."""
    requests: list[str] = []
    plans: list[_Plan] = []
    for text in texts:
        if not tag_aware and TAG_RE.search(text):
            plans.append((text, len(requests), len(requests) + 1))
            requests.extend([strip_tags(text), text])
        else:
            plans.append((text, len(requests), None))
            requests.append(text)
    return plans, requests


def _answers(
    plans: list[_Plan], outputs: list[str], made_by: list[str], segment_texts: set[str], source: str, target: str
) -> dict[str, _Answer]:
    """Engine outputs turned into answers: tags restored, QA run on sentences (not on names)."""
    answers: dict[str, _Answer] = {}
    for text, first, tagged_index in plans:
        dropped = False
        if tagged_index is not None:
            restored = project(outputs[tagged_index], outputs[first], text)
        elif TAG_RE.search(text):
            restored = restore(outputs[first], text)
            dropped = bool(set(tag_ids(text)) - set(tag_ids(outputs[first])))
        else:
            restored = None
        if restored is not None:
            answer = _Answer(restored.text, made_by[first], restored.problems, dropped_tags=dropped)
        else:
            answer = _Answer(re.sub(r"\s+", " ", strip_tags(outputs[first])).strip(), made_by[first])
        if text in segment_texts:
            answer.flags = check_segment(strip_tags(text), strip_tags(answer.text), source, target)
            # Then end punctuation and run-together words, after the tags; QA saw the engine's text.
            answer.text, repairs = repair_segment(text, answer.text, source, target)
            answer.flags.extend(repairs)
        answers[text] = answer
    return answers


def _retry_route(engine: Engine, made_by: str, source: str, target: str) -> tuple[str, str] | None:
    """Where a rejected translation can go once more: ("next", after) to the rest of a fallback
    chain, ("same", name) back to an engine whose answer may differ, or nowhere."""
    member: Engine | None = engine
    if isinstance(engine, FallbackEngine):
        if engine.next_engine(made_by, source, target) is not None:
            return ("next", made_by)
        member = engine.member(made_by)
    # Re-sending only helps an engine whose answer can change: one that handles tags itself and is not
    # declared deterministic. Apertium and CTranslate2 (beam search) give the same answer again.
    if member is None or not getattr(member, "tag_aware", True) or getattr(member, "deterministic", False):
        return None
    return ("same", made_by)


def _retry_round(
    engine: Engine,
    answers: dict[str, _Answer],
    candidates: list[str],
    tag_aware: bool,
    segment_texts: set[str],
    source: str,
    target: str,
    glossary: dict[str, str] | None,
) -> int:
    """Send ``candidates`` once more (one batched call per route) and keep the better answer of each.

    A failing retry keeps the first answers: the retry is a second chance, not a new way to fail.
    Returns how many answers were replaced.
    """
    routes: dict[tuple[str, str], list[str]] = {}
    for text in candidates:
        route = _retry_route(engine, answers[text].engine, source, target)
        if route is not None:
            routes.setdefault(route, []).append(text)
    replaced = 0
    for (how, name), texts in routes.items():
        plans, requests = _plan_requests(texts, tag_aware)
        try:
            if how == "next" and isinstance(engine, FallbackEngine):
                outputs, made_by = _call_chain_after(engine, name, requests, source, target, glossary)
            else:
                member = (engine.member(name) if isinstance(engine, FallbackEngine) else None) or engine
                outputs, made_by = _call_engine(member, requests, source, target, glossary)
        except Exception as exc:  # noqa: BLE001 - any engine failure here leaves the first answers in place
            log.warning("retry of %d segment(s) %s %s failed, keeping the first answers: %s",
                        len(texts), "after" if how == "next" else "on", name, exc)
            continue
        for text, again in _answers(plans, outputs, made_by, segment_texts, source, target).items():
            if again.cost < answers[text].cost:
                answers[text] = again
                replaced += 1
    return replaced


def _needs_retry(answer: _Answer) -> bool:
    return answer.has_errors or answer.dropped_tags


def _model_of(engine: Engine, source: str, target: str) -> str:
    """The exact model for this pair when the engine can say (one engine may hold many models)."""
    model_for = getattr(engine, "model_for", None)
    return str((model_for(source, target) if callable(model_for) else getattr(engine, "model", "")) or "")


@dataclass
class _ArticleWork:
    """One article cut into units and sentences, with the names and terms to translate on their own."""

    article: Article
    units: list[_Unit] = field(default_factory=list)
    segments: list[_Segment] = field(default_factory=list)
    title_unit: int | None = None
    summary_unit: int | None = None
    block_units: list[int | None] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # glossary terms found in the article
    lookups: list[str] = field(default_factory=list)  # names and terms, each translated alone too
    labels: _LabelUnits | None = None  # image texts and tags


@dataclass
class _LabelUnits:
    """Units of the article's plain labels: the lead image's alt, caption and credit, body images' alts, tags."""

    lead: dict[str, int | None] = field(default_factory=dict)  # "alt" / "caption" / "credit" → unit
    figure_alts: dict[int, int | None] = field(default_factory=dict)  # block index → unit
    tags: list[int | None] = field(default_factory=list)  # one per tag of the article


def _add_label_units(work: _ArticleWork, source: str) -> None:
    """The article's image texts and tags as plain units, after its blocks."""
    article, labels = work.article, _LabelUnits()
    work.labels = labels

    def add(block: int | None, text: str, minor: bool) -> int | None:
        unit = _add_unit(work.units, work.segments, block, Tagged(_plain_title(text)), source)
        if unit is not None:
            work.units[unit].minor = minor
        return unit

    if article.image is not None:
        for name, minor in (("alt", True), ("caption", False), ("credit", True)):
            labels.lead[name] = add(None, getattr(article.image, name), minor)
    for i, block in enumerate(article.blocks):
        if block.image is not None and block.image.alt:
            labels.figure_alts[i] = add(i, block.image.alt, True)
    labels.tags = [add(None, tag, True) for tag in article.tags]


def _assemble_labels(work: _ArticleWork, blocks: list[Block]) -> tuple[Image | None, list[str]]:
    """The translated lead image and tags; body images get their translated alt (``blocks`` in place)."""
    labels, article = work.labels, work.article
    if labels is None:
        return article.image, list(article.tags)

    def text(unit: int | None, original: str) -> str:
        return strip_tags(_assemble(work.units[unit], work.segments)) if unit is not None else original

    image = None
    if article.image is not None:
        image = replace(article.image, **{name: text(labels.lead.get(name), getattr(article.image, name))
                                          for name in ("alt", "caption", "credit")})
    for i, unit in labels.figure_alts.items():
        figure_image = blocks[i].image
        if figure_image is not None:
            blocks[i] = replace(blocks[i], image=replace(figure_image, alt=text(unit, figure_image.alt)))
    tags = [text(unit, tag) or tag for unit, tag in zip(labels.tags, article.tags)]
    return image, tags


def _prepare(article: Article, source: str, glossary: dict[str, str]) -> _ArticleWork:
    """Cut the title, summary and blocks into tagged sentences; find names and glossary terms."""
    work = _ArticleWork(article)
    work.title_unit = _add_unit(work.units, work.segments, None, Tagged(_plain_title(article.title)), source)
    if article.summary:
        work.summary_unit = _add_unit(work.units, work.segments, None, _summary_tagged(article.summary), source)
    for i, block in enumerate(article.blocks):
        if block.kind == "preformatted" or not block.html.strip():
            work.block_units.append(None)
            continue
        work.block_units.append(_add_unit(work.units, work.segments, i, html_to_tagged(block.html), source))
    _add_label_units(work, source)
    plains = [s.plain for s in work.segments]
    work.names = find_names(plains) if _cased(source) else []
    article_text = "\n".join(plains)
    work.terms = [t for t in glossary if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", article_text, re.IGNORECASE)]
    work.lookups = list(dict.fromkeys(work.names + work.terms))
    return work


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
    return translate_articles([article], engine, source, target, memory=memory, glossary=glossary)[0]


def translate_articles(
    articles: Sequence[Article],
    engine: Engine,
    source: str,
    target: str,
    *,
    memory: TranslationMemory | None = None,
    glossary: dict[str, str] | None = None,
) -> list[TranslatedArticle]:
    """Several articles in ``target``, their new sentences sent to the engine together.

    A batching engine (CTranslate2, Apertium, the HTTP APIs) does more per call
    when it gets many articles' sentences at once, and a sentence shared by two
    articles is translated once. An engine that reads its input as one document
    (``document_context = True``, the LLM engine) still gets one article per
    call, so one story's context never leaks into another's. Each article is
    checked and assembled on its own, exactly as if it had been translated alone.
    """
    if len(articles) > 1 and getattr(engine, "document_context", False):
        return [translate_articles([a], engine, source, target, memory=memory, glossary=glossary)[0]
                for a in articles]
    glossary = dict(glossary or {})
    works = [_prepare(article, source, glossary) for article in articles]
    tag_aware = getattr(engine, "tag_aware", True)
    # Memory keys name the engine that made a translation: a chain's members each have their own.
    members = engine.engines if isinstance(engine, FallbackEngine) else [engine]
    models = {m.name: _model_of(m, source, target) for m in members}

    def key(made_by: str, text: str) -> MemoryKey:
        return MemoryKey(made_by, models.get(made_by, ""), source, target, text)

    unique_sources = list(dict.fromkeys(s.source for w in works for s in w.segments))
    segment_texts = set(unique_sources)
    lookups = list(dict.fromkeys(t for w in works for t in w.lookups))
    translated: dict[str, str] = {}
    made_by_text: dict[str, str] = {}
    if memory is not None:
        wanted = [key(m.name, t) for m in members for t in unique_sources + lookups]
        hits = memory.get_many(wanted)
        # Later engines of a chain first, so the earliest engine that has the text wins.
        for k in sorted(hits, key=lambda k: _chain_position(k.engine, members), reverse=True):
            translated[k.source_text] = hits[k]
            made_by_text[k.source_text] = k.engine

    pending = [t for t in dict.fromkeys(unique_sources + lookups) if t not in translated]
    plans, requests = _plan_requests(pending, tag_aware)
    terms_glossary = _glossary_for(glossary, list(dict.fromkeys(t for w in works for t in w.terms)))
    outputs, made_by = _call_engine(engine, requests, source, target, terms_glossary) if requests else ([], [])
    fresh = _answers(plans, outputs, made_by, segment_texts, source, target)

    # One retry round for what QA rejected or a tag-aware engine dropped tags from.
    candidates = [t for t in unique_sources if t in fresh and _needs_retry(fresh[t])]
    if candidates:
        _retry_round(engine, fresh, candidates, tag_aware, segment_texts, source, target, terms_glossary)

    for text, answer in fresh.items():
        translated[text] = answer.text
        made_by_text[text] = answer.engine
    storable: dict[MemoryKey, str] = {}
    results = []
    for work in works:
        result, sound = _finish(work, glossary, translated, made_by_text, fresh, source, target, engine, members)
        results.append(result)
        storable.update((key(fresh[text].engine, text), fresh[text].text) for text in sound)
    for text in lookups:
        if text in fresh:
            storable[key(fresh[text].engine, text)] = fresh[text].text
    if memory is not None and storable:
        memory.put_many(storable)
    return results


def _finish(
    work: _ArticleWork,
    glossary: dict[str, str],
    translated: dict[str, str],
    made_by_text: dict[str, str],
    fresh: dict[str, _Answer],
    source: str,
    target: str,
    engine: Engine,
    members: list[Engine],
) -> tuple[TranslatedArticle, list[str]]:
    """One article put back together from the translations, with its flags; and which of its
    fresh sentences are sound enough (no QA error) for the translation memory."""
    segments, units, article = work.segments, work.units, work.article
    remembered_flags: dict[str, list[Flag]] = {}
    flags: list[Flag] = []
    sound: list[str] = []
    for seg in segments:
        seg.target = translated[seg.source]
        answer = fresh.get(seg.source)
        seg.from_memory = answer is None
        block = units[seg.unit].block
        if answer is None:
            if seg.source not in remembered_flags:
                remembered_flags[seg.source] = check_segment(seg.plain, strip_tags(seg.target), source, target)
            seg_flags = remembered_flags[seg.source]
        else:
            for problem in answer.problems:
                flags.append(
                    Flag("tags", "warning", seg.plain, strip_tags(seg.target), f"markup: {problem}", block)
                )
            seg_flags = answer.flags
            if not answer.has_errors:
                sound.append(seg.source)
        if units[seg.unit].minor:
            seg_flags = [replace(f, severity="warning") for f in seg_flags]
        flags.extend(replace(f, block=block) for f in seg_flags)

    # One rendering per name; glossary terms enforced.
    views = [SegmentText(s.plain, s.target, units[s.unit].block) for s in segments]
    isolated = {t: clean_rendering(strip_tags(translated[t])) for t in work.lookups if t in translated}
    flags.extend(enforce_glossary(views, glossary, isolated))
    flags.extend(enforce_names(views, work.names, isolated, glossary))
    for seg, view in zip(segments, views):
        seg.target = view.target

    title = strip_tags(_assemble(units[work.title_unit], segments)) if work.title_unit is not None else ""
    summary = None
    if work.summary_unit is not None:
        summary_tagged = _assemble(units[work.summary_unit], segments)
        unit = units[work.summary_unit]
        summary = tagged_to_html(summary_tagged, unit.tagged.tags) if unit.tagged.tags else strip_tags(summary_tagged)
    blocks: list[Block] = []
    for block, unit_index in zip(article.blocks, work.block_units):
        if unit_index is None:
            blocks.append(replace(block))
            continue
        unit = units[unit_index]
        blocks.append(replace(block, html=tagged_to_html(_assemble(unit, segments), unit.tagged.tags)))
    image, tags = _assemble_labels(work, blocks)
    used = {made_by_text[t] for t in [s.source for s in segments] + work.lookups if t in made_by_text}
    result = TranslatedArticle(
        title=title or article.title,
        blocks=blocks,
        source_lang=source,
        target_lang=target,
        engine=_engines_used(engine, members, used),
        flags=flags,
        summary=summary,
        image=image,
        tags=tags,
    )
    return result, sound


def _chain_position(name: str, members: list[Engine]) -> int:
    """Position of the engine called ``name`` in a chain (unknown names last)."""
    return next((i for i, m in enumerate(members) if m.name == name), len(members))


def _engines_used(engine: Engine, members: list[Engine], used: set[str]) -> str:
    """``TranslatedArticle.engine``: the chain's members that made some of the text, in chain order."""
    if not isinstance(engine, FallbackEngine):
        return engine.name
    names = [m.name for m in members if m.name in used]
    return "+".join(dict.fromkeys(names)) or engine.name


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
