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
from functools import cache, lru_cache
from itertools import chain

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
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f](?<=\d)")  # a decimal digit outside ASCII
_DEVANAGARI_BLOCK = re.compile(r"[\u0900-\u097f]")
_GROUPED = re.compile(r"(\d)[,\u066c](?=\d)")  # 1,200 and 1,20,000: separators inside a number
_WORD = re.compile(rf"\d+(?:\.\d+)?|{WORD_CLASS}+")
_ASCII_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z0-9_]+")


def fold(text: str) -> str:
    """Case, accents, digits and Devanagari variants folded; punctuation kept for :func:`words` to drop.

    Each step runs only where a quick search says it has something to do: most text needs few of them.
    """
    if _GROUPED.search(text):
        text = _GROUPED.sub(r"\1", text)
    if text.isascii():
        return text.casefold()
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    decomposed = not unicodedata.is_normalized("NFKD", text)
    if decomposed:
        text = unicodedata.normalize("NFKD", text)
    if _MARKS.search(text):  # accents go whether they came composed or not (a token folds as its text would)
        text = _MARKS.sub("", text)
        decomposed = True
    if decomposed:
        text = unicodedata.normalize("NFC", text)
    if _OTHER_DIGIT.search(text):
        text = text.translate(_digit_table())
    if _DEVANAGARI_BLOCK.search(text):
        text = text.translate(_DEVANAGARI)
    return text.casefold()


def _token_words(token: str) -> tuple[str, ...]:
    """The folded words of one whitespace-separated token (folding never joins or splits across spaces)."""
    folded = fold(token)
    found = (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)
    return tuple(w.strip("_") for w in found if w.strip("_")) if "_" in folded else tuple(found)


@lru_cache(maxsize=32)  # the index and the similarity both split each body: once is enough
def words(text: str) -> tuple[str, ...]:
    """The folded words of ``text``; numbers stay whole (``3.5``, ``120000``).

    Folded token by token, each token once: texts share most of their tokens, so a look-up per token
    replaces the Unicode normalisation and the word expression over the whole text.
    """
    tokens = text.split()
    known = _TOKENS
    found = list(map(known.get, tokens))
    if None in found:
        if len(known) + len(tokens) >= _MAX_TOKENS:
            known.clear()
        known.update((token, _token_words(token)) for token in set(tokens).difference(known))
        found = list(map(known.__getitem__, tokens))
    return tuple(chain.from_iterable(found))  # type: ignore[arg-type]  # every token is split now


@lru_cache(maxsize=32)
def word_hashes(text: str) -> tuple[int, ...]:
    """A stable 32-bit hash (CRC-32) of each of :func:`words` of ``text``: shingles and features share them."""
    found = words(text)
    hashes = list(map(_TERMS.get, found))  # most words were seen before: one C-level pass looks them up
    if None in hashes:
        if len(_TERMS) + len(found) >= _MAX_TERMS:
            _TERMS.clear()
        _TERMS.update((w, zlib.crc32(w.encode())) for w in set(found).difference(_TERMS))
        hashes = list(map(_TERMS.get, found))
    return tuple(hashes)  # type: ignore[arg-type]  # every word is known now


def term(word: str) -> int:
    """The hash of one folded word or name, as :func:`word_hashes` gives it (remembered: words recur)."""
    found = _TERMS.get(word)
    if found is None and " " in word:
        return zlib.crc32(word.encode())  # names and figures vary without end: hashed, not remembered
    if found is None:
        if len(_TERMS) >= _MAX_TERMS:
            _TERMS.clear()
        found = _TERMS[word] = zlib.crc32(word.encode())
    return found


_TERMS: dict[str, int] = {}
_MAX_TERMS = 500_000  # words remembered, at most (names and figures, which vary without end, are not)
_TOKENS: dict[str, tuple[str, ...]] = {}  # a whitespace-separated token → its folded words
_MAX_TOKENS = 300_000  # tokens remembered, at most
