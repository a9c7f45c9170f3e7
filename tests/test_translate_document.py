"""translate_article end to end with small deterministic engines (and Apertium when installed)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from samachar.model import Article, Block, Image
from samachar.translate.document import translate_article, translate_articles
from samachar.translate.engines.apertium import ApertiumEngine
from samachar.translate.markup import TAG_RE
from samachar.translate.memory import InMemoryTranslationMemory, MemoryKey, SqlTranslationMemory

WORDS = {
    "the": "el", "talks": "charlas", "in": "en", "moscow": "Moscú", "ended": "terminaron", "said": "dijo",
    "he": "él", "kim": "Kim", "will": "va", "stand": "estar", "with": "con", "map": "mapa",
    "route": "ruta", "what": "qué", "it": "eso", "means": "significa", "new": "nuevo", "line": "línea",
}


class WordEngine:
    """Word-for-word 'translation' that keeps tags; records every call."""

    name = "words"
    model = "v1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(segments))
        return [re.sub(r"[A-Za-z]+", lambda m: self._word(m.group(0)), s) if not TAG_RE.fullmatch(s) else s
                for s in segments]

    @staticmethod
    def _word(word: str) -> str:
        if re.fullmatch(r"[gx]\d+", word):
            return word
        return WORDS.get(word.lower(), word)


def article() -> Article:
    return Article(
        url="https://news.example/a",
        title="The Moscow talks",
        summary="Kim said it.",
        blocks=[
            Block("heading", "What it means", level=2),
            Block("paragraph", 'The <a href="https://x.example/m">Moscow talks</a> ended. He said “it will stand.”'),
            Block("figure", "Route map", image=Image("https://news.example/map.png", "map")),
            Block("list_item", "New line<br>ended", group=1),
            Block("preformatted", "print('the talks')"),
        ],
    )


def test_blocks_keep_kind_order_image_and_markup():
    result = translate_article(article(), WordEngine(), "en", "es")
    assert result.title == "el Moscú charlas"
    assert result.summary == "Kim dijo eso."
    assert [b.kind for b in result.blocks] == ["heading", "paragraph", "figure", "list_item", "preformatted"]
    assert result.blocks[0].level == 2
    assert result.blocks[1].html == 'el <a href="https://x.example/m">Moscú charlas</a> terminaron. él dijo “eso va estar.”'
    assert result.blocks[2].image == Image("https://news.example/map.png", "mapa")  # its alt translated too
    assert result.blocks[2].html == "ruta mapa"
    assert result.blocks[3].html == "nuevo línea<br>terminaron"
    assert result.blocks[4].html == "print('the talks')"  # code is not translated
    assert result.source_lang == "en" and result.target_lang == "es" and result.engine == "words"


def test_whole_sentences_with_tags_inside_go_to_the_engine():
    engine = WordEngine()
    translate_article(article(), engine, "en", "es")
    sent = [s for call in engine.calls for s in call]
    assert "The <g1>Moscow talks</g1> ended." in sent
    assert "He said “it will stand.”" in sent
    assert "Moscow talks" not in sent  # link text is never translated on its own


def test_memory_retranslates_only_the_changed_paragraph():
    memory = InMemoryTranslationMemory()
    engine = WordEngine()
    first = translate_article(article(), engine, "en", "es", memory=memory)
    changed = article()
    changed.blocks[1] = Block("paragraph", 'The <a href="https://x.example/m">Moscow talks</a> ended. Kim ended it.')
    engine.calls.clear()
    second = translate_article(changed, engine, "en", "es", memory=memory)
    assert [s for call in engine.calls for s in call] == ["Kim ended it."]
    assert second.blocks[0].html == first.blocks[0].html
    assert second.blocks[1].html.endswith("terminaron. Kim terminaron eso.")
    assert memory.hits > 0


def test_sql_memory_round_trip_and_sha256_keys():
    db = sa.create_engine("sqlite://")
    memory = SqlTranslationMemory(db)
    memory.table.metadata.create_all(db, tables=[memory.table])
    key = MemoryKey("apertium", "apertium", "en", "es", "The  <g1>talks</g1>\n")
    assert len(key.digest) == 64
    assert MemoryKey("apertium", "apertium", "en", "es", "The <g1>talks</g1>").digest == key.digest
    assert memory.get_many([key]) == {}
    memory.put_many({key: "Las <g1>charlas</g1>"})
    memory.put_many({key: "Las <g1>pláticas</g1>"})
    assert memory.get_many([key]) == {key: "Las <g1>pláticas</g1>"}
    assert memory.get_many([MemoryKey("apertium", "other-model", "en", "es", "The <g1>talks</g1>")]) == {}
    engine = WordEngine()
    translate_article(article(), engine, "en", "es", memory=memory)
    engine.calls.clear()
    translate_article(article(), engine, "en", "es", memory=memory)
    assert engine.calls == []


class InconsistentHindiEngine:
    """Spells Moscow two ways, as in today's portal output; supports a glossary."""

    name = "inconsistent"
    supports_glossary = True

    def __init__(self) -> None:
        self.glossaries: list[dict | None] = []
        self.count = 0

    def translate(self, segments, source, target, glossary=None):
        self.glossaries.append(glossary)
        out = []
        for s in segments:
            if s == "Moscow":
                out.append("मॉस्को")
                continue
            self.count += 1
            city = "मास्को" if self.count % 2 else "मॉस्को"
            out.append(s.replace("Moscow", city).replace("Kim", "किम").replace("Pyongyang", "प्योंगयांग")
                       .replace("will stand with", "के साथ रहेगा").replace("praised", "की प्रशंसा की")
                       .replace("Putin", "पुतिन").replace(".", "।"))
        return out


