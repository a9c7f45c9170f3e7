"""Workers on PostgreSQL: 1, 2 and 4 ``samachar worker`` processes over the same 400 entries.

The entries start extracted; the workers run ``--stages translate,publish``
with an engine that costs a fixed time per call (:class:`FixedCostEngine`:
a sleep, then the text back) and one article per call, so the figure is how
well claiming spreads the work, not how fast an engine is. Each arm times the
user's commands: the worker processes, from start to the last one's exit
(``--until-idle``), storage included. Prints, measured in this one run:

1. throughput of 2 and 4 workers against 1 (bar: 4 workers at least 3.3x);
2. the claiming overhead per entry (``LeasedEntries.due`` on PostgreSQL,
   in this process: SKIP LOCKED select, lease write, rows read; bar: < 5 ms).

Needs a PostgreSQL database: ``SAMACHAR_BENCH_DATABASE_URL`` (or
``SAMACHAR_TEST_DATABASE_URL``); without one the script says so and exits 0.

Run: .venv/bin/python bench/bench_workers.py [--entries 400] [--seconds 0.05]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


class FixedCostEngine:
    """Sleeps ``SAMACHAR_BENCH_CALL_SECONDS`` per call, then returns the segments unchanged."""

    name = "fixed-cost"
    model = "fixed-cost-1"
    deterministic = True

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        time.sleep(float(os.environ.get("SAMACHAR_BENCH_CALL_SECONDS", "0.05")))
        return list(segments)


def prepare(url: str, count: int) -> None:
    """A fresh schema with ``count`` extracted English articles of one source."""
    from sqlalchemy import create_engine, text

    from samachar.model import Article, Block, FeedEntry
    from samachar.sources.identity import entry_identity
    from samachar.store import Store

    engine = create_engine(url)
    with engine.begin() as conn:
        for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()
    store = Store(url)
    source = store.sources.add("https://paper.example/feed.xml", policy="full").id
    items = [FeedEntry(title=f"Story number {n}", url=f"https://paper.example/{n}") for n in range(count)]
    ids = store.entries.add_many(source, [(i, entry_identity(i, source)) for i in items])
    for n, entry_id in enumerate(ids):
        body = [Block("paragraph", f"The council met on Monday for the {n}th time and approved plan {n}.")]
        store.articles.save(entry_id, Article(url=f"https://paper.example/{n}", title=f"Story number {n}",
                                              blocks=body, publisher="Paper", language="en"))
    store.close()


def reset(url: str) -> None:
    """Every entry extracted again, nothing translated or published (between arms)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("publications", "posts", "translations", "translation_memory", "entry_events"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE entries SET state = 'extracted', attempts = 0, error = NULL, "
                          "lease_owner = NULL, lease_until = NULL"))
    engine.dispose()


def run_workers(url: str, home: Path, workers: int, call_seconds: float) -> float:
    env = {**os.environ, "SAMACHAR_HOME": str(home), "SAMACHAR_DATABASE_URL": url,
           "SAMACHAR_BENCH_CALL_SECONDS": str(call_seconds),
           "PYTHONPATH": os.pathsep.join([str(BENCH), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "samachar", "-q", "worker", "--stages", "translate,publish",
               "--concurrency", "4", "--until-idle"]
    started = time.perf_counter()
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(workers)]
    for process in processes:
        _, err = process.communicate(timeout=900)
        if process.returncode != 0:
            raise SystemExit(f"a worker failed: {err.decode()[-500:]}")
    return time.perf_counter() - started


def published(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM entries WHERE state = 'published'")).scalar() or 0
    engine.dispose()
    return int(count)


def claim_overhead(url: str, count: int) -> float:
    """Seconds per entry claimed by ``LeasedEntries.due`` (this process), over every entry, 16 at a time."""
    from datetime import UTC, datetime

    from samachar.config import Config
    from samachar.stages import StageContext, stage
    from samachar.store import Store
    from samachar.worker import LeasedEntries

    reset(url)
    store = Store(url)
    claim = LeasedEntries(store, limit=16)
    ctx = StageContext(store, Config(home=Path(tempfile.gettempdir())), None, datetime.now(UTC))  # type: ignore[arg-type]
    translate = stage("translate")
    translate_batch = translate.batch_size
    object.__setattr__(translate, "batch_size", None)  # claim 16 at a time, whatever the config says
    try:
        while claim.due(translate, ctx):
            pass
    finally:
        object.__setattr__(translate, "batch_size", translate_batch)
        store.entries.leases.release(list(store.entries.leases.renewing()))
    store.close()
    return claim.seconds_claiming / max(claim.claimed, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=0.05, help="engine cost per call")
    args = parser.parse_args()
    url = os.environ.get("SAMACHAR_BENCH_DATABASE_URL") or os.environ.get("SAMACHAR_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench_workers: no PostgreSQL database (SAMACHAR_BENCH_DATABASE_URL); skipped")
        return 0
    home = Path(tempfile.mkdtemp(prefix="samachar-bench-workers-"))
    (home / "samachar.toml").write_text(
        'default_policy = "full"\n[site]\nlanguage = "hi"\n'
        '[translation]\nsource_language = "en"\nengines = ["bench_workers:FixedCostEngine"]\nbatch_articles = 1\n'
        'hold_on_error = false\n', encoding="utf-8")
    prepare(url, args.entries)
    times: dict[int, float] = {}
    for workers in (1, 2, 4):
        reset(url)
        times[workers] = run_workers(url, home, workers, args.seconds)
        done = published(url)
        print(f"{workers} worker(s): {args.entries} entries in {times[workers]:.1f} s "
              f"({done / times[workers]:.1f} entries/s, {done} published)")
        if done != args.entries:
            raise SystemExit(f"only {done} of {args.entries} entries were published")
    for workers in (2, 4):
        ratio = times[1] / times[workers]
        bar = " (bar: ≥ 3.3×)" if workers == 4 else ""
        print(f"{workers} workers vs 1: {ratio:.2f}×{bar}")
    per_entry = claim_overhead(url, args.entries)
    print(f"claiming: {per_entry * 1000:.2f} ms per entry (in-process LeasedEntries.due; bar: < 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
