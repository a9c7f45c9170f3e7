"""Sources: the feeds a site follows, with their polling state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import Connection, Engine, case, delete, exists, func, select, update

from samachar.model import ParsedFeed, PollOutcome, SourceState
from samachar.store.leases import LEASE_SECONDS, Held, LeaseTable
from samachar.store.schema import entries, sources

log = logging.getLogger(__name__)

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
    paused: bool = False  # v7: not polled while set (the desk's pause/resume)
    targets: dict | None = None  # v7: {target name: {"category": …}}; None: every target, no category
    stories_mode: str | None = None  # v8: merge / separate; None: the [stories] mode default

    @property
    def display_name(self) -> str:
        return self.name or self.feed_title or self.url

    def state(self) -> SourceState:
        return SourceState(id=self.id, url=self.url, etag=self.etag, last_modified=self.last_modified,
                           error_count=self.error_count, interval_minutes=self.interval_minutes)


@dataclass
class SourceClaim:
    """The due sources leased to this process for polling, and those another live poller holds."""

    claimed: list[SourceRow]
    held: list[Held]

    def skipped_summary(self) -> str | None:
        """``3 sources skipped: being polled by host:pid until 12:00:31 UTC``, or None when none were."""
        if not self.held:
            return None
        holders = ", ".join(dict.fromkeys(h.describe() for h in self.held))
        count = len(self.held)
        return f"{count} source{'s' if count != 1 else ''} skipped: being polled by {holders}"


class SourceRepository:
    LEASE_SECONDS = LEASE_SECONDS  # a killed poller's sources are free again after this at most

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, url: str, *, name: str | None = None, policy: str | None = None,
            language: str | None = None, interval_minutes: int | None = None, seo: str | None = None,
            stories_mode: str | None = None) -> SourceRow:
        """Add a source, or update the given fields of an existing one with that URL."""
        with self.engine.begin() as conn:
            existing = conn.execute(select(sources.c.id).where(sources.c.url == url)).scalar()
            values = {k: v for k, v in dict(name=name, policy=policy, language=language,
                                             interval_minutes=interval_minutes, seo=seo,
                                             stories_mode=stories_mode).items() if v is not None}
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
            return [SourceRow(**{k: v for k, v in row._mapping.items()
                                 if k not in ("locked_until", "lease_owner", "created_at")})
                    for row in conn.execute(query)]

    def remove(self, url_or_id: str | int) -> bool:
        """Remove a source by URL or id; its entries stay (as history and for dedupe), unlinked."""
        if isinstance(url_or_id, int) and not 0 < url_or_id <= MAX_ID:
            return False
        column = sources.c.id if isinstance(url_or_id, int) else sources.c.url
        with self.engine.begin() as conn:
            return conn.execute(delete(sources).where(column == url_or_id)).rowcount > 0

    def set_filters(self, source_id: int, filters: dict | None) -> None:
        """Store the source's filter rules (see :mod:`samachar.filters`); ``None`` removes them."""
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(filters=filters))

    def set_url(self, source_id: int, url: str) -> None:
        with self.engine.begin() as conn:
            taken = conn.execute(select(sources.c.id).where(sources.c.url == url)).scalar()
            if taken is None:
                conn.execute(update(sources).where(sources.c.id == source_id).values(url=url))

    def due(self, now: datetime | None = None) -> list[SourceRow]:
        """Sources to poll now: not muted (410), not paused, and their time has come."""
        now = now or utcnow()
        due = ((sources.c.status != "gone") & sources.c.paused.is_(False)
               & (sources.c.next_poll_at.is_(None) | (sources.c.next_poll_at <= now)))
        return self._select(due)

    def next_due_at(self) -> datetime | None:
        """When the next source is due on its own schedule (None: none is scheduled): the next run's time."""
        query = (select(func.min(sources.c.next_poll_at)).where(sources.c.status != "gone")
                 .where(sources.c.paused.is_(False)))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def update(self, source_id: int, **values) -> None:
        """Set exactly these fields (``name``, ``policy``, ``seo``, ``interval_minutes``, ``language``);
        None puts one back to the site's default."""
        allowed = {"name", "policy", "seo", "interval_minutes", "language"}
        if set(values) - allowed:
            raise TypeError(f"not a source setting: {', '.join(sorted(set(values) - allowed))}")
        if values:
            with self.engine.begin() as conn:
                conn.execute(update(sources).where(sources.c.id == source_id).values(**values))

    def set_paused(self, source_id: int, paused: bool) -> bool:
        """Pause (no polling) or resume a source; False when there is no such source."""
        with self.engine.begin() as conn:
            return conn.execute(update(sources).where(sources.c.id == source_id).values(paused=paused)).rowcount > 0

    def set_targets(self, source_id: int, targets: dict | None) -> None:
        """The source's publish targets, ``{name: {"category": …}}``; None: every target, no category."""
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(targets=targets))

    def schedule_now(self) -> None:
        """Make every source due now (``samachar poll --all``); muted (410) sources stay muted."""
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.status != "gone").values(next_poll_at=None))

    @cached_property
    def leases(self) -> LeaseTable:
        return LeaseTable(self.engine, sources, owner=sources.c.lease_owner, until=sources.c.locked_until,
                          seconds=self.LEASE_SECONDS)

    def claim_due(self, now: datetime | None = None) -> SourceClaim:
        """Lease every due source to this process, renewed until released; report the ones others hold."""
        now = now or utcnow()
        due = self.due(now)
        claim = self.leases.claim([s.id for s in due], now)
        leased = set(claim.claimed)
        return SourceClaim([s for s in due if s.id in leased], claim.held)

    def acquire(self, source_id: int, now: datetime | None = None) -> bool:
        """Lease the source to this process so that overlapping polls cannot import twice; renewed until released.

        A source another live poller holds is skipped, and said so.
        """
        claim = self.leases.claim([source_id], now)
        for held in claim.held:
            log.warning("source %d skipped: being polled by %s", held.id, held.describe())
        return bool(claim.claimed)

    def release(self, source_id: int) -> None:
        self.leases.release([source_id])

    def record_poll(self, outcome: PollOutcome, now: datetime | None = None, *,
                    feed: ParsedFeed | None = None, conn: Connection | None = None) -> None:
        """Store a poll's outcome; ``feed`` (else ``outcome.feed``) gives the feed's title and site.

        One UPDATE, the moved feed's new URL included: a poll of many sources is as many
        statements, not three times as many. With ``conn``, in that open transaction.
        """
        now = now or utcnow()
        feed = feed or outcome.feed
        values: dict = {"last_polled_at": now, "next_poll_at": outcome.next_poll_at,
                        "error_count": outcome.error_count}
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
        if outcome.new_url:
            values["url"] = _moved_url(outcome.new_url)
        statement = update(sources).where(sources.c.id == outcome.source_id).values(**values)
        if conn is not None:
            conn.execute(statement)
            return
        with self.engine.begin() as own:
            own.execute(statement)


def _moved_url(new_url: str):
    """The SQL value for a feed that moved to ``new_url``: that URL, unless another source follows it already."""
    other = sources.alias("other")
    return case((exists().where(other.c.url == new_url), sources.c.url), else_=new_url)
