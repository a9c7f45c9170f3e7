"""The dashboard's numbers (samachar.dashboard), on SQLite or PostgreSQL through ``database_url``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import database_url
from sqlalchemy import insert

from samachar import dashboard as desk
from samachar.model import EntryState, FeedEntry, PollOutcome
from samachar.sources.identity import entry_identity
from samachar.store import Store
from samachar.store.activity import finish_run, record_engine_usage, start_run
from samachar.store.schema import entries as entries_table
from samachar.translate.document import EngineUsage


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def add_entries(store: Store, source_id: int, n: int, prefix: str) -> list[int]:
    items = [FeedEntry(title=f"{prefix} {i}", url=f"https://{prefix}.example/{i}") for i in range(n)]
    return store.entries.add_many(source_id, [(item, entry_identity(item, source_id)) for item in items])


def test_entries_per_state_name_every_state_and_leave_tombstones_out(store):
    source = store.sources.add("https://a.example/feed").id
    ids = add_entries(store, source, 6, "a")
    store.entries.set_state(ids[0], EntryState.HELD, error="held for review: numbers: 12 is missing")
    store.entries.set_state(ids[1], EntryState.HELD)
    store.entries.set_state(ids[2], EntryState.PUBLISHED)
    store.entries.tombstone(ids[3])
    states = desk.entry_states(store)
    assert states["new"] == 2 and states["held"] == 2 and states["published"] == 1
    assert states["failed"] == 0 and list(states)[:3] == ["new", "fetched", "extracted"]
    assert sum(states.values()) == 5


def test_source_health_has_each_sources_poll_and_entries_per_state(store):
    ok = store.sources.add("https://ok.example/feed", name="Ok Paper").id
    broken = store.sources.add("https://broken.example/feed").id
    empty = store.sources.add("https://empty.example/feed").id
    add_entries(store, ok, 3, "ok")
    [held] = add_entries(store, broken, 1, "broken")
    store.entries.set_state(held, EntryState.HELD)
    now = datetime.now(UTC)
    store.sources.record_poll(PollOutcome(source_id=broken, status="error", next_poll_at=now + timedelta(hours=1),
                                          error="HTTP 500", error_count=2), now)
    store.sources.set_paused(empty, True)
    health = {h.id: h for h in desk.source_health(store)}
    assert list(health) == [ok, broken, empty]
    assert health[ok].name == "Ok Paper" and health[ok].states == {"new": 3} and health[ok].entries == 3
    assert health[broken].status == "error" and health[broken].error == "HTTP 500"
    assert health[broken].error_count == 2 and health[broken].states == {"held": 1}
    assert abs(health[broken].next_poll_at - (now + timedelta(hours=1))) < timedelta(seconds=1)
    assert health[empty].paused and health[empty].states == {} and health[empty].last_polled_at is None


def test_errors_of_the_last_day_name_their_entry_or_source(store):
    source = store.sources.add("https://a.example/feed").id
    failed, retried, fine, old = add_entries(store, source, 4, "e")
    store.entries.set_state(failed, EntryState.FAILED, error="page not fetched: HTTP 404")
    store.entries.record_error(retried, "translation failed: engine timed out")
    store.entries.set_state(fine, EntryState.HELD, error="held for review: numbers")  # not an error
    store.entries.set_state(old, EntryState.FAILED, error="page not extracted: no body")
    with store.engine.begin() as conn:
        conn.execute(entries_table.update().where(entries_table.c.id == old)
                     .values(updated_at=datetime.now(UTC) - timedelta(days=2)))
    now = datetime.now(UTC)
    store.sources.record_poll(PollOutcome(source_id=source, status="error", next_poll_at=now,
                                          error="feed unreachable", error_count=1), now)
    errors = desk.recent_errors(store)
    found = {(e.kind, e.id): e for e in errors}
    assert set(found) == {("entry", failed), ("entry", retried), ("source", source)}
    assert found[("entry", failed)].message == "page not fetched: HTTP 404" and found[("entry", failed)].state == "failed"
    assert found[("source", source)].message == "feed unreachable"
    assert all(e.at.tzinfo is not None for e in errors)
    assert [e.at for e in errors] == sorted((e.at for e in errors), reverse=True)


def test_runs_the_last_and_the_next(store):
    assert desk.dashboard(store, ["site"]).last_run is None
    first = start_run(store.engine, "run")
    finish_run(store.engine, first, {"published": 3})
    running = start_run(store.engine, "poll")
    board = desk.dashboard(store, ["site"])
    assert [r.id for r in board.runs] == [running, first] and board.runs[0].running
    assert board.last_run.id == first and board.last_run.counts == {"published": 3}
    assert board.last_run.seconds >= 0

    later = datetime.now(UTC) + timedelta(minutes=30)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    a = store.sources.add("https://a.example/feed").id
    b = store.sources.add("https://b.example/feed").id
    store.sources.record_poll(PollOutcome(source_id=a, status="ok", next_poll_at=later))
    store.sources.record_poll(PollOutcome(source_id=b, status="ok", next_poll_at=soon))
    assert abs(desk.next_run(store) - soon) < timedelta(seconds=1)
    store.sources.set_paused(b, True)  # a paused source is not what the next run does
    assert abs(desk.next_run(store) - later) < timedelta(seconds=1)


def test_engine_usage_per_day_for_thirty_days(store):
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    record_engine_usage(store.engine, {"apertium": EngineUsage(documents=2, segments=40, characters=900, seconds=1.5)},
                        "en", "es", now)
    record_engine_usage(store.engine, {"llm": EngineUsage(documents=1, segments=10, characters=300, tokens=120,
                                                          seconds=4.0)}, "en", "hi", now - timedelta(days=1))
    record_engine_usage(store.engine, {"apertium": EngineUsage(documents=1, segments=5, characters=50)},
                        "en", "es", now - timedelta(days=45))  # too old for the panel
    usage = desk.engine_usage_days(store, now)
    assert [(u.day, u.engine, u.segments, u.tokens) for u in usage] == [
        ("2026-03-30", "llm", 10, 120), ("2026-03-31", "apertium", 40, None)]
    daily = desk.daily_totals(usage, now)
    assert len(daily) == 30 and daily[0][0] == "2026-03-02" and daily[-1] == ("2026-03-31", 40, 900, 1.5)
    assert daily[-2] == ("2026-03-30", 10, 300, 4.0) and daily[0][1:] == (0, 0, 0.0)


def test_publish_targets_count_their_posts_and_keep_the_last_error(store):
    source = store.sources.add("https://a.example/feed").id
    one, two, three = add_entries(store, source, 3, "t")
    store.publications.record_published(one, "hi", "wp", remote_id="7", remote_url="https://wp.example/?p=7",
                                        revision="r")
    store.publications.record_failure(two, "hi", "wp", "WordPress answered HTTP 500",
                                      datetime.now(UTC) - timedelta(hours=2))
    store.publications.record_failure(three, "hi", "wp", "WordPress answered HTTP 401")
    store.publications.record_published(one, "hi", "old", remote_id="1", remote_url=None, revision="r")
    status = {t.name: t for t in desk.target_status(store, ["site", "wp"])}
    assert list(status) == ["site", "wp", "old"]
    assert status["site"].states == {} and status["site"].last_error is None
    assert status["wp"].states == {"published": 1, "failed": 2}
    assert status["wp"].last_error == "WordPress answered HTTP 401" and status["wp"].last_error_at.tzinfo


def test_the_dashboard_is_fast_on_a_hundred_thousand_entries(store):
    sources = [store.sources.add(f"https://s{n}.example/feed").id for n in range(20)]
    now = datetime.now(UTC)
    states = ["published"] * 7 + ["held", "failed", "new"]
    rows = [{"source_id": sources[i % 20], "key": f"k{i}", "title": f"t{i}", "state": states[i % 10],
             "error": "page not fetched: HTTP 404" if states[i % 10] == "failed" else None,
             "attempts": 0, "created_at": now, "updated_at": now - timedelta(minutes=i % 3000)}
            for i in range(100_000)]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(entries_table), rows[start:start + 5000])
    desk.dashboard(store, ["site"])  # warm
    started = time.perf_counter()
    board = desk.dashboard(store, ["site"])
    elapsed = time.perf_counter() - started
    assert board.states["published"] == 70_000 and len(board.sources) == 20
    assert len(board.errors) == desk.ERROR_LIMIT
    assert elapsed < 1.5, f"the dashboard took {elapsed:.2f} s"
