"""Translation benchmark: samachar's own overhead, translation-memory hit rate, segmenters.

Run: .venv/bin/python bench/bench_translate.py  (needs ../shared/corpus and apertium eng-spa)

1. Overhead: time inside translate_article that is not the engine (segmentation,
   tags, projection, memory in SQLite, QA, names) as a share of the time spent
   in Apertium on the fidelity corpus. Target: under 10%.
2. Memory: each article translated once, then again with one paragraph changed;
   share of segments answered by the memory on the second run.
3. Segmenters: samachar's rules, pysbd (if importable; not a dependency) and a
   naive split at '. ' on the hand-split cases, on the fidelity corpus (gold:
   hand-checked counts of translation segments per block; a multi-sentence
   quotation counts as one), and on the extracted corpus pages (how many
   boundaries each puts inside a link or emphasis).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "src"))

from samachar.model import Block  # noqa: E402
from samachar.store import Store  # noqa: E402
from samachar.translate.document import translate_article  # noqa: E402
from samachar.translate.engines.apertium import ApertiumEngine  # noqa: E402
from samachar.translate.fidelity import load_corpus, plain_text  # noqa: E402
from samachar.translate.markup import html_to_tagged, parse  # noqa: E402
from samachar.translate.memory import SqlTranslationMemory  # noqa: E402
from samachar.translate.segment import split_sentences  # noqa: E402

# Hand-checked segment counts per block of the fidelity corpus, in manifest order.
FIDELITY_GOLD = {
    "monsoon-forecast": [1, 1, 1, 2, 2, 1, 2],
    "metro-approval": [1, 1, 2, 1, 2, 1, 1, 1, 2],
    "cricket-final": [1, 2, 2, 1, 1, 1, 1, 2],
    "trade-talks": [1, 2, 2, 1, 2],
    "satellite-launch": [1, 2, 2, 2, 2],
}


class TimedEngine:
    """Apertium with a stopwatch around every call."""

    def __init__(self, inner: ApertiumEngine):
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.tag_aware = inner.tag_aware
        self.seconds = 0.0
        self.segments = 0

    def translate(self, segments, source, target):
        start = time.perf_counter()
        try:
            return self.inner.translate(segments, source, target)
        finally:
            self.seconds += time.perf_counter() - start
            self.segments += len(segments)


def sql_memory(folder: Path) -> SqlTranslationMemory:
    """The store's own database, migrations and all: what the pipeline uses."""
    return SqlTranslationMemory(Store(f"sqlite:///{folder / 'samachar.db'}").engine)


def overhead(articles) -> None:
    best = None
    for _ in range(3):
        engine = TimedEngine(ApertiumEngine())
        with tempfile.TemporaryDirectory() as tmp:
            memory = sql_memory(Path(tmp))
            start = time.perf_counter()
            for article in articles:
                translate_article(article, engine, "en", "es", memory=memory)
            total = time.perf_counter() - start
        own = total - engine.seconds
        if best is None or own / engine.seconds < best[0] / best[1]:
            best = (own, engine.seconds, engine.segments)
    own, engine_s, segments = best
    print(f"overhead: samachar {own * 1000:.0f} ms vs Apertium {engine_s * 1000:.0f} ms "
          f"({segments} segments incl. plain+tagged pairs and names) → {own / engine_s:.1%} of engine time")


def memory_hit_rate(articles) -> None:
    hits = lookups = sent_first = sent_second = 0
    with tempfile.TemporaryDirectory() as tmp:
        memory = sql_memory(Path(tmp))
        for article in articles:
            engine = TimedEngine(ApertiumEngine())
            translate_article(article, engine, "en", "es", memory=memory)
            sent_first += engine.segments
            paragraphs = [i for i, b in enumerate(article.blocks) if b.kind == "paragraph"]
            changed_index = paragraphs[len(paragraphs) // 2]
            changed = replace(article, blocks=list(article.blocks))
            old = changed.blocks[changed_index]
            # An update edits one sentence of one paragraph: its first word "The"/"A" is replaced and a
            # sentence specific to the article is appended.
            edited = old.html + f" The figures were revised by {len(article.title)} editors."
            changed.blocks[changed_index] = Block(old.kind, edited)
            memory.hits = memory.misses = 0
            engine = TimedEngine(ApertiumEngine())
            translate_article(changed, engine, "en", "es", memory=memory)
            sent_second += engine.segments
            hits += memory.hits
            lookups += memory.hits + memory.misses
    print(f"memory: re-translation with one paragraph changed per article: {hits}/{lookups} lookups hit "
          f"({hits / lookups:.1%}); engine segments {sent_second} vs {sent_first} the first time "
          f"({sent_second / sent_first:.1%})")


def naive_split(text: str, lang: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?।])\s+", text) if s.strip()]


