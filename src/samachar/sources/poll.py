"""Polling sources: one fetch + parse per source, never raising, and the schedule.

The schedule, in minutes:

* after success or 304: the operator's ``interval_minutes`` if set, else the
  longest of the feed's ``<ttl>`` / ``sy:updatePeriod`` and ``Cache-Control:
  max-age``, else :data:`DEFAULT_INTERVAL`; always clamped to
  [:data:`MIN_INTERVAL`, :data:`MAX_INTERVAL`].
* after an error: the normal interval doubled per consecutive error, capped at
  :data:`MAX_BACKOFF`, never less than the server's ``Retry-After``. A source
  is never given up on: the cap is a retry once a day.
* after 410 Gone: ``gone`` (the store mutes the source), next look in
  :data:`MAX_BACKOFF`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from samachar.errors import FeedError, FetchError, HTTPStatusError, one_line
from samachar.fetch import HttpClient
from samachar.model import PollOutcome, SourceState

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30
MIN_INTERVAL = 5
MAX_INTERVAL = 24 * 60
MAX_BACKOFF = 24 * 60
PARSE_IN_THREAD_BYTES = 32 * 1024  # parsing + nh3 release the GIL: big feeds use both cores; tiny ones skip the hop
# Threads that parse big feeds, for the whole process. Parsing holds the GIL most of the time
# (sanitizer callbacks, per-entry Python): with the default executor's six threads on two cores the
# thread storing the polls waited for the GIL. `samachar poll` over the corpus, medians of four
# runs: six threads 6.7-6.9 s, three 6.5 s, one or two 5.4-5.7 s.
PARSE_THREADS = min(2, os.cpu_count() or 1)
_parsers: ThreadPoolExecutor | None = None
_parsers_lock = threading.Lock()


def normal_interval(state: SourceState, ttl: int | None = None, max_age: int | None = None) -> int:
    """Minutes until the next poll of a healthy source."""
    if state.interval_minutes:
        minutes = state.interval_minutes
    else:
        hints = [h for h in (ttl, (max_age + 59) // 60 if max_age else None) if h]
        minutes = max(hints) if hints else DEFAULT_INTERVAL
    return min(max(int(minutes), MIN_INTERVAL), MAX_INTERVAL)


def backoff_minutes(state: SourceState, error_count: int, retry_after: float | None = None) -> int:
    """Minutes until the next try after ``error_count`` consecutive errors."""
    base = normal_interval(state)
    minutes = min(base * 2 ** min(max(error_count - 1, 0), 16), MAX_BACKOFF)
    if retry_after:
        minutes = max(minutes, min(int(retry_after // 60) + 1, MAX_BACKOFF))
    return max(minutes, MIN_INTERVAL)


async def poll_source(
    client: HttpClient, state: SourceState, now: datetime, *, time_limit: float | None = None
) -> PollOutcome:
    """Fetch and parse one source. Never raises: failures are outcomes."""
    try:
        if time_limit is not None:
            async with asyncio.timeout(time_limit):
                return await _poll(client, state, now)
        return await _poll(client, state, now)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return _failure(state, now, f"gave up after {time_limit:g}s (time limit per source)")
    except HTTPStatusError as exc:
        if exc.status == 410:
            return PollOutcome(
                source_id=state.id,
                status="gone",
                next_poll_at=now + timedelta(minutes=MAX_BACKOFF),
                error=one_line(exc),
                error_count=state.error_count + 1,
                etag=state.etag,
                last_modified=state.last_modified,
            )
        return _failure(state, now, one_line(exc), exc.retry_after)
    except (FetchError, FeedError) as exc:
        return _failure(state, now, one_line(exc))
    except Exception as exc:  # a bug or a library surprise must not stop the run
        log.exception("source_id=%s poll failed unexpectedly", state.id)
        return _failure(state, now, f"internal error: {type(exc).__name__}: {one_line(exc)}")


async def _poll(client: HttpClient, state: SourceState, now: datetime) -> PollOutcome:
    result = await client.fetch(state.url, etag=state.etag, last_modified=state.last_modified)
    new_url = result.permanent_url if result.permanent_url and result.permanent_url != state.url else None
    if result.not_modified:
        minutes = normal_interval(state, max_age=result.max_age)
        return PollOutcome(
            source_id=state.id,
            status="not_modified",
            next_poll_at=now + timedelta(minutes=minutes),
            error_count=0,
            etag=result.etag,
            last_modified=result.last_modified,
            new_url=new_url,
        )
    # Imported here: a poll where every feed answers 304 never loads the parser.
    from samachar.sources.parse import parse_feed

    if len(result.body) > PARSE_IN_THREAD_BYTES:
        feed = await asyncio.get_running_loop().run_in_executor(_parser_threads(), parse_feed, result.body, result.url)
    else:
        feed = parse_feed(result.body, result.url)
    minutes = normal_interval(state, ttl=feed.ttl, max_age=result.max_age)
    return PollOutcome(
        source_id=state.id,
        status="ok",
        next_poll_at=now + timedelta(minutes=minutes),
        feed=feed,
        error_count=0,
        etag=result.etag,
        last_modified=result.last_modified,
        new_url=new_url,
    )


def _parser_threads() -> ThreadPoolExecutor:
    global _parsers
    with _parsers_lock:
        if _parsers is None:
            _parsers = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="samachar-parse")
        return _parsers


def _failure(state: SourceState, now: datetime, message: str, retry_after: float | None = None) -> PollOutcome:
    count = state.error_count + 1
    return PollOutcome(
        source_id=state.id,
        status="error",
        next_poll_at=now + timedelta(minutes=backoff_minutes(state, count, retry_after)),
        error=message,
        error_count=count,
        etag=state.etag,
        last_modified=state.last_modified,
    )


async def poll_many(
    client: HttpClient,
    states: Iterable[SourceState],
    now: datetime,
    *,
    concurrency: int = 32,
    time_limit: float | None = None,
    on_outcome: Callable[[PollOutcome], Awaitable[None] | None] | None = None,
) -> list[PollOutcome]:
    """Poll sources concurrently; outcomes in the order of ``states``.

    Each source has its own time limit (default: the client's timeout for
    every redirect hop plus parsing time), so one slow server delays nobody.
    ``on_outcome`` sees each outcome as soon as it is ready, so a caller can
    store it and drop the parsed feed instead of holding all feeds at once.
    """
    states = list(states)
    limit = time_limit if time_limit is not None else client.timeout * 2 + 30
    gate = asyncio.Semaphore(max(1, concurrency))
    outcomes: list[PollOutcome | None] = [None] * len(states)

    async def one(index: int, state: SourceState) -> None:
        async with gate:
            outcome = await poll_source(client, state, now, time_limit=limit)
        if on_outcome is not None:
            try:
                maybe = on_outcome(outcome)
                if asyncio.iscoroutine(maybe):
                    await maybe
            except Exception as exc:
                log.exception("source_id=%s on_outcome failed", state.id)
                outcome = _failure(state, now, f"could not store the poll: {type(exc).__name__}: {one_line(exc)}")
        outcomes[index] = outcome

    await asyncio.gather(*(one(i, s) for i, s in enumerate(states)))
    return [o for o in outcomes if o is not None]


