"""Translate whole articles, step by step: segment → memory → engine → restore → QA → retry → names.

:func:`translate_articles` is the steps, in order, over a :class:`_Batch` (the
articles of one call and one answer per distinct source text):

1. **segment**: the title, the summary and every block become tagged text
   (:mod:`.markup`) cut into sentences that never split inside a link or a
   quotation (:mod:`.segment`), tags renumbered within each sentence; names and
   glossary terms are found, to be translated alone too. The lead image's alt,
   caption and credit, each body image's alt and the article's tags are plain
   texts of the same article, cut and sent with its sentences;
2. **memory**: sentences already in the translation memory are taken from it,
   under the key of each engine that may make them (a wrapper engine's
   ``engines``, the earliest that has the text winning);
3. **engine**: the rest, in one call per :data:`BATCH_SEGMENTS`. An engine with
   ``tag_aware = False`` gets each tagged sentence twice, with and without
   tags; each answer comes back with the engine that made it (``serve``, see
   :mod:`.engine`: a fallback chain names its member);
4. **restore**: the plain translation is kept and the tags projected onto it,
   or the engine's tags repaired so each source tag appears once, nested,
   around text;
5. **QA**: checks on every sentence (not on names), then end punctuation is
   matched to the source's and run-together words are split (:mod:`.qa`);
6. **retry**: one round: sentences with an error-level QA flag, or whose tags a
   tag-aware engine dropped, go once more, in one batched call per engine that
   made them, to where :func:`~.fallback.retry_engine` sends them (the rest of
   the chain, or the same engine when its answer can change); the answer with
   fewer and less severe flags is kept, and a failing retry keeps the first;
7. **names**: per article, each name gets one rendering and glossary terms are
   enforced (:mod:`.names`), over the final sentences — after QA, which judges
   what the engine answered, and after the retry, which may replace it;

then each article is assembled: sentences put back with the gaps (spaces,
``<br>``) between them, tags become the original elements again. Blocks keep
their kind and order; figures keep their image; preformatted blocks (code)
are not translated. QA errors on an alt, a credit or a tag (short labels,
often names) are reported as warnings and never hold the article. The memory
keeps each fresh translation under the engine that made it, and only
sentences without a QA error; ``TranslatedArticle.engine`` names the engines
that made some of the article.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from samachar.model import Article, Block, Flag, Image, TranslatedArticle
from samachar.translate.engine import (
    Engine,
    Served,
    engine_model,
    is_tag_aware,
    members,
    reads_as_document,
    serve_segments,
    tokens_used,
)
from samachar.translate.fallback import retry_engine
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
    usage: dict[str, EngineUsage] | None = None,
) -> list[TranslatedArticle]:
    """Several articles in ``target``, their new sentences sent to the engine together.

    A batching engine (CTranslate2, Apertium, the HTTP APIs) does more per call
    when it gets many articles' sentences at once, and a sentence shared by two
    articles is translated once. An engine that reads its input as one document
    (``document_context = True``, the LLM engine) still gets one article per
    call, so one story's context never leaks into another's. Each article is
    checked and assembled on its own, exactly as if it had been translated alone.

    ``usage``, when given, gets what each engine was sent (added to, by engine name), for the
    dashboard: memory hits are not counted, and even a call that fails later is.
    """
    if len(articles) > 1 and reads_as_document(engine):
        return [translate_articles([a], engine, source, target, memory=memory, glossary=glossary, usage=usage)[0]
                for a in articles]
    batch = _segment(articles, engine, source, target, dict(glossary or {}))
    try:
        _recall(batch, memory)
        fresh = _translate(batch, [t for t in batch.texts if t not in batch.answers], batch.engine)
        batch.answers.update(fresh)
        _retry(batch, [t for t in batch.sentences if t in fresh and _needs_retry(fresh[t])])
        results = [_finish(work, batch) for work in batch.works]
        _remember(batch, memory)
    finally:
        if usage is not None:
            _count_documents(batch)
            for name, used in batch.usage.items():
                usage.setdefault(name, EngineUsage()).add(used)
    return results


# -- what the steps work on ---------------------------------------------------------------------------


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

    @property
    def plain(self) -> str:
        return strip_tags(self.source)


@dataclass
class _LabelUnits:
    """Units of the article's plain labels: the lead image's alt, caption and credit, body images' alts, tags."""

    lead: dict[str, int | None] = field(default_factory=dict)  # "alt" / "caption" / "credit" → unit
    figure_alts: dict[int, int | None] = field(default_factory=dict)  # block index → unit
    tags: list[int | None] = field(default_factory=list)  # one per tag of the article


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
class _Answer:
    """One source text's translation as it will be used, who made it and what is wrong with it."""

    text: str  # tagged, tags repaired
    engine: str  # the engine that made it (a member's name for a fallback chain)
    problems: list[str] = field(default_factory=list)  # tag repairs worth a reviewer's look
    flags: list[Flag] = field(default_factory=list)  # QA on the plain text (sentences only)
    dropped_tags: bool = False  # a tag-aware engine left out tags of the source
    fresh: bool = True  # made in this call, not taken from the memory

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.flags)

    @property
    def cost(self) -> tuple[int, int]:
        """Smaller is better: error flags first, then warnings and tag repairs."""
        errors = sum(1 for f in self.flags if f.severity == "error")
        return errors, len(self.flags) - errors + len(self.problems)


