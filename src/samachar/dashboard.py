"""The desk's dashboard in numbers: one function, and one query, per panel.

Entries per state, the last runs and the next, the errors of the last 24 hours,
each source's health, what the engines did per day and how each publish target
is doing. The desk's page (:mod:`samachar.web.admin.operations`) draws them;
nothing here renders anything. Every query aggregates in the database, so a
home with a hundred thousand entries answers in milliseconds, not by loading
its entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, literal, or_, select, union_all

from samachar.store.schema import engine_usage, entries, publications, runs, sources
from samachar.store.sources import utcnow

if TYPE_CHECKING:
    from samachar.store import Store

ERROR_WINDOW = timedelta(hours=24)
USAGE_DAYS = 30
ERROR_LIMIT = 100


def _order_states(counts: dict[str, int]) -> dict[str, int]:
    """The pipeline's states in their order (those without entries too), then any other state."""
    from samachar.model import EntryState

    ordered = {state.value: counts.get(state.value, 0) for state in EntryState}
    ordered.update({s: n for s, n in sorted(counts.items()) if s not in ordered})
    return ordered


def entry_states(store: Store) -> dict[str, int]:
    """How many entries are in each state (tombstones left out), every state named."""
    query = (select(entries.c.state, func.count()).where(entries.c.deleted_at.is_(None))
             .group_by(entries.c.state))
    with store.engine.connect() as conn:
        return _order_states({state: int(n) for state, n in conn.execute(query)})


@dataclass
class RunRow:
    id: int
    kind: str  # run / poll / worker
    owner: str | None
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


def recent_runs(store: Store, limit: int = 10) -> list[RunRow]:
    """The latest runs, newest first (an unfinished one is under way, or was killed)."""
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [RunRow(id=r.id, kind=r.kind, owner=r.owner, started_at=r.started_at, finished_at=r.finished_at,
                       counts=r.counts if isinstance(r.counts, dict) else {}) for r in conn.execute(query)]


def next_run(store: Store) -> datetime | None:
    """When the next run has work: the next source due on its own schedule (paused and muted ones aside)."""
    return store.sources.next_due_at()


@dataclass
class ErrorLine:
    kind: str  # entry / source
    id: int  # the entry's or the source's id
    at: datetime
    state: str  # the entry's state, the source's status
    message: str


