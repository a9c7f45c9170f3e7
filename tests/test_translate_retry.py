"""The retry round of translate_article: what QA rejects goes once more to an engine that can do better."""

from __future__ import annotations

import re

import pytest

from samachar.errors import TranslationError
from samachar.model import Article, Block
from samachar.translate.document import translate_article
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.translate.fallback import FallbackEngine
from samachar.translate.markup import TAG_RE, strip_tags
from samachar.translate.memory import InMemoryTranslationMemory, MemoryKey

WORDS = {
    "the": "el", "minister": "ministro", "visited": "visitó", "on": "el", "monday": "lunes", "new": "nuevo",
    "bridge": "puente", "opened": "abrió", "in": "en", "mumbai": "Mumbai", "costs": "cuesta", "rose": "subieron",
    "by": "en", "read": "lee", "report": "informe", "said": "dijo", "she": "ella", "was": "estaba", "pleased": "contenta",
}


def word_for_word(segment: str) -> str:
    """Translate word by word, leaving tags, numbers and unknown words alone."""
    return re.sub(r"(?<![<\/])\b[A-Za-z]+\b(?!\d)", lambda m: WORDS.get(m.group(0).lower(), m.group(0)), segment)


class Dictionary:
    """A tag-aware engine that translates word by word; can echo the source for chosen sentences
    (the 'untranslated' failure) and records every call."""

    tag_aware = True

    def __init__(self, name: str, echo: tuple[str, ...] = (), model: str = "v1", deterministic: bool = False):
        self.name = name
        self.model = model
        self.echo = echo
        self.deterministic = deterministic
        self.calls: list[list[str]] = []

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(segments))
        return [s if any(e in s for e in self.echo) else word_for_word(s) for s in segments]


class Failing:
    name = "failing"
    tag_aware = True

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, segments, source, target):
        self.calls += 1
        raise TranslationError("service unavailable")


def news() -> Article:
    return Article(
        url="https://news.example/bridge",
        title="The new bridge opened",
        blocks=[
            Block("paragraph", "The minister visited Mumbai on Monday. Costs rose by 40 crore."),
            Block("paragraph", 'She said she was pleased. Read <a href="https://news.example/r">the report</a>.'),
            Block("paragraph", "The bridge opened in Mumbai."),
        ],
    )


def errors(result) -> list:
    return [f for f in result.flags if f.severity == "error"]


def test_chain_sends_what_the_first_engine_left_untranslated_to_the_next():
    first = Dictionary("first", echo=("minister", "report"))
    second = Dictionary("second", model="v2")
    chain = FallbackEngine([first, second])
    memory = InMemoryTranslationMemory()
    result = translate_article(news(), chain, "en", "es", memory=memory)

    assert not errors(result), [f.message for f in errors(result)]
    assert result.blocks[0].html == "el ministro visitó Mumbai el lunes. cuesta subieron en 40 crore."
    assert result.blocks[1].html == 'ella dijo ella estaba contenta. lee <a href="https://news.example/r">el informe</a>.'
    assert result.engine == "first+second"
    # One batched retry call to the second engine with just the rejected sentences.
    assert len(first.calls) == 1
    assert second.calls == [["The minister visited Mumbai on Monday.", "Read <g1>the report</g1>."]]

    # Memory: the accepted translation under the engine that made it; the echo nowhere.
    def stored(engine: str, model: str, text: str) -> str | None:
        return memory.entries.get(MemoryKey(engine, model, "en", "es", text).digest)

    assert stored("second", "v2", "The minister visited Mumbai on Monday.") == "el ministro visitó Mumbai el lunes."
    assert stored("first", "v1", "The minister visited Mumbai on Monday.") is None
    assert stored("first", "v1", "The bridge opened in Mumbai.") == "el puente abrió en Mumbai."
    assert "The minister visited Mumbai on Monday." not in memory.entries.values()

    # Fetched again: everything from memory, no engine call, the same text and the same engines named.
    again = translate_article(news(), chain, "en", "es", memory=memory)
    assert len(first.calls) == 1 and len(second.calls) == 1
    assert [b.html for b in again.blocks] == [b.html for b in result.blocks]
    assert again.engine == "first+second" and not errors(again)


def test_chain_names_only_the_engines_used():
    first, second = Dictionary("first"), Dictionary("second")
    result = translate_article(news(), FallbackEngine([first, second]), "en", "es")
    assert result.engine == "first" and second.calls == []


def test_retry_that_fails_keeps_the_first_answer_and_its_flag():
    first, down = Dictionary("first", echo=("minister",)), Failing()
    memory = InMemoryTranslationMemory()
    result = translate_article(news(), FallbackEngine([first, down]), "en", "es", memory=memory)
    assert down.calls >= 1
    assert result.blocks[0].html.startswith("The minister visited Mumbai on Monday.")
    (flag,) = errors(result)
    assert flag.check == "untranslated" and flag.block == 0
    assert MemoryKey("first", "v1", "en", "es", "The minister visited Mumbai on Monday.").digest not in memory.entries


