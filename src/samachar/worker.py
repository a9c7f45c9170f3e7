"""``samachar worker``: one of any number of processes, on any number of hosts, sharing one database.

Each worker runs the stages it is given (``--stages poll,fetch,extract,filter,translate,publish``)
from the same table as ``samachar run`` (:data:`samachar.stages.STAGES`), over the entries it
*claims*: a lease on each entry (:class:`samachar.store.leases.LeaseTable`), taken with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL so that workers pass over each other's
rows, renewed in the background while the worker works and released when the stage is
done. A worker that is killed or cut off lets its entries go when their leases lapse
(a minute at most): another worker takes them, and every stage is idempotent, so nothing
is lost and nothing is published twice.

Exactly one process schedules polls: the one holding a PostgreSQL advisory lock
(:data:`SCHEDULER_LOCK`), taken on a connection of its own. When that process dies its
connection closes, the lock is free, and the next worker to ask takes over. Sources
themselves are leased too, so even two pollers would not import twice. On SQLite there is
one process (the home's run lock): ``samachar run`` is the usual way there.

A GPU host runs ``--stages translate``; the rest run elsewhere. ``--concurrency N`` is how
many entries a worker claims per stage and round (fetched concurrently, translated in
batches of ``[translation] batch_articles``).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from samachar.errors import ConfigError
from samachar.stages import MAX_RETRY_WAIT, RETRY_BASE, STAGES, RunReport, Stage, StageContext, ready

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.progress import Progress
    from samachar.store import Store
    from samachar.store.entries import EntryRow

log = logging.getLogger("samachar.worker")
SCHEDULER_LOCK = 0x5A4D4143  # pg_advisory_lock key: "SMAC"
IDLE_SLEEP = 2.0  # seconds between rounds that found nothing to do


def parse_stages(spec: str | None) -> list[Stage]:
    """``poll,fetch,…`` → the table's rows, in table order; unknown names are a one-line error."""
    names = [n.strip() for n in (spec or "").split(",") if n.strip()] or [s.name for s in STAGES]
    known = {s.name for s in STAGES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(s.name for s in STAGES)}")
    return [s for s in STAGES if s.name in names]


def _backoff_over(now: datetime) -> Any:
    """SQL for :func:`samachar.stages.ready`: no failed attempt, or its backoff has passed."""
    from samachar.store.schema import entries

    clauses = [entries.c.attempts == 0]
    attempts, wait = 1, RETRY_BASE
    while wait < MAX_RETRY_WAIT:
        clauses.append(and_(entries.c.attempts == attempts, entries.c.updated_at <= now - wait))
        attempts, wait = attempts + 1, wait * 2
    clauses.append(and_(entries.c.attempts >= attempts, entries.c.updated_at <= now - MAX_RETRY_WAIT))
    return or_(*clauses)


@dataclass
class LeasedEntries:
    """A worker's share of a stage's due entries: leased to it, renewed while it works, released after."""

    store: Store
    limit: int = 16
    claimed: int = 0
    seconds_claiming: float = 0.0

    def due(self, stage: Stage, ctx: StageContext) -> list[EntryRow]:
        from samachar.store.schema import entries

        started = time.perf_counter()
        candidates = (select(entries.c.id).where(entries.c.state == stage.takes)
                      .where(entries.c.deleted_at.is_(None)).where(_backoff_over(ctx.now)).order_by(entries.c.id))
        leases = self.store.entries.leases
        ids = leases.claim_skip_locked(candidates, max(self.limit, _batch(stage, ctx)), ctx.now)
        rows = [row for row in (self.store.entries.get(i) for i in ids) if row is not None]
        # Another worker may have moved an entry on between its commit and our read.
        ours = [r for r in rows if r.state == stage.takes and ready(r, ctx.now) and r.id not in ctx.held_back]
        stale = [i for i in ids if i not in {r.id for r in ours}]
        if stale:
            leases.release(stale)
        self.claimed += len(ours)
        self.seconds_claiming += time.perf_counter() - started
        return ours

    def done(self, entries: list[EntryRow]) -> None:
        if entries:
            self.store.entries.leases.release([e.id for e in entries])


def _batch(stage: Stage, ctx: StageContext) -> int:
    return stage.batch_size(ctx.config) if stage.batch_size is not None else 0


class SchedulerLock:
    """The PostgreSQL advisory lock that makes one process the poll scheduler; held on its own connection."""

    def __init__(self, store: Store):
        self.store = store
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if it is free; keep it while this process lives. False: another process has it."""
        if self._conn is not None:
            return True
        if self.store.engine.dialect.name != "postgresql":
            return True  # one process per SQLite home (the run lock): it schedules
        from sqlalchemy import text

        conn = self.store.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK}).scalar()
        conn.commit()
        if got:
            self._conn = conn
            log.info("this worker schedules polls now (advisory lock %d)", SCHEDULER_LOCK)
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # closing the session frees the lock
            self._conn = None


@dataclass
class WorkerReport:
    rounds: int = 0
    runs: list[RunReport] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(r, attribute) for r in self.runs)


class Worker:
    """Runs its stages in rounds until stopped (SIGTERM, Ctrl-C) or, with ``rounds``, that many rounds."""

    def __init__(self, store: Store, config: Config, stages: list[Stage], *, concurrency: int = 16,
                 progress: Progress | None = None, allow_private: bool | None = None):
        from samachar.pipeline import Pipeline
        from samachar.progress import QUIET

        if concurrency < 1:
            raise ConfigError(f"--concurrency {concurrency}: use a whole number of at least 1")
        self.store = store
        self.stages = stages
        self.claim = LeasedEntries(store, limit=concurrency)
        self.pipeline = Pipeline(store, config, progress=progress or QUIET, allow_private=allow_private,
                                 claim=self.claim)
        self.scheduler = SchedulerLock(store)
        self.stop = threading.Event()

    def round(self) -> RunReport:
        """Every stage once over this worker's share; polls only while holding the scheduler lock."""
        stages = [s for s in self.stages if s.takes is not None or self.scheduler.acquire()]
        with self.pipeline.recorded("worker") as report:
            return self.pipeline.run_stages(stages, report)

    def run(self, rounds: int | None = None, *, until_idle: bool = False,
            idle_sleep: float = IDLE_SLEEP) -> WorkerReport:
        """Rounds until stopped, ``rounds`` are done, or (``until_idle``) a round finds nothing to do."""
        report = WorkerReport()
        try:
            while not self.stop.is_set() and (rounds is None or report.rounds < rounds):
                before = self.claim.claimed
                run = self.round()
                report.rounds += 1
                report.runs.append(run)
                if self.claim.claimed == before and not run.polled:
                    if until_idle:
                        break
                    self.stop.wait(idle_sleep)
        finally:
            self.scheduler.release()
        return report

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT finish the stage at hand, release the leases and stop."""
        def stop(signum: int, _frame: Any) -> None:
            log.info("stopping after this stage (signal %d)", signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


def serve_metrics(store: Store, port: int, host: str = "127.0.0.1") -> threading.Thread:
    """``/metrics`` for this worker on ``host:port`` from a daemon thread."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from samachar import metrics

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            if not metrics.client_allowed(self.client_address[0]):
                self.send_error(403)
                return
            body = metrics.render(store).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", metrics.CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="samachar-metrics", daemon=True)
    thread.start()
    return thread


__all__ = ["LeasedEntries", "SchedulerLock", "Worker", "parse_stages", "serve_metrics"]