def hindi_article() -> Article:
    return Article(url="u", title="Pyongyang will stand with Moscow", blocks=[
        Block("paragraph", "Kim praised Moscow. Putin praised Moscow."),
        Block("paragraph", "Pyongyang will stand with Moscow."),
    ])


def test_one_rendering_per_name_per_article():
    result = translate_article(hindi_article(), InconsistentHindiEngine(), "en", "hi")
    text = result.title + " ".join(b.html for b in result.blocks)
    assert "मास्को" not in text and text.count("मॉस्को") == 4
    assert any(f.check == "names" and f.severity == "warning" for f in result.flags)


def test_glossary_is_passed_to_engines_that_support_it_and_enforced():
    engine = InconsistentHindiEngine()
    result = translate_article(hindi_article(), engine, "en", "hi", glossary={"Moscow": "मास्को", "Delhi": "दिल्ली"})
    assert {"Moscow": "मास्को"} in engine.glossaries  # only terms in the article
    text = result.title + " ".join(b.html for b in result.blocks)
    assert "मॉस्को" not in text and text.count("मास्को") == 4


def test_glossary_terms_are_enforced_through_their_isolated_rendering():
    result = translate_article(
        Article(url="u", title="t", blocks=[Block("paragraph", "The talks in Moscow ended.")]),
        WordEngine(), "en", "es", glossary={"talks": "negociaciones", "Moscow": "Moscova"},
    )
    assert result.blocks[0].html == "el negociaciones en Moscova terminaron."
    assert not [f for f in result.flags if f.check == "glossary"]


def test_glossary_violation_that_cannot_be_repaired_is_an_error():
    class OtherAlone(WordEngine):
        def translate(self, segments, source, target):
            return ["Moskva" if s == "Moscow" else t for s, t in zip(segments, super().translate(segments, source, target), strict=True)]

    result = translate_article(
        Article(url="u", title="t", blocks=[Block("paragraph", "The talks in Moscow ended.")]),
        OtherAlone(), "en", "es", glossary={"Moscow": "Moscova"},
    )
    (flag,) = [f for f in result.flags if f.check == "glossary"]
    assert flag.severity == "error" and flag.block == 0 and "Moscova" in flag.message
    assert result.has_errors


def test_engine_returning_wrong_count_is_a_translation_error():
    from samachar.errors import TranslationError

    class Short:
        name = "short"

        def translate(self, segments, source, target):
            return segments[:-1]

    with pytest.raises(TranslationError):
        translate_article(article(), Short(), "en", "es")


@pytest.mark.skipif(not ApertiumEngine().supports("en", "es"), reason="apertium eng-spa not installed")
def test_apertium_keeps_plain_translation_and_link():
    src = Article(url="u", title="The Moscow talks", blocks=[
        Block("paragraph", 'It will be funded by the state and the <a href="https://x.example/c">Union government</a>, with the rest from a loan.'),
    ])
    engine = ApertiumEngine()
    plain = engine.translate(["It will be funded by the state and the Union government, with the rest from a loan."], "en", "es")[0]
    result = translate_article(src, engine, "en", "es")
    html = result.blocks[0].html
    assert html.count("<a ") == 1 and 'href="https://x.example/c"' in html
    assert re.sub(r"<[^>]+>", "", html) == plain
    assert result.title == engine.translate(["The Moscow talks"], "en", "es")[0]


@pytest.mark.skipif(not ApertiumEngine().supports("en", "es"), reason="apertium eng-spa not installed")
def test_apertium_batch_equals_one_by_one():
    engine = ApertiumEngine()
    segments = ["The big", "dog barks.", "A <g1>red</g1> car & a <x2/> bike."]
    batch = engine.translate(segments, "en", "es")
    assert batch == [engine.translate([s], "en", "es")[0] for s in segments]
    assert "&" in batch[2] and "<g1>" in batch[2] and "<x2/>" in batch[2]


def other_article() -> Article:
    return Article(url="https://news.example/b", title="Kim said it", blocks=[
        Block("paragraph", "The talks ended. Kim will stand with Moscow."),
        Block("paragraph", 'The <a href="https://x.example/m">Moscow talks</a> ended.'),  # also in article()
    ])


def test_articles_share_one_engine_call_and_come_out_as_if_alone():
    together = WordEngine()
    batch = translate_articles([article(), other_article(), hindi_article()], together, "en", "es")
    assert len(together.calls) == 1
    sent = together.calls[0]
    assert len(sent) == len(set(sent))  # a sentence in two articles is translated once
    assert sent.count("The <g1>Moscow talks</g1> ended.") == 1
    alone = [translate_article(a, WordEngine(), "en", "es") for a in (article(), other_article(), hindi_article())]
    assert batch == alone


def test_memory_and_names_stay_per_article_in_a_batch():
    memory = InMemoryTranslationMemory()
    engine = InconsistentHindiEngine()
    first, second = translate_articles([hindi_article(), hindi_article()], engine, "en", "hi", memory=memory)
    assert first == second
    text = first.title + " ".join(b.html for b in first.blocks)
    assert "मास्को" not in text and text.count("मॉस्को") == 4  # one rendering per name in each article
    count = engine.count
    again = translate_articles([hindi_article()], engine, "en", "hi", memory=memory)
    assert engine.count == count and again[0].blocks == first.blocks  # all from memory


def test_an_engine_that_reads_a_call_as_one_document_gets_one_article_per_call():
    class DocumentEngine(WordEngine):
        document_context = True

    engine = DocumentEngine()
    results = translate_articles([article(), other_article()], engine, "en", "es")
    assert len(engine.calls) == 2
    assert "The talks ended." not in engine.calls[0] and "The talks ended." in engine.calls[1]
    assert results == [translate_article(a, WordEngine(), "en", "es") for a in (article(), other_article())]
