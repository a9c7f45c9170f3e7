"""The runner of the stage table: sources → entries → pages → articles → translations → posts.

:data:`samachar.stages.STAGES` declares the stages; this module runs them,
top to bottom, over one HTTP client and one event loop per run. For each
stage it claims the entries due in the stage's input state, hands each (or
each batch) to the stage's function, stores what came out, and applies the
one failure policy (:func:`samachar.stages.classify`) to what went wrong.
Every entry commits on its own, so a crash or a second run loses nothing and
publishes nothing twice. The runner knows nothing of what any stage does: a
new stage is a new row of the table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from samachar import metrics
from samachar.config import Config
from samachar.errors import FetchError, one_line
from samachar.model import EntryState
from samachar.progress import QUIET, Progress
from samachar.stages import (
    ARTICLE_CONCURRENCY,
    MAX_ATTEMPTS,
    SKIP,
    STAGES,
    ErrorClass,
    Mode,
    Rewind,
    RunReport,
    Stage,
    StageContext,
    Translator,
    Treatment,
    classify,
    ready,
    stage,
)
from samachar.store import Store
from samachar.store.entries import EntryRow

log = logging.getLogger("samachar.pipeline")

__all__ = ["Pipeline", "RunReport"]


class Pipeline:
    """Runs the stage table for one site: ``run_once`` every stage, ``poll`` or ``fetch_pages`` one of them."""

    def __init__(self, store: Store, config: Config, *, progress: Progress = QUIET,
                 allow_private: bool | None = None, engines: list[str] | None = None,
                 claim: EntryClaim | None = None):
        self.store = store
        self.config = config
        self.progress = progress
        self.claim = claim  # None: every due entry (one process); a worker leases its share
        self.allow_private = config.allow_private_networks if allow_private is None else allow_private
        self.engine_names = engines or config.translation.engines
        self._translator: Translator | None = None

    # -- the run ---------------------------------------------------------------------------------

    def run_once(self) -> RunReport:
        """Every stage of the table, in order, over everything due."""
        with self.recorded("run") as report:
            reopened = self.store.entries.reopen_for_language(self.config.site.language)
            if reopened:
                log.info("site language is %s: %d entries will be translated into it", self.config.site.language,
                         reopened)
            return self.run_stages(STAGES, report)

    @contextmanager
    def recorded(self, kind: str, report: RunReport | None = None) -> Iterator[RunReport]:
        """A row in ``runs`` for this run (``run``, ``poll``, ``worker``), finished with what it did."""
        from samachar.store.activity import finish_run, start_run

        report = report or RunReport()
        run_id = start_run(self.store.engine, kind)
        error: str | None = None
        try:
            yield report
        except BaseException as exc:
            error = one_line(exc) or type(exc).__name__
            raise
        finally:
            counts: dict[str, Any] = {k: v for k, v in vars(report).items() if isinstance(v, int) and v}
            counts.update({k: list(v) for k in ("waiting", "skipped") if (v := getattr(report, k))})
            if report.unexpected:
                counts["unexpected"] = sum(report.unexpected.values())
            if error:
                counts["error"] = error
            try:
                finish_run(self.store.engine, run_id, counts)
            except Exception:  # the record is not worth the run
                log.exception("run %d not recorded as finished", run_id)

    def run_stages(self, stages: Iterable[Stage], report: RunReport | None = None, *,
                   now: datetime | None = None) -> RunReport:
        """Run these stages in order, sharing one HTTP client (politeness, Retry-After, robots.txt)."""
        report = report or RunReport()
        with asyncio.Runner() as loop, self._context(loop, now) as ctx:
            for row in stages:
                ctx.now = now or datetime.now(UTC)
                run = _StageRun(row, ctx, report, self.progress, loop, self.claim)
                if row.mode is Mode.SOURCES:
                    loop.run(run.sources())
                else:
                    run.entries()
        return report

    def poll(self, report: RunReport | None = None, *, now: datetime | None = None) -> RunReport:
        with self.recorded("poll", report) as report:
            return self.run_stages([stage("poll")], report, now=now)

    def fetch_pages(self, report: RunReport) -> None:
        self.run_stages([stage("fetch")], report)

    @property
    def translator(self) -> Translator:
        """The site's engines, kept between runs (a model loads once per process)."""
        if self._translator is None or self._translator.engine_names != self.engine_names:
            self._translator = Translator(self.store, self.config, self.engine_names)
        return self._translator

    @contextmanager
    def _context(self, loop: asyncio.Runner, now: datetime | None) -> Iterator[StageContext]:
        from samachar.fetch import HttpClient

        fetch = self.config.fetch
        client = HttpClient(allow_private=self.allow_private, user_agent=fetch.user_agent, timeout=fetch.timeout,
                            max_bytes=fetch.max_bytes, per_host=fetch.per_host, host_interval=fetch.host_interval)
        loop.run(client.__aenter__())
        try:
            yield StageContext(self.store, self.config, self.translator, now or datetime.now(UTC), client)
        finally:
            loop.run(client.__aexit__(None, None, None))


