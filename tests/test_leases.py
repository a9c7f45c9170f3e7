"""Leases on sources (and entries): a killed poller frees its sources at once, a live one's are skipped and
said so, and a lease that is not renewed lapses within a minute.

The kill tests run the real ``samachar poll`` against a loopback feed server that stalls until the test lets
it answer, so that ``kill -9`` lands while the sources are leased.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import pytest
from conftest import database_url
from sqlalchemy import select, update

from samachar.store import Store
from samachar.store.leases import LEASE_SECONDS, LeaseTable, lease_owner, owner_is_dead
from samachar.store.schema import entries, sources

pytestmark = pytest.mark.timeout(120)

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title><link>http://example.org/</link>
<item><title>Story {n}</title><link>http://example.org/{n}</link><guid>story-{n}</guid>
<description>Body of story {n}.</description></item></channel></rss>"""


class StallingFeeds:
    """Feeds on loopback that hold every request until ``answer`` is set; ``asked`` is set on the first."""

    def __init__(self, count: int):
        self.asked = threading.Event()
        self.answer = threading.Event()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                feeds.asked.set()
                feeds.answer.wait(60)
                n = self.path.strip("/").split(".")[0].removeprefix("feed-")
                body = FEED.format(n=n).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the poller was killed while we waited
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.urls = [f"{base}/feed-{n}.xml" for n in range(count)]

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.answer.set()
        self.server.shutdown()
        self.server.server_close()


def _env(home: Path, db_url: str) -> dict[str, str]:
    return {**os.environ, "SAMACHAR_HOME": str(home), "SAMACHAR_DATABASE_URL": db_url,
            "SAMACHAR_ALLOW_PRIVATE_NETWORKS": "1"}


def samachar(home: Path, db_url: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "samachar", "-q", *args], check=False, env=_env(home, db_url),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=90)
    assert proc.returncode == expect, f"{args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def start_poll(home: Path, db_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "samachar", "-q", "poll"], env=_env(home, db_url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def wait_until_leased(db_url: str, count: int, proc: subprocess.Popen, feeds: StallingFeeds) -> None:
    """Until the poller has leased ``count`` sources and asked the server for a feed."""
    assert feeds.asked.wait(60), "the poller never asked for a feed"
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            held = conn.execute(select(sources.c.lease_owner).where(sources.c.lease_owner.is_not(None))).all()
        assert len(held) == count and all(f":{proc.pid}:" in owner for (owner,) in held)
    finally:
        store.close()


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    db_url = database_url(tmp_path)
    samachar(home, db_url, "init", "--language", "es", "--engine", "apertium")
    return home, db_url


def add_sources(db_url: str, urls: list[str]) -> None:
    store = Store(db_url)
    for url in urls:
        store.sources.add(url)
    store.close()


def test_kill_9_mid_poll_leaves_no_source_locked(home):
    home, db_url = home
    with StallingFeeds(3) as feeds:
        add_sources(db_url, feeds.urls)
        proc = start_poll(home, db_url)
        try:
            wait_until_leased(db_url, 3, proc, feeds)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        feeds.answer.set()
        rerun = samachar(home, db_url, "poll")
    assert "polled 3 sources: 3 new entries" in rerun.stdout, rerun.stdout + rerun.stderr
    assert "skipped" not in rerun.stderr


def test_sources_leased_by_a_live_poller_are_skipped_and_reported(tmp_path, home):
    home, db_url = home
    other_home = tmp_path / "other"  # another host's or home's poller on the same database
    samachar(other_home, db_url, "init", "--language", "es", "--engine", "apertium")
    with StallingFeeds(3) as feeds:
        add_sources(db_url, feeds.urls)
        holder = start_poll(home, db_url)
        try:
            wait_until_leased(db_url, 3, holder, feeds)
            meanwhile = samachar(other_home, db_url, "poll")
        finally:
            feeds.answer.set()
            out, err = holder.communicate(timeout=60)
    assert "polled 0 sources" in meanwhile.stdout
    assert f"3 sources skipped: being polled by {socket.gethostname()}:{holder.pid} until " in meanwhile.stderr, \
        meanwhile.stderr
    assert holder.returncode == 0 and "polled 3 sources: 3 new entries" in out, out + err
    store = Store(db_url)
    try:
        assert all(s.status == "ok" for s in store.sources.list())
        with store.engine.connect() as conn:  # released when done, not left to lapse
            assert conn.execute(select(sources.c.lease_owner).where(sources.c.lease_owner.is_not(None))).all() == []
    finally:
        store.close()


