"""An engine that answers fewer segments than it was asked never loses text silently.

The batch fails with a TranslationError naming the engine and both counts; in a
fallback chain that failure moves the segments on to the next engine.
"""

from __future__ import annotations

import pytest

from samachar.errors import TranslationError
from samachar.model import Article, Block
from samachar.translate.document import translate_articles
from samachar.translate.fallback import FallbackEngine


class Short:
    """Drops the last answer of every call; remembers how many segments each call had."""

    name = "short"
    deterministic = True

    def __init__(self) -> None:
        self.asked: list[int] = []

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.asked.append(len(segments))
        return [f"~{s}" for s in segments][:-1]


class Whole:
    name = "whole"
    deterministic = True

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        return [f"={s}" for s in segments]


def articles() -> list[Article]:
    return [
        Article(url="https://news.example/1", title="Floods in Assam", blocks=[
            Block("paragraph", "Rivers rose overnight. Villages were cut off."),
        ]),
        Article(url="https://news.example/2", title="Schools reopen", blocks=[
            Block("paragraph", "Classes resume on Monday."),
        ]),
    ]


def test_a_short_answer_fails_the_batch_with_both_counts():
    engine = Short()
    with pytest.raises(TranslationError) as caught:
        translate_articles(articles(), engine, "en", "es")
    (asked,) = engine.asked
    assert f"short returned {asked - 1} translations for {asked} segments" in str(caught.value)


def test_in_a_chain_a_short_answer_passes_the_segments_on():
    short = Short()
    results = translate_articles(articles(), FallbackEngine([short, Whole()]), "en", "es")
    assert [r.title for r in results] == ["=Floods in Assam", "=Schools reopen"]
    assert all(r.engine == "whole" for r in results)


def test_a_chain_with_only_short_answers_names_the_shortfall():
    with pytest.raises(TranslationError, match=r"failed on every engine .*short returned \d+ translations for \d+ "):
        translate_articles(articles(), FallbackEngine([Short()]), "en", "es")


def test_ctranslate2_results_missing_from_a_batch_are_an_error(tmp_path):
    pytest.importorskip("ctranslate2")
    pytest.importorskip("sentencepiece")
    from samachar.models import import_model
    from samachar.models.tiny import build_tiny_argos_package
    from samachar.translate.engines.ctranslate2 import CTranslate2Engine

    import_model(build_tiny_argos_package(tmp_path / "tiny.argosmodel"), tmp_path / "models")
    engine = CTranslate2Engine(tmp_path / "models", beam_size=1, workers=1)
    loaded = engine.load(engine.model_info("en", "hi"))
    real = loaded.translator

    class DropsOne:
        """The CTranslate2 translator, losing the last result of each batch (the edge we cannot make fail)."""

        def translate_batch(self, tokens, **options):
            return real.translate_batch(tokens, **options)[:-1]

    loaded.translator = DropsOne()
    with pytest.raises(TranslationError, match="ctranslate2"):
        engine.translate(["The river rose.", "The village was cut off."], "en", "hi")