POLLS_PER_COMMIT = 200  # outcomes stored in one transaction at most…
ENTRIES_PER_COMMIT = 5000  # …and parsed entries (a bigger feed is stored on its own)


def _next_batch(waiting: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Take the first waiting outcomes off ``waiting``: at least one, within both limits."""
    count = entries = 0
    for outcome, _ in waiting:
        feed = getattr(outcome, "feed", None)
        entries += len(feed.entries) if feed is not None else 0
        if count and (count >= POLLS_PER_COMMIT or entries > ENTRIES_PER_COMMIT):
            break
        count += 1
    batch = waiting[:count]
    del waiting[:count]
    return batch


class EntryClaim(Protocol):
    """Which due entries of a stage this process works on (a worker's leased share), and letting them go."""

    def due(self, stage: Stage, ctx: StageContext) -> list[EntryRow]: ...

    def done(self, entries: list[EntryRow]) -> None: ...


class _StageRun:
    """One stage over the entries due in its input state: claim, load, call, save, or apply the policy."""

    def __init__(self, stage: Stage, ctx: StageContext, report: RunReport, progress: Progress,
                 loop: asyncio.Runner, claim: EntryClaim | None = None):
        self.stage = stage
        self.ctx = ctx
        self.report = report
        self.progress = progress
        self.loop = loop
        self.claim = claim

    # -- sources ---------------------------------------------------------------------------------

    async def sources(self) -> None:
        """Poll every due source; one writer thread stores the outcomes while other feeds go on.

        The writer takes every outcome that came back while it was busy (up to
        :data:`POLLS_PER_COMMIT`) and hands them to the stage's ``save`` together, to store
        in one transaction; one that arrives while the writer is idle is stored at once.
        """
        ctx, stage, report = self.ctx, self.stage, self.report
        assert stage.save is not None
        claim = ctx.store.sources.claim_due(ctx.now)
        skipped = claim.skipped_summary()
        if skipped:
            report.skipped.append(skipped)
            log.warning("%s", skipped)
        due = claim.claimed
        if not due:
            return
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samachar-store")
        save = stage.save
        waiting: list[tuple[Any, asyncio.Future[Any]]] = []
        flushing: list[asyncio.Task[None]] = []

        async def flush() -> None:
            loop = asyncio.get_running_loop()
            while waiting:
                batch = _next_batch(waiting)
                try:
                    results = await loop.run_in_executor(writer, save, ctx, [outcome for outcome, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"{stage.name}: {len(results)} results for {len(batch)} outcomes")
                except Exception as exc:  # noqa: BLE001 - each waiting outcome turns it into its failure
                    for _, future in batch:
                        if not future.done():  # its poll was cancelled meanwhile
                            future.set_exception(exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)

        try:
            with self.progress.stage(stage.label or stage.name, len(due)) as advance:
                async def store(outcome: Any) -> None:
                    future = asyncio.get_running_loop().create_future()
                    waiting.append((outcome, future))
                    if not flushing or flushing[0].done():
                        flushing[:] = [asyncio.ensure_future(flush())]
                    stored = await future
                    report.polled += 1
                    report.new_entries += stored.new_entries
                    report.poll_errors += int(stored.failed)
                    advance(1)

                await stage.function(ctx.client, [s.state() for s in due], ctx.now, on_outcome=store)
        finally:
            writer.shutdown(wait=True)
            ctx.store.sources.leases.release([s.id for s in due])  # one statement for the whole poll

    # -- entries ---------------------------------------------------------------------------------

    def entries(self) -> None:
        stage, ctx = self.stage, self.ctx
        assert stage.takes is not None
        if self.claim is not None:
            due = self.claim.due(stage, ctx)
            try:
                self._run_entries(due)
            finally:
                self.claim.done(due)
            return
        due = [e for e in ctx.store.entries.in_state(stage.takes)
               if ready(e, ctx.now) and e.id not in ctx.held_back]
        self._run_entries(due)

    def _run_entries(self, due: list[EntryRow]) -> None:
        started = time.perf_counter()
        try:
            self._run_stage(due)
        finally:
            metrics.observe_stage(self.stage.name, time.perf_counter() - started, len(due))

    def _run_stage(self, due: list[EntryRow]) -> None:
        stage, ctx = self.stage, self.ctx
        if stage.before is not None:
            prepared = stage.before(ctx, due)
            if asyncio.iscoroutine(prepared):
                self.loop.run(prepared)
        done: list[EntryRow] = []
        if due:
            with self.progress.stage(stage.label or stage.name, len(due)) as advance:
                if stage.mode is Mode.CONCURRENT:
                    self.loop.run(self._concurrently(due, done, advance))
                elif stage.mode is Mode.BATCHED:
                    self._in_batches(due, done, advance)
                else:
                    for entry in due:
                        data = self._load(entry)
                        if data is not SKIP:
                            self._call(entry, stage.function, data, done)
                        advance(1)
        if stage.after is not None:
            try:
                stage.after(ctx, done)
            except Exception as exc:
                log.error("%s: finishing %d entries failed: %s", stage.name, len(done), one_line(exc), exc_info=exc)
                self.report.unexpected[f"{stage.name}: {type(exc).__name__}"] += 1

    def _load(self, entry: EntryRow) -> Any:
        if self.stage.load is None:
            return entry
        try:
            return self.stage.load(self.ctx, entry)
        except Rewind as rewind:
            log.warning("%s entry_id=%d: %s", self.stage.name, entry.id, rewind.reason)
            self.ctx.store.entries.set_state(entry.id, rewind.state, error=rewind.reason)
            self.ctx.held_back.add(entry.id)
        except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
            self._failed(entry, exc)
        return SKIP

    def _call(self, entry: EntryRow, function: Callable[[Any], Any], data: Any, done: list[EntryRow]) -> None:
        try:
            result = function(data)
        except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
            self._failed(entry, exc)
            return
        self._save(entry, result, done)

    async def _concurrently(self, due: list[EntryRow], done: list[EntryRow], advance: Callable[[int], None]) -> None:
        semaphore = asyncio.Semaphore(ARTICLE_CONCURRENCY)
        function = self.stage.function

        async def one(entry: EntryRow) -> None:
            data = self._load(entry)
            if data is not SKIP:
                async with semaphore:
                    try:
                        result, error = await function(self.ctx.client, data), None
                    except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
                        result, error = None, exc
                if error is not None:
                    self._failed(entry, error)
                else:
                    self._save(entry, result, done)
            advance(1)

        await asyncio.gather(*(one(e) for e in due))

    def _in_batches(self, due: list[EntryRow], done: list[EntryRow], advance: Callable[[int], None]) -> None:
        stage = self.stage
        assert stage.group is not None and stage.batch_size is not None
        size = max(1, stage.batch_size(self.ctx.config))
        groups: dict[str, list[tuple[EntryRow, Any]]] = {}
        for entry in due:
            data = self._load(entry)
            if data is SKIP:
                advance(1)
                continue
            try:
                key = stage.group(self.ctx, entry, data)
            except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
                self._failed(entry, exc)
                advance(1)
                continue
            batch = groups.setdefault(key, [])
            batch.append((entry, data))
            if len(batch) >= size:
                self._batch(key, groups.pop(key), done, advance)
        for key, batch in groups.items():
            self._batch(key, batch, done, advance)

    def _batch(self, key: str, batch: list[tuple[EntryRow, Any]], done: list[EntryRow],
               advance: Callable[[int], None]) -> None:
        try:
            results = self.stage.function(self.ctx.translator, key, [data for _, data in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.stage.name} returned {len(results)} results for {len(batch)} entries")
        except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
            if len(batch) > 1 and classify(exc) is not ErrorClass.CONFIGURATION:
                # Find the entry that breaks the function: the others must not pay for it.
                log.warning("%s: a batch of %d failed (%s); trying them one by one entry_ids=%s", self.stage.name,
                            len(batch), one_line(exc), ",".join(str(entry.id) for entry, _ in batch))
                for item in batch:
                    self._batch(key, [item], done, advance)
                return
            for entry, _ in batch:
                self._failed(entry, exc)
                advance(1)
            return
        for (entry, _), result in zip(batch, results, strict=True):
            self._save(entry, result, done)
            advance(1)

    def _save(self, entry: EntryRow, result: Any, done: list[EntryRow]) -> None:
        assert self.stage.save is not None
        try:
            state = self.stage.save(self.ctx, entry, result)
        except Exception as exc:  # noqa: BLE001 - the store, not the data: the same policy
            self._failed(entry, exc)
            return
        self._moved(entry, state)
        if state is not None:
            done.append(entry)

    def _moved(self, entry: EntryRow, state: EntryState | None) -> None:
        """Count the move; an entry that moves on starts its next stage with no failed attempts."""
        if state is None:
            return
        self.report.count(state)
        if state not in (entry.state, EntryState.FAILED) and entry.attempts:
            self.ctx.store.entries.clear_attempts(entry.id)

    # -- the failure policy ----------------------------------------------------------------------

    def _failed(self, entry: EntryRow, error: BaseException) -> None:
        """Apply the stage's treatment of this class of error to the entry."""
        stage, store = self.stage, self.ctx.store
        kind = classify(error)
        if isinstance(error, FetchError):
            metrics.count_fetch_error(urlsplit(entry.url or "").hostname or "", type(error).__name__)
        treatment = stage.on_error[kind]
        detail = one_line(error) if kind is not ErrorClass.UNEXPECTED else f"{type(error).__name__}: {one_line(error)}"
        reason = f"{stage.fails_as}: {detail}"
        if treatment is Treatment.BACKOFF:
            if entry.attempts + 1 < MAX_ATTEMPTS:
                self.ctx.held_back.add(entry.id)
                attempts = store.entries.record_error(entry.id, reason)
                log.warning("will retry entry_id=%d source_id=%s (attempt %d): %s", entry.id, entry.source_id,
                            attempts, reason)
                return
            treatment = stage.on_error[ErrorClass.PERMANENT]  # out of attempts: as if it were permanent
        if treatment is Treatment.FALLBACK and stage.fallback is not None:
            try:
                state, said = stage.fallback(self.ctx, entry, reason)
            except Exception as exc:  # noqa: BLE001 - the failure policy classifies every error
                if classify(exc) is ErrorClass.UNEXPECTED:
                    self._unexpected(entry, exc, f"{stage.fails_as}: {type(exc).__name__}: {one_line(exc)}")
                    return
                state, said = EntryState.FAILED, f"{reason}; {one_line(exc)}"
                store.entries.set_state(entry.id, state, error=said)
            if state is EntryState.FAILED:
                log.warning("failed entry_id=%d source_id=%s: %s", entry.id, entry.source_id, said)
            self._moved(entry, state)
        elif treatment in (Treatment.FAIL, Treatment.FALLBACK):
            store.entries.set_state(entry.id, EntryState.FAILED, error=reason)
            log.warning("failed entry_id=%d source_id=%s: %s", entry.id, entry.source_id, reason)
            self._moved(entry, EntryState.FAILED)
        elif treatment is Treatment.WAIT:
            # Not the entry's fault: it waits, unchanged, until the engine or the setting is there.
            self.ctx.held_back.add(entry.id)
            store.entries.set_state(entry.id, EntryState(entry.state), error=one_line(error))
            if one_line(error) not in self.report.waiting:
                self.report.waiting.append(one_line(error))
                log.warning("waiting: %s", one_line(error))
        else:
            self._unexpected(entry, error, reason)

    def _unexpected(self, entry: EntryRow, error: BaseException, reason: str) -> None:
        """A bug or a broken install: the entry stays to be retried; the traceback is logged once per kind."""
        kind = f"{self.stage.name}: {type(error).__name__}"
        self.ctx.held_back.add(entry.id)
        self.ctx.store.entries.record_error(entry.id, reason)
        if kind not in self.report.unexpected:
            log.error("unexpected error in %s entry_id=%d (entries stay retryable; logged once per run): %s",
                      self.stage.name, entry.id, reason, exc_info=error)
        else:
            log.warning("unexpected error again in %s entry_id=%d: %s", self.stage.name, entry.id, reason)
        self.report.unexpected[kind] += 1
