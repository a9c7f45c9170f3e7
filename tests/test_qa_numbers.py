"""The numbers check counts ordinals, Roman numerals and number words as the number, and stays strict."""

from __future__ import annotations

import pytest

from samachar.translate.qa import check_segment


def number_flags(source: str, target: str, src: str = "en", tgt: str = "es") -> list[str]:
    return [f"{f.severity}: {f.message}" for f in check_segment(source, target, src, tgt) if f.check == "numbers"]


@pytest.mark.parametrize(
    ("source", "target", "tgt"),
    [
        ("The fort dates from the 14th century.", "El fuerte data del siglo XIV.", "es"),
        ("It is the defining issue of the 21st century.", "Es el gran tema del siglo XXI.", "es"),
        ("It dates from the 14th century.", "Data del siglo xiv.", "es"),
        ("It dates from the 14th century.", "यह चौदहवीं सदी का है।", "hi"),
        ("She finished 1st in the race.", "Terminó primera en la carrera.", "es"),
        ("She finished 1st in the race.", "वह दौड़ में पहली रही।", "hi"),
        ("The 3rd round starts today.", "La tercera ronda empieza hoy.", "es"),
        ("He has 3 children.", "Tiene tres hijos.", "es"),
        ("He has 3 children.", "उसके तीन बच्चे हैं।", "hi"),
        ("Costs rose by 40 crore.", "लागत चालीस करोड़ बढ़ी।", "hi"),
        ("21 people were hurt.", "Veintiuna personas resultaron heridas.", "es"),
        ("32 people were hurt.", "Treinta y dos personas resultaron heridas.", "es"),
        ("It took 15 days.", "Tardó quince días.", "es"),
        ("It dates from the 14th century.", "Data del siglo 14º.", "es"),
        ("It dates from the 14th century.", "यह 14वीं सदी का है।", "hi"),
        ("Kohli scored his 14th century.", "कोहली ने अपना 14वां शतक बनाया।", "hi"),
    ],
)
def test_a_number_written_another_way_is_not_missing(source, target, tgt):
    assert number_flags(source, target, "en", tgt) == []


@pytest.mark.parametrize(
    ("source", "target", "src", "tgt"),
    [
        ("Twenty-one people were hurt.", "21 personas resultaron heridas.", "en", "es"),
        ("He has three children.", "Tiene 3 hijos.", "en", "es"),
        ("Tiene tres hijos.", "He has 3 children.", "es", "en"),
        ("Veintiún heridos.", "21 injured.", "es", "en"),
        ("The third round starts today.", "La 3ª ronda empieza hoy.", "en", "es"),
        ("World War II ended in 1945.", "La 2ª Guerra Mundial terminó en 1945.", "en", "es"),
    ],
)
def test_a_word_in_the_source_written_as_digits_is_not_an_extra_number(source, target, src, tgt):
    assert number_flags(source, target, src, tgt) == []


@pytest.mark.parametrize(
    ("source", "target", "tgt", "severity"),
    [
        ("14 people were hurt.", "41 personas resultaron heridas.", "es", "error"),
        ("It dates from the 14th century.", "Data del siglo XV.", "es", "error"),
        ("It took 15 days.", "Tardó cinco días.", "es", "error"),
        ("He has 3 children.", "उसके चार बच्चे हैं।", "hi", "error"),
        ("He has three children.", "Tiene 4 hijos.", "es", "warning"),
        # An article is not the number one.
        ("Only 1 official came.", "Solo vino un funcionario.", "es", "error"),
        ("Only 1 official came.", "केवल एक अधिकारी आया।", "hi", "error"),
        # "I" is a pronoun and "M." an initial, not Roman numerals.
        ("Only 1 came.", "I came alone.", "en", "error"),
        ("He paid 1000 rupees to M. Ravichandran.", "Pagó rupias a M. Ravichandran.", "es", "error"),
    ],
)
def test_other_numbers_are_still_flagged(source, target, tgt, severity):
    flags = number_flags(source, target, "en", tgt)
    assert flags and flags[0].startswith(severity)
