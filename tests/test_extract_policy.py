"""Republish policy: full, excerpt (first N words, cut at a sentence end), link."""

from __future__ import annotations

import pytest

from samachar.extract.policy import apply_policy
from samachar.model import Block, Image


def _p(html: str, kind: str = "paragraph") -> Block:
    return Block(kind=kind, html=html)


def _words(blocks: list[Block]) -> int:
    return sum(len(b.text.split()) for b in blocks)


ARTICLE = [
    _p("Markets rose on Monday. Investors cheered the <a href=\"https://x.example/r\">rate decision</a>."),  # 9
    Block(kind="figure", html="A caption", image=Image(src="https://x.example/i.jpg")),
    _p("Analysts expect more gains. Some warn of risks ahead. Oil prices were flat."),  # 14
    _p("The central bank will meet again in June, when it may cut rates again. Bonds rallied."),  # 16
]


def test_full_returns_every_block_and_link_returns_none():
    assert apply_policy(ARTICLE, "full") == ARTICLE
    assert apply_policy(ARTICLE, "full") is not ARTICLE
    assert apply_policy(ARTICLE, "link") == []


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError, match="unknown republish policy"):
        apply_policy(ARTICLE, "everything")


def test_excerpt_keeps_whole_blocks_then_cuts_at_a_sentence_end():
    out = apply_policy(ARTICLE, "excerpt", words=20)
    assert [b.kind for b in out] == ["paragraph", "paragraph"]  # the figure is not part of an excerpt
    assert out[0] == ARTICLE[0]  # whole block, markup kept
    assert out[1].html == "Analysts expect more gains. Some warn of risks ahead."
    assert _words(out) == 18 <= 20


def test_excerpt_never_ends_mid_sentence_when_a_later_sentence_is_too_long():
    out = apply_policy(ARTICLE, "excerpt", words=12)
    assert [b.html for b in out] == [ARTICLE[0].html]  # 9 words; "Analysts expect more gains." would make 13


def test_excerpt_exactly_at_the_budget_and_beyond_the_article():
    assert apply_policy(ARTICLE, "excerpt", words=9) == [ARTICLE[0]]
    assert apply_policy(ARTICLE, "excerpt", words=1000) == [ARTICLE[0], ARTICLE[2], ARTICLE[3]]


def test_excerpt_cuts_a_long_first_sentence_at_a_word_and_marks_it():
    long = _p("This single opening sentence runs on and on without a full stop for a long while")
    out = apply_policy([long, _p("Next.")], "excerpt", words=5)
    assert out == [Block(kind="paragraph", html="This single opening sentence runs…")]


def test_excerpt_word_cut_closes_open_inline_tags():
    block = _p('One <a href="https://x.example/a">two <em>three four</em> five</a> six seven')
    out = apply_policy([block], "excerpt", words=3)
    assert out[0].html == 'One <a href="https://x.example/a">two <em>three</em></a>…'


def test_excerpt_sentence_cut_keeps_markup_around_the_end():
    block = _p("He said <q>we will win.</q> Then he left the hall <em>quietly</em> after the speech.")
    out = apply_policy([block], "excerpt", words=6)
    assert out[0].html == "He said <q>we will win.</q>"


def test_excerpt_does_not_stop_at_abbreviations_or_initials():
    block = _p("Dr. M. Ravichandran of the U.S. office spoke today. He left early for the airport in the rain.")
    out = apply_policy([block], "excerpt", words=10)
    assert out[0].html == "Dr. M. Ravichandran of the U.S. office spoke today."


def test_excerpt_on_translated_hindi_blocks_uses_the_danda():
    block = _p("बाज़ार सोमवार को चढ़ा। निवेशकों ने <a href=\"https://x.example/r\">दर फ़ैसले</a> का स्वागत किया। तेल स्थिर रहा।")
    out = apply_policy([block], "excerpt", words=12)
    assert out[0].html == 'बाज़ार सोमवार को चढ़ा। निवेशकों ने <a href="https://x.example/r">दर फ़ैसले</a> का स्वागत किया।'


def test_excerpt_does_not_end_on_a_heading_and_does_not_change_its_input():
    blocks = [_p("Short lead."), Block(kind="heading", html="Background", level=2),
              _p("A very long second paragraph that cannot fit into the remaining budget at all.")]
    before = [Block(**vars(b)) for b in blocks]
    out = apply_policy(blocks, "excerpt", words=6)
    assert out == [blocks[0]]
    assert blocks == before


def test_excerpt_with_a_heading_first_may_still_word_cut_the_first_sentence():
    blocks = [Block(kind="heading", html="Update", level=2),
              _p("An opening sentence that is far longer than the tiny budget given here.")]
    out = apply_policy(blocks, "excerpt", words=4)
    assert [b.html for b in out] == ["Update", "An opening sentence…"]


def test_excerpt_counts_words_across_inline_tags_and_line_breaks():
    block = _p("Al<em>pha</em> beta.<br>Gamma delta epsilon. Zeta eta theta.")
    out = apply_policy([block], "excerpt", words=5)
    assert out[0].html == "Al<em>pha</em> beta.<br>Gamma delta epsilon."
