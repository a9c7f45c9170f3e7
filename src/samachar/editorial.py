"""The editorial desk's work on entries: the review queue, an entry side by side, corrections, approval.

The CLI (``entry show``) and the desk's pages (:mod:`samachar.web.admin.review`)
call these; none of it is a pipeline stage. The entry is shown in the
translator's own segments (the sentences :mod:`samachar.translate.document`
cut and keyed in the translation memory), so an editor's correction of a
segment is remembered under the very sentence a later re-translation looks up:
a human entry of the memory (:data:`samachar.translate.memory.HUMAN`), which
wins over every engine of the chain. QA runs again on what the editor wrote;
a held entry stays held until someone approves it, now or for a chosen time
(``entries.publish_after``, honoured by the publish stage).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, or_, select, update

from samachar.errors import SamacharError
from samachar.model import EntryState, Flag, TranslatedArticle
from samachar.store.entries import record_event
from samachar.store.schema import articles, entries, sources, translations
from samachar.store.sources import MAX_ID, utcnow

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.model import Article
    from samachar.publish.targets import PublishReport
    from samachar.service import SiteService
    from samachar.store import Store
    from samachar.store.entries import EntryRow
    from samachar.translate.markup import Tagged


class EditorialError(SamacharError):
    """An editor asked for something this entry cannot have (no such segment, an empty translation…)."""


HELD_PREFIX = "held for review: "  # how :func:`samachar.stages.review_reason` starts; its checks follow
# The QA checks whose errors hold an article (samachar.translate.qa, .names): the queue's reasons.
REVIEW_CHECKS = ("numbers", "untranslated", "truncated", "empty", "quotes", "repetition", "glossary")
QUEUE_PAGE = 50
MAX_TERM = 300  # the glossary's column width


# -- the review queue -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """One QA flag as the queue shows it."""

    check: str
    severity: str
    message: str


@dataclass
class QueueItem:
    id: int
    title: str
    source_id: int | None
    source_name: str | None
    lang: str | None
    held_at: datetime | None  # the last change of the entry
    reasons: list[Reason] = field(default_factory=list)  # errors first

    @property
    def errors(self) -> list[Reason]:
        return [r for r in self.reasons if r.severity == "error"]


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def held_queue(store: Store, *, source_id: int | None = None, reason: str | None = None, lang: str | None = None,
               limit: int = QUEUE_PAGE, offset: int = 0) -> QueuePage:
    """Held entries, oldest first, one page of them with their QA flags, and how many match in all.

    Two indexed statements for the page (entries by state, in id order) and one
    for the page's flags, read out of the translations as JSON paths, so neither
    10,000 held entries nor a long article makes the page slower. ``reason`` is a
    QA check named in the entry's hold reason (which lists its errors).
    """
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    where = [entries.c.state == EntryState.HELD.value, entries.c.deleted_at.is_(None)]
    if source_id is not None:
        where.append(entries.c.source_id == source_id)
    if reason:
        check = _like_literal(reason)
        where.append(or_(entries.c.error.like(f"{_like_literal(HELD_PREFIX)}{check}: %", escape="\\"),
                         entries.c.error.like(f"%; {check}: %", escape="\\")))
    if lang:
        where.append(exists().where(translations.c.entry_id == entries.c.id).where(translations.c.lang == lang))
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(entries).where(*where)).scalar() or 0
        rows = conn.execute(
            select(entries.c.id, entries.c.title, entries.c.source_id, entries.c.updated_at,
                   sources.c.name, sources.c.feed_title, sources.c.url)
            .select_from(entries.outerjoin(sources, sources.c.id == entries.c.source_id))
            .where(*where).order_by(entries.c.id).limit(limit).offset(offset)).all()
        items = {r.id: QueueItem(r.id, r.title, r.source_id, r.name or r.feed_title or r.url, None, r.updated_at)
                 for r in rows}
        if items:
            flags = select(translations.c.entry_id, translations.c.lang, translations.c.data["flags"].label("flags"))
            flags = flags.where(translations.c.entry_id.in_(list(items)))
            if lang:
                flags = flags.where(translations.c.lang == lang)
            for row in conn.execute(flags.order_by(translations.c.id)):
                item = items[row.entry_id]
                item.lang = row.lang
                said = [Reason(f.get("check", ""), f.get("severity", ""), f.get("message", "")) for f in row.flags or []]
                item.reasons = sorted(said, key=lambda r: r.severity != "error")
    return QueuePage(list(items.values()), total, limit, offset)


@dataclass
class QueueFacets:
    """What the queue's filters offer: sources (id, name), languages, checks."""

    sources: list[tuple[int, str]]
    langs: list[str]
    reasons: tuple[str, ...] = REVIEW_CHECKS


