"""Story clustering at scale: 100,000 entries placed one batch at a time, peak memory, and a restart.

The entries are synthetic variants of the corpus pages' expected bodies (``../shared/corpus/pages/
ground-truth.json``): each event is a corpus body with a third of its words swapped for others of the
corpus vocabulary and names and figures of its own; it is then reported 1–4 times, as near-verbatim wire
copies (a new headline, a dropped paragraph, another dateline) or as independent-ish rewrites (other
words, paragraphs in another order, the same names and figures). Events are spread over 30 days, their
reports over a few hours, and entries arrive in published order, in batches of ``--batch`` (as the
pipeline's clustering stage places what one run extracted).

Prints, and checks against the targets of issue 15:

- entries/s placing incrementally, storage included (SQLite file; ``--database-url`` for another); target
  ≥ 1,000;
- peak memory of the process (``ru_maxrss``); target < 1 GB;
- the restart: a new process opens the index over the same database, which reads signatures and features
  only (no bodies: there are none in the database), and places more; its load time and memory;
- how well the synthetic stories were found (B-cubed), as a sanity check of the workload, not a quality
  figure (those come from the labeled set: ``python -m samachar.stories.evaluate``).

``--compare-minhash`` measures instead the NumPy MinHash of samachar.stories.minhash against datasketch's
MinHash + MinHashLSH (signatures, LSH insert and query for ``--entries`` bodies), each in a process of its own.

    .venv/bin/python bench/bench_stories.py [--entries 100000] [--batch 100] [--compare-minhash]
"""

from __future__ import annotations

import argparse
import gzip
import heapq
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus" / "pages" / "ground-truth.json"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SYLLABLES = "ka ra ma ni sha to vi la de pu ro han gu bel mor tan si va ki lo dha nar pra".split()


@dataclass(frozen=True)
class Synthetic:
    event: int
    title: str
    paragraphs: list[str]
    published: datetime


def corpus_bodies() -> list[list[str]]:
    """The corpus pages' expected bodies, as paragraphs (a few built-in lines when the corpus is absent)."""
    if CORPUS.is_file():
        opener = gzip.open if CORPUS.suffix == ".gz" else open
        with opener(CORPUS, "rt", encoding="utf-8") as handle:
            truth = json.load(handle)
        bodies = [[p.strip() for p in str(v.get("articleBody", "")).split("\n") if p.strip()] for v in truth.values()]
        bodies = [b for b in bodies if sum(len(p.split()) for p in b) >= 60]
        if bodies:
            return bodies
    print(f"bench_stories: no corpus at {CORPUS}: built-in lines instead, figures not comparable with those of "
          "docs/benchmarks.md", file=sys.stderr)
    line = "The district council met on Monday to discuss the budget, the roads and the water supply of the town."
    return [[line] * 6]


