"""Entries: every item ever seen in a feed, deduplicated across sources, kept forever.

An entry moves through ``new → fetched → extracted → translated → published``
(the states are :class:`samachar.model.EntryState`; the stage table,
:mod:`samachar.stages`, moves them), or ends ``failed`` (with its reason),
``filtered`` (a source's rule matched) or ``held`` for review. Deleting an entry
leaves a tombstone so it is never imported again. Every change of state and
every recorded error also writes a line of the entry's history
(``entry_events``), in the transaction of the change itself.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import Connection, Engine, Text, and_, exists, literal, or_, select, update

from samachar.model import EntryState, FeedEntry
from samachar.store.leases import LeaseTable
from samachar.store.schema import (
    articles,
    entries,
    entry_events,
    pages,
    sources,
    translations,
)
from samachar.store.sources import MAX_ID, utcnow

RELEASED = "released by an editor: the source's filters no longer apply to it"


def record_event(conn: Connection, entry_id: int, reason: str | None) -> None:
    """Write one line of the entry's history: the state and attempts it has now, and why.

    Call it inside the transaction that made the change, after the change.
    """
    row = conn.execute(select(entries.c.state, entries.c.attempts).where(entries.c.id == entry_id)).first()
    if row is not None:
        conn.execute(entry_events.insert().values(entry_id=entry_id, at=utcnow(), state=row.state, reason=reason,
                                                  attempt=row.attempts or 0))


@dataclass
class EntryEvent:
    at: datetime
    state: str
    reason: str | None
    attempt: int


@dataclass
class EntryRow:
    id: int
    source_id: int | None
    key: str
    url: str | None
    title: str
    summary: str | None
    content_html: str | None
    author: str | None
    published: datetime | None
    image: str | None
    categories: list[str]
    state: EntryState
    error: str | None
    attempts: int
    note: str | None = None
    updated_at: datetime | None = None
    source_url: str | None = None

    def feed_entry(self) -> FeedEntry:
        return FeedEntry(title=self.title, url=self.url, summary=self.summary, content_html=self.content_html,
                         author=self.author, published=self.published, image=self.image,
                         categories=list(self.categories or []))


class _Probe(NamedTuple):
    """One feed item as the dedupe sees it; ``content_hash`` is None when the body is too short to identify."""

    key: str
    normalized_url: str | None
    content_hash: str | None
    legacy: tuple[str, str | None] | None  # (legacy key, GUID): the entry an older version stored


class _SeenEntries:
    """The keys, normalized links, content hashes and (key, GUID) pairs of entries stored so far."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.urls: set[str] = set()
        self.hashes: set[str] = set()
        self.key_guids: set[tuple[str, str | None]] = set()

    def add(self, key: str, normalized_url: str | None, content_hash: str | None, guid: str | None) -> None:
        self.keys.add(key)
        self.key_guids.add((key, guid))
        if normalized_url:
            self.urls.add(normalized_url)
        if content_hash:
            self.hashes.add(content_hash)

    def has(self, probe: _Probe) -> bool:
        """Whether the item is a duplicate of an entry seen so far."""
        return (probe.key in self.keys or (probe.normalized_url is not None and probe.normalized_url in self.urls)
                or (probe.content_hash is not None and probe.content_hash in self.hashes)
                or (probe.legacy is not None and probe.legacy in self.key_guids))


