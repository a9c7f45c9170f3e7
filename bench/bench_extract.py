"""Extraction speed and quality: samachar's extract_article vs trafilatura alone.

Both run on the same corpus pages (``../shared/corpus/pages``), in memory, in
one process: one untimed warm-up pass each (imports, stoplists), then
``--rounds`` timed passes in which the two alternate page by page; each
page counts with its fastest time, the figure least disturbed by other
load on the machine. trafilatura
alone is ``trafilatura.extract(html)`` with its defaults (plain text, no
metadata); ours is the whole stage (structure, sanitizing, metadata).

    .venv/bin/python bench/bench_extract.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from samachar.errors import ExtractionError  # noqa: E402
from samachar.extract import extract_article  # noqa: E402
from samachar.extract.scoring import score_corpus, score_page  # noqa: E402

PAGES = ROOT / ".." / "shared" / "corpus" / "pages"
TARGET_RATIO = 0.8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (PAGES / "ground-truth.json").exists():
        print(f"corpus not found at {PAGES}", file=sys.stderr)
        return 2
    import trafilatura

    truth = json.loads((PAGES / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [(gzip.decompress((PAGES / f"{k}.html.gz").read_bytes()), v["url"], v["articleBody"])
             for k, v in sorted(truth.items())]

    def ours(html: bytes, url: str) -> str:
        try:
            return extract_article(html, url).text
        except ExtractionError:
            return ""

    def baseline(html: bytes, url: str) -> str:
        return trafilatura.extract(html) or ""

    contenders: dict[str, Callable[[bytes, str], str]] = {"trafilatura": baseline, "samachar": ours}
    f1 = {name: _f1(fn, pages) for name, fn in contenders.items()}  # doubles as the warm-up pass
    # Per page, the fastest of the rounds; the two extractors alternate page by page, so a burst of
    # load from other jobs on the machine hits both alike.
    best = {name: [float("inf")] * len(pages) for name in contenders}
    for _ in range(args.rounds):
        for i, (html, url, _) in enumerate(pages):
            for name, fn in contenders.items():
                start = time.perf_counter()
                fn(html, url)
                best[name][i] = min(best[name][i], time.perf_counter() - start)

    rate = {name: len(pages) / sum(seconds) for name, seconds in best.items()}
    ratio = rate["samachar"] / rate["trafilatura"]
    print(f"pages: {len(pages)}  rounds: {args.rounds} (fastest per page)  python {platform.python_version()}  "
          f"trafilatura {trafilatura.__version__}")
    print(f"{'extractor':<14}{'pages/s':>10}{'F1':>9}{'precision':>11}{'recall':>9}")
    for name in contenders:
        score = f1[name]
        print(f"{name:<14}{rate[name]:>10.1f}{score.f1:>9.4f}{score.precision:>11.4f}{score.recall:>9.4f}")
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"speed ratio samachar/trafilatura: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    print(f"F1 difference samachar - trafilatura: {f1['samachar'].f1 - f1['trafilatura'].f1:+.4f}")
    return 0


def _f1(fn: Callable[[bytes, str], str], pages: list[tuple[bytes, str, str]]):
    return score_corpus([score_page(expected, fn(html, url)) for html, url, expected in pages])


if __name__ == "__main__":
    raise SystemExit(main())