@dataclass
class EngineUsage:
    """What one engine was sent: the segments that went to it (never memory hits), their characters,
    the tokens where the engine counts them (an optional ``tokens_used`` running total), the time."""

    documents: int = 0  # articles with some text this engine made
    segments: int = 0
    characters: int = 0
    tokens: int | None = None  # None: the engine does not report them
    seconds: float = 0.0

    def add(self, other: EngineUsage) -> None:
        self.documents += other.documents
        self.segments += other.segments
        self.characters += other.characters
        self.seconds += other.seconds
        if other.tokens is not None:
            self.tokens = (self.tokens or 0) + other.tokens


@dataclass
class _Batch:
    """The articles of one call: their texts, what they share (engine, pair, glossary) and one answer per text."""

    engine: Engine
    source: str
    target: str
    glossary: dict[str, str]  # the site's
    works: list[_ArticleWork]
    sentences: list[str]  # distinct tagged sentences of all the articles, in order
    lookups: list[str]  # distinct names and glossary terms, translated alone
    terms_glossary: dict[str, str] | None  # the glossary entries of the terms that occur
    models: dict[str, str]  # engine name → model, for the memory key of what it makes
    answers: dict[str, _Answer] = field(default_factory=dict)
    usage: dict[str, EngineUsage] = field(default_factory=dict)  # engine name → what it was sent

    @property
    def texts(self) -> list[str]:
        """Everything to translate: the sentences, then the names and terms not among them."""
        return list(dict.fromkeys(self.sentences + self.lookups))

    def key(self, made_by: str, text: str) -> MemoryKey:
        return MemoryKey(made_by, self.models.get(made_by, ""), self.source, self.target, text)


# -- 1. segment --------------------------------------------------------------------------------------


def _segment(articles: Sequence[Article], engine: Engine, source: str, target: str,
             glossary: dict[str, str]) -> _Batch:
    works = [_prepare(article, source, glossary) for article in articles]
    terms = list(dict.fromkeys(t for w in works for t in w.terms))
    return _Batch(
        engine=engine,
        source=source,
        target=target,
        glossary=glossary,
        works=works,
        sentences=list(dict.fromkeys(s.source for w in works for s in w.segments)),
        lookups=list(dict.fromkeys(t for w in works for t in w.lookups)),
        terms_glossary={t: glossary[t] for t in terms} or None,
        # Memory keys name the engine that made a translation: a chain's members each have their own.
        models={m.name: engine_model(m, source, target) for m in members(engine)},
    )


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


def _add_unit(units: list[_Unit], segments: list[_Segment], block: int | None, tagged: Tagged, lang: str) -> int | None:
    if not tagged.text.strip():
        return None
    unit = _Unit(block, tagged)
    units.append(unit)
    _cut(len(units) - 1, unit, lang, segments)
    return len(units) - 1


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


# -- 2. memory ---------------------------------------------------------------------------------------


