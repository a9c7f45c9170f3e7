"""Sentence segmentation: hand-split cases, markup and quotations never cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samachar.translate.segment import count_sentences, sentence_spans, split_sentences

CASES = json.loads((Path(__file__).parent / "data" / "translate" / "sentences.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:40])
def test_hand_split_cases(case):
    assert split_sentences(case["text"], case["lang"]) == case["sentences"]


def test_spans_cover_text_in_order_and_leave_gaps_out():
    text = "  One here. Two there.<x1/>Three now.  "
    spans = sentence_spans(text, "en")
    assert [text[s:e] for s, e in spans] == ["One here.", "Two there.", "Three now."]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_never_splits_inside_a_tag_pair_even_at_a_real_boundary():
    text = "<g1>Prices rose. Markets fell.</g1> Traders shrugged."
    assert split_sentences(text, "en") == ["<g1>Prices rose. Markets fell.</g1>", "Traders shrugged."]


def test_unclosed_quotation_does_not_block_splitting():
    # Multi-paragraph quotes leave the quotation open; the sentences still split.
    assert count_sentences("“We will win. The team is ready. Nobody doubts it.", "en") == 3


def test_decimals_times_and_empty_text():
    assert count_sentences("Rainfall was 94.5 mm at 5:35 today. Next.", "en") == 2
    assert split_sentences("", "en") == []
    assert split_sentences("   ", "en") == []
