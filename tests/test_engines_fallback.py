"""The fallback chain: failed segments move to the next engine; QA can ask for retries."""

from __future__ import annotations

import pytest

from samachar.errors import TranslationError
from samachar.translate.engine import Served
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.translate.fallback import FallbackEngine, retry_engine


class Picky:
    """Fails a whole call when any segment contains ``bad``; counts its calls."""

    tag_aware = True

    def __init__(self, name: str, bad: str = "boom", empty_for: str | None = None):
        self.name = name
        self.bad = bad
        self.empty_for = empty_for
        self.calls = 0

    def translate(self, segments, source, target):
        self.calls += 1
        if any(self.bad in s for s in segments):
            raise TranslationError(f"{self.name} cannot do it")
        return ["" if self.empty_for and self.empty_for in s else f"{self.name}:{s}" for s in segments]


class Down:
    name = "down"

    def __init__(self):
        self.calls = 0

    def translate(self, segments, source, target):
        self.calls += 1
        raise TranslationError("connection refused")


class GlossaryAware:
    name = "glossed"
    supports_glossary = True

    def __init__(self):
        self.seen = None

    def translate(self, segments, source, target, glossary=None):
        self.seen = glossary
        return [s.upper() for s in segments]


def test_only_the_failing_segments_move_on():
    first, second = Picky("first"), Picky("second", bad="never")
    chain = FallbackEngine([first, second])
    segments = [f"segment {i}" for i in range(16)]
    segments[5] = "segment boom"
    served = chain.serve(segments, "en", "hi")
    assert served[5] == Served("second:segment boom", "second")
    assert all(answer == Served(f"first:{s}", "first")
               for i, (s, answer) in enumerate(zip(segments, served, strict=True)) if i != 5)
    assert first.calls <= 2 * 4 + 2, "bisection stays logarithmic"
    assert second.calls == 1


def test_an_engine_that_is_down_is_given_up_quickly():
    down, backup = Down(), Picky("backup")
    chain = FallbackEngine([down, backup])
    out = chain.translate([f"s{i}" for i in range(64)], "en", "hi")
    assert out == [f"backup:s{i}" for i in range(64)]
    assert down.calls <= 2 * 7 + 2


def test_empty_answers_fall_through_and_total_failure_raises():
    chain = FallbackEngine([Picky("first", empty_for="hard"), Picky("second")])
    assert chain.translate(["easy", "hard"], "en", "hi") == ["first:easy", "second:hard"]
    with pytest.raises(TranslationError, match="1 of 2 segments failed on every engine"):
        FallbackEngine([Picky("a"), Picky("b")]).translate(["fine", "boom"], "en", "hi")


def test_a_rejected_translation_goes_to_the_rest_of_the_chain_then_back_to_a_changeable_engine():
    class Steady(Picky):
        deterministic = True

    class Elsewhere(Picky):
        def supports(self, source, target):
            return target == "es"

    first, other_pair, second, last = Picky("first"), Elsewhere("other"), Picky("second"), Picky("third")
    chain = FallbackEngine([first, other_pair, second, last])
    rest = retry_engine(chain, "first", "en", "hi")
    assert isinstance(rest, FallbackEngine) and rest.engines == [second, last], "members without the pair skipped"
    assert rest.serve(["x"], "en", "hi") == [Served("second:x", "second")]
    assert retry_engine(chain, "third", "en", "hi") is last, "a tag-aware engine whose answer may change"
    assert retry_engine(FallbackEngine([first, Steady("steady")]), "steady", "en", "hi") is None
    assert retry_engine(chain, "nobody", "en", "hi") is None
    assert retry_engine(first, "first", "en", "hi") is first, "a plain engine is a chain of one"


def test_glossary_reaches_only_engines_that_take_one():
    glossed, plain = GlossaryAware(), Picky("plain")
    chain = FallbackEngine([glossed, plain])
    assert chain.supports_glossary
    assert chain.translate(["moscow"], "en", "hi", glossary={"Moscow": "मॉस्को"}) == ["MOSCOW"]
    assert glossed.seen == {"Moscow": "मॉस्को"}


def test_real_apertium_takes_over_from_a_failing_engine():
    apertium = ApertiumEngine()
    if not apertium.supports("en", "es"):
        pytest.skip("apertium eng-spa not installed")
    chain = FallbackEngine([Picky("first", bad="house"), apertium])
    served = chain.serve(["The house is big.", "Hello"], "en", "es")
    assert "casa" in served[0].text.lower() and served[1] == Served("first:Hello", "first")
    assert [answer.engine for answer in served] == ["apertium", "first"]
    assert chain.tag_aware is False, "one engine that is not tag-aware makes the chain not tag-aware"
