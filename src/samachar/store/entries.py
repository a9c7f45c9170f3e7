"""Entries: every item ever seen in a feed, deduplicated across sources, kept forever.

An entry moves through ``new → fetched → extracted → translated → published``,
or ends ``failed`` (with its reason) or ``held`` for review. Deleting an entry
leaves a tombstone so it is never imported again. Every change of state and
every recorded error also writes a line of the entry's history
(``entry_events``), in the transaction of the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, exists, or_, select, update

from samachar.model import FeedEntry
from samachar.store.schema import (
    articles,
    entries,
    entry_events,
    pages,
    sources,
    translations,
)
from samachar.store.sources import MAX_ID, utcnow


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
    state: str
    error: str | None
    attempts: int
    note: str | None = None
    updated_at: datetime | None = None
    source_url: str | None = None

    def feed_entry(self) -> FeedEntry:
        return FeedEntry(title=self.title, url=self.url, summary=self.summary, content_html=self.content_html,
                         author=self.author, published=self.published, image=self.image,
                         categories=list(self.categories or []))


class EntryRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # A content hash only identifies an entry when there is enough content to hash: two
    # "Horoscope today" items with no body are different stories, not duplicates.
    HASH_MIN_WORDS = 40

    def add_many(self, source_id: int, items: list[tuple[FeedEntry, object]]) -> list[int]:
        """Insert entries not seen before (by key, normalized URL or content hash, any source).

        ``items`` pairs each FeedEntry with its identity (``key``, ``normalized_url``,
        ``content_hash``). Returns the ids of the new entries. All or nothing: one
        transaction for the whole feed.
        """
        new_ids: list[int] = []
        now = utcnow()
        with self.engine.begin() as conn:
            for entry, ident in items:
                clauses = [entries.c.key == ident.key]
                if ident.normalized_url:
                    clauses.append(entries.c.normalized_url == ident.normalized_url)
                body = entry.content_html or entry.summary or ""
                if ident.content_hash and (ident.key.startswith("hash:") or len(body.split()) >= self.HASH_MIN_WORDS):
                    clauses.append(entries.c.content_hash == ident.content_hash)
                legacy_key = getattr(ident, "legacy_key", None)
                if legacy_key:  # the one entry an older version kept under a key without the GUID's fragment
                    clauses.append(and_(entries.c.key == legacy_key, entries.c.guid == entry.guid))
                if conn.execute(select(entries.c.id).where(or_(*clauses)).limit(1)).first():
                    continue
                result = conn.execute(entries.insert().values(
                    source_id=source_id, key=ident.key, normalized_url=ident.normalized_url,
                    content_hash=ident.content_hash, guid=entry.guid, url=entry.url, title=entry.title or "",
                    summary=entry.summary, content_html=entry.content_html, author=entry.author,
                    published=entry.published, image=entry.image, categories=list(entry.categories or []),
                    state="new", attempts=0, created_at=now, updated_at=now,
                ))
                new_ids.append(result.inserted_primary_key[0])
                record_event(conn, new_ids[-1], f"new in the feed of source {source_id}")
        return new_ids

    def _query(self):
        return select(entries, sources.c.url.label("source_url")).select_from(
            entries.outerjoin(sources, sources.c.id == entries.c.source_id)
        ).where(entries.c.deleted_at.is_(None))

    @staticmethod
    def _row(row) -> EntryRow:
        data = dict(row._mapping)
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

    def in_state(self, state: str, limit: int | None = None) -> list[EntryRow]:
        query = self._query().where(entries.c.state == state).order_by(entries.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(query)]

    def set_state(self, entry_id: int, state: str, *, error: str | None = None, expect: str | None = None,
                  reason: str | None = None) -> bool:
        """Move an entry to ``state``; with ``expect``, only from that state (idempotent stages).

        ``reason`` says in the history why, when ``error`` does not (an editor's approval).
        """
        if not 0 < entry_id <= MAX_ID:
            return False
        values: dict = dict(state=state, error=error, updated_at=utcnow())
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

    def reopen_for_language(self, lang: str) -> int:
        """Entries done in another language go back to ``extracted`` to be translated into ``lang``.

        The entry's state is one per entry; translations and posts are per language, so
        when the site's language changes, the work is redone for the new one.
        """
        has_translation = exists().where(and_(translations.c.entry_id == entries.c.id, translations.c.lang == lang))
        has_article = exists().where(articles.c.entry_id == entries.c.id)
        with self.engine.begin() as conn:
            ids = list(conn.execute(
                select(entries.c.id).where(entries.c.state.in_(("translated", "published", "held")))
                .where(has_article).where(~has_translation)
            ).scalars())
            if not ids:
                return 0
            conn.execute(update(entries).where(entries.c.id.in_(ids))
                         .values(state="extracted", error=None, attempts=0, updated_at=utcnow()))
            for entry_id in ids:
                record_event(conn, entry_id, f"reopened to be translated into {lang}")
            return len(ids)

    def reset(self, entry_id: int) -> str | None:
        """Send a failed or held entry back to the furthest stage its data allows; returns the state."""
        if not 0 < entry_id <= MAX_ID:
            return None
        with self.engine.begin() as conn:
            if conn.execute(select(articles.c.entry_id).where(articles.c.entry_id == entry_id)).first():
                state = "extracted"
            elif conn.execute(select(pages.c.entry_id).where(pages.c.entry_id == entry_id)).first():
                state = "fetched"
            else:
                state = "new"
            changed = conn.execute(
                update(entries).where(entries.c.id == entry_id).where(entries.c.state.in_(("failed", "held")))
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
                         .values(state="fetched", error=None, updated_at=now))
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