def _insert_new_keys(conn: Connection):
    """A bulk INSERT of entries that skips a key already stored (by another process since the lookup).

    Returns each inserted row's id and key. SQLite and PostgreSQL say ``ON CONFLICT DO NOTHING``;
    elsewhere a conflicting key fails the feed's transaction, to be retried at the next poll.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        return entries.insert().returning(entries.c.id, entries.c.key)
    return insert(entries).on_conflict_do_nothing(index_elements=[entries.c.key]).returning(
        entries.c.id, entries.c.key)


def _record_arrivals(conn: Connection, entry_ids: list[int], at: datetime, reason: str) -> None:
    """:func:`record_event` for many new entries at once: one INSERT … SELECT per few thousand."""
    columns = ["entry_id", "at", "state", "reason", "attempt"]
    for start in range(0, len(entry_ids), _ARRIVALS_CHUNK):
        chunk = entry_ids[start:start + _ARRIVALS_CHUNK]
        conn.execute(entry_events.insert().from_select(columns, select(
            entries.c.id, literal(at, entry_events.c.at.type), entries.c.state, literal(reason, Text()),
            entries.c.attempts).where(entries.c.id.in_(chunk))))


_ARRIVALS_CHUNK = 5000  # ids per statement, below every bound-parameter limit


class EntryRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # A content hash only identifies an entry when there is enough content to hash: two
    # "Horoscope today" items with no body are different stories, not duplicates.
    HASH_MIN_WORDS = 40

    # Items looked up per SELECT: their four IN lists stay far below the bound-parameter limits of
    # SQLite (32,766) and PostgreSQL (65,535), so a feed of any length is a few statements.
    LOOKUP_CHUNK = 500

    def add_many(self, source_id: int, items: list[tuple[FeedEntry, object]], *,
                 conn: Connection | None = None) -> list[int]:
        """Insert entries not seen before (by key, normalized URL or content hash, any source).

        ``items`` pairs each FeedEntry with its identity (``key``, ``normalized_url``,
        ``content_hash``, optionally ``legacy_key``). Returns the ids of the new entries, in
        feed order. All or nothing: one transaction for the whole feed, in bulk (one lookup,
        one multi-row insert of entries, one of their history lines), so a poll stores a feed
        at about the speed it parses it. An item that repeats an earlier one of the same feed
        is a duplicate like any other; a key that another process stored meanwhile is skipped.
        With ``conn`` the entries join that open transaction (a poll storing several feeds
        at once, see :func:`samachar.stages.store_polls`) and commit with it.
        """
        if not items:
            return []
        probes = [self._probe(entry, ident) for entry, ident in items]
        if conn is not None:
            return self._insert_unseen(conn, source_id, items, probes)
        with self.engine.begin() as own:
            return self._insert_unseen(own, source_id, items, probes)

    def _insert_unseen(self, conn: Connection, source_id: int, items: list[tuple[FeedEntry, object]],
                       probes: list[_Probe]) -> list[int]:
        now = utcnow()
        seen = self._seen_before(conn, probes)
        rows = []
        for (entry, ident), probe in zip(items, probes, strict=True):
            if seen.has(probe):
                continue
            seen.add(ident.key, ident.normalized_url, ident.content_hash, entry.guid)
            rows.append({
                "source_id": source_id, "key": ident.key, "normalized_url": ident.normalized_url,
                "content_hash": ident.content_hash, "guid": entry.guid, "url": entry.url,
                "title": entry.title or "", "summary": entry.summary, "content_html": entry.content_html,
                "author": entry.author, "published": entry.published, "image": entry.image,
                "categories": list(entry.categories or []), "state": EntryState.NEW.value, "attempts": 0,
                "created_at": now, "updated_at": now,
            })
        if not rows:
            return []
        stored = {row.key: row.id for row in conn.execute(_insert_new_keys(conn), rows)}
        new_ids = [stored[row["key"]] for row in rows if row["key"] in stored]
        _record_arrivals(conn, new_ids, now, f"new in the feed of source {source_id}")
        return new_ids

    def _probe(self, entry: FeedEntry, ident) -> _Probe:
        """What identifies an item as seen: its key, its link, its hash when the body is long enough, its legacy key."""
        body = entry.content_html or entry.summary or ""
        identifies = bool(ident.content_hash) and (
            ident.key.startswith("hash:")
            or len(body.split(None, self.HASH_MIN_WORDS)) >= self.HASH_MIN_WORDS)  # counts no further than needed
        legacy_key = getattr(ident, "legacy_key", None)
        return _Probe(ident.key, ident.normalized_url or None, ident.content_hash if identifies else None,
                      (legacy_key, entry.guid) if legacy_key else None)

    def _seen_before(self, conn: Connection, probes: list[_Probe]) -> _SeenEntries:
        """What the database already holds of these keys, links and hashes: one SELECT per chunk of items."""
        seen = _SeenEntries()
        columns = (entries.c.key, entries.c.normalized_url, entries.c.content_hash, entries.c.guid)
        if conn.dialect.name == "postgresql":
            # psycopg prepares a statement run five times, and PostgreSQL's generic plan cannot hash
            # an IN list of parameters: on a table without statistics yet (a first big poll) each
            # lookup compared every row with every value, 0.5 s per chunk instead of 10 ms.
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        for start in range(0, len(probes), self.LOOKUP_CHUNK):
            chunk = probes[start:start + self.LOOKUP_CHUNK]
            keys = {p.key for p in chunk} | {p.legacy[0] for p in chunk if p.legacy}
            urls = {p.normalized_url for p in chunk if p.normalized_url}
            hashes = {p.content_hash for p in chunk if p.content_hash}
            clauses = [entries.c.key.in_(sorted(keys))]
            if urls:
                clauses.append(entries.c.normalized_url.in_(sorted(urls)))
            if hashes:
                clauses.append(entries.c.content_hash.in_(sorted(hashes)))
            for row in conn.execute(select(*columns).where(or_(*clauses))):
                seen.add(*row)
        return seen

    def _query(self):
        return select(entries, sources.c.url.label("source_url")).select_from(
            entries.outerjoin(sources, sources.c.id == entries.c.source_id)
        ).where(entries.c.deleted_at.is_(None))

    @staticmethod
    def _row(row) -> EntryRow:
        data = dict(row._mapping)
        data["state"] = EntryState(data["state"])
        return EntryRow(**{k: data[k] for k in EntryRow.__dataclass_fields__})

    def get(self, entry_id: int) -> EntryRow | None:
        if not 0 < entry_id <= MAX_ID:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(self._query().where(entries.c.id == entry_id)).first()
        return self._row(row) if row else None

    def list(self, *, source_url: str | None = None, states: tuple[str, ...] | None = None,
             limit: int | None = None) -> list[EntryRow]:
        query = self._query().order_by(entries.c.published.desc().nulls_last(), entries.c.id.desc())
        if source_url:
            query = query.where(sources.c.url == source_url)
        if states:
            query = query.where(entries.c.state.in_(states))
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(query)]

    def in_state(self, state: EntryState, limit: int | None = None) -> builtins.list[EntryRow]:
        query = self._query().where(entries.c.state == state).order_by(entries.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(query)]

    def set_state(self, entry_id: int, state: EntryState, *, error: str | None = None,
                  expect: EntryState | None = None,
                  reason: str | None = None) -> bool:
        """Move an entry to ``state``; with ``expect``, only from that state (idempotent stages).

        ``reason`` says in the history why, when ``error`` does not (an editor's approval).
        """
        if not 0 < entry_id <= MAX_ID:
            return False
        values: dict = {"state": state, "error": error, "updated_at": utcnow()}
        query = update(entries).where(entries.c.id == entry_id)
        if expect:
            query = query.where(entries.c.state == expect)
        with self.engine.begin() as conn:
            before = conn.execute(select(entries.c.state, entries.c.error).where(entries.c.id == entry_id)).first()
            changed = conn.execute(query.values(**values)).rowcount == 1
            if changed and tuple(before) != (state, error):  # a stage saying again what it said: no news
                record_event(conn, entry_id, error or reason)
            return changed

    def record_error(self, entry_id: int, error: str) -> int:
        """Keep the state, note the error and count the attempt; returns the attempts so far."""
        with self.engine.begin() as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(error=error, attempts=entries.c.attempts + 1, updated_at=utcnow()))
            record_event(conn, entry_id, error)
            return conn.execute(select(entries.c.attempts).where(entries.c.id == entry_id)).scalar() or 0

    def clear_attempts(self, entry_id: int) -> None:
        """An entry that moved on starts its next stage with no failed attempts (and so no backoff)."""
        with self.engine.begin() as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(attempts=0))

    def release(self, entry_id: int) -> bool:
        """A filtered entry goes back to ``extracted``, past its source's filters from now on."""
        return self.set_state(entry_id, EntryState.EXTRACTED, expect=EntryState.FILTERED, reason=RELEASED)

    def was_released(self, entry_id: int) -> bool:
        """Whether an editor released the entry from its source's filters (its history says so)."""
        with self.engine.connect() as conn:
            return conn.execute(select(entry_events.c.id).where(entry_events.c.entry_id == entry_id)
                                .where(entry_events.c.reason == RELEASED).limit(1)).first() is not None

    def reopen_for_language(self, lang: str) -> int:
        """Entries done in another language go back to ``extracted`` to be translated into ``lang``.

        The entry's state is one per entry; translations and posts are per language, so
        when the site's language changes, the work is redone for the new one.
        """
        has_translation = exists().where(and_(translations.c.entry_id == entries.c.id, translations.c.lang == lang))
        has_article = exists().where(articles.c.entry_id == entries.c.id)
        with self.engine.begin() as conn:
            ids = list(conn.execute(
                select(entries.c.id)
                .where(entries.c.state.in_((EntryState.TRANSLATED, EntryState.PUBLISHED, EntryState.HELD)))
                .where(has_article).where(~has_translation)
            ).scalars())
            if not ids:
                return 0
            conn.execute(update(entries).where(entries.c.id.in_(ids))
                         .values(state=EntryState.EXTRACTED, error=None, attempts=0, updated_at=utcnow()))
            for entry_id in ids:
                record_event(conn, entry_id, f"reopened to be translated into {lang}")
            return len(ids)

    def reset(self, entry_id: int) -> EntryState | None:
        """Send a failed or held entry back to the furthest stage its data allows; returns the state."""
        if not 0 < entry_id <= MAX_ID:
            return None
        with self.engine.begin() as conn:
            if conn.execute(select(articles.c.entry_id).where(articles.c.entry_id == entry_id)).first():
                state = EntryState.EXTRACTED
            elif conn.execute(select(pages.c.entry_id).where(pages.c.entry_id == entry_id)).first():
                state = EntryState.FETCHED
            else:
                state = EntryState.NEW
            changed = conn.execute(
                update(entries).where(entries.c.id == entry_id)
                .where(entries.c.state.in_((EntryState.FAILED, EntryState.HELD)))
                .where(entries.c.deleted_at.is_(None))
                .values(state=state, error=None, attempts=0, updated_at=utcnow())
            ).rowcount
            if changed:
                record_event(conn, entry_id, "retried")
        return state if changed else None

    def tombstone(self, entry_id: int) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(entries).where(entries.c.id == entry_id).values(deleted_at=utcnow())).rowcount:
                record_event(conn, entry_id, "deleted")

    def save_page(self, entry_id: int, url: str, html: str) -> None:
        """Store the fetched page and move the entry to ``fetched`` in one transaction."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(pages.delete().where(pages.c.entry_id == entry_id))
            conn.execute(pages.insert().values(entry_id=entry_id, url=url, html=html, fetched_at=now))
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(state=EntryState.FETCHED, error=None, updated_at=now))
            record_event(conn, entry_id, f"page fetched from {url}")

    def page(self, entry_id: int) -> tuple[str, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(pages.c.url, pages.c.html).where(pages.c.entry_id == entry_id)).first()
        return (row.url, row.html) if row else None

    def history(self, entry_id: int) -> list[EntryEvent]:
        """The entry's events, oldest first."""
        if not 0 < entry_id <= MAX_ID:
            return []
        query = (select(entry_events.c.at, entry_events.c.state, entry_events.c.reason, entry_events.c.attempt)
                 .where(entry_events.c.entry_id == entry_id).order_by(entry_events.c.id))
        with self.engine.connect() as conn:
            return [EntryEvent(**row._mapping) for row in conn.execute(query)]

    @cached_property
    def leases(self) -> LeaseTable:
        """Leases on entries: a worker's claim on what it is working on (see :mod:`samachar.worker`)."""
        return LeaseTable(self.engine, entries, owner=entries.c.lease_owner, until=entries.c.lease_until)

    def move_site(self, old_base: str, new_base: str) -> int:
        """Entries whose links start with ``old_base`` now start with ``new_base`` (a publisher that moved).

        Their links stay their identity: without this, the next poll would read every
        moved link as a new story. Returns the number of entries moved.
        """
        old_base, new_base = old_base.rstrip("/") + "/", new_base.rstrip("/") + "/"

        def moved(value: str | None) -> str | None:
            return new_base + value[len(old_base):] if value and value.startswith(old_base) else value

        with self.engine.begin() as conn:
            rows = conn.execute(select(entries.c.id, entries.c.url, entries.c.normalized_url)
                                .where(or_(entries.c.url.startswith(old_base, autoescape=True),
                                           entries.c.normalized_url.startswith(old_base, autoescape=True)))).all()
            for row in rows:
                conn.execute(update(entries).where(entries.c.id == row.id)
                             .values(url=moved(row.url), normalized_url=moved(row.normalized_url)))
            fetched = conn.execute(select(pages.c.entry_id, pages.c.url)
                                   .where(pages.c.url.startswith(old_base, autoescape=True))).all()
            for page_row in fetched:
                conn.execute(update(pages).where(pages.c.entry_id == page_row.entry_id)
                             .values(url=moved(page_row.url)))
        return len(rows)