def test_poll_all_refused_by_the_run_lock_changes_nothing(home):
    from samachar.runlock import run_lock

    home, db_url = home
    later = datetime.now(UTC) + timedelta(hours=3)
    store = Store(db_url)
    try:
        source_id = store.sources.add("http://127.0.0.1:9/feed.xml").id
        with store.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(next_poll_at=later))
        with run_lock(home):
            proc = samachar(home, db_url, "poll", "--all", expect=2)
        assert proc.stderr.startswith("error: another samachar run is in progress")
        assert len(proc.stderr.strip().splitlines()) == 1
        assert store.sources.get(source_id).next_poll_at == later
    finally:
        store.close()


# -- the lease table itself, on sources and on entries -------------------------------------------

@pytest.fixture
def store(tmp_path):
    s = Store(database_url(tmp_path))
    yield s
    s.close()


def test_a_lease_lapses_within_its_interval_unless_renewed(store):
    src = store.sources.add("https://a.example/feed").id
    now = datetime.now(UTC)
    mine = LeaseTable(store.engine, sources, owner=sources.c.lease_owner, until=sources.c.locked_until)
    other = LeaseTable(store.engine, sources, owner=sources.c.lease_owner, until=sources.c.locked_until,
                       owner_id="elsewhere.example:1:abc")
    assert mine.claim([src], now, renew=False).claimed == [src]
    taken = other.claim([src], now + timedelta(seconds=LEASE_SECONDS - 1), renew=False)
    assert taken.claimed == [] and [h.owner for h in taken.held] == [lease_owner()]
    assert mine.renew([src], now + timedelta(seconds=LEASE_SECONDS - 1)) == [src]
    assert other.claim([src], now + timedelta(seconds=LEASE_SECONDS + 1), renew=False).claimed == []
    assert other.claim([src], now + timedelta(seconds=2 * LEASE_SECONDS), renew=False).claimed == [src]
    assert mine.renew([src]) == []  # lost: renewing does not take it back


def test_the_poller_renews_its_leases_while_it_works(store):
    src = store.sources.add("https://a.example/feed").id
    leases = LeaseTable(store.engine, sources, owner=sources.c.lease_owner, until=sources.c.locked_until,
                        seconds=2.0, renew_every=0.2)
    leases.claim([src])
    time.sleep(3.0)  # past the lease's own interval: only renewal keeps it
    other = LeaseTable(store.engine, sources, owner=sources.c.lease_owner, until=sources.c.locked_until,
                       owner_id="elsewhere.example:1:abc", seconds=2.0)
    assert other.claim([src], renew=False).claimed == []
    leases.release([src])
    assert other.claim([src], renew=False).claimed == [src]
    assert leases.renewing() == set()


def test_a_dead_owner_on_this_host_is_reclaimed_at_once_another_hosts_is_not(store):
    a, b = store.sources.add("https://a.example/feed").id, store.sources.add("https://b.example/feed").id
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_owner = f"{socket.gethostname()}:{int(dead.stdout)}:0f0f"
    far_owner = f"elsewhere.example:{int(dead.stdout)}:0f0f"
    assert owner_is_dead(dead_owner) and not owner_is_dead(far_owner) and not owner_is_dead(lease_owner())
    until = datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS)
    with store.engine.begin() as conn:
        conn.execute(update(sources).where(sources.c.id == a).values(lease_owner=dead_owner, locked_until=until))
        conn.execute(update(sources).where(sources.c.id == b).values(lease_owner=far_owner, locked_until=until))
    claim = store.sources.claim_due()
    assert [s.id for s in claim.claimed] == [a]
    assert [(h.id, h.owner) for h in claim.held] == [(b, far_owner)]
    assert claim.skipped_summary().startswith("1 source skipped: being polled by elsewhere.example:")
    store.sources.release(a)


def test_the_same_lease_serves_entries(store):
    from samachar.model import FeedEntry
    from samachar.sources.identity import entry_identity

    src = store.sources.add("https://a.example/feed").id
    items = [FeedEntry(title=f"T{i}", url=f"https://x.example/{i}", summary=f"<p>body {i}</p>") for i in range(3)]
    ids = store.entries.add_many(src, [(e, entry_identity(e, src)) for e in items])
    worker = LeaseTable(store.engine, entries, owner=entries.c.lease_owner, until=entries.c.lease_until)
    other = LeaseTable(store.engine, entries, owner=entries.c.lease_owner, until=entries.c.lease_until,
                       owner_id="gpu-1.example:77:beef")
    assert worker.claim(ids[:2], renew=False).claimed == ids[:2]
    claim = other.claim(ids, renew=False)
    assert claim.claimed == ids[2:] and sorted(h.id for h in claim.held) == ids[:2]
    worker.release(ids[:2])
    with store.engine.connect() as conn:
        assert conn.execute(select(entries.c.lease_owner).where(entries.c.id.in_(ids[:2]))).scalars().all() == [
            None, None]
