"""Entries: every item ever seen in a feed, deduplicated across sources, kept forever.

An entry moves through ``new → fetched → extracted → translated → published``,
or ends ``failed`` (with its reason) or ``held`` for review. Deleting an entry
leaves a tombstone so it is never imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, exists, or_, select, update

from samachar.model import FeedEntry
from samachar.store.schema import articles, entries, pages, sources, translations
from samachar.store.sources import utcnow


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

    def set_state(self, entry_id: int, state: str, *, error: str | None = None, expect: str | None = None) -> bool:
        """Move an entry to ``state``; with ``expect``, only from that state (idempotent stages)."""
        values: dict = dict(state=state, error=error, updated_at=utcnow())
        query = update(entries).where(entries.c.id == entry_id)
        if expect:
            query = query.where(entries.c.state == expect)
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def record_error(self, entry_id: int, error: str) -> int:
        """Keep the state, note the error and count the attempt; returns the attempts so far."""
        with self.engine.begin() as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(error=error, attempts=entries.c.attempts + 1, updated_at=utcnow()))
            return conn.execute(select(entries.c.attempts).where(entries.c.id == entry_id)).scalar() or 0

    def reopen_for_language(self, lang: str) -> int:
        """Entries done in another language go back to ``extracted`` to be translated into ``lang``.

        The entry's state is one per entry; translations and posts are per language, so
        when the site's language changes, the work is redone for the new one.
        """
        has_translation = exists().where(and_(translations.c.entry_id == entries.c.id, translations.c.lang == lang))
        has_article = exists().where(articles.c.entry_id == entries.c.id)
        with self.engine.begin() as conn:
            return conn.execute(
                update(entries)
                .where(entries.c.state.in_(("translated", "published", "held")))
                .where(has_article).where(~has_translation)
                .values(state="extracted", error=None, attempts=0, updated_at=utcnow())
            ).rowcount

    def reset(self, entry_id: int) -> str | None:
        """Send a failed or held entry back to the furthest stage its data allows; returns the state."""
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
        return state if changed else None

    def tombstone(self, entry_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(deleted_at=utcnow()))

    def save_page(self, entry_id: int, url: str, html: str) -> None:
        """Store the fetched page and move the entry to ``fetched`` in one transaction."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(pages.delete().where(pages.c.entry_id == entry_id))
            conn.execute(pages.insert().values(entry_id=entry_id, url=url, html=html, fetched_at=now))
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(state="fetched", error=None, updated_at=now))

    def page(self, entry_id: int) -> tuple[str, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(pages.c.url, pages.c.html).where(pages.c.entry_id == entry_id)).first()
        return (row.url, row.html) if row else None
