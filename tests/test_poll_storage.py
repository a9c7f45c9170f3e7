"""Storing a poll: several feeds per transaction, feed by feed when that fails, and what a kill can cost.

Runs on SQLite, and on PostgreSQL when SAMACHAR_TEST_DATABASE_URL names one (CI).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import TEST_DATABASE_URL, database_url
from sqlalchemy import event

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.model import FeedEntry, ParsedFeed, PollOutcome
from samachar.pipeline import Pipeline
from samachar.stages import StageContext, stage, store_polls
from samachar.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store(database_url(tmp_path))
    yield s
    s.close()


def context(store: Store, tmp_path) -> StageContext:
    return StageContext(store, Config(home=tmp_path), translator=None, now=NOW)  # type: ignore[arg-type]


def parsed(*stories: tuple[str, str]) -> ParsedFeed:
    return ParsedFeed(title="Feed", site_url="https://news.example/", format="rss",
                      entries=[FeedEntry(title=title, url=url, summary=f"<p>{title}.</p>") for title, url in stories])


def ok(source_id: int, feed: ParsedFeed, etag: str) -> PollOutcome:
    return PollOutcome(source_id=source_id, status="ok", next_poll_at=NOW + timedelta(minutes=30), feed=feed,
                       etag=etag)


@contextlib.contextmanager
def commits(store: Store):
    """How many transactions committed meanwhile."""
    seen: list[int] = []

    def note(conn):
        seen.append(1)

    event.listen(store.engine, "commit", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", note)


def test_the_polls_of_several_feeds_commit_once_with_their_entries_and_etags(store, tmp_path):
    a, b, c = (store.sources.add(f"https://{n}.example/feed").id for n in "abc")
    outcomes = [
        ok(a, parsed(("Roads", "https://news.example/roads"), ("Bridge", "https://news.example/bridge")), '"a1"'),
        ok(b, parsed(("Bridge", "https://news.example/bridge?utm_source=b")), '"b1"'),  # a's story, uncommitted yet
        PollOutcome(source_id=c, status="not_modified", next_poll_at=NOW + timedelta(minutes=30), etag='"c0"'),
    ]
    with commits(store) as committed:
        stored = store_polls(context(store, tmp_path), outcomes)
    assert len(committed) == 1
    assert [(s.new_entries, s.failed) for s in stored] == [(2, False), (0, False), (0, False)]
    assert [store.sources.get(i).etag for i in (a, b, c)] == ['"a1"', '"b1"', '"c0"']
    assert sorted(e.title for e in store.entries.list()) == ["Bridge", "Roads"]
    assert all(o.feed is None for o in outcomes)  # dropped once stored


def test_when_the_joint_transaction_fails_each_feed_is_stored_on_its_own(store, tmp_path):
    """One feed the database refuses: the others are stored, it is an error retried soon, its ETag unchanged."""
    good, bad = (store.sources.add(f"https://{n}.example/feed").id for n in ("good", "bad"))
    refused = "https://news.example/refused"

    def refuse(conn, cursor, statement, parameters, context, executemany):
        rows = parameters if executemany else [parameters]
        if statement.lstrip().upper().startswith("INSERT INTO ENTRIES") and refused in repr(rows):
            raise RuntimeError("disk full")

    event.listen(store.engine, "before_cursor_execute", refuse)
    try:
        stored = store_polls(context(store, tmp_path), [
            ok(good, parsed(("Roads", "https://news.example/roads")), '"g1"'), ok(bad, parsed(("Refused", refused)), '"b1"')])
    finally:
        event.remove(store.engine, "before_cursor_execute", refuse)
    assert [(s.new_entries, s.failed) for s in stored] == [(1, False), (0, True)]
    assert [e.title for e in store.entries.list()] == ["Roads"]
    assert store.sources.get(good).etag == '"g1"'
    failed = store.sources.get(bad)
    assert failed.etag is None and failed.status == "error" and "disk full" in failed.error
    assert failed.next_poll_at.replace(tzinfo=UTC) <= NOW + timedelta(minutes=5)


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title><link>http://example.org/</link>
<item><title>Story {n}</title><link>http://example.org/{n}</link><guid>story-{n}</guid>
<description>Body of story {n}.</description></item></channel></rss>"""


