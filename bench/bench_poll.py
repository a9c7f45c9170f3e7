"""Feed polling benchmark: the ``samachar poll`` command, storage included, against a sequential loop.

Serves the 150 feeds of ../shared/corpus/feeds/ (gunzipped in memory) from a
loopback server in a child process (127.0.0.1, a free port, ETag and
Last-Modified with 304 answers), and times the real CLI: ``samachar poll
--all`` in a subprocess on a fresh home, every source imported from OPML
first (not timed). Prints, all measured in this one run, wall clock and CPU:

1. first poll (the CLI process: start-up, fetch, parse, sanitize, store) vs
   the baseline, a sequential loop of ``urllib`` fetch + ``feedparser.parse``
   over the same URLs in this process (bar: at least 5x, goal 10x);
2. second poll of the same home, every feed answering 304, vs the first
   (bar: at least 20x), and the start-up floor every poll pays (importing
   the modules ``samachar poll`` needs, in a fresh interpreter);
3. a generated 10,000-item feed polled and stored through the CLI (bar: under
   2 s), and, apart, the in-process storage time of the same items and of the
   corpus (``EntryRepository.add_many`` alone: no start-up, fetch or parse).

``--memory N`` also polls the corpus served under N URLs through the CLI and
prints the command's peak RSS (target: under 300 MB for 1,000). ``--profile
FILE`` writes a cProfile of the first poll's CLI process (main thread only;
use py-spy for the parse and storage threads). Without the corpus the script
says so and exits 0.

Run: .venv/bin/python bench/bench_poll.py [--memory 1000] [--profile poll.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus" / "feeds"
BIG_ITEMS = 10_000
LAST_MODIFIED = formatdate(1_790_000_000, usegmt=True)  # one fixed date for every feed


def load_corpus() -> list[bytes]:
    return [gzip.decompress(f.read_bytes()) for f in sorted(CORPUS.glob("*.xml.gz"))]


def big_feed(items: int = BIG_ITEMS) -> bytes:
    """An RSS feed of ``items`` distinct stories, each with a link, a GUID and a paragraph or two."""
    parts = [('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
              "<title>Big wire</title><link>https://wire.example.org/</link>")]
    for n in range(items):
        words = " ".join(f"w{n}x{i}" for i in range(50))
        parts.append(
            f"<item><title>Story {n}: council approves budget line {n}</title>"
            f"<link>https://wire.example.org/{n // 1000}/story-{n}.html?utm_source=rss</link>"
            f"<guid isPermaLink=\"false\">wire-{n}</guid>"
            f"<pubDate>{formatdate(1_790_000_000 - n * 60, usegmt=True)}</pubDate>"
            f"<category>Region {n % 12}</category>"
            f"<description>{escape(f'<p>Paragraph for story {n}: {words}.</p>')}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def serve() -> None:
    """Child process: serve /feed/N (N modulo the corpus size) and /big.xml until stdin closes."""
    from aiohttp import web

    feeds = load_corpus()
    big = big_feed()
    etags = [f'"{hashlib.sha1(body).hexdigest()[:16]}"' for body in feeds]
    big_etag = f'"{hashlib.sha1(big).hexdigest()[:16]}"'

    def answer(request: web.Request, body: bytes, etag: str) -> web.Response:
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in request.headers and request.headers.get("If-Modified-Since") == LAST_MODIFIED):
            return web.Response(status=304, headers=validators)
        return web.Response(body=body, headers={**validators, "Content-Type": "application/xml"})

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["n"]) % len(feeds)
        return answer(request, feeds[index], etags[index])

    async def big_one(request: web.Request) -> web.Response:
        return answer(request, big, big_etag)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_get("/big.xml", big_one)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


@dataclass
class Timed:
    seconds: float  # wall clock
    cpu: float  # user + system CPU seconds of the process that did the work
    peak_mb: float = 0.0
    out: str = ""


def baseline(urls: list[str]) -> tuple[Timed, int]:
    """What a script without samachar does: fetch each URL in turn, parse it with feedparser."""
    import feedparser

    started, cpu = time.perf_counter(), time.process_time()
    entries = 0
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as response:
            entries += len(feedparser.parse(response.read()).entries)
    return Timed(time.perf_counter() - started, time.process_time() - cpu), entries


def cli(home: Path, *args: str, profile: str | None = None) -> Timed:
    """Run ``samachar --home HOME ARGS`` as a user would, in its own process, and time that process."""
    env = {**os.environ, "SAMACHAR_ALLOW_PRIVATE_NETWORKS": "1", "SAMACHAR_HOME": str(home)}
    env.pop("SAMACHAR_DATABASE_URL", None)
    python = [sys.executable, "-m", "cProfile", "-o", profile] if profile else [sys.executable]
    return _timed(python + ["-m", "samachar", "--home", str(home), "-q", *args], env)


def _timed(command: list[str], env: dict[str, str] | None = None) -> Timed:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU and peak memory
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(command[1:])} failed: {err.read().decode()[-2000:]}")
        return Timed(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode().strip())


def startup() -> Timed:
    """What every ``samachar poll`` pays before its first request: the interpreter and the imports."""
    modules = ["samachar.cli", "samachar.pipeline", "samachar.stages", "samachar.store", "samachar.fetch",
               "samachar.sources.poll"]
    code = f"import importlib, importlib.util\nfor m in {modules!r}:\n    importlib.util.find_spec(m) and importlib.import_module(m)"
    return min((_timed([sys.executable, "-c", code]) for _ in range(3)), key=lambda t: t.seconds)


def new_home(root: Path, name: str, urls: list[str]) -> Path:
    """A fresh home following ``urls``, set up through the CLI (not timed)."""
    home = root / name
    home.mkdir()
    opml = home / "sources.opml"
    outlines = "".join(f'<outline type="rss" text="feed {i}" xmlUrl="{escape(u)}"/>' for i, u in enumerate(urls))
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    cli(home, "init", "--language", "hi", "--base-url", "https://news.example.org/")
    cli(home, "source", "import-opml", str(opml))
    return home


def stored_in_process(feeds: list[tuple[bytes, str]]) -> tuple[float, int]:
    """The storage alone, in this process: ``add_many`` of each feed's entries into a fresh SQLite database.

    Parsing and identities are done first and not timed; returns (seconds, entries stored).
    """
    from samachar.sources.identity import entry_identity
    from samachar.sources.parse import parse_feed
    from samachar.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/samachar.db")
        batches = []
        for body, url in feeds:
            source_id = store.sources.add(url).id
            batches.append((source_id, [(e, entry_identity(e, source_id)) for e in parse_feed(body, url).entries]))
        started = time.perf_counter()
        stored = sum(len(store.entries.add_many(source_id, items)) for source_id, items in batches)
        seconds = time.perf_counter() - started
        store.close()
    return seconds, stored


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="also poll the corpus served under N URLs and print the command's peak RSS")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first poll's CLI process")
    args = parser.parse_args()
    if args.serve:
        return serve()

    count = len(list(CORPUS.glob("*.xml.gz")))
    if not count:
        print(f"skipped: no corpus at {CORPUS.resolve()}")
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        urls = [f"{base}/feed/{i}" for i in range(count)]
        print(f"corpus: {count} feeds served on 127.0.0.1:{port}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            home = new_home(root, "corpus", urls)
            base_run, base_entries = baseline(urls)
            first = cli(home, "poll", "--all", profile=args.profile)
            second = cli(home, "poll", "--all")
            floor = startup()
            print(f"baseline  sequential urllib + feedparser.parse (in this process): {base_run.seconds:7.2f} s "
                  f"(CPU {base_run.cpu:5.2f} s)  {base_entries} entries")
            print(f"first     samachar poll --all (CLI process):             {first.seconds:7.2f} s "
                  f"(CPU {first.cpu:5.2f} s)  {first.out}; peak RSS {first.peak_mb:.0f} MB")
            print(f"second    samachar poll --all, all 304 (CLI process):    {second.seconds:7.3f} s "
                  f"(CPU {second.cpu:5.2f} s)  {second.out}")
            print(f"start-up  python -c 'import samachar.cli, .pipeline, .store, .fetch…' (floor of any poll): "
                  f"{floor.seconds:.3f} s (CPU {floor.cpu:.2f} s)")
            print(f"ratio     first poll vs baseline:  {base_run.seconds / first.seconds:5.1f}x wall "
                  f"({base_run.cpu / first.cpu:.1f}x CPU)  (bar >= 5x, goal >= 10x)")
            print(f"ratio     second poll vs first:    {first.seconds / second.seconds:5.1f}x wall "
                  f"({first.cpu / second.cpu:.1f}x CPU)  (bar >= 20x); without the start-up floor: "
                  f"{(first.seconds - floor.seconds) / max(second.seconds - floor.seconds, 1e-3):.1f}x")

            big_home = new_home(root, "big", [f"{base}/big.xml"])
            big = cli(big_home, "poll", "--all")
            with urllib.request.urlopen(f"{base}/big.xml", timeout=30) as response:
                store_s, stored = stored_in_process([(response.read(), f"{base}/big.xml")])
            print(f"big feed  samachar poll --all of one {BIG_ITEMS:,}-item feed (CLI process: start-up, fetch, "
                  f"parse, store): {big.seconds:.2f} s (CPU {big.cpu:.2f} s), {BIG_ITEMS / big.seconds:,.0f} items/s "
                  f"(bar < 2 s)  {big.out}")
            print(f"big feed  EntryRepository.add_many alone (in this process, storage only): {store_s:.3f} s, "
                  f"{stored / store_s:,.0f} items/s, {stored:,} stored")
            corpus_s, corpus_stored = stored_in_process(
                [(body, url) for body, url in zip(load_corpus(), urls, strict=True)])
            print(f"corpus    EntryRepository.add_many alone, 150 feeds (in this process, storage only): "
                  f"{corpus_s:.3f} s, {corpus_stored:,} stored")

            if args.memory:
                many = new_home(root, "memory", [f"{base}/feed/{i}" for i in range(args.memory)])
                run = cli(many, "poll", "--all")
                print(f"memory    samachar poll --all, {args.memory} URLs (CLI process): peak RSS {run.peak_mb:.0f} MB, "
                      f"{run.seconds:.1f} s  {run.out}  (target < 300 MB)")
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
