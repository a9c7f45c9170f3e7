"""Throughput of the ctranslate2 engine: token batching vs one segment per call, and overhead over bare CT2.

Runs offline on the tiny random-weight en→hi model (``samachar.models.tiny``)
and the sentences of the fidelity corpus (``../shared/corpus/fidelity``; the
tiny model's training sentences when the corpus is absent). Prints:

- segments/s with token batching (one ``translate`` call for all segments)
  versus one ``translate`` call per segment; target: at least 5×;
- samachar's overhead over bare ``translate_batch`` on the same pre-tokenized
  chunks with the same options (tokenizing, sorting, chunking, detokenizing
  are what it adds); target: under 10%.

    .venv/bin/python bench/bench_engines.py [--copies N] [--repeat N] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from samachar.models import import_model  # noqa: E402
from samachar.models.tiny import TRAINING_TEXT, build_tiny_argos_package  # noqa: E402
from samachar.translate.engines.ctranslate2 import CTranslate2Engine  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus" / "fidelity" / "spec.json"


def corpus_sentences() -> tuple[list[str], str]:
    if not CORPUS.exists():
        return [s for s in TRAINING_TEXT if s.isascii()], "tiny model's training sentences (corpus absent)"
    import lxml.html

    sentences = []
    for article in json.loads(CORPUS.read_text(encoding="utf-8")):
        text = lxml.html.fromstring(f"<div>{article['body']}</div>").text_content()
        sentences.append(article["title"])
        for paragraph in text.split("\n"):
            sentences.extend(s.strip() for s in re.split(r"(?<=[.!?”])\s+(?=[A-Z“])", paragraph) if s.strip())
    return sentences, f"fidelity corpus ({len(json.loads(CORPUS.read_text()))} articles)"


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="repeat the corpus sentences N times")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 intra_threads")
    parser.add_argument("--beam", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    sentences, where = corpus_sentences()
    segments = sentences * args.copies
    with tempfile.TemporaryDirectory() as tmp:
        package = build_tiny_argos_package(Path(tmp) / "tiny.argosmodel")
        import_model(package, Path(tmp) / "models")
        engine = CTranslate2Engine(Path(tmp) / "models", beam_size=args.beam, threads=args.threads,
                                   device=args.device, compute_type="int8")
        loaded = engine.load(engine.model_info("en", "hi"))
        engine.translate(segments[:8], "en", "hi")  # warm-up

        batched = best_of(args.repeat, lambda: engine.translate(segments, "en", "hi"))
        per_call = best_of(args.repeat, lambda: [engine.translate([s], "en", "hi") for s in segments])

        tokens = [engine.source_tokens(loaded, " ".join(s.split()), "en", "hi") for s in segments]
        chunks = [[tokens[i] for i in group] for group in engine.chunks([len(t) for t in tokens])]

        def bare() -> None:
            for chunk in chunks:
                loaded.translator.translate_batch(
                    chunk, max_batch_size=engine.max_batch_tokens, batch_type="tokens", beam_size=engine.beam_size,
                    max_input_length=0, max_decoding_length=engine.decoding_length(max(map(len, chunk))),
                    replace_unknowns=True)

        # Interleave engine and bare runs so drift on a shared machine hits both alike.
        engine_times, bare_times = [], []
        for _ in range(max(args.repeat, 5)):
            engine_times.append(best_of(1, lambda: engine.translate(segments, "en", "hi")))
            bare_times.append(best_of(1, bare))
        engine_t, bare_t = statistics.median(engine_times), statistics.median(bare_times)

    n = len(segments)
    speedup = per_call / batched
    overhead = (engine_t - bare_t) / bare_t
    print(f"ctranslate2 engine, tiny random-weight en→hi model, int8, beam {args.beam}, {args.threads} thread(s)")
    print(f"segments: {n} from the {where}, {sum(map(len, tokens))} source tokens, {len(chunks)} chunk(s)")
    print(f"one segment per call : {n / per_call:8.1f} segments/s")
    print(f"token batching       : {n / batched:8.1f} segments/s   → {speedup:.1f}× (target ≥ 5×)"
          f"  {'OK' if speedup >= 5 else 'BELOW TARGET'}")
    print(f"bare translate_batch : {n / bare_t:8.1f} segments/s (same chunks, pre-tokenized)")
    print(f"engine overhead      : {overhead * 100:+.1f}% over bare translate_batch (target < 10%)"
          f"  {'OK' if overhead < 0.10 else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
