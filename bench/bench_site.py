"""Site benchmark: static build speed, and live serving against static files on one server.

    .venv/bin/python bench/bench_site.py [--articles 1000] [--requests 4000] [--concurrency 50]

1. Builds a site of N synthetic Hindi articles (20 sources, 40 tags) with
   ``build_site`` and reports pages per second; the baseline is writing the
   same bytes to disk without rendering them.
2. Serves that site twice with uvicorn in a subprocess on 127.0.0.1: once as the
   samachar ASGI app (``create_app``), once as the built files through
   Starlette's ``StaticFiles``. A bounded aiohttp load generator with 50
   concurrent connections fetches article pages: a cold pass (each article
   once, so the app renders it) and a warm pass. Throughput and p50/p99
   latency are printed with the app/static ratios.

Everything stays on the loopback interface; request counts and time are capped.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from samachar.config import SiteConfig  # noqa: E402
from samachar.model import Block, Image, PublishedArticle  # noqa: E402

WORDS = ("सरकार ने बुधवार को नई योजना की घोषणा की जिससे राज्य के किसानों को सिंचाई और बीज पर सहायता मिलेगी "
         "मंत्री ने संवाददाताओं से कहा कि पहले चरण में बारह ज़िलों को शामिल किया जाएगा विपक्ष ने योजना के "
         "बजट पर सवाल उठाए और पूछा कि पिछले वर्ष की घोषणाओं का क्या हुआ मौसम विभाग के अनुसार अगले सप्ताह "
         "तटीय इलाक़ों में भारी बारिश हो सकती है नगर निगम ने मेट्रो स्टेशन के पास नया पुल खोलने की तारीख़ "
         "तय की खिलाड़ियों ने फ़ाइनल में शानदार प्रदर्शन किया और दर्शकों ने तालियाँ बजाईं").split()
SITE = SiteConfig(base_url="https://news.example.in/", per_page=20)
MAX_SECONDS_PER_PASS = 180.0


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "।"


def synthetic_articles(count: int, seed: int = 7) -> list[PublishedArticle]:
    """Deterministic articles shaped like real ones: ~12 blocks, links, a quote, a list, an image."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    tags = [f"विषय{i}" for i in range(40)]
    articles = []
    for i in range(count):
        blocks = [Block("paragraph", sentence(rng, 25)) for _ in range(8)]
        blocks.insert(2, Block("quote", "“" + sentence(rng, 12) + "” उन्होंने कहा।"))
        blocks.insert(4, Block("heading", sentence(rng, 4), level=2))
        blocks.append(Block("paragraph", f'{sentence(rng, 10)} <a href="https://source{i % 20}.example/more/{i}">'
                                         f'और पढ़ें</a> <em>{sentence(rng, 3)}</em>'))
        blocks += [Block("list_item", sentence(rng, 6), group=1) for _ in range(3)]
        blocks.append(Block("figure", sentence(rng, 8), image=Image(f"https://img.example/{i}.jpg", "चित्र", 1200, 675)))
        articles.append(PublishedArticle(
            id=i + 1, slug=f"article-{i + 1}", lang="hi", title=sentence(rng, 9)[:-1], blocks=blocks,
            summary=sentence(rng, 30), published_at=start - timedelta(minutes=7 * i),
            policy=("full", "full", "excerpt", "link")[i % 4], original_title=f"Original headline number {i + 1}",
            original_url=f"https://source{i % 20}.example/news/{i + 1}", publisher=f"Publisher {i % 20}",
            source_id=i % 20, source_name=f"Source {i % 20}", source_url=f"https://source{i % 20}.example/",
            authors=[f"Reporter {i % 37}"], original_published=start - timedelta(minutes=7 * i + 90),
            image=Image(f"https://img.example/lead-{i}.jpg", "", 1600, 900),
            categories=rng.sample(tags, 3), source_lang="en"))
    return articles


# ---- the server subprocess ---------------------------------------------------------------------
def serve(mode: str, directory: str, port: int, count: int) -> None:
    import uvicorn

    if mode == "app":
        from samachar.web.app import create_app

        articles = synthetic_articles(count)
        app = create_app(lambda: articles, SITE, refresh_seconds=3600)
    else:
        from starlette.applications import Starlette
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        app = Starlette(routes=[Mount("/", StaticFiles(directory=directory, html=True))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(mode: str, directory: Path, count: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", mode, "--dir", str(directory),
                                "--port", str(port), "--articles", str(count)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{mode} server did not start on port {port}")


# ---- the load generator ------------------------------------------------------------------------
async def load(base: str, paths: list[str], concurrency: int) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    deadline = time.monotonic() + MAX_SECONDS_PER_PASS

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while time.monotonic() < deadline:
            try:
                path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            began = time.perf_counter()
            async with session.get(base + path) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies), "failures": failures, "seconds": elapsed, "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=4000, help="warm-pass requests per server")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve", choices=("app", "static"))
    parser.add_argument("--dir")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.dir, args.port, args.articles)
        return

    from samachar.publish.site import build_site, render_site

    articles = synthetic_articles(args.articles)
    work = Path(tempfile.mkdtemp(prefix="samachar-bench-"))
    try:
        out = work / "site"
        began = time.perf_counter()
        pages = build_site(articles, SITE, out)
        build_seconds = time.perf_counter() - began
        began = time.perf_counter()
        rendered = render_site(articles, SITE)
        render_seconds = time.perf_counter() - began
        began = time.perf_counter()
        for path, body in rendered.items():
            target = work / "copy" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        write_seconds = time.perf_counter() - began
        size_mb = sum(len(b) for b in rendered.values()) / 1e6
        print(f"static build: {args.articles} articles -> {pages} files ({size_mb:.1f} MB)")
        print(f"  build_site   {build_seconds:6.2f} s  {pages / build_seconds:8.0f} pages/s")
        print(f"  render only  {render_seconds:6.2f} s  {pages / render_seconds:8.0f} pages/s")
        print(f"  baseline: writing the same bytes {write_seconds:6.2f} s  {pages / write_seconds:8.0f} files/s"
              f"  (build / write = {build_seconds / write_seconds:.1f}x)")

        article_paths = [f"/articles/{quote(a.slug)}/" for a in articles]
        rng = random.Random(3)
        warm_paths = [rng.choice(article_paths) for _ in range(args.requests)]
        results: dict[str, dict[str, dict[str, float]]] = {}
        for mode in ("app", "static"):
            process, base = start_server(mode, out, args.articles)
            try:
                cold_paths = article_paths[:]
                rng.shuffle(cold_paths)
                results[mode] = {"cold": asyncio.run(load(base, cold_paths, args.concurrency)),
                                 "warm": asyncio.run(load(base, warm_paths, args.concurrency))}
            finally:
                process.terminate()
                process.wait(10)
        print(f"\nserving article pages, {args.concurrency} concurrent connections, uvicorn, 1 worker, 127.0.0.1")
        print(f"  {'server':<22}{'pass':<6}{'requests':>9}{'fail':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for mode, label in (("app", "samachar ASGI app"), ("static", "StaticFiles (built)")):
            for phase in ("cold", "warm"):
                r = results[mode][phase]
                print(f"  {label:<22}{phase:<6}{r['requests']:>9.0f}{r['failures']:>6.0f}{r['rps']:>9.0f}"
                      f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}")
        for phase in ("cold", "warm"):
            app, static = results["app"][phase], results["static"][phase]
            print(f"  {phase}: app/static throughput {app['rps'] / static['rps']:.2f}x, "
                  f"p99 {app['p99_ms'] / static['p99_ms']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
