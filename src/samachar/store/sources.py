"""Sources: the feeds a site follows, with their polling state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, func, or_, select, update

from samachar.model import ParsedFeed, PollOutcome, SourceState
from samachar.store.schema import entries, sources

# SQLite and PostgreSQL ids are signed 64-bit: a larger number names nothing (and would overflow).
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class SourceRow:
    id: int
    url: str
    name: str | None
    feed_title: str | None
    site_url: str | None
    policy: str | None
    language: str | None
    interval_minutes: int | None
    status: str
    error: str | None
    error_count: int
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    etag: str | None = None
    last_modified: str | None = None
    entries: int = 0
    seo: str | None = None  # canonical / noindex / index; None: the site default
    filters: dict | None = None  # include/exclude rules after extraction (see samachar.filters)

    @property
    def display_name(self) -> str:
        return self.name or self.feed_title or self.url

    def state(self) -> SourceState:
        return SourceState(id=self.id, url=self.url, etag=self.etag, last_modified=self.last_modified,
                           error_count=self.error_count, interval_minutes=self.interval_minutes)


class SourceRepository:
    LOCK_MINUTES = 15

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, url: str, *, name: str | None = None, policy: str | None = None,
            language: str | None = None, interval_minutes: int | None = None, seo: str | None = None) -> SourceRow:
        """Add a source, or update the given fields of an existing one with that URL."""
        with self.engine.begin() as conn:
            existing = conn.execute(select(sources.c.id).where(sources.c.url == url)).scalar()
            values = {k: v for k, v in dict(name=name, policy=policy, language=language,
                                             interval_minutes=interval_minutes, seo=seo).items() if v is not None}
            if existing is None:
                conn.execute(sources.insert().values(url=url, status="new", error_count=0, created_at=utcnow(), **values))
            elif values:
                conn.execute(update(sources).where(sources.c.id == existing).values(**values))
        return self.get(url)

    def get(self, url_or_id: str | int) -> SourceRow | None:
        if isinstance(url_or_id, int) and not 0 < url_or_id <= MAX_ID:
            return None
        column = sources.c.id if isinstance(url_or_id, int) else sources.c.url
        rows = self._select(column == url_or_id)
        return rows[0] if rows else None

    def find(self, url: str) -> SourceRow | None:
        """The source followed at ``url``, compared as normalized URLs (case, tracking, default port)."""
        from samachar.sources.identity import normalize_url

        exact = self.get(url)
        if exact is not None:
            return exact
        wanted = normalize_url(url)
        return next((s for s in self.list() if normalize_url(s.url) == wanted), None)

    def list(self) -> list[SourceRow]:
        return self._select(None)

    def _select(self, where) -> list[SourceRow]:
        counts = (select(entries.c.source_id, func.count().label("n"))
                  .where(entries.c.deleted_at.is_(None)).group_by(entries.c.source_id).subquery())
        query = (select(sources, func.coalesce(counts.c.n, 0).label("entries"))
                 .select_from(sources.outerjoin(counts, counts.c.source_id == sources.c.id))
                 .order_by(sources.c.id))
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as conn:
            return [SourceRow(**{k: v for k, v in row._mapping.items() if k not in ("locked_until", "created_at")})
                    for row in conn.execute(query)]

    def remove(self, url_or_id: str | int) -> bool:
        """Remove a source by URL or id; its entries stay (as history and for dedupe), unlinked."""
        if isinstance(url_or_id, int) and not 0 < url_or_id <= MAX_ID:
            return False
        column = sources.c.id if isinstance(url_or_id, int) else sources.c.url
        with self.engine.begin() as conn:
            return conn.execute(delete(sources).where(column == url_or_id)).rowcount > 0

    def set_url(self, source_id: int, url: str) -> None:
        with self.engine.begin() as conn:
            taken = conn.execute(select(sources.c.id).where(sources.c.url == url)).scalar()
            if taken is None:
                conn.execute(update(sources).where(sources.c.id == source_id).values(url=url))

    def due(self, now: datetime | None = None) -> list[SourceRow]:
        now = now or utcnow()
        return [s for s in self.list() if s.status != "gone" and (s.next_poll_at is None or s.next_poll_at <= now)]

    def schedule_now(self) -> None:
        """Make every source due now (``samachar poll --all``); muted (410) sources stay muted."""
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.status != "gone").values(next_poll_at=None))

    def acquire(self, source_id: int, now: datetime | None = None) -> bool:
        """Take the per-source lock so that overlapping runs cannot import twice."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sources)
                .where(sources.c.id == source_id)
                .where(or_(sources.c.locked_until.is_(None), sources.c.locked_until < now))
                .values(locked_until=now + timedelta(minutes=self.LOCK_MINUTES))
            )
            return result.rowcount == 1

    def release(self, source_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(locked_until=None))

    def record_poll(self, outcome: PollOutcome, now: datetime | None = None, *,
                    feed: ParsedFeed | None = None) -> None:
        """Store a poll's outcome; ``feed`` (else ``outcome.feed``) gives the feed's title and site."""
        now = now or utcnow()
        feed = feed or outcome.feed
        values: dict = dict(last_polled_at=now, next_poll_at=outcome.next_poll_at, error_count=outcome.error_count)
        if outcome.status in ("ok", "not_modified"):
            values.update(status="ok", error=None)
            if outcome.etag is not None or outcome.status == "ok":
                values["etag"] = outcome.etag
            if outcome.last_modified is not None or outcome.status == "ok":
                values["last_modified"] = outcome.last_modified
            if feed is not None:
                values.update(feed_title=feed.title, site_url=feed.site_url)
        else:
            values.update(status="gone" if outcome.status == "gone" else "error", error=outcome.error)
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == outcome.source_id).values(**values))
        if outcome.new_url:
            self.set_url(outcome.source_id, outcome.new_url)