def _recall(batch: _Batch, memory: TranslationMemory | None) -> None:
    """Answers from the memory, under the key of each engine that may make them; QA run on the sentences."""
    if memory is None:
        return
    chain = members(batch.engine)
    hits = memory.get_many([batch.key(m.name, t) for m in chain for t in batch.sentences + batch.lookups])
    # Later engines of a chain first, so the earliest engine that has the text wins.
    for k in sorted(hits, key=lambda k: _chain_position(k.engine, chain), reverse=True):
        batch.answers[k.source_text] = _Answer(hits[k], k.engine, fresh=False)
    for text in batch.sentences:
        answer = batch.answers.get(text)
        if answer is not None:
            answer.flags = check_segment(strip_tags(text), strip_tags(answer.text), batch.source, batch.target)


def _chain_position(name: str, chain: list[Engine]) -> int:
    """Position of the engine called ``name`` in a chain (unknown names last)."""
    return next((i for i, m in enumerate(chain) if m.name == name), len(chain))


# -- 3.–5. engine, restore, QA -----------------------------------------------------------------------

# A planned request: the source text, index of its (plain or tagged) output, index of the tagged output.
_Plan = tuple[str, int, int | None]


def _translate(batch: _Batch, texts: list[str], engine: Engine) -> dict[str, _Answer]:
    """``texts`` through ``engine``, tags restored and sentences checked."""
    plans, requests = _plan_requests(texts, is_tag_aware(batch.engine))
    answers = _restore(plans, _send(engine, requests, batch))
    _check(answers, batch)
    return answers


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


def _send(engine: Engine, texts: list[str], batch: _Batch) -> list[Served]:
    """The engine's answers for ``texts``, each with the engine that made it, in calls of BATCH_SEGMENTS."""
    served: list[Served] = []
    for i in range(0, len(texts), BATCH_SEGMENTS):
        chunk = texts[i : i + BATCH_SEGMENTS]
        tokens_before = _tokens_used(engine)
        started = time.perf_counter()
        answers = serve_segments(engine, chunk, batch.source, batch.target, batch.terms_glossary)
        _count_usage(batch, chunk, answers, time.perf_counter() - started, tokens_before, _tokens_used(engine))
        served.extend(answers)
    return served


def _tokens_used(engine: Engine) -> dict[str, int]:
    """The running token totals of the engines (a chain's members) that keep one in ``tokens_used``."""
    totals: dict[str, int] = {}
    for member in members(engine):
        used = tokens_used(member)
        if used is not None:
            totals[member.name] = used
    return totals


def _count_usage(batch: _Batch, sent: list[str], served: list[Served], seconds: float,
                 tokens_before: dict[str, int], tokens_after: dict[str, int]) -> None:
    """One call's segments, characters and time, credited to the engines that answered (time shared by segments)."""
    for text, answer in zip(sent, served, strict=True):
        used = batch.usage.setdefault(answer.engine, EngineUsage())
        used.segments += 1
        used.characters += len(text)
        used.seconds += seconds / len(sent)
    for name, after in tokens_after.items():
        if after != tokens_before.get(name, after) or name in batch.usage:
            used = batch.usage.setdefault(name, EngineUsage())
            used.tokens = (used.tokens or 0) + max(0, after - tokens_before.get(name, after))


def _count_documents(batch: _Batch) -> None:
    """Each article counts once for every engine that made some of its text in this call."""
    for work in batch.works:
        made_by = {a.engine for t in [s.source for s in work.segments] + work.lookups
                   if (a := batch.answers.get(t)) is not None and a.fresh}
        for name in made_by:
            batch.usage.setdefault(name, EngineUsage()).documents += 1


def _restore(plans: list[_Plan], served: list[Served]) -> dict[str, _Answer]:
    """Engine outputs turned into answers with the source's tags: projected onto a plain translation,
    or the engine's own tags repaired."""
    answers: dict[str, _Answer] = {}
    for text, first, tagged_index in plans:
        made = served[first]
        if tagged_index is not None:
            restored = project(served[tagged_index].text, made.text, text)
            answers[text] = _Answer(restored.text, made.engine, restored.problems)
        elif TAG_RE.search(text):
            restored = restore(made.text, text)
            dropped = bool(set(tag_ids(text)) - set(tag_ids(made.text)))
            answers[text] = _Answer(restored.text, made.engine, restored.problems, dropped_tags=dropped)
        else:
            answers[text] = _Answer(re.sub(r"\s+", " ", strip_tags(made.text)).strip(), made.engine)
    return answers


