"""Image texts and tag labels go through the article's own translation: same engine call, memory, glossary.

The lead image's alt, caption and credit, body images' alt and the tags come back
translated on the TranslatedArticle; a QA error on a label is a warning, never a hold.
"""

from __future__ import annotations

import pytest

from samachar.model import Article, Block, Image
from samachar.translate.document import translate_article, translate_articles
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.translate.memory import InMemoryTranslationMemory

needs_apertium = pytest.mark.skipif(not ApertiumEngine().supports("en", "es"),
                                    reason="Apertium eng-spa is not installed")


class RecordingEngine:
    """A real engine, its calls counted."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.model = inner.name, getattr(inner, "model", "")
        self.tag_aware = getattr(inner, "tag_aware", True)
        self.deterministic = True
        self.calls: list[list[str]] = []

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(segments))
        return self.inner.translate(segments, source, target)


def article(tags: list[str] | None = None) -> Article:
    return Article(
        url="https://news.example/rain",
        title="Heavy rain in the city",
        blocks=[
            Block("paragraph", "The weather office warned of heavy rain on Tuesday."),
            Block("figure", "", image=Image("https://news.example/road.svg", alt="A flooded road")),
        ],
        image=Image("https://news.example/clouds.svg", alt="Dark clouds over a highway",
                    caption="Dark clouds over the highway on Monday.", credit="Photo: The Courier"),
        tags=tags if tags is not None else ["Weather", "Rain"],
    )


@needs_apertium
def test_alt_caption_credit_and_tags_translated_in_the_same_engine_call():
    engine = RecordingEngine(ApertiumEngine())
    result = translate_article(article(), engine, "en", "es")
    assert len(engine.calls) == 1
    sent = set(engine.calls[0])
    assert {"Dark clouds over a highway", "Dark clouds over the highway on Monday.", "Photo: The Courier",
            "A flooded road", "Weather", "Rain"} <= sent
    lead = result.image
    assert lead.src == "https://news.example/clouds.svg"
    assert "nubes" in lead.alt.lower() and "nubes" in lead.caption.lower() and lead.caption.endswith(".")
    assert lead.credit and lead.credit != "Photo: The Courier"
    assert result.blocks[1].image.alt and "inund" in result.blocks[1].image.alt.lower()
    assert result.blocks[1].image.src == "https://news.example/road.svg"
    assert len(result.tags) == 2 and result.tags[0].lower() == "tiempo" and result.tags[1].lower() == "lluvia"
    assert not result.has_errors


@needs_apertium
def test_tags_use_the_memory_and_the_glossary():
    memory = InMemoryTranslationMemory()
    engine = RecordingEngine(ApertiumEngine())
    glossary = {"Rain": "Lluvias"}
    first = translate_article(article(), engine, "en", "es", memory=memory, glossary=glossary)
    assert first.tags[1] == "Lluvias"
    again = RecordingEngine(ApertiumEngine())
    second = translate_article(article(["Weather"]), again, "en", "es", memory=memory, glossary=glossary)
    assert second.tags == [first.tags[0]]
    assert not again.calls or "Weather" not in again.calls[0]  # came from the memory


class EchoEngine:
    """Gives every segment back unchanged: "untranslated" to QA."""

    name, model, deterministic = "echo", "v1", True

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        return list(segments)


def test_a_qa_error_on_a_label_is_a_warning_but_one_on_the_body_still_holds():
    labels_only = Article(url="https://news.example/x", title="", blocks=[Block("paragraph", "x")],
                          image=Image("https://news.example/a.svg", alt="Dark clouds over a highway"),
                          tags=["Kuala Lumpur Open"])
    result = translate_articles([labels_only], EchoEngine(), "en", "hi")[0]
    untranslated = [f for f in result.flags if f.check == "untranslated"]
    assert untranslated and all(f.severity == "warning" for f in untranslated)
    assert not result.has_errors
    body = translate_article(article(), EchoEngine(), "en", "hi")
    assert body.has_errors  # the same check on a sentence of the story holds the article


def test_an_article_without_image_or_tags_translates_as_before():
    plain = Article(url="https://news.example/y", title="Rain", blocks=[Block("paragraph", "It rained.")])
    result = translate_article(plain, EchoEngine(), "en", "es")
    assert result.image is None and result.tags == []
