"""Numbers written as words, ordinal words or Roman numerals.

The QA numbers check compares digits; engines also write "14th century" as
"siglo XIV", "3 children" as "tres hijos", "14th" as "चौदहवीं". These values let
the check count such renderings as the number, in either direction. English,
Spanish and Hindi words up to 99 (Hindi: 0–20 and the tens), hundreds and
thousands; the tables are the only place these words are listed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from samachar.translate.segment import WORD_CLASS

# Index = value. Spanish runs to 29: 21–29 are single words.
_UNITS = {
    "en": "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
    "diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis "
    "veintisiete veintiocho veintinueve",
    "hi": "शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस बीस",
}
# 20, 30, … 90 (Spanish and Hindi list 20 with the units).
_TENS = {
    "en": "twenty thirty forty fifty sixty seventy eighty ninety",
    "es": "- treinta cuarenta cincuenta sesenta setenta ochenta noventa",
    "hi": "- तीस चालीस पचास साठ सत्तर अस्सी नब्बे",
}
_OTHER = {
    "en": {"hundred": 100, "thousand": 1000},
    "es": {"cien": 100, "ciento": 100, "mil": 1000, "veintiún": 21, "veintiuna": 21, "doscientos": 200,
           "trescientos": 300, "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600, "setecientos": 700,
           "ochocientos": 800, "novecientos": 900},
    "hi": {"पांच": 5, "छः": 6, "छे": 6, "पन्द्रह": 15, "अट्ठारह": 18, "सौ": 100, "हज़ार": 1000, "हजार": 1000},
}
# Words worth 1 only inside a longer number ("treinta y un"): alone they are articles.
_ONLY_IN_RUNS = {"en": set(), "es": {"un", "una"}, "hi": {"एक"}}
_ORDINALS = {
    "en": "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth",
    # Stems: -o, -a, -os, -as follow (primer and tercer also stand alone).
    "es": "- primer segund tercer cuart quint sext séptim octav noven décim undécim duodécim decimotercer "
    "decimocuart decimoquint decimosext decimoséptim decimoctav decimonoven",
    "hi": "- पहल दूसर तीसर चौथ - छठ",  # + ा/ी/े; the rest are the cardinal + वाँ/वीं/वें
}
_ORDINAL_TENS = {
    "en": "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth",
    "es": "vigésim trigésim cuadragésim quincuagésim sexagésim septuagésim octogésim nonagésim",
}
_ENDINGS = {"es": ("", "o", "a", "os", "as"), "hi": ("ा", "ी", "े")}
_HINDI_ORDINAL_SUFFIXES = ("वाँ", "वां", "वीं", "वें", "वे", "वी", "वा")
CONNECTORS = {"en": {"and"}, "es": {"y"}, "hi": set()}
# Letters glued to digits that make an ordinal or a decade, not a run-together word ("21st", "14º", "14वीं").
ORDINAL_SUFFIXES = {
    "en": {"st", "nd", "rd", "th", "s"},
    "es": {"º", "ª", "o", "a", "os", "as", "er", "ro", "do", "to", "vo", "no", "mo"},
    "fr": {"e", "er", "re", "ème", "è"},
    "pt": {"º", "ª", "o", "a"},
    "hi": set(_HINDI_ORDINAL_SUFFIXES),
}

_ROMAN = re.compile(r"(?<!\w)(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?!\w)")
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
_WORD = re.compile(WORD_CLASS + "+")


def fold(word: str) -> str:
    """Lower case, Latin accents dropped ("dieciseis" = "dieciséis"), Devanagari composed one way."""
    nfd = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(ch for ch in nfd if not "\u0300" <= ch <= "\u036f"))


def _lang(lang: str) -> str:
    return (lang or "").split("-")[0].lower()


@cache
def _table(lang: str) -> dict[str, tuple[int, bool]]:
    """Folded word → (value, is an ordinal)."""
    table: dict[str, tuple[int, bool]] = {}
    for value, word in enumerate(_UNITS.get(lang, "").split()):
        table[fold(word)] = (value, False)
    for i, word in enumerate(_TENS.get(lang, "").split()):
        if word != "-":
            table[fold(word)] = (20 + 10 * i, False)
    for word, value in _OTHER.get(lang, {}).items():
        table[fold(word)] = (value, False)
    if lang == "es":
        for word, (value, _) in list(table.items()):
            if word.endswith("ientos"):
                table[word[:-2] + "as"] = (value, False)
    if lang == "hi":
        cardinals = dict(table)
        for word, (value, _) in cardinals.items():
            for suffix in _HINDI_ORDINAL_SUFFIXES:
                table[fold(word + suffix)] = (value, True)
    endings = _ENDINGS.get(lang, ("",))
    for value, stem in enumerate(_ORDINALS.get(lang, "").split()):
        if stem != "-":
            for ending in endings:
                table.setdefault(fold(stem + ending), (value, True))
    for i, stem in enumerate(_ORDINAL_TENS.get(lang, "").split()):
        for ending in endings:
            table.setdefault(fold(stem + ending), (20 + 10 * i, True))
    for word in _ONLY_IN_RUNS.get(lang, ()):
        table[fold(word)] = (1, False)
    if lang == "es":  # apocopes that are not words on their own: "segund", "cuart"…
        for stem in _ORDINALS["es"].split()[1:] + _ORDINAL_TENS["es"].split():
            if stem not in ("primer", "tercer", "decimotercer"):
                table.pop(fold(stem), None)
    return table


def word_value(word: str, lang: str) -> int | None:
    """The value of one number word (cardinal or ordinal) in ``lang``, else None."""
    entry = _table(_lang(lang)).get(fold(word))
    return entry[0] if entry else None


def roman_value(token: str) -> int | None:
    """A Roman numeral's value; single "I" (the pronoun) and one lower-case letter are not numerals."""
    if token.isupper():
        upper = token
    elif token.islower() and len(token) > 1:
        upper = token.upper()
    else:
        return None
    if upper == "I" or not _ROMAN.fullmatch(upper):
        return None
    total = 0
    for ch, nxt in zip(upper, upper[1:] + " ", strict=True):
        value = _ROMAN_VALUES[ch]
        total += -value if nxt != " " and _ROMAN_VALUES[nxt] > value else value
    return total