def _check(answers: dict[str, _Answer], batch: _Batch) -> None:
    """QA on the sentences' answers (not on names), then end punctuation and run-together words repaired."""
    sentences = set(batch.sentences)
    for text, answer in answers.items():
        if text not in sentences:
            continue
        answer.flags = check_segment(strip_tags(text), strip_tags(answer.text), batch.source, batch.target)
        # The repairs come after the tags are back; QA saw the engine's text.
        answer.text, repairs = repair_segment(text, answer.text, batch.source, batch.target)
        answer.flags.extend(repairs)


# -- 6. retry ----------------------------------------------------------------------------------------


def _needs_retry(answer: _Answer) -> bool:
    return answer.has_errors or answer.dropped_tags


def _retry(batch: _Batch, candidates: list[str]) -> int:
    """Send ``candidates`` once more (one batched call per engine that made them) and keep the better answers.

    A failing retry keeps the first answers: the retry is a second chance, not a new way to fail.
    Returns how many answers were replaced.
    """
    by_maker: dict[str, list[str]] = {}
    for text in candidates:
        by_maker.setdefault(batch.answers[text].engine, []).append(text)
    replaced = 0
    for made_by, texts in by_maker.items():
        again = retry_engine(batch.engine, made_by, batch.source, batch.target)
        if again is None:
            continue
        try:
            answers = _translate(batch, texts, again)
        except Exception as exc:  # noqa: BLE001 - any engine failure here leaves the first answers in place
            log.warning("retry of %d segment(s) made by %s on %s failed, keeping the first answers: %s",
                        len(texts), made_by, again.name, exc)
            continue
        for text, answer in answers.items():
            if answer.cost < batch.answers[text].cost:
                batch.answers[text] = answer
                replaced += 1
    return replaced


# -- 7. names, and the article assembled -------------------------------------------------------------


def _finish(work: _ArticleWork, batch: _Batch) -> TranslatedArticle:
    """One article put back together from the batch's answers, with its flags."""
    flags = _take_answers(work, batch)
    flags.extend(_enforce_names(work, batch))
    return _assemble_article(work, batch, flags)


def _take_answers(work: _ArticleWork, batch: _Batch) -> list[Flag]:
    """Each sentence gets its answer; the answers' tag repairs and QA flags, placed on the article's blocks."""
    flags: list[Flag] = []
    for seg in work.segments:
        answer = batch.answers[seg.source]
        seg.target = answer.text
        unit = work.units[seg.unit]
        flags.extend(Flag("tags", "warning", seg.plain, strip_tags(seg.target), f"markup: {problem}", unit.block)
                     for problem in answer.problems)
        seg_flags = [replace(f, severity="warning") for f in answer.flags] if unit.minor else answer.flags
        flags.extend(replace(f, block=unit.block) for f in seg_flags)
    return flags


def _enforce_names(work: _ArticleWork, batch: _Batch) -> list[Flag]:
    """One rendering per name in the article; glossary terms enforced (sentences changed in place)."""
    views = [SegmentText(s.plain, s.target, work.units[s.unit].block) for s in work.segments]
    isolated = {t: clean_rendering(strip_tags(batch.answers[t].text)) for t in work.lookups if t in batch.answers}
    flags = enforce_glossary(views, batch.glossary, isolated)
    flags.extend(enforce_names(views, work.names, isolated, batch.glossary))
    for seg, view in zip(work.segments, views, strict=True):
        seg.target = view.target
    return flags


