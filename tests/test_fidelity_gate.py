"""CI quality gate: en→es on every article of ../shared/corpus/fidelity/.

Every block must stay intact (kind, links once with text, sentence count,
quotation marks, numbers, and the engine's own translation of the plain
text) with Apertium and with an engine that behaves like neural MT on
fragments. Text-node-by-text-node translation (Argos/LibreTranslate) is
measured alongside as the baseline. Then faults are injected into a known
third of the sentences: at least 90% must be flagged or repaired, and a
clean Apertium run may flag at most one block in five.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from samachar.model import Article
from samachar.translate.document import translate_article
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.translate.fidelity import block_defects, load_corpus, references, translate_text_nodes
from samachar.translate.markup import TAG_RE, html_to_tagged, strip_tags
from samachar.translate.qa import numbers
from samachar.translate.segment import split_sentences

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "fidelity"
pytestmark = pytest.mark.corpus


class FragmentEngine:
    """Neural MT's habits on fragments: capitalises the first letter and closes a
    segment that lacks end punctuation with a full stop. Keeps tags (tag-aware)."""

    name = "fragment"
    tag_aware = True

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        out = []
        for seg in segments:
            masked = TAG_RE.sub(lambda m: "\0" * len(m.group(0)), seg)
            first = re.search(r"[^\W\d_]", masked)
            if first:
                seg = seg[: first.start()] + seg[first.start()].upper() + seg[first.start() + 1 :]
            visible = TAG_RE.sub("", seg).rstrip().rstrip("”’\"')]»")
            if visible and visible[-1] not in ".!?…:;":
                seg = seg.rstrip() + "."
            out.append(seg)
        return out


@pytest.fixture(scope="module")
def corpus() -> list[Article]:
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip("fidelity corpus not present")
    return load_corpus(CORPUS)


def apertium_or_skip() -> ApertiumEngine:
    engine = ApertiumEngine()
    if not engine.supports("en", "es"):
        pytest.skip("apertium eng-spa not installed")
    return engine


def intact_share(articles, translated_blocks, refs) -> tuple[float, list[str]]:
    total = intact = 0
    failures = []
    for article, blocks, ref in zip(articles, translated_blocks, refs, strict=True):
        assert len(blocks) == len(article.blocks)
        for i, (src, tgt, r) in enumerate(zip(article.blocks, blocks, ref, strict=True)):
            total += 1
            defects = block_defects(src, tgt, r, "en", "es")
            if defects:
                failures.append(f"{article.url} block {i}: {'; '.join(defects)}")
            else:
                intact += 1
    return intact / total, failures


@pytest.mark.parametrize("engine_name", ["apertium", "fragment"])
def test_every_block_intact(corpus, engine_name, capsys):
    engine = apertium_or_skip() if engine_name == "apertium" else FragmentEngine()
    assert sum(len(a.blocks) for a in corpus) >= 30
    refs = references(corpus, engine, "en", "es")
    baseline, _ = intact_share(corpus, translate_text_nodes(corpus, engine, "en", "es"), refs)
    translated = [translate_article(a, engine, "en", "es") for a in corpus]
    for article, result in zip(corpus, translated, strict=True):
        assert [b.kind for b in result.blocks] == [b.kind for b in article.blocks]
        for src, tgt in zip(article.blocks, result.blocks, strict=True):
            if src.image is not None:  # the same image; only its alt text is translated
                assert (tgt.image.src, tgt.image.width, tgt.image.height) == \
                    (src.image.src, src.image.width, src.image.height)
    share, failures = intact_share(corpus, [t.blocks for t in translated], refs)
    with capsys.disabled():
        print(f"\n[fidelity gate] {engine_name}: text nodes one by one keep {baseline:.1%} of blocks intact; "
              f"samachar keeps {share:.1%}")
    assert share == 1.0, "\n".join(failures)
    assert baseline < 1.0  # the baseline really breaks blocks, or the gate measures nothing


class FaultEngine:
    """Apertium, but a known set of sentences comes back corrupted in a known way."""

    name = "faulty-apertium"
    tag_aware = False

    def __init__(self, inner: ApertiumEngine, faults: dict[str, str]):
        self.inner = inner
        self.faults = faults  # plain source sentence → fault kind

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        out = self.inner.translate(segments, source, target)
        result = []
        for seg, translated in zip(segments, out, strict=True):
            fault = self.faults.get(strip_tags(seg))
            result.append(corrupt(fault, seg, translated) if fault else translated)
        return result


def corrupt(fault: str, source: str, translated: str) -> str:
    has_tags = bool(TAG_RE.search(source))
    if fault == "number":
        return re.sub(r"\d+(?:[.,]\d+)*", "", translated, count=1)
    if fault == "source":
        return source
    if fault == "quote":
        return re.sub(r"[“”\"]", "", translated, count=1)
    if fault == "tags":
        return strip_tags(translated) if has_tags else translated
    if fault == "truncate":
        words = strip_tags(translated).split()
        return " ".join(words[: max(1, len(words) // 2)])
    if fault == "name":
        return re.sub(NAMES, lambda m: m.group(1)[:-2] + m.group(1)[-1] + m.group(1)[-2], translated, count=1)
    raise AssertionError(fault)


NAMES = r"\b(Lucknow|Mumbai|Chennai|Brussels|Patna|Sriharikota|Bengaluru)\b"
KINDS = ["number", "source", "quote", "tags", "truncate", "name"]


def fault_plan(corpus) -> dict[str, str]:
    """Every third sentence gets a fault it can carry (a number fault needs a number…),
    the least used kind first, so all six kinds are represented."""
    sentences = []
    for article in corpus:
        for block in article.blocks:
            sentences.extend(split_sentences(html_to_tagged(block.html).text, "en"))
    plan: dict[str, str] = {}
    used = {k: 0 for k in KINDS}
    for i, sentence in enumerate(sentences):
        if i % 3 != 1:
            continue
        plain = strip_tags(sentence)
        fits = {
            "number": bool(numbers(plain)),
            "quote": "“" in plain or '"' in plain,
            "tags": bool(TAG_RE.search(sentence)),
            "name": bool(re.search(NAMES, plain)),
        }
        for kind in sorted(KINDS, key=lambda k: (used[k], KINDS.index(k))):
            if fits.get(kind, True):
                plan[plain] = kind
                used[kind] += 1
                break
    return plan


def test_injected_faults_are_flagged_or_repaired(corpus, capsys):
    apertium = apertium_or_skip()
    plan = fault_plan(corpus)
    engine = FaultEngine(apertium, plan)
    clean = {id(a): translate_article(a, apertium, "en", "es") for a in corpus}
    caught = 0
    missed = []
    for article in corpus:
        result = translate_article(article, engine, "en", "es")
        flagged_sources = {f.source for f in result.flags}
        for i, (good, got) in enumerate(zip(clean[id(article)].blocks, result.blocks, strict=True)):
            for sentence in split_sentences(html_to_tagged(article.blocks[i].html).text, "en"):
                plain = strip_tags(sentence)
                if plain not in plan:
                    continue
                if plain in flagged_sources or (plan[plain] in ("tags", "name") and got.html == good.html):
                    caught += 1
                else:
                    missed.append(f"{plan[plain]}: {plain}")
    total = caught + len(missed)
    kinds = sorted(set(plan.values()))
    with capsys.disabled():
        print(f"\n[fault injection] {total} faulty sentences ({', '.join(kinds)}): "
              f"{caught / total:.1%} flagged or repaired")
    assert set(kinds) == {"number", "source", "quote", "tags", "truncate", "name"}
    assert total >= 15
    assert caught / total >= 0.9, "\n".join(missed)


def test_clean_apertium_run_flags_at_most_one_block_in_five(corpus, capsys):
    engine = apertium_or_skip()
    blocks = flagged = 0
    for article in corpus:
        result = translate_article(article, engine, "en", "es")
        blocks += len(article.blocks)
        flagged += len({f.block for f in result.flags if f.block is not None})
    with capsys.disabled():
        print(f"\n[clean run] {flagged}/{blocks} blocks flagged")
    assert flagged / blocks <= 0.2