def queue_facets(store: Store) -> QueueFacets:
    """The filters' choices: every source, and the languages translated into (read off an index)."""
    with store.engine.connect() as conn:
        listed = [(r.id, r.name or r.feed_title or r.url) for r in conn.execute(
            select(sources.c.id, sources.c.name, sources.c.feed_title, sources.c.url))]
        langs = list(conn.execute(select(translations.c.lang).distinct().order_by(translations.c.lang)).scalars())
    return QueueFacets(sorted(listed, key=lambda s: s[1].lower()), langs)


# -- the entry side by side -----------------------------------------------------------------------------

@dataclass
class _Side:
    """One side of a unit (the title or a block) as the translator cuts it: tagged text and its sentences."""

    tagged: Tagged
    spans: list[tuple[int, int]]

    def sentence(self, k: int) -> str:
        start, end = self.spans[k]
        return self.tagged.text[start:end]


@dataclass
class _Unit:
    block: int | None  # None: the title
    source: _Side
    target: _Side | None
    translated: bool  # the translator translates it (not a preformatted or empty block)

    @property
    def paired(self) -> bool:
        """Sentence by sentence: as many sentences on both sides."""
        return self.target is not None and len(self.source.spans) == len(self.target.spans) > 0


@dataclass
class _Place:
    """Where segment ``n`` of the view is: its unit, and its sentence there (None: the whole unit)."""

    unit: int
    sentence: int | None


def _side(tagged: Tagged, lang: str) -> _Side:
    from samachar.translate.segment import sentence_spans

    return _Side(tagged, sentence_spans(tagged.text, lang))


def _units(article: Article, translated: TranslatedArticle | None) -> list[_Unit]:
    """The title and every block, both ways, cut into sentences exactly as the translator cut the source."""
    from samachar.translate.document import _plain_title
    from samachar.translate.markup import Tagged, html_to_tagged

    source_lang = translated.source_lang if translated else (article.language or "en")
    target_lang = translated.target_lang if translated else source_lang
    target_blocks = translated.blocks if translated else []
    units = [_Unit(None, _side(Tagged(_plain_title(article.title)), source_lang),
                   _side(Tagged(_plain_title(translated.title)), target_lang) if translated else None, True)]
    for i, block in enumerate(article.blocks):
        target = _side(html_to_tagged(target_blocks[i].html), target_lang) if i < len(target_blocks) else None
        translates = block.kind != "preformatted" and bool(block.html.strip())
        units.append(_Unit(i, _side(html_to_tagged(block.html), source_lang), target, translates))
    return units


def _squash(text: str) -> str:
    from samachar.translate.markup import strip_tags

    return " ".join(strip_tags(text).split())


def _segments(units: list[_Unit]) -> tuple[list[dict[str, Any]], list[_Place]]:
    """The view's segments and where each one is."""
    segments: list[dict[str, Any]] = []
    places: list[_Place] = []
    for u, unit in enumerate(units):
        if not _squash(unit.source.tagged.text) and not (unit.target and _squash(unit.target.tagged.text)):
            continue  # an image without a caption: nothing to read
        if unit.paired or unit.target is None:
            pairs = [(k, unit.source.sentence(k), unit.target.sentence(k) if unit.target else None)
                     for k in range(len(unit.source.spans))] or [(0, "", None)]
        else:
            pairs = [(None, unit.source.tagged.text, unit.target.tagged.text)]
        for k, source, target in pairs:
            segments.append({"n": len(segments), "block": unit.block, "source": _squash(source),
                             "target": _squash(target) if target is not None else None, "flags": []})
            places.append(_Place(u, k if unit.target is not None else None))
    return segments, places