def recent_errors(store: Store, now: datetime | None = None, *, limit: int = ERROR_LIMIT) -> list[ErrorLine]:
    """What went wrong in the last 24 hours, newest first: entries that failed or are being retried
    after an error, and sources whose last poll failed."""
    since = (now or utcnow()) - ERROR_WINDOW
    entry_errors = (select(literal("entry").label("kind"), entries.c.id, entries.c.updated_at.label("at"),
                           entries.c.state, entries.c.error.label("message"))
                    .where(entries.c.deleted_at.is_(None)).where(entries.c.error.is_not(None))
                    .where(entries.c.updated_at >= since)
                    .where(or_(entries.c.state == "failed", entries.c.attempts > 0)))
    source_errors = (select(literal("source").label("kind"), sources.c.id, sources.c.last_polled_at.label("at"),
                            sources.c.status.label("state"), sources.c.error.label("message"))
                     .where(sources.c.status.in_(("error", "gone"))).where(sources.c.last_polled_at >= since))
    both = union_all(entry_errors, source_errors).subquery()
    query = select(both).order_by(both.c.at.desc(), both.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = list(conn.execute(query))
    from samachar.store.schema import UTCDateTime

    at = UTCDateTime()  # a UNION's column loses its type on SQLite: read the time back the same way
    return [ErrorLine(kind=r.kind, id=r.id, at=_aware(r.at, at), state=r.state, message=r.message or "")
            for r in rows]


def _aware(value: Any, column: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return column.process_result_value(value, None)


@dataclass
class SourceHealth:
    id: int
    name: str
    url: str
    status: str  # new / ok / error / gone
    paused: bool
    error: str | None
    error_count: int
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    states: dict[str, int] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        return sum(self.states.values())


def source_health(store: Store) -> list[SourceHealth]:
    """Every source with its polling state and its entries per state, in id order."""
    counts = (select(entries.c.source_id, entries.c.state, func.count().label("n"))
              .where(entries.c.deleted_at.is_(None)).group_by(entries.c.source_id, entries.c.state).subquery())
    query = (select(sources.c.id, sources.c.name, sources.c.feed_title, sources.c.url, sources.c.status,
                    sources.c.paused, sources.c.error, sources.c.error_count, sources.c.last_polled_at,
                    sources.c.next_poll_at, counts.c.state, counts.c.n)
             .select_from(sources.outerjoin(counts, counts.c.source_id == sources.c.id))
             .order_by(sources.c.id))
    found: dict[int, SourceHealth] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            health = found.get(r.id)
            if health is None:
                health = found[r.id] = SourceHealth(
                    id=r.id, name=r.name or r.feed_title or r.url, url=r.url, status=r.status, paused=bool(r.paused),
                    error=r.error, error_count=r.error_count or 0, last_polled_at=r.last_polled_at,
                    next_poll_at=r.next_poll_at)
            if r.state is not None:
                health.states[r.state] = int(r.n)
    return list(found.values())


@dataclass
class UsageDay:
    day: str  # YYYY-MM-DD, UTC
    engine: str
    source_lang: str
    target_lang: str
    documents: int
    segments: int
    characters: int
    tokens: int | None
    seconds: float


def engine_usage_days(store: Store, now: datetime | None = None, days: int = USAGE_DAYS) -> list[UsageDay]:
    """What each engine did per day and pair over the last ``days`` days, oldest first."""
    first = ((now or utcnow()) - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    query = (select(engine_usage).where(engine_usage.c.day >= first)
             .order_by(engine_usage.c.day, engine_usage.c.engine, engine_usage.c.source_lang,
                       engine_usage.c.target_lang))
    with store.engine.connect() as conn:
        return [UsageDay(day=r.day, engine=r.engine, source_lang=r.source_lang, target_lang=r.target_lang,
                         documents=r.documents, segments=r.segments, characters=r.characters, tokens=r.tokens,
                         seconds=float(r.seconds or 0.0)) for r in conn.execute(query)]


def daily_totals(usage: Sequence[UsageDay], now: datetime | None = None,
                 days: int = USAGE_DAYS) -> list[tuple[str, int, int, float]]:
    """(day, segments, characters, seconds) for each of the last ``days`` days, days without work as 0."""
    today = (now or utcnow()).date()
    totals = {(today - timedelta(days=n)).isoformat(): [0, 0, 0.0] for n in range(days - 1, -1, -1)}
    for row in usage:
        if row.day in totals:
            total = totals[row.day]
            total[0] += row.segments
            total[1] += row.characters
            total[2] += row.seconds
    return [(day, int(t[0]), int(t[1]), float(t[2])) for day, t in totals.items()]


@dataclass
class TargetStatus:
    name: str
    states: dict[str, int] = field(default_factory=dict)  # publications per state
    last_error: str | None = None  # of the most recent failed publication
    last_error_at: datetime | None = None


def target_status(store: Store, names: Sequence[str]) -> list[TargetStatus]:
    """Each target's publications per state and its latest failure, in the order of ``names``
    (targets no longer configured that still have records come after)."""
    failed = publications.alias("failed")
    latest = (select(failed.c.error).where(and_(failed.c.target == publications.c.target,
                                                failed.c.state == "failed"))
              .order_by(failed.c.updated_at.desc(), failed.c.id.desc()).limit(1).scalar_subquery())
    latest_at = (select(func.max(failed.c.updated_at)).where(and_(failed.c.target == publications.c.target,
                                                                   failed.c.state == "failed"))
                 .scalar_subquery())
    query = (select(publications.c.target, publications.c.state, func.count().label("n"),
                    latest.label("last_error"), latest_at.label("last_error_at"))
             .group_by(publications.c.target, publications.c.state))
    found = {name: TargetStatus(name) for name in names}
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            status = found.setdefault(r.target, TargetStatus(r.target))
            status.states[r.state] = int(r.n)
            if r.last_error is not None:
                status.last_error = r.last_error
                status.last_error_at = _aware(r.last_error_at, failed.c.updated_at.type)
    return list(found.values())


@dataclass
class Dashboard:
    """Every panel's numbers, read at one moment."""

    now: datetime
    states: dict[str, int]
    runs: list[RunRow]
    next_run: datetime | None
    errors: list[ErrorLine]
    sources: list[SourceHealth]
    usage: list[UsageDay]
    daily: list[tuple[str, int, int, float]]
    targets: list[TargetStatus]

    @property
    def last_run(self) -> RunRow | None:
        """The latest finished run."""
        return next((r for r in self.runs if not r.running), None)


def dashboard(store: Store, target_names: Sequence[str], now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    usage = engine_usage_days(store, now)
    return Dashboard(now=now, states=entry_states(store), runs=recent_runs(store), next_run=next_run(store),
                     errors=recent_errors(store, now), sources=source_health(store), usage=usage,
                     daily=daily_totals(usage, now), targets=target_status(store, target_names))
