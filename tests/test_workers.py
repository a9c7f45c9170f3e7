"""Workers on one PostgreSQL database: killed mid-translate and mid-publish, nothing lost, nothing twice.

Three real ``samachar worker`` processes share the database CI starts
(``SAMACHAR_TEST_DATABASE_URL``); the sources are the demo's samples on
loopback, the engine costs a fixed time per call (Apertium underneath), and a
second publish target is a small JSON post API on 127.0.0.1 that counts posts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from samachar.demo.server import SampleServer
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.worker import LeasedEntries, parse_stages

TESTS = Path(__file__).resolve().parent
DATABASE = os.environ.get("SAMACHAR_TEST_DATABASE_URL", "")

needs_postgresql = pytest.mark.skipif(not DATABASE.startswith("postgresql"),
                                      reason="needs SAMACHAR_TEST_DATABASE_URL on PostgreSQL (.ci/run sets it)")


def test_stage_names_are_checked():
    assert [s.name for s in parse_stages("translate,fetch")] == ["fetch", "translate"]
    assert [s.name for s in parse_stages(None)][0] == "poll"
    with pytest.raises(Exception, match="unknown stage"):
        parse_stages("fetch,translat")


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


def _worker(home: Path, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen:
    with log.open("w") as stderr:  # the worker writes to its own copy; ours is closed at once
        return subprocess.Popen([sys.executable, "-m", "samachar", "-v", "worker", "--concurrency", "2", *extra],
                                env=env, stdout=subprocess.DEVNULL, stderr=stderr, cwd=home)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@needs_postgresql
@pytest.mark.timeout(300)
def test_killed_workers_lose_nothing_and_publish_nothing_twice(tmp_path):
    from test_targets import PostApi

    if not ApertiumEngine().supports("en", "es"):
        pytest.skip("Apertium en→es is not installed")
    _empty(DATABASE)
    marks = tmp_path / "marks"
    marks.mkdir()
    api = PostApi()
    api.delay = 0.3
    home = tmp_path / "home"
    home.mkdir()
    (home / "samachar.toml").write_text(
        'default_policy = "full"\n[site]\nlanguage = "es"\ntitle = "Noticias"\n'
        'base_url = "https://noticias.example/"\n'
        '[translation]\nsource_language = "en"\nengines = ["slow_engine:SlowApertium"]\nbatch_articles = 1\n'
        f'[[targets]]\nkind = "test_targets:SlowDeskTarget"\nname = "desk"\nurl = "{api.base}/posts"\n'
        f'marks = "{marks}"\n', encoding="utf-8")
    env = {**os.environ, "SAMACHAR_HOME": str(home), "SAMACHAR_DATABASE_URL": DATABASE,
           "SAMACHAR_ALLOW_PRIVATE_NETWORKS": "1", "SLOW_ENGINE_MARKS": str(marks), "SLOW_ENGINE_SECONDS": "0.4",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    workers: list[subprocess.Popen] = []
    try:
        with SampleServer() as base:
            subprocess.run([sys.executable, "-m", "samachar", "-q", "source", "add", "--no-discover",
                            f"{base}/meridian-wire/feed.json"], env=env, check=True, capture_output=True)
            for feed in ("deccan-courier/feed.xml", "konkan-tide/atom.xml"):
                subprocess.run([sys.executable, "-m", "samachar", "-q", "source", "add", "--no-discover",
                                f"{base}/{feed}"], env=env, check=True, capture_output=True)
            logs = [tmp_path / f"worker-{n}.log" for n in range(3)]
            workers = [_worker(home, env, log) for log in logs]

            def marked(prefix: str) -> int | None:
                live = {w.pid for w in workers if w.poll() is None}
                for mark in marks.glob(f"{prefix}-*"):
                    pid = int(mark.name.rsplit("-", 1)[1])
                    if pid in live:
                        return pid
                return None

            def kill(pid: int) -> None:
                os.kill(pid, signal.SIGKILL)
                next(w for w in workers if w.pid == pid).wait(timeout=30)  # reaped: no longer counted as live

            kill(_wait_for(lambda: marked("translating"), 120, "a worker to be translating"))
            kill(_wait_for(lambda: marked("publishing"), 120, "a worker to be publishing"))
            logs.append(tmp_path / "worker-late.log")
            workers.append(_worker(home, env, logs[-1]))  # work goes on after the kills

            # The scheduler's advisory lock passes on when its holder dies.
            def schedulers() -> list[subprocess.Popen]:
                return [w for w, log in zip(workers, logs, strict=True)
                        if w.poll() is None and log.exists() and "schedules polls" in log.read_text()]

            [scheduler] = _wait_for(schedulers, 120, "a live scheduler")
            kill(scheduler.pid)
            _wait_for(schedulers, 120, "a new scheduler")
            logs.append(tmp_path / "worker-last.log")
            workers.append(_worker(home, env, logs[-1]))

            engine = create_engine(DATABASE)

            def finished() -> bool:
                with engine.connect() as conn:
                    states = dict(conn.execute(text("SELECT state, count(*) FROM entries GROUP BY state")).all())
                    sent = conn.execute(text("SELECT count(*) FROM publications WHERE target = 'desk' "
                                             "AND state = 'published'")).scalar()
                return bool(states) and set(states) <= {"published", "held", "merged"} and sent == states.get("published")

            _wait_for(finished, 180, "every entry published on every target")
            with engine.connect() as conn:
                entries = conn.execute(text("SELECT id, title, state FROM entries ORDER BY id")).all()
                per_target = conn.execute(text("SELECT target, count(*) FROM publications "
                                               "WHERE state = 'published' GROUP BY target")).all()
            engine.dispose()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        api.close()

    assert len(entries) == 12, entries  # every sample article, none lost (a wire copy ends merged)
    published = [e for e in entries if e.state == "published"]
    assert dict(per_target) == {"site": len(published), "desk": len(published)}
    titles = [p["title"] for p in api.posts.values()]
    assert len(api.posts) == len(published) and len(set(titles)) == len(titles), titles  # one post per entry
    creates = [r for r in api.requests if r == "POST /posts"]
    assert len(creates) == len(published), api.requests  # a create cut short by the kill was found, not repeated


@needs_postgresql
def test_claims_skip_rows_another_worker_holds(tmp_path):
    from samachar.model import FeedEntry
    from samachar.sources.identity import entry_identity
    from samachar.stages import StageContext, stage
    from samachar.store import Store
    from samachar.store.leases import LeaseTable
    from samachar.store.schema import entries

    _empty(DATABASE)
    store = Store(DATABASE)
    source = store.sources.add("https://paper.example/feed.xml").id
    items = [FeedEntry(title=f"Story {n}", url=f"https://paper.example/{n}") for n in range(6)]
    store.entries.add_many(source, [(i, entry_identity(i, source)) for i in items])
    other = LeaseTable(store.engine, entries, owner=entries.c.lease_owner, until=entries.c.lease_until,
                       owner_id="elsewhere:1:abcd")
    from datetime import UTC, datetime

    from sqlalchemy import select

    held = other.claim_skip_locked(select(entries.c.id).order_by(entries.c.id), 2)
    ctx = StageContext(store, None, None, datetime.now(UTC))  # type: ignore[arg-type]
    mine = LeasedEntries(store, limit=10).due(stage("fetch"), ctx)
    assert len(held) == 2 and sorted(e.id for e in mine) == sorted(set(range(1, 7)) - set(held))
    other.release(held)
    store.close()