def _assemble_article(work: _ArticleWork, batch: _Batch, flags: list[Flag]) -> TranslatedArticle:
    units, segments, article = work.units, work.segments, work.article
    title = strip_tags(_assemble(units[work.title_unit], segments)) if work.title_unit is not None else ""
    summary = None
    if work.summary_unit is not None:
        summary_tagged = _assemble(units[work.summary_unit], segments)
        unit = units[work.summary_unit]
        summary = tagged_to_html(summary_tagged, unit.tagged.tags) if unit.tagged.tags else strip_tags(summary_tagged)
    blocks: list[Block] = []
    for block, unit_index in zip(article.blocks, work.block_units, strict=True):
        if unit_index is None:
            blocks.append(replace(block))
            continue
        unit = units[unit_index]
        blocks.append(replace(block, html=tagged_to_html(_assemble(unit, segments), unit.tagged.tags)))
    image, tags = _assemble_labels(work, blocks)
    return TranslatedArticle(
        title=title or article.title,
        blocks=blocks,
        source_lang=batch.source,
        target_lang=batch.target,
        engine=_engines_used(work, batch),
        flags=flags,
        summary=summary,
        image=image,
        tags=tags,
    )


def _assemble_labels(work: _ArticleWork, blocks: list[Block]) -> tuple[Image | None, list[str]]:
    """The translated lead image and tags; body images get their translated alt (``blocks`` in place)."""
    labels, article = work.labels, work.article
    if labels is None:
        return article.image, list(article.tags)

    def text(unit: int | None, original: str) -> str:
        return strip_tags(_assemble(work.units[unit], work.segments)) if unit is not None else original

    image = None
    if (lead := article.image) is not None:
        image = replace(lead, alt=text(labels.lead.get("alt"), lead.alt),
                        caption=text(labels.lead.get("caption"), lead.caption),
                        credit=text(labels.lead.get("credit"), lead.credit))
    for i, unit in labels.figure_alts.items():
        figure_image = blocks[i].image
        if figure_image is not None:
            blocks[i] = replace(blocks[i], image=replace(figure_image, alt=text(unit, figure_image.alt)))
    tags = [text(unit, tag) or tag for unit, tag in zip(labels.tags, article.tags, strict=True)]
    return image, tags


def _engines_used(work: _ArticleWork, batch: _Batch) -> str:
    """``TranslatedArticle.engine``: the engines that made some of the article's text, in chain order."""
    used = {batch.answers[t].engine for t in [s.source for s in work.segments] + work.lookups if t in batch.answers}
    names = [m.name for m in members(batch.engine) if m.name in used]
    return "+".join(dict.fromkeys(names)) or batch.engine.name


def _assemble(unit: _Unit, segments: list[_Segment]) -> str:
    out: list[str] = []
    for piece in unit.pieces:
        if isinstance(piece, int):
            seg = segments[piece]
            out.append(rename(seg.target, seg.ids))
        else:
            out.append(_gap(piece))
    return "".join(out).strip()


def _gap(text: str) -> str:
    """A gap between sentences as it goes back: its standalone tags, else one space."""
    tags = _TAGS_IN_GAP.findall(text)
    if tags:
        return (" " if text[:1].isspace() else "") + "".join(tags) + (" " if text[-1:].isspace() else "")
    return " " if text.strip() == "" and text else text


# -- the memory, after the articles ------------------------------------------------------------------


def _remember(batch: _Batch, memory: TranslationMemory | None) -> None:
    """Fresh answers into the memory under the engine that made each: sentences without a QA error, and names."""
    if memory is None:
        return
    storable: dict[MemoryKey, str] = {}
    for text in batch.sentences:
        answer = batch.answers[text]
        if answer.fresh and not answer.has_errors:
            storable[batch.key(answer.engine, text)] = answer.text
    for text in batch.lookups:
        answer = batch.answers[text]
        if answer.fresh:
            storable[batch.key(answer.engine, text)] = answer.text
    if storable:
        memory.put_many(storable)


# -- small grammar ---------------------------------------------------------------------------------


def _plain_title(title: str) -> str:
    """Titles are plain text; anything that looks like our tags is not markup there."""
    return re.sub(r"\s+", " ", TAG_RE.sub(" ", title or "")).strip()


def _summary_tagged(summary: str) -> Tagged:
    if re.search(r"<[a-zA-Z/]", summary):
        return html_to_tagged(summary)
    return Tagged(_plain_title(summary))


def _cased(lang: str) -> bool:
    """Whether names can be found by their capital letters in this language's script."""
    from samachar.translate.qa import LANG_SCRIPT

    return LANG_SCRIPT.get(lang, "Latin") in ("Latin", "Cyrillic", "Greek")
