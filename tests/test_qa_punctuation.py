"""Punctuation parity: a fragment stays a fragment and a sentence keeps its end mark, with any engine."""

from __future__ import annotations

import pytest

from samachar.model import Article, Block
from samachar.translate.document import translate_article
from samachar.translate.markup import strip_tags
from samachar.translate.qa import repair_punctuation


@pytest.mark.parametrize(
    ("source", "target", "lang", "expected"),
    [
        ("Relief camps: 312", "राहत शिविर: 312।", "hi", "राहत शिविर: 312"),
        ("Expansion", "विस्तार।", "hi", "विस्तार"),
        ("Expansion", "विस्तार ॥", "hi", "विस्तार"),
        ("Final on Thursday", "Final el jueves.", "es", "Final el jueves"),
        ("Final on Thursday", "Finale am Donnerstag!", "de", "Finale am Donnerstag"),
        ("Final on Thursday", "星期四决赛。", "zh", "星期四决赛"),
        ("Tariffs up 7.5%", "Aranceles al alza 7,5%.", "es", "Aranceles al alza 7,5%"),
        ("<g1>Expansion</g1>", "<g1>Expansión.</g1>", "es", "<g1>Expansión</g1>"),
        ("He called it “a turning point”", "Lo llamó “un punto de inflexión.”", "es", "Lo llamó “un punto de inflexión”"),
        ("Stations: 12 (7 underground)", "Estaciones: 12 (7 subterráneas).", "es", "Estaciones: 12 (7 subterráneas)"),
    ],
)
def test_a_fragment_does_not_gain_end_punctuation(source, target, lang, expected):
    fixed, note = repair_punctuation(source, target, lang)
    assert fixed == expected
    assert note and "removed" in note


@pytest.mark.parametrize(
    ("source", "target", "lang", "expected"),
    [
        ("The talks ended.", "Las charlas terminaron", "es", "Las charlas terminaron."),
        ("The talks ended.", "वार्ता समाप्त हुई", "hi", "वार्ता समाप्त हुई।"),
        ("The talks ended.", "चर्चा संपली", "mr", "चर्चा संपली।"),
        ("Is it over?", "क्या यह खत्म हो गया", "hi", "क्या यह खत्म हो गया?"),
        ("Stop it!", "Basta", "es", "Basta!"),
        ("<g1>The talks ended.</g1>", "<g1>Las charlas terminaron</g1>", "es", "<g1>Las charlas terminaron.</g1>"),
        ("The <g1>talks</g1> ended.", "Las charlas <g1>terminaron</g1>", "es", "Las charlas <g1>terminaron</g1>."),
        ("He said “it will stand.”", "Dijo “va a estar”", "es", "Dijo “va a estar.”"),
        ("Talks were held in the U.S.", "Se celebraron en Estados Unidos", "es", "Se celebraron en Estados Unidos."),
    ],
)
def test_a_sentence_that_lost_its_end_mark_gets_the_target_languages_one(source, target, lang, expected):
    fixed, note = repair_punctuation(source, target, lang)
    assert fixed == expected
    assert note and "added" in note


@pytest.mark.parametrize(
    ("source", "target", "lang"),
    [
        ("Attendance: 66,000.", "Asistencia: 66.000.", "es"),
        ("Length: 11.1 km", "Longitud: 11,1 km", "es"),
        ("Talks were held in the U.S.", "Se celebraron en EE. UU.", "es"),
        ("He said:", "Dijo:", "es"),
        ("He said:", "Dijo.", "es"),
        ("Kharif sowing", "ख़रीफ़ बुवाई", "hi"),
        ("The talks ended.", "वार्ता समाप्त हुई।", "hi"),
        ("The talks ended.", "वार्ता समाप्त हुई |", "hi"),
        ("Is it over", "¿Se acabó?", "es"),
        ("What a win", "¡Qué victoria!", "es"),
        ("Open 7 am to 11 pm", "Abierto de 7 a.m. a 11 p.m.", "es"),
        ("<g1>Expansion</g1>", "<g1>Expansión</g1>", "es"),
    ],
)
def test_matching_punctuation_is_left_alone(source, target, lang):
    assert repair_punctuation(source, target, lang) == (target, None)


HINDI = {
    "Final on Thursday": "गुरुवार को फाइनल",
    "Relief camps: 312": "राहत शिविर: 312",
    "Expansion": "विस्तार",
    "<g1>Expansion</g1>": "<g1>विस्तार</g1>",
    "The talks ended.": "वार्ता समाप्त हुई",
}


class ClosingEngine:
    """Closes every segment with a danda, as neural engines do with fragments, and drops the
    danda a real sentence had; ``tag_aware`` chooses the document pipeline's path."""

    name = "closing"

    def __init__(self, tag_aware: bool) -> None:
        self.tag_aware = tag_aware

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        out = []
        for s in segments:
            if s not in HINDI:  # a name looked up on its own
                out.append(s)
            elif s.endswith("."):
                out.append(HINDI[s])
            else:
                out.append(HINDI[s].replace("</g1>", "।</g1>") if "</g1>" in s else HINDI[s] + "।")
        return out


@pytest.mark.parametrize("tag_aware", [True, False])
def test_every_engine_gets_punctuation_parity_in_the_document_pipeline(tag_aware):
    article = Article(url="u", title="Final on Thursday", blocks=[
        Block("list_item", "Relief camps: 312", group=1),
        Block("list_item", '<a href="https://x.example/e">Expansion</a>', group=1),
        Block("paragraph", "The talks ended."),
    ])
    result = translate_article(article, ClosingEngine(tag_aware), "en", "hi")
    assert result.title == "गुरुवार को फाइनल"
    assert [b.html for b in result.blocks] == [
        "राहत शिविर: 312",
        '<a href="https://x.example/e">विस्तार</a>',
        "वार्ता समाप्त हुई।",
    ]
    repairs = [f for f in result.flags if f.check == "punctuation"]
    assert {f.block for f in repairs} == {None, 0, 1, 2}
    assert all(f.severity == "warning" for f in repairs)
    # The fragments are repaired, not held.
    assert not [f for f in result.flags if f.severity == "error" and f.block in (None, 0, 1)]
    assert strip_tags(repairs[0].target) == "गुरुवार को फाइनल"
