"""One normal form for matching text across outlets: what two spellings of one word have in common.

Outlets write the same word differently: case, curly quotes, ``1,200`` against ``1200``, Devanagari
digits against ASCII ones, ``क़`` with a nukta or without, chandrabindu where another writes anusvara,
a zero-width joiner here and not there. :func:`fold` maps all of these to one form; :func:`words`
splits folded text into the words the similarity and the shingles are made of.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache

from samachar.translate.segment import WORD_CLASS

_NUKTA = "\u093c"
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")  # ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen
_DEVANAGARI = {
    0x0901: "\u0902",  # chandrabindu → anusvara: ँ and ं are spelling variants of one nasal
    ord(_NUKTA): None,  # क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ and क ख ग ज ड ढ फ य are written both ways
    0x0964: " ", 0x0965: " ",  # danda, double danda
}


@cache
def _digit_table() -> dict[int, int]:
    """Every decimal digit of every script (Devanagari ०–९ included) as its ASCII digit."""
    return {code: ord(str(unicodedata.digit(chr(code)))) for code in range(0x80, 0x20000)
            if unicodedata.category(chr(code)) == "Nd"}


_MARKS = re.compile(r"[\u0300-\u036f]")
_DEVANAGARI_BLOCK = re.compile(r"[\u0900-\u097f]")
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f](?<=\d)")  # a decimal digit outside ASCII
# What fold has more to do for than case in NFKD text, besides such digits: an invisible character, a combining
# accent, Devanagari.
_SPECIAL = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad\u0300-\u036f\u0900-\u097f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_RUNS: dict[str, str] = {}  # a run of characters outside ASCII → folded
_MAX_RUNS = 200_000  # runs remembered, at most
_LONGEST_RUN = 40  # characters of a run remembered, at most (memory stays within a few tens of MB)
_GROUPED = re.compile(r"(\d)[,\u066c](?=\d)")  # 1,200 and 1,20,000: separators inside a number
_WORD = re.compile(rf"\d+(?:\.\d+)?|{WORD_CLASS}+")
_ASCII_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z0-9_]+")


def fold(text: str) -> str:
    """Case, accents, digits and Devanagari variants folded; punctuation kept for :func:`words` to drop.

    Only the runs of characters outside ASCII need more than case, each folded once (runs recur: curly
    quotes, dashes, accented names, the words of a script): the other steps see those runs alone. Folding
    a run alone gives what folding it in its text gives, as no step joins a run to the ASCII around it.
    """
    text = _GROUPED.sub(r"\1", text)
    if text.isascii():
        return text.casefold()
    return _NON_ASCII.sub(_folded_run, text).casefold()


def _folded_run(match: re.Match[str]) -> str:
    run = match.group()
    folded = _RUNS.get(run)
    if folded is None:
        folded = _fold_steps(run)
        if len(run) <= _LONGEST_RUN:  # a word, a mark, a name; not a line of a script written without spaces
            if len(_RUNS) >= _MAX_RUNS:
                _RUNS.clear()
            _RUNS[run] = folded
    return folded


def _fold_steps(text: str) -> str:
    """Folding's steps, each where a quick search says it has something to do."""
    if unicodedata.is_normalized("NFKD", text):
        if not _SPECIAL.search(text) and not _OTHER_DIGIT.search(text) and unicodedata.is_normalized("NFC", text):
            return text.casefold()  # curly quotes and dashes need nothing more
    else:
        text = unicodedata.normalize("NFKD", text)
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    if _MARKS.search(text):  # accents go whether they came composed or not
        text = _MARKS.sub("", text)
    if not unicodedata.is_normalized("NFC", text):  # what decomposing split and is not an accent, whole again
        text = unicodedata.normalize("NFC", text)
    if _OTHER_DIGIT.search(text):
        text = text.translate(_digit_table())
    if _DEVANAGARI_BLOCK.search(text):
        text = text.translate(_DEVANAGARI)
    return text.casefold()


@lru_cache(maxsize=32)  # the index and the similarity both split each body: once is enough
def split(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The folded words of ``text`` (numbers stay whole: ``3.5``, ``120000``) and a stable 32-bit hash
    (CRC-32, as :func:`term` gives it) of each, which shingles and features share.

    The text is folded whole and split by one expression, each word hashed afresh: C-level passes over
    new strings, which stay fast in a process whose caches the index keeps busy (a look-up per token in
    a table of every token seen was twice as slow there).
    """
    folded = fold(text)
    found = (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)
    if "_" in folded:  # the word expressions take the underscore as a letter; it is not one
        found = [w.strip("_") for w in found if w.strip("_")]
    return tuple(found), tuple(hashes(found))


def words(text: str) -> tuple[str, ...]:
    """The folded words of ``text`` (see :func:`split`)."""
    return split(text)[0]


def word_hashes(text: str) -> tuple[int, ...]:
    """The hash of each of :func:`words` of ``text``, as :func:`term` gives it (see :func:`split`)."""
    return split(text)[1]


def term(word: str) -> int:
    """The hash of one folded word or name: CRC-32 of its UTF-8 (stored features depend on it)."""
    return zlib.crc32(word.encode())


def hashes(found: Iterable[str]) -> Iterator[int]:
    """:func:`term` of each word or name, computed in C rather than one call each."""
    return map(zlib.crc32, map(str.encode, found))