def stream(count: int, seed: int = 15, days: float = 30.0) -> Iterator[Synthetic]:
    """``count`` entries reporting events drawn from the corpus bodies, in published order, made as they are
    needed (the bench holds a batch of bodies at a time, as the pipeline does)."""
    rng = random.Random(seed)
    bodies = corpus_bodies()
    vocabulary = sorted({w for body in bodies for p in body for w in p.split() if w.isalpha()})
    pending: list[tuple[datetime, int, Synthetic]] = []  # reports not yet due, the earliest first
    made = event = 0
    spacing = timedelta(days=days) / max(1, count // 2)  # two reports per event on average
    while made < count:
        at = START + spacing * event + timedelta(seconds=rng.random() * spacing.total_seconds())
        while pending and pending[0][0] <= at:
            yield heapq.heappop(pending)[2]
        base = bodies[event % len(bodies)]
        names = [" ".join(rng.choice(SYLLABLES).capitalize() + rng.choice(SYLLABLES) for _ in range(2))
                 for _ in range(3)]
        figures = [f"{rng.randint(3, 9999)} {rng.choice(vocabulary)}" for _ in range(3)]
        paragraphs = []
        for p in base[:7]:
            words = [rng.choice(vocabulary) if rng.random() < 0.35 else w for w in p.split()[:60]]
            words.insert(rng.randrange(len(words) + 1), rng.choice(names))
            words.insert(rng.randrange(len(words) + 1), rng.choice(figures))
            paragraphs.append(" ".join(words))
        title = " ".join([names[0]] + rng.sample(paragraphs[0].split(), min(6, len(paragraphs[0].split()))))
        reports = rng.choice((1, 1, 1, 2, 2, 3, 4))
        for n in range(min(reports, count - made)):
            when = at + timedelta(hours=rng.random() * 12) if n else at
            if n == 0:
                report = Synthetic(event, title, paragraphs, when)
            elif rng.random() < 0.5:  # a wire copy: new headline and dateline, a paragraph dropped
                copy = list(paragraphs)
                if len(copy) > 3:
                    del copy[rng.randrange(1, len(copy))]
                copy[0] = f"{rng.choice(SYLLABLES).upper()}, (Wire) " + " ".join(copy[0].split()[3:])
                report = Synthetic(event, " ".join(rng.sample(title.split(), len(title.split()))), copy, when)
            else:  # an independent-ish report: other words, other order, the same names and figures
                rewritten = [" ".join(rng.choice(vocabulary) if rng.random() < 0.5 else w for w in p.split())
                             for p in paragraphs]
                rng.shuffle(rewritten)
                report = Synthetic(event, f"{names[0]} " + " ".join(rng.sample(vocabulary, 5)), rewritten, when)
            heapq.heappush(pending, (when, made, report))
            made += 1
        event += 1
    while pending:
        yield heapq.heappop(pending)[2]


def synthesize(count: int, seed: int = 15, days: float = 30.0) -> list[Synthetic]:
    """:func:`stream` as a list."""
    return list(stream(count, seed, days))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def add_entries(store, count: int) -> list[int]:
    """Bare entries rows (the index refers to them); no bodies stored: a restart cannot read any."""
    from sqlalchemy import insert, select

    from samachar.store.schema import entries

    now = datetime.now(timezone.utc)
    with store.engine.begin() as conn:
        first = conn.execute(select(entries.c.id).order_by(entries.c.id.desc()).limit(1)).scalar() or 0
        rows = [{"key": f"bench:{first + n}", "title": "", "state": "extracted", "attempts": 0,
                 "created_at": now, "updated_at": now} for n in range(count)]
        for start in range(0, count, 5000):
            conn.execute(insert(entries), rows[start:start + 5000])
        return list(conn.execute(select(entries.c.id).where(entries.c.id > first).order_by(entries.c.id)).scalars())


def place(url: str, synthetic: Iterable[Synthetic], batch: int, report_every: int = 0) -> dict:
    """Place the entries batch by batch; only ``place_many`` is timed (the bench's entries rows are not)."""
    from samachar.store import Store
    from samachar.stories import StoryIndex, StoryItem

    store = Store(url)
    try:
        started = time.perf_counter()
        index = StoryIndex(store)
        loaded = time.perf_counter() - started
        seconds = cpu = 0.0
        placements, events = [], []
        source = iter(synthetic)
        while chunk := list(islice(source, batch)):
            ids = add_entries(store, len(chunk))
            items = [StoryItem(entry_id=entry_id, source_id=None, lang="en", title=s.title,
                               text="\n\n".join(s.paragraphs), published=s.published)
                     for entry_id, s in zip(ids, chunk, strict=True)]
            started, cpu_started = time.perf_counter(), time.process_time()
            placed = index.place_many(items)
            seconds += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            placements += [(p.story_id, p.near_duplicate_of is not None) for p in placed]
            events += [s.event for s in chunk]
            if report_every and len(placements) % report_every < batch:
                print(f"  {len(placements):7d} placed, {len(placements) / seconds:7.0f}/s, peak {peak_mb():.0f} MB",
                      flush=True)
        return {"entries": len(placements), "seconds": seconds, "rate": len(placements) / seconds,
                "cpu_seconds": cpu, "cpu_rate": len(placements) / cpu, "load": os.getloadavg()[0],
                "load_seconds": loaded, "kept": len(index._kept), "peak_mb": peak_mb(),
                "stories": [story for story, _ in placements], "events": events,
                "near": sum(near for _, near in placements)}
    finally:
        store.close()


def restart(url: str, count: int) -> dict:
    """In a fresh process: open the index over the database (timed), then place ``count`` more entries."""
    code = (
        "import json, sys, time, resource\n"
        "sys.path.insert(0, %r)\n"
        "import bench_stories as b\n"
        "from samachar.store import Store\n"
        "from samachar.stories import StoryIndex\n"
        "store = Store(%r)\n"
        "t = time.perf_counter(); index = StoryIndex(store); load = time.perf_counter() - t\n"
        "kept = len(index._kept); store.close()\n"
        "more = [s for s in b.synthesize(%d, seed=16, days=1.0)]\n"
        "shift = b.timedelta(days=30)\n"
        "more = [b.Synthetic(s.event, s.title, s.paragraphs, s.published + shift) for s in more]\n"
        "out = b.place(%r, more, 100)\n"
        "print(json.dumps({'load_seconds': load, 'kept': kept, 'rate': out['rate'], 'peak_mb': b.peak_mb()}))\n"
    ) % (str(Path(__file__).parent), url, count, url)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bcubed_f1(events: list[int], stories: list[int]) -> float:
    from samachar.stories.evaluate import bcubed

    keys = [str(n) for n in range(len(events))]
    return bcubed(dict(zip(keys, stories, strict=True)), dict(zip(keys, events, strict=True))).f1


# -- MinHash: ours against datasketch ------------------------------------------------------------------------

def _minhash_run(kind: str, count: int) -> dict:
    """Signatures of ``count`` bodies, each looked up in an LSH index of those before it, then added."""
    from samachar.stories.text import word_hashes, words

    texts = ["\n\n".join(s.paragraphs) for s in synthesize(count, seed=17)]
    base = peak_mb()
    started = time.perf_counter()
    found = 0
    if kind == "numpy":
        from samachar.stories import minhash

        lsh = minhash.MinHashLSH()
        for n, text in enumerate(texts):
            sig = minhash.signature(minhash.shingles(word_hashes(text)))
            found += lsh.best(sig, 0.5) is not None
            lsh.add(n, sig)
    else:
        from datasketch import MinHash, MinHashLSH

        lsh_ds = MinHashLSH(threshold=0.5, num_perm=64)
        for n, text in enumerate(texts):
            ws = words(text)
            m = MinHash(num_perm=64)
            m.update_batch([" ".join(ws[i:i + 3]).encode() for i in range(max(1, len(ws) - 2))])
            found += bool(lsh_ds.query(m))
            lsh_ds.insert(n, m)
    seconds = time.perf_counter() - started
    return {"kind": kind, "entries": count, "seconds": seconds, "rate": count / seconds,
            "memory_mb": peak_mb() - base, "matched": found}


def compare_minhash(count: int) -> None:
    for kind in ("numpy", "datasketch"):
        code = ("import json, sys; sys.path.insert(0, %r); import bench_stories as b; "
                "print(json.dumps(b._minhash_run(%r, %d)))") % (str(Path(__file__).parent), kind, count)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['kind']:>10}: {r['entries']} bodies in {r['seconds']:.1f} s ({r['rate']:.0f}/s), "
              f"memory +{r['memory_mb']:.0f} MB, {r['matched']} matched a kept one")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="entries per place_many (one transaction)")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--compare-minhash", action="store_true")
    args = parser.parse_args()
    if args.compare_minhash:
        compare_minhash(args.entries)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        out = place(url, stream(args.entries), args.batch, report_every=max(args.batch, args.entries // 10))
        print(f"{out['entries']} synthetic entries, {len(set(out['events']))} events")
        print(f"placed {out['entries']} in {out['seconds']:.1f} s: {out['rate']:.0f} entries/s (target ≥ 1000), "
              f"{out['cpu_rate']:.0f} per CPU-second of this process (load average {out['load']:.1f}); "
              f"{out['near']} near-duplicates; peak memory {out['peak_mb']:.0f} MB (target < 1024); "
              f"{out['kept']} kept in memory at the end")
        print(f"synthetic stories found: B-cubed F1 {bcubed_f1(out['events'], out['stories']):.3f}")
        again = restart(url, min(5000, args.entries))
        print(f"restart: a new process loaded the index ({again['kept']} entries kept) in {again['load_seconds']:.2f} s "
              f"without reading bodies, then placed more at {again['rate']:.0f}/s, peak {again['peak_mb']:.0f} MB")
        ok = out["rate"] >= 1000 and out["peak_mb"] < 1024
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
