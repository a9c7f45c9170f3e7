"""Feed polling benchmark: samachar's poll_many against a sequential fetch + feedparser loop.

Serves ../shared/corpus/feeds/ from a loopback server in a child process
(127.0.0.1, a free port, ETag + 304 support) and prints:

1. first poll (poll_many: fetch, parse, sanitize every feed) vs the baseline
   of fetching each URL in turn with urllib and calling ``feedparser.parse``
   (target: at least 5x faster);
2. second poll, every feed answering 304, vs the first (target: at least 10x);
3. peak memory (max RSS of a fresh process) polling the corpus served under
   1,000 URLs, storing each outcome as it arrives (target: under 300 MB),
   and, for reference, holding all 1,000 parsed feeds at once.

Run: .venv/bin/python bench/bench_poll.py [--urls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import resource
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus" / "feeds"


def load_corpus() -> list[bytes]:
    files = sorted(CORPUS.glob("*.xml.gz"))
    if not files:
        sys.exit(f"no corpus at {CORPUS}")
    return [gzip.decompress(f.read_bytes()) for f in files]


def serve() -> None:
    """Child process: serve /feed/N (N modulo the corpus size) until stdin closes."""
    from aiohttp import web

    feeds = load_corpus()
    etags = [f'"{hashlib.sha1(body).hexdigest()[:16]}"' for body in feeds]

    async def feed(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["n"]) % len(feeds)
        if request.headers.get("If-None-Match") == etags[index]:
            return web.Response(status=304, headers={"ETag": etags[index]})
        return web.Response(body=feeds[index], headers={"ETag": etags[index], "Content-Type": "application/xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def baseline(urls: list[str]) -> tuple[float, int]:
    import feedparser

    started = time.perf_counter()
    entries = 0
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as response:
            entries += len(feedparser.parse(response.read()).entries)
    return time.perf_counter() - started, entries


async def poll(urls: list[str], etags: dict[str, str] | None = None, keep: bool = True) -> tuple[float, list, int]:
    from samachar.fetch import HttpClient
    from samachar.model import SourceState
    from samachar.sources.poll import poll_many

    states = [SourceState(id=i, url=u, etag=(etags or {}).get(u)) for i, u in enumerate(urls)]
    entries = 0

    def store(outcome) -> None:  # what the pipeline does: take the entries, let the feed go
        nonlocal entries
        if outcome.feed is not None:
            entries += len(outcome.feed.entries)
            if not keep:
                outcome.feed = None

    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    async with HttpClient(allow_private=True) as client:
        outcomes = await poll_many(client, states, now, on_outcome=store)
    return time.perf_counter() - started, outcomes, entries


def memory_child(base: str, count: int, keep: bool) -> None:
    urls = [f"{base}/feed/{i}" for i in range(count)]
    seconds, outcomes, entries = asyncio.run(poll(urls, keep=keep))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = sum(o.status == "ok" for o in outcomes)
    print(json.dumps({"peak_mb": peak_mb, "seconds": seconds, "ok": ok, "entries": entries}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", type=int, default=1000, help="URLs for the memory run (default 1000)")
    args = parser.parse_args()
    if args.serve:
        return serve()
    if args.memory:
        return memory_child(args.memory, args.urls, args.keep)

    count = len(load_corpus())
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        urls = [f"{base}/feed/{i}" for i in range(count)]
        print(f"corpus: {count} feeds served on 127.0.0.1:{port}")

        base_s, base_entries = baseline(urls)
        first_s, outcomes, first_entries = asyncio.run(poll(urls))
        failed = [o for o in outcomes if o.status != "ok"]
        etags = {urls[o.source_id]: o.etag for o in outcomes if o.etag}
        second_s, second, _ = asyncio.run(poll(urls, etags))
        not_modified = sum(o.status == "not_modified" for o in second)

        print(f"baseline  sequential urllib + feedparser.parse: {base_s:7.2f} s  {base_entries} entries")
        print(f"first     poll_many (fetch+parse+sanitize):    {first_s:7.2f} s  {first_entries} entries, {len(failed)} errors")
        print(f"second    poll_many, all 304:                  {second_s:7.3f} s  {not_modified}/{count} not modified")
        print(f"ratio     first poll vs baseline:  {base_s / first_s:6.1f}x  (target >= 5x)")
        print(f"ratio     second poll vs first:    {first_s / second_s:6.1f}x  (target >= 10x)")

        for keep in (False, True):
            command = [sys.executable, __file__, "--memory", base, "--urls", str(args.urls)] + (["--keep"] if keep else [])
            stats = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            label = "holding every parsed feed" if keep else "storing outcomes as they arrive"
            print(
                f"memory    {args.urls} URLs, {label}: peak RSS {stats['peak_mb']:.0f} MB "
                f"({stats['ok']} ok, {stats['entries']} entries, {stats['seconds']:.1f} s)"
                + ("  (target < 300 MB)" if not keep else "")
            )
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