def test_a_worse_retry_is_not_kept():
    class Truncating(Dictionary):
        def translate(self, segments, source, target):
            return [" ".join(t.split()[:2]) for t in super().translate(segments, source, target)]

    first, worse = Dictionary("first", echo=("minister",)), Truncating("worse")
    result = translate_article(news(), FallbackEngine([first, worse]), "en", "es")
    assert len(worse.calls) == 1
    assert result.blocks[0].html.startswith("The minister visited Mumbai on Monday.")
    assert [f.check for f in errors(result)] == ["untranslated"]
    assert result.engine == "first"


class TagDropper:
    """Tag-aware, but drops the tags of every tagged sentence the first time it sees it."""

    name = "dropper"
    tag_aware = True

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.seen: set[str] = set()

    def translate(self, segments, source, target):
        self.calls.append(list(segments))
        out = []
        for s in segments:
            translated = word_for_word(s)
            if TAG_RE.search(s) and s not in self.seen:
                translated = strip_tags(translated)
            self.seen.add(s)
            out.append(translated)
        return out


def test_tags_dropped_by_a_tag_aware_engine_are_asked_for_again():
    engine = TagDropper()
    result = translate_article(news(), engine, "en", "es")
    assert result.blocks[1].html == 'ella dijo ella estaba contenta. lee <a href="https://news.example/r">el informe</a>.'
    assert not [f for f in result.flags if f.check == "tags"], "the retry's answer needed no repair"
    assert len(engine.calls) == 2 and engine.calls[1] == ["Read <g1>the report</g1>."]


def test_tag_drop_on_a_deterministic_engine_is_repaired_not_retried():
    class DeterministicDropper(TagDropper):
        deterministic = True

        def translate(self, segments, source, target):
            self.seen.clear()  # the same answer every time
            return super().translate(segments, source, target)

    engine = DeterministicDropper()
    result = translate_article(news(), engine, "en", "es")
    assert len(engine.calls) == 1
    assert '<a href="https://news.example/r">' in result.blocks[1].html
    assert any(f.check == "tags" and "dropped" in f.message for f in result.flags)


@pytest.mark.skipif(not ApertiumEngine().supports("en", "es"), reason="apertium eng-spa not installed")
def test_apertium_alone_is_not_called_again():
    class CountingNumberDropper(ApertiumEngine):
        """Real Apertium that loses the numbers, so QA has an error to react to."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def translate(self, segments, source, target):
            self.calls += 1
            return [re.sub(r"\d+", "", t) for t in super().translate(segments, source, target)]

    engine = CountingNumberDropper()
    result = translate_article(news(), engine, "en", "es")
    assert engine.calls == 1
    assert [f.check for f in errors(result)] == ["numbers"]
    assert result.engine == "apertium"


@pytest.mark.skipif(not ApertiumEngine().supports("en", "es"), reason="apertium eng-spa not installed")
def test_chain_falls_back_to_real_apertium_for_rejected_sentences_with_links():
    apertium = ApertiumEngine()
    first = Dictionary("echo", echo=("report", "bridge"))
    chain = FallbackEngine([first, apertium])
    assert chain.tag_aware is False
    result = translate_article(news(), chain, "en", "es")
    assert result.engine == "echo+apertium"
    assert not errors(result), [f.message for f in errors(result)]
    # Apertium's own translation of the plain sentence, with the link projected onto it.
    plain = apertium.translate(["The bridge opened in Mumbai."], "en", "es")[0]
    assert result.blocks[2].html == plain
    link = re.search(r'<a href="https://news.example/r">([^<]+)</a>', result.blocks[1].html)
    assert link and link.group(1).strip() and "report" not in result.blocks[1].html


def test_the_retry_is_one_call_per_engine_that_made_the_rejected_sentences():
    class Refusing(Dictionary):
        """Fails any call with a sentence about the bridge."""

        def translate(self, segments, source, target):
            if any("bridge" in s for s in segments):
                raise TranslationError("refused")
            return super().translate(segments, source, target)

    first = Refusing("first", echo=("minister",))
    second, third = Dictionary("second", echo=("bridge",)), Dictionary("third")
    result = translate_article(news(), FallbackEngine([first, second, third]), "en", "es")
    assert not errors(result), [f.message for f in errors(result)]
    assert result.engine == "first+second+third"
    # What first left untranslated went to the rest of the chain in one call, where second took it;
    # what second left untranslated went on to third, in one call.
    bridge = [s for s in second.calls[0] if "bridge" in s]
    assert bridge and second.calls[1:] == [["The minister visited Mumbai on Monday."]]
    assert third.calls == [bridge]
