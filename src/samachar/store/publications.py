"""Publications: one record per (entry, language, target) — where each article went, and how it went.

A target's post is created once and updated afterwards. The record says which
remote post is ours (``remote_id``), what we last sent (``revision``) and, for
a create still in flight, that we meant to (``intent_at``): a crash between the
target creating the post and this record learning its id leaves the intent
behind, so the target can look for the orphan before creating another.

States: ``pending`` (intent recorded, no answer yet), ``published``, ``failed``
(the last attempt failed; retried with backoff), ``unpublished``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.exc import IntegrityError

from samachar.store.schema import publications
from samachar.store.sources import utcnow

STATES = ("pending", "published", "failed", "unpublished")
# Backoff after a failed attempt: 1, 2, 4 … minutes, at most a day; never "give up forever".
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(days=1)


@dataclass(frozen=True)
class Publication:
    entry_id: int
    lang: str
    target: str
    state: str
    remote_id: str | None = None
    remote_url: str | None = None
    revision: str | None = None
    attempts: int = 0
    error: str | None = None
    intent_at: datetime | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    # Not stored: set by the runner when a create may already have happened (an intent from an earlier
    # attempt that never learnt its remote id: a kill, a timeout whose request did succeed).
    recovering: bool = False

    def due(self, now: datetime) -> bool:
        """A failed publication is retried once its backoff has passed."""
        if self.state != "failed" or self.updated_at is None:
            return True
        wait = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** max(0, self.attempts - 1)))
        return now >= self.updated_at + wait


class PublicationRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def _where(self, entry_id: int, lang: str, target: str):
        return and_(publications.c.entry_id == entry_id, publications.c.lang == lang,
                    publications.c.target == target)

    def get(self, entry_id: int, lang: str, target: str) -> Publication | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(publications).where(self._where(entry_id, lang, target))).first()
        return _publication(row) if row else None

    def for_entry(self, entry_id: int) -> list[Publication]:
        query = select(publications).where(publications.c.entry_id == entry_id).order_by(publications.c.id)
        with self.engine.connect() as conn:
            return [_publication(r) for r in conn.execute(query)]

    def for_entries(self, entry_ids: list[int]) -> dict[int, list[Publication]]:
        found: dict[int, list[Publication]] = {i: [] for i in entry_ids}
        with self.engine.connect() as conn:
            for start in range(0, len(entry_ids), 500):
                chunk = entry_ids[start:start + 500]
                query = select(publications).where(publications.c.entry_id.in_(chunk)).order_by(publications.c.id)
                for row in conn.execute(query):
                    found[row.entry_id].append(_publication(row))
        return found

    def unfinished(self, target: str, lang: str) -> list[int]:
        """Entries whose publication to ``target`` is pending or failed: to be tried again."""
        query = (select(publications.c.entry_id).where(publications.c.target == target)
                 .where(publications.c.lang == lang).where(publications.c.state.in_(("pending", "failed")))
                 .order_by(publications.c.entry_id))
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def never_sent(self, target: str, lang: str) -> list[int]:
        """Entries published on the site in ``lang`` that ``target`` has no record of (added since)."""
        from sqlalchemy import exists

        from samachar.store.schema import entries, posts

        recorded = exists().where(and_(publications.c.entry_id == posts.c.entry_id, publications.c.lang == lang,
                                       publications.c.target == target))
        query = (select(posts.c.entry_id).join(entries, entries.c.id == posts.c.entry_id)
                 .where(posts.c.lang == lang).where(entries.c.deleted_at.is_(None)).where(~recorded)
                 .order_by(posts.c.entry_id))
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def record_intent(self, entry_id: int, lang: str, target: str, now: datetime | None = None) -> Publication:
        """Before a request that may create a remote post: note that we are about to (kept across crashes)."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            changed = conn.execute(update(publications).where(self._where(entry_id, lang, target))
                                   .where(publications.c.intent_at.is_(None))
                                   .values(intent_at=now, updated_at=now)).rowcount
            exists = changed or conn.execute(select(publications.c.id)
                                             .where(self._where(entry_id, lang, target))).first()
            if not exists:
                try:
                    with conn.begin_nested():
                        conn.execute(publications.insert().values(
                            entry_id=entry_id, lang=lang, target=target, state="pending", attempts=0,
                            intent_at=now, updated_at=now))
                except IntegrityError:
                    pass  # another worker recorded it first: its record stands
        record = self.get(entry_id, lang, target)
        assert record is not None
        return record

    def record_published(self, entry_id: int, lang: str, target: str, *, remote_id: str | None,
                         remote_url: str | None, revision: str | None, now: datetime | None = None) -> None:
        now = now or utcnow()
        self._upsert(entry_id, lang, target, now, state="published", remote_id=remote_id, remote_url=remote_url,
                     revision=revision, error=None, attempts=0, published_at=now, intent_at=None)

    def record_failure(self, entry_id: int, lang: str, target: str, error: str, now: datetime | None = None) -> int:
        """Note a failed attempt (the remote id, if any, is kept); returns the attempts so far."""
        now = now or utcnow()
        previous = self.get(entry_id, lang, target)
        attempts = (previous.attempts if previous else 0) + 1
        self._upsert(entry_id, lang, target, now, state="failed", error=error, attempts=attempts)
        return attempts

    def record_unpublished(self, entry_id: int, lang: str, target: str, now: datetime | None = None) -> None:
        self._upsert(entry_id, lang, target, now or utcnow(), state="unpublished", error=None)

    def _upsert(self, entry_id: int, lang: str, target: str, now: datetime, **values) -> None:
        values["updated_at"] = now
        with self.engine.begin() as conn:
            changed = conn.execute(update(publications).where(self._where(entry_id, lang, target))
                                   .values(**values)).rowcount
            if not changed:
                conn.execute(publications.insert().values(entry_id=entry_id, lang=lang, target=target,
                                                          **{"attempts": 0, **values}))


def _publication(row) -> Publication:
    data = dict(row._mapping)
    return Publication(**{k: data[k] for k in Publication.__dataclass_fields__ if k in data})