def splitters():
    found = {"samachar": split_sentences, "naive '. '": naive_split}
    try:
        sys.path.append("/tmp/tx/site")  # where the bench author put pysbd; any importable pysbd works
        import pysbd

        cache = {}

        def pysbd_split(text: str, lang: str) -> list[str]:
            if lang not in cache:
                cache[lang] = pysbd.Segmenter(language=lang if lang in ("en", "es", "hi") else "en", clean=False)
            return [s.strip() for s in cache[lang].segment(text) if s.strip()]

        found["pysbd 0.3"] = pysbd_split
    except ImportError:
        print("segmenters: pysbd not importable; comparing samachar's rules with the naive split only")
    return found


def segmenter_comparison(articles) -> None:
    cases = json.loads((ROOT / "tests" / "data" / "translate" / "sentences.json").read_text(encoding="utf-8"))["cases"]
    manifest = list(json.loads((CORPUS / "fidelity" / "manifest.json").read_text(encoding="utf-8")))
    pages = corpus_page_blocks()
    for name, split in splitters().items():
        # samachar reads the tagged text (that is how it is used); the others get plain text.
        tagged_input = name == "samachar"
        exact = sum(
            [re.sub(r"<[^>]+>", "", s) for s in split(c["text"] if tagged_input else re.sub(r"<[^>]+>", "", c["text"]), c["lang"])]
            == [re.sub(r"<[^>]+>", "", s) for s in c["sentences"]]
            for c in cases
        )
        right = total = 0
        for key, article in zip(manifest, articles, strict=True):
            for gold, block in zip(FIDELITY_GOLD[key], article.blocks, strict=False):
                total += 1
                right += len(split(plain_text(block.html), "en")) == gold
        inside, boundaries, start = 0, 0, time.perf_counter()
        for block in pages:
            cut_inside, count = boundaries_inside_markup(block, split, tagged_input)
            inside += cut_inside
            boundaries += count
        elapsed = time.perf_counter() - start
        print(f"segmenter {name:>10}: hand cases {exact}/{len(cases)} exact; fidelity blocks {right}/{total} "
              f"right count; corpus pages: {inside} of {boundaries} boundaries inside a link/emphasis "
              f"({len(pages)} blocks, {elapsed * 1000:.0f} ms)")


def corpus_page_blocks() -> list[str]:
    from samachar.extract.article import extract_article

    blocks = []
    gold = CORPUS / "pages" / "ground-truth.json"
    urls = {}
    if gold.is_file():
        data = json.loads(gold.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            urls = {k: (v.get("url") if isinstance(v, dict) else None) for k, v in data.items()}
    for path in sorted((CORPUS / "pages").glob("*.html.gz"))[:60]:
        key = path.name.split(".")[0]
        try:
            article = extract_article(gzip.decompress(path.read_bytes()), urls.get(key) or f"https://{key[:12]}.example/")
        except Exception:  # noqa: BLE001 - a page extraction cannot handle is skipped here
            continue
        blocks.extend(b.html for b in article.blocks if b.kind in ("paragraph", "quote", "list_item") and "<" in b.html)
    return blocks


def boundaries_inside_markup(block_html: str, split, tagged_input: bool) -> tuple[int, int]:
    """How many of a splitter's boundaries fall inside a paired tag of the block."""
    tagged = html_to_tagged(block_html).text
    spans = parse(tagged)
    text = spans.text
    if tagged_input:
        sentences = [re.sub(r"\s+", " ", parse(s).text).strip() for s in split(tagged, "en")]
    else:
        sentences = split(text, "en")
    inside = 0
    pos = 0
    for sentence in sentences[:-1]:
        found = text.find(sentence, pos)
        if found < 0:
            continue
        end = found + len(sentence)
        pos = end
        if any(s < end < e for occ in spans.pairs.values() for s, e in occ):
            inside += 1
    return inside, max(0, len(sentences) - 1)


def main() -> None:
    if not (CORPUS / "fidelity" / "manifest.json").is_file():
        sys.exit("bench_translate: ../shared/corpus/fidelity is missing")
    if not ApertiumEngine().supports("en", "es"):
        sys.exit("bench_translate: apertium eng-spa is not installed (apt-get install apertium-eng-spa)")
    articles = load_corpus(CORPUS / "fidelity")
    overhead(articles)
    memory_hit_rate(articles)
    segmenter_comparison(articles)


if __name__ == "__main__":
    main()