def aligned_segments(article: Article | None, translated: TranslatedArticle | None
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The original and the translation side by side, each QA flag on the segment it is about.

    Sentence by sentence where a unit has as many sentences on both sides, else
    the whole block as one segment; the title is the segment(s) with block
    ``None``. Returns the segments and the flags no segment matches.
    """
    if article is None:
        return [], []
    segments, _ = _segments(_units(article, translated))
    unplaced = []
    for flag, n in _placed(translated.flags if translated else [], segments):
        said = {"check": flag.check, "severity": flag.severity, "message": flag.message}
        if n is None:
            unplaced.append({**said, "block": flag.block, "source": flag.source, "target": flag.target})
        else:
            segments[n]["flags"].append(said)
    return segments, unplaced


def _placed(flags: list[Flag], segments: list[dict[str, Any]]) -> list[tuple[Flag, int | None]]:
    found = [(flag, segment_of(flag, segments)) for flag in flags]
    return [(flag, segment["n"] if segment is not None else None) for flag, segment in found]


def segment_of(flag: Flag, segments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The segment a flag names: its own sentence, else the segment that contains it; its block first."""
    wanted = " ".join((flag.source or "").split())
    if not wanted:
        return None
    own_block = [s for s in segments if s["block"] == flag.block]
    for candidates in (own_block, segments):
        for matches in (lambda s: s["source"] == wanted, lambda s: wanted in s["source"]):
            found = next((s for s in candidates if matches(s)), None)
            if found is not None:
                return found
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_view(store: Store, config: Config, entry: EntryRow) -> dict[str, Any]:
    """Everything an editor needs to judge an entry: its text both ways, its flags, its history.

    The text side by side is cut once per stored article and translation (every
    save writes a new translation row, so its id says when to cut it again): a
    300-segment article is segmented in tens of milliseconds, read in a few.
    """
    with store.engine.connect() as conn:  # the source's names only: store.sources.get counts every entry
        facts = conn.execute(select(entries.c.publish_after, sources.c.id, sources.c.name, sources.c.feed_title,
                                    sources.c.url)
                             .select_from(entries.outerjoin(sources, sources.c.id == entries.c.source_id))
                             .where(entries.c.id == entry.id)).first()
        translation = conn.execute(select(translations.c.id, translations.c.created_at)
                                   .where(translations.c.entry_id == entry.id)
                                   .where(translations.c.lang == config.site.language)).first()
        extracted_at = conn.execute(select(articles.c.extracted_at).where(articles.c.entry_id == entry.id)).scalar()
    # A saved translation is a new row (SQLite may reuse its id), written at a new time, with the entry's.
    key = (store.url, entry.id, config.site.language, tuple(translation or ()), extracted_at, entry.updated_at)
    text = _TEXTS.get(key)
    if text is None:
        text = _text_view(store, config, entry)
        _TEXTS[key] = text
        while len(_TEXTS) > _TEXTS_KEPT:
            _TEXTS.popitem(last=False)
    else:
        _TEXTS.move_to_end(key)
    return {
        "id": entry.id, "title": text["title"] or entry.title, "url": entry.url,
        "original_url": text["original_url"] or entry.url,
        "state": entry.state, "error": entry.error, "note": entry.note, "attempts": entry.attempts,
        "source": ({"id": facts.id, "name": facts.name or facts.feed_title or facts.url, "url": facts.url}
                   if facts is not None and facts.id is not None else None),
        "published": _iso(entry.published), "publish_after": _iso(facts.publish_after if facts else None),
        "engine": text["engine"], "source_language": text["source_language"],
        "target_language": text["target_language"],
        "segments": [{**seg, "flags": list(seg["flags"])} for seg in text["segments"]],
        "flags": [dict(flag) for flag in text["flags"]],
        "history": [{"at": _iso(e.at), "state": e.state, "reason": e.reason, "attempt": e.attempt}
                    for e in store.entries.history(entry.id)],
    }


_TEXTS: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()  # the entries viewed last, cut
_TEXTS_KEPT = 32


def _text_view(store: Store, config: Config, entry: EntryRow) -> dict[str, Any]:
    article = store.articles.get(entry.id)
    translated = store.translations.get(entry.id, config.site.language)
    segments, unplaced = aligned_segments(article, translated)
    return {"title": article.title if article else None, "original_url": article.original_url if article else None,
            "engine": translated.engine if translated else None,
            "source_language": translated.source_lang if translated else None,
            "target_language": translated.target_lang if translated else None,
            "segments": segments, "flags": unplaced}


# -- corrections ------------------------------------------------------------------------------------------

@dataclass
class Edit:
    """What a correction did: the QA flags the new text has, and how many sentences the memory now knows."""

    flags: list[Flag]
    remembered: int


def known_entry(store: Store, entry_id: int) -> EntryRow:
    entry = store.entries.get(entry_id) if 0 < entry_id <= MAX_ID else None
    if entry is None:
        raise EditorialError(f"no entry {entry_id}")
    return entry


def _editable(store: Store, config: Config, entry_id: int) -> tuple[EntryRow, Article, TranslatedArticle]:
    entry = known_entry(store, entry_id)
    article = store.articles.get(entry.id)
    translated = store.translations.get(entry.id, config.site.language)
    if article is None or translated is None:
        raise EditorialError(f"entry {entry_id} is not translated yet: there is nothing to correct")
    return entry, article, translated


def _clean(text: str) -> str:
    """An editor's text: one line of plain text, anything that reads as our tags dropped."""
    from samachar.translate.markup import TAG_RE

    cleaned = " ".join(TAG_RE.sub(" ", text or "").split())
    if not cleaned:
        raise EditorialError("the translation cannot be empty")
    return cleaned


def edit_segment(store: Store, config: Config, entry_id: int, n: int, text: str, *, editor: str) -> Edit:
    """Replace the translation of segment ``n`` of the entry's view (see :func:`aligned_segments`)."""
    entry, article, translated = _editable(store, config, entry_id)
    units = _units(article, translated)
    segments, places = _segments(units)
    if not 0 <= n < len(places):
        raise EditorialError(f"entry {entry_id} has no segment {n}")
    place = places[n]
    return _correct(store, entry, translated, units, segments, [n], place.unit, place.sentence, _clean(text),
                    f"segment {n} corrected by {editor}")


def edit_headline(store: Store, config: Config, entry_id: int, text: str, *, editor: str) -> Edit:
    """Replace the translated headline."""
    entry, article, translated = _editable(store, config, entry_id)
    units = _units(article, translated)
    segments, places = _segments(units)
    title = [n for n, place in enumerate(places) if units[place.unit].block is None]
    return _correct(store, entry, translated, units, segments, title, 0, None, _clean(text),
                    f"headline corrected by {editor}")


def _correct(store: Store, entry: EntryRow, translated: TranslatedArticle, units: list[_Unit],
             segments: list[dict[str, Any]], replaced: list[int], u: int, k: int | None, text: str,
             event: str) -> Edit:
    """The new text in the unit (its markup kept), in the memory as the editor's, QA again, stored."""
    from samachar.translate.markup import renumber, tagged_to_html
    from samachar.translate.qa import check_segment
    from samachar.translate.segment import sentence_spans

    unit = units[u]
    target = unit.target
    assert target is not None
    if k is not None:
        old, ids = renumber(target.sentence(k))
        start, end = target.spans[k]
        new_unit = target.tagged.text[:start] + _rename(_with_tags(old, text), ids) + target.tagged.text[end:]
        pairs = [(k, _with_tags(old, text), ids)]
    else:
        new_unit = _with_tags(target.tagged.text, text)
        spans = sentence_spans(new_unit, translated.target_lang)
        if len(unit.source.spans) == 1:
            spans = [(0, len(new_unit))]
        pairs = []
        if len(spans) == len(unit.source.spans):
            for i, (start, end) in enumerate(spans):
                local, ids = renumber(new_unit[start:end])
                pairs.append((i, local, ids))
    # The stored translation.
    if unit.block is None:
        translated.title = _squash(new_unit)
    else:
        translated.blocks[unit.block] = replace(translated.blocks[unit.block],
                                                html=tagged_to_html(new_unit, target.tagged.tags))
    # QA on what the editor wrote, in place of the flags of the segments replaced.
    new_flags: list[Flag] = []
    checked = [(unit.source.sentence(i), local) for i, local, _ in pairs] or [(unit.source.tagged.text, new_unit)]
    for source, made in checked:
        new_flags += [replace(f, block=unit.block) for f in check_segment(
            _squash(source), _squash(made), translated.source_lang, translated.target_lang)]
    kept = [flag for flag, n in _placed(translated.flags, segments) if n not in replaced]
    translated.flags = kept + new_flags
    # The memory: the editor's translation of each source sentence, under the key every engine looks up first.
    remembered = 0
    if unit.translated:
        remembered = _remember(store, translated, unit, pairs)
    _save(store, entry, translated, event)
    return Edit(new_flags, remembered)


def _with_tags(old_tagged: str, plain: str) -> str:
    """The editor's plain text with the markup of the text it replaces carried onto it (links, emphasis)."""
    from samachar.translate.markup import TAG_RE, project

    if not TAG_RE.search(old_tagged):
        return plain
    return project(old_tagged, plain, old_tagged).text


def _rename(text: str, ids: dict[str, str]) -> str:
    from samachar.translate.markup import rename

    return rename(text, ids)


def _remember(store: Store, translated: TranslatedArticle, unit: _Unit,
              pairs: list[tuple[int, str, dict[str, str]]]) -> int:
    """Store each corrected sentence as a human entry keyed on the tagged source sentence the translator sends."""
    from samachar.translate.markup import renumber, restore
    from samachar.translate.memory import HUMAN, MemoryKey, SqlTranslationMemory

    assert unit.target is not None
    items: dict[MemoryKey, str] = {}
    for k, target_local, target_ids in pairs:
        source_local, source_ids = renumber(unit.source.sentence(k))
        in_source_ids = _source_ids(target_local, target_ids, unit.target.tagged, source_ids, unit.source.tagged)
        human = restore(in_source_ids, source_local).text if source_ids else _squash(target_local)
        items[MemoryKey(HUMAN, "", translated.source_lang, translated.target_lang, source_local)] = human
    SqlTranslationMemory(store.engine).put_many(items)
    return len(items)


def _source_ids(target_local: str, target_ids: dict[str, str], target: Tagged, source_ids: dict[str, str],
                source: Tagged) -> str:
    """A translated sentence's tags renamed to the source sentence's, matched by the element they stand for."""
    from samachar.translate.markup import tag_ids

    def spec(tags: Tagged, tag_id: str) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
        found = tags.tags.get(tag_id)
        return (found.kind, found.element, found.attrs) if found else None

    free = {local: spec(source, unit_id) for local, unit_id in source_ids.items()}
    mapping: dict[str, str] = {}
    for n, local in enumerate(tag_ids(target_local)):
        wanted = spec(target, target_ids.get(local, local))
        match = next((s for s, candidate in free.items() if wanted is not None and candidate == wanted), None)
        if match is None:
            mapping[local] = f"{local[0]}{9000 + n}"  # no such element in the source: dropped by restore
        else:
            mapping[local] = match
            del free[match]
    return _rename(target_local, mapping)


def _save(store: Store, entry: EntryRow, translated: TranslatedArticle, event: str) -> None:
    """The changed translation, the entry's hold reason to match, and a line of history — one transaction.

    The entry keeps its state: a held one waits for approval, a published one for republishing.
    """
    from samachar.stages import review_reason

    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(translations.delete().where(translations.c.entry_id == entry.id)
                     .where(translations.c.lang == translated.target_lang))
        conn.execute(translations.insert().values(
            entry_id=entry.id, lang=translated.target_lang, engine=translated.engine, data=translated.to_dict(),
            has_errors=translated.has_errors, created_at=now))
        values: dict[str, Any] = {"updated_at": now}
        if entry.state == EntryState.HELD:
            values["error"] = review_reason(translated)
        conn.execute(update(entries).where(entries.c.id == entry.id).values(**values))
        record_event(conn, entry.id, event)


def add_glossary_term(store: Store, config: Config, entry_id: int, source_term: str, target_term: str, *,
                      editor: str) -> str:
    """"Always render X as Y" for the entry's language; returns the language."""
    entry = known_entry(store, entry_id)
    translated = store.translations.get(entry.id, config.site.language)
    lang = translated.target_lang if translated else config.site.language
    source_term, target_term = " ".join((source_term or "").split()), " ".join((target_term or "").split())
    if not source_term or not target_term:
        raise EditorialError("give both the name as the sources write it and its one rendering")
    if len(source_term) > MAX_TERM or len(target_term) > MAX_TERM:
        raise EditorialError(f"a glossary term has at most {MAX_TERM} characters")
    store.glossary.add(source_term, target_term, lang)
    with store.engine.begin() as conn:
        record_event(conn, entry.id, f"glossary: {source_term} → {target_term} ({lang}) added by {editor}")
    return lang


# -- decisions ----------------------------------------------------------------------------------------------

def approve(store: Store, entry_id: int, *, at: datetime | None = None, editor: str | None = None) -> bool:
    """A held entry is accepted: published by the next run, or by the first run after ``at``."""
    if not 0 < entry_id <= MAX_ID:
        return False
    now = utcnow()
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    later = at if at is not None and at > now else None
    reason = f"approved by {editor}" if editor else "approved by an editor"
    if later is not None:
        reason += f", to be published after {later.isoformat(timespec='minutes')}"
    with store.engine.begin() as conn:
        changed = conn.execute(
            update(entries).where(entries.c.id == entry_id).where(entries.c.state == EntryState.HELD.value)
            .where(entries.c.deleted_at.is_(None))
            .values(state=EntryState.TRANSLATED.value, error=None, publish_after=later, updated_at=now)).rowcount
        if changed:
            record_event(conn, entry_id, reason)
    return bool(changed)


def publish_due(store: Store, entry_id: int, now: datetime) -> bool:
    """Whether an approved entry may be published now (no time chosen, or the time has come)."""
    with store.engine.connect() as conn:
        after = conn.execute(select(entries.c.publish_after).where(entries.c.id == entry_id)).scalar()
    return after is None or after <= now


def reject(service: SiteService, entry_id: int, *, editor: str) -> bool:
    """A tombstone: unpublished everywhere, never imported again."""
    known_entry(service.store, entry_id)
    with service.store.engine.begin() as conn:
        record_event(conn, entry_id, f"rejected by {editor}")
    return service.delete(entry_id)


def chain_engines(config: Config) -> list[str]:
    """The engines an editor may re-translate with: the configured chain, ``auto`` spelled out."""
    from samachar.translate.select import AUTO_ORDER

    names: list[str] = []
    for name in config.translation.engines:
        names.extend(AUTO_ORDER if name == "auto" else [name])
    return list(dict.fromkeys(names))


def retranslate(store: Store, config: Config, entry_id: int, engine: str, *, editor: str) -> TranslatedArticle:
    """The entry translated again by one engine of the chain; the editor's corrections come from the memory."""
    from samachar.stages import Translator
    from samachar.translate.language import source_language

    if engine not in chain_engines(config):
        raise EditorialError(f"{engine!r} is not an engine of this site's chain ({', '.join(chain_engines(config))})")
    entry = known_entry(store, entry_id)
    article = store.articles.get(entry.id)
    if article is None:
        raise EditorialError(f"entry {entry_id} has no extracted article to translate")
    source = store.sources.get(entry.source_id) if entry.source_id else None
    source_lang = source_language(source.language if source else None, article.language,
                                  config.translation.source_language)
    translated = Translator(store, config, [engine]).translate(article, source_lang, config.site.language)
    _save(store, entry, translated, f"re-translated with {engine} by {editor}")
    return translated


def republish(service: SiteService, entry_id: int, *, editor: str) -> PublishReport:
    """A published entry's corrected text to the site and every target (its new revision updates them)."""
    from samachar.publish.targets import load_targets, publish_to_targets

    entry = known_entry(service.store, entry_id)
    if entry.state != EntryState.PUBLISHED:
        raise EditorialError(f"entry {entry_id} is {entry.state}, not published: approve it instead")
    published = service.published_articles(entry_ids=[entry_id])
    report = publish_to_targets(load_targets(service.store, service.config), published, service.store)
    service.index_for_search([entry_id])
    if (service.config.site_dir / "index.html").exists():
        service.build(service.config.site_dir)
    with service.store.engine.begin() as conn:
        record_event(conn, entry_id, f"republished by {editor}")
    return report


def parse_publish_at(text: str | None) -> datetime | None:
    """A ``datetime-local`` field's value (UTC), or None when empty; else a one-line error."""
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", text):
        raise EditorialError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)")
    try:
        return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=timezone.utc)
    except ValueError:
        raise EditorialError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None