def test_outcomes_that_come_back_while_the_writer_is_busy_are_stored_together(tmp_path):
    from loopback import LoopbackSite

    batches: list[int] = []
    first = threading.Event()

    def slow_store(ctx, outcomes):
        batches.append(len(outcomes))
        if not first.is_set():  # the first batch takes its time: the others come back meanwhile
            first.set()
            time.sleep(1.0)
        return store_polls(ctx, outcomes)

    config = Config(home=tmp_path, site=SiteConfig(language="en", title="News"),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]))
    routes = {f"/feed-{n}.xml": (200, "application/rss+xml", FEED.format(n=n)) for n in range(8)}
    with LoopbackSite(routes) as site:
        pipeline = Pipeline(Store(database_url(tmp_path)), config, allow_private=True)
        for path in routes:
            pipeline.store.sources.add(site.url(path))
        report = pipeline.run_stages([replace(stage("poll"), save=slow_store)])
    assert (report.polled, report.new_entries, report.poll_errors) == (8, 8, 0)
    assert sum(batches) == 8 and len(batches) < 8, batches
    assert all(s.etag is None and s.status == "ok" for s in pipeline.store.sources.list())
    assert not pipeline.store.sources.leases.held([s.id for s in pipeline.store.sources.list()])


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's settings")
def test_sqlite_under_wal_syncs_at_checkpoints_not_at_every_commit(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL (FULL is 2)
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_committed_poll_survives_kill_9_of_its_process(tmp_path):
    """WAL + synchronous=NORMAL: a commit is in the WAL when it returns, so killing the process loses nothing."""
    url = database_url(tmp_path)
    Store(url).close()  # migrated before the child starts
    child = f"""
import os, signal
from pathlib import Path
from datetime import UTC, datetime, timedelta
from samachar.model import FeedEntry, ParsedFeed, PollOutcome
from samachar.config import Config
from samachar.stages import StageContext, store_polls
from samachar.store import Store
store = Store({url!r})
source = store.sources.add("https://news.example/feed").id
now = datetime.now(UTC)
feed = ParsedFeed(title="Feed", site_url=None, format="rss",
                  entries=[FeedEntry(title=f"Story {{n}}", url=f"https://news.example/{{n}}") for n in range(50)])
outcome = PollOutcome(source_id=source, status="ok", next_poll_at=now + timedelta(minutes=30), feed=feed, etag='"e1"')
store_polls(StageContext(store, Config(home=Path({str(tmp_path)!r})), None, now), [outcome])
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    store = Store(url)
    try:
        [source] = store.sources.list()
        assert source.etag == '"e1"' and len(store.entries.list()) == 50
    finally:
        store.close()


def test_the_command_process_keeps_its_imports_out_of_the_collector_a_caller_of_main_does_not(tmp_path):
    """``samachar …`` freezes what it has loaded (gc.freeze): full collections then skip SQLAlchemy's objects.

    Storing 10,000 entries made three full collections that walked them, 0.15-0.25 s of a 2 s poll.
    A program (or a test) that calls ``main([...])`` keeps its collector as it was.
    """
    import gc

    from samachar.cli import main

    code = ("import gc, sys\nfrom samachar.cli import main\nsys.argv = ['samachar', '--home', sys.argv[1], '-q', "
            "'source', 'list']\nmain()\nprint(gc.get_freeze_count())")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) > 10_000
    before = gc.get_freeze_count()
    assert main(["--home", str(tmp_path / "home"), "-q", "source", "list"]) == 0
    assert gc.get_freeze_count() == before


def test_no_cyclic_collection_runs_while_a_batch_is_stored_and_it_resumes_after(store, tmp_path, monkeypatch):
    import gc

    source = store.sources.add("https://a.example/feed").id
    add_many, seen = store.entries.add_many, []

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return add_many(*args, **kwargs)

    monkeypatch.setattr(store.entries, "add_many", spy)
    assert gc.isenabled()
    store_polls(context(store, tmp_path), [ok(source, parsed(("Roads", "https://news.example/roads")), '"a1"')])
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a program that runs without the collector keeps it off
    try:
        store_polls(context(store, tmp_path), [ok(source, parsed(("Bridge", "https://news.example/b")), '"a2"')])
        assert not gc.isenabled()
    finally:
        gc.enable()