def word_numbers(text: str, lang: str) -> list[int]:
    """Values of the numbers ``text`` writes in words or Roman numerals: "twenty-one" is 21,
    "treinta y dos" 32, "siglo XIV" 14, "चौदहवीं" 14."""
    lang = _lang(lang)
    table = _table(lang)
    only_in_runs = {fold(w) for w in _ONLY_IN_RUNS.get(lang, ())}
    connectors = CONNECTORS.get(lang, set())
    values: list[int] = []
    run: list[tuple[int, str]] = []  # (value, folded word) of adjacent number words
    pending_connector = False
    last_end = 0
    for m in _WORD.finditer(text):
        word = fold(m.group(0))
        gap = text[last_end : m.start()]
        adjacent = bool(run) and re.fullmatch(r"[\s\-‐]*", gap) is not None
        last_end = m.end()
        entry = table.get(word)
        if entry is not None and (not run or adjacent):
            run.append((entry[0], word))
            pending_connector = False
            continue
        if run and adjacent and word in connectors and not pending_connector:
            pending_connector = True
            continue
        values.extend(_run_values(run, only_in_runs))
        run, pending_connector = [], False
        if entry is not None:
            run.append((entry[0], word))
            continue
        roman = roman_value(m.group(0))
        if roman is not None and not (len(m.group(0)) == 1 and text[m.end() : m.end() + 1] == "."):
            values.append(roman)  # (one letter and a full stop is an initial: "M. Ravichandran")
    values.extend(_run_values(run, only_in_runs))
    return values


def _run_values(run: list[tuple[int, str]], only_in_runs: set[str]) -> list[int]:
    """Adjacent number words as numbers: tens + unit and scales combine ("two hundred five" is 205),
    anything else starts a new number."""
    if len(run) == 1 and run[0][1] in only_in_runs:
        return []
    out: list[int] = []
    total, current, last = 0, None, None
    for value, _ in run:
        if value in (100, 1000):
            current = (current or 1) * value
            if value == 1000:
                total, current = total + current, 0
        elif current is not None and last is not None and (
            (20 <= last < 100 and last % 10 == 0 and value < 10) or (last in (100, 1000) and value < 100)
        ):
            current += value
        else:
            if current is not None or total:
                out.append(total + (current or 0))
            total, current = 0, value
        last = value
    if current is not None or total:
        out.append(total + (current or 0))
    return out
