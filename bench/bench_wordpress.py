"""WordPress benchmark: posts per second pushed to a real local WordPress, requests per post, and what dominates.

    .venv/bin/python bench/bench_wordpress.py [--posts 40] [--workers 4]

Starts Debian's WordPress on 127.0.0.1 (tools/wordpress/start_wordpress.py), fills a store with N
synthetic Hindi articles (each its own lead image, two of eight tags, one category) and pushes them with
``publish_to_targets`` three times:

1. create: every post new (images uploaded, terms created, the orphan lookup before each create);
2. update: every title changed, from a fresh target (empty term cache; media known from the store);
3. rerun: nothing changed (no request at all).

Each request samachar sends is timed by kind; what is left of the wall time is samachar's own work
(rendering, the store). The baseline is WordPress alone: the same posts' final JSON sent with bare
``urllib``, one ``POST /wp/v2/posts`` each, no images or terms.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools" / "wordpress"))

import start_wordpress
from test_images_files import png
from wordpress import ORIGIN, PASSWORD_ENV, Story, seed, target_table

from samachar.config import Config, SiteConfig
from samachar.images import read_image
from samachar.publish.targets import TargetContext, build_target, publish_to_targets
from samachar.store import Store

TAGS = [("World", "दुनिया"), ("India", "भारत"), ("Weather", "मौसम"), ("Sport", "खेल"), ("Business", "कारोबार"),
        ("Science", "विज्ञान"), ("Health", "स्वास्थ्य"), ("Culture", "संस्कृति")]
BODY = ["राजदूत ने सोमवार को कहा कि दोनों देशों के संबंध मज़बूत हैं और व्यापार बढ़ेगा।"] * 8


def stories(count: int) -> list[Story]:
    out = []
    for n in range(count):
        first, second = TAGS[n % len(TAGS)], TAGS[(n * 3 + 1) % len(TAGS)]
        out.append(Story(f"Story number {n} about the council", f"परिषद की ख़बर संख्या {n}", BODY,
                         [first[0], second[0]], [first[1], second[1]], lead=f"/img/lead-{n}.png"))
    return out


def kind_of(method: str, url: str) -> str:
    path = re.sub(r"^.*?/wp-json/|^.*?rest_route=/", "", url.split("?")[0] if "/wp-json/" in url else url)
    path = path.split("&")[0]
    if method == "HEAD" or path in ("", "/"):
        return "discover the REST root"
    if path.startswith("wp/v2/posts"):
        if method == "GET":
            return "posts: orphan lookup"
        return "posts: create" if path == "wp/v2/posts" else "posts: update"
    if path.startswith("wp/v2/media"):
        return "media: lookup" if method == "GET" else "media: upload"
    if path.startswith(("wp/v2/tags", "wp/v2/categories")):
        return "terms: lookup" if method == "GET" else "terms: create"
    return f"{method} {path}"


def instrumented(target):
    """The target with each request it sends timed by kind."""
    timings: dict[str, list[float]] = defaultdict(list)
    send = target.api.send

    def timed(method, url, **kwargs):
        start = time.perf_counter()
        try:
            return send(method, url, **kwargs)
        finally:
            timings[kind_of(method, url)].append(time.perf_counter() - start)

    target.api.send = timed
    return target, timings


def push(site, store, config, articles) -> tuple[float, dict[str, list[float]], dict]:
    target, timings = instrumented(build_target(target_table(site), TargetContext(store=store, config=config)))
    start = time.perf_counter()
    report = publish_to_targets([target], articles, store)
    return time.perf_counter() - start, timings, report


def baseline(site, payloads: list[bytes]) -> float:
    token = base64.b64encode(f"{site.user}:{site.password}".encode()).decode()
    start = time.perf_counter()
    for body in payloads:
        request = urllib.request.Request(f"{site.url}/wp-json/wp/v2/posts?_fields=id", data=body, method="POST",
                                         headers={"Authorization": f"Basic {token}",
                                                  "Content-Type": "application/json; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    return time.perf_counter() - start


def show(name: str, seconds: float, timings: dict[str, list[float]], posts: int) -> None:
    requests = sum(len(v) for v in timings.values())
    in_requests = sum(sum(v) for v in timings.values())
    print(f"\n{name}: {posts} posts in {seconds:.2f} s = {posts / seconds if seconds else 0:.1f} posts/s; "
          f"{requests} requests = {requests / posts:.2f} per post")
    print(f"  {'kind':<24} {'requests':>8} {'per post':>8} {'mean ms':>8} {'share':>6}")
    for kind, values in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {kind:<24} {len(values):>8} {len(values) / posts:>8.2f} {1000 * sum(values) / len(values):>8.1f} "
              f"{sum(values) / seconds:>6.0%}")
    print(f"  {'samachar itself':<24} {'':>8} {'':>8} {'':>8} {(seconds - in_requests) / seconds:>6.0%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4, help="PHP_CLI_SERVER_WORKERS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wordpress-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        try:
            site = start_wordpress.start(folder / "site", workers=args.workers)
        except start_wordpress.Unavailable as exc:
            print(f"skipped: {exc}")
            return 0
        print(f"WordPress (Debian package) on {site.url}, started in {time.perf_counter() - started:.1f} s")
        os.environ[PASSWORD_ENV] = site.password
        os.environ["SAMACHAR_ALLOW_PRIVATE_NETWORKS"] = "1"
        try:
            store = Store(f"sqlite:///{folder / 'samachar.db'}")
            seed(store, stories(args.posts))
            for n in range(args.posts):  # each story its own lead image (seed's would all be the same bytes)
                store.images.save(f"{ORIGIN}/img/lead-{n}.png", read_image(png(40 + n, 30)))
            for _ in range(5):  # PHP's opcache warm, as on a site that serves readers
                urllib.request.urlopen(f"{site.url}/wp-json/", timeout=60).read()
            config = Config(home=folder, site=SiteConfig(language="hi", base_url="https://samachar.example/"),
                            default_policy="full", targets=[])
            articles = store.posts.published_articles("hi", default_policy="full")

            seconds, timings, report = push(site, store, config, articles)
            assert report.published == {"wp": args.posts}, report
            show("create", seconds, timings, args.posts)

            changed = [a.__class__(**{**a.__dict__, "title": a.title + " (संशोधित)"}) for a in articles]
            seconds, timings, report = push(site, store, config, changed)
            assert report.updated == {"wp": args.posts}, report
            show("update", seconds, timings, args.posts)

            seconds, timings, report = push(site, store, config, changed)
            print(f"\nrerun: {sum(len(v) for v in timings.values())} requests in {seconds * 1000:.0f} ms")

            target = build_target(target_table(site), TargetContext(store=store, config=config))
            payloads = []
            for article in articles:  # the create pass's JSON, its images and terms already there
                payload = target.post_payload(article)
                payload["slug"] += "-baseline"
                payloads.append(json.dumps(payload, ensure_ascii=False).encode())
            seconds = baseline(site, payloads)
            print(f"\nbaseline, bare POST /wp/v2/posts: {args.posts} posts in {seconds:.2f} s = "
                  f"{args.posts / seconds:.1f} posts/s")
            store.close()
        finally:
            site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
