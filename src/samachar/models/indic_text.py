"""IndicTrans2's text conventions: what a sentence must look like going in, and how to undo it coming out.

IndicTrans2 was trained on text that went through a fixed pipeline, and its
checkpoints only translate well when inference text goes through the same one
(AI4Bharat's ``inference/engine.py`` and IndicTransToolkit's ``IndicProcessor``
do this around every model call). Before SentencePiece:

1. punctuation normalised (curly quotes → ASCII, dashes → ``-``, no space before
   ``%``/``?``/``!``/``;``/``:``);
2. Indic digits (Devanagari, Bengali, Tamil…, Arabic-Indic, Ol Chiki, Meetei) → ASCII;
3. e-mail addresses, URLs, dates/times/decimals/ranges and @handles/#hashtags
   replaced by ``<ID1>``, ``<ID2>``… placeholders that the model copies;
4. English: Moses punctuation normalisation and tokenisation (``escape=False``);
   Indic: script normalisation, punctuation split off ("trivial" tokenisation),
   and every Brahmi-derived script rewritten in Devanagari (the models share
   one vocabulary across those scripts). Perso-Arabic (Urdu, Kashmiri, Sindhi),
   Ol Chiki (Santali), Meetei Mayek (Manipuri) and Latin stay as they are.

After decoding, the same steps backwards: placeholders restored, English
Moses-detokenised, Indic rewritten from Devanagari into the target's script and
its punctuation re-attached.

All functions are pure; ``sacremoses`` is imported on first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

# Unicode gives each Brahmi-derived script a 128-code-point block laid out in parallel:
# the same letter sits at the same offset in each block, so a script is converted by moving
# code points between blocks.
BLOCK_START = {
    "Deva": 0x0900, "Beng": 0x0980, "Guru": 0x0A00, "Gujr": 0x0A80, "Orya": 0x0B00,
    "Taml": 0x0B80, "Telu": 0x0C00, "Knda": 0x0C80, "Mlym": 0x0D00,
}
# Only letters, signs and digits (offsets 0x00–0x6F) are parallel; danda and double danda
# (0x64, 0x65) exist only in the Devanagari block and are shared by all these scripts.
PARALLEL_END = 0x6F
SHARED_OFFSETS = (0x64, 0x65)
# Scripts IndicTrans2 keeps as they are (no Devanagari unification).
KEPT_SCRIPTS = {"Latn", "Arab", "Aran", "Olck", "Mtei"}
DANDA_SCRIPTS = {"Deva", "Beng", "Guru", "Orya"}  # scripts whose normaliser turns '|' into '।'

# Tamil has no letters for voiced or aspirated stops: those collapse onto the plain
# stop of their row (क-row → க); ba/bha/pha → pa; sha → ssa (ஷ), as Tamil writes loanwords.
_TAMIL_ROW_STARTS = (0x15, 0x1A, 0x1F, 0x24)


def _tamil_offset(offset: int) -> int:
    for start in _TAMIL_ROW_STARTS:
        if start < offset < start + 4 and offset != 0x1C:  # ja (ஜ) exists in Tamil
            return start
    if offset in (0x2B, 0x2C, 0x2D):
        return 0x2A
    if offset == 0x36:
        return 0x37
    return offset


# Letters a block leaves out because the script writes them with another one: Bengali and
# Assamese write va as ব (ba).
_MISSING_LETTERS = {"Beng": {0x35: 0x2C}}


def script_of(flores: str) -> str:
    """``hin_Deva`` → ``Deva``."""
    return flores.partition("_")[2]


def is_unified(flores: str) -> bool:
    """Whether IndicTrans2 sees this language written in Devanagari."""
    return script_of(flores) in BLOCK_START


# -- digits and punctuation -----------------------------------------------------------------------

_DIGIT_ZEROS = (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
                0x1C50, 0xABF0)
ASCII_DIGITS = {zero + i: str(i) for zero in _DIGIT_ZEROS for i in range(10)}


def ascii_digits(text: str) -> str:
    """Native digits (०-९, ০-৯, ௦-௯, ٠-٩, ᱐-᱙, ꯰-꯹…) as ASCII: the models saw numbers only in ASCII."""
    return text.translate(ASCII_DIGITS)


_PUNCT_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"\r", ""),
    (r"\(\s+", "("),
    (r"\s+\)", ")"),
    (r"\s+([:;?!%])", r"\1"),
    (r"[`´‘’‚‛]", "'"),
    (r"[“”„‟«»]", '"'),
    (r"[–—]", "-"),
    (r"…", "..."),
    (r"\) ([.!:?;,])", r")\1"),
    (r"(\d)\u00a0(\d)", r"\1.\2"),
    (r" {2,}", " "),
))


def normalize_punctuation(text: str) -> str:
    """The punctuation spellings the training data was normalised to (Moses normalize-punctuation style)."""
    for pattern, replacement in _PUNCT_RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


# -- placeholders ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]'”’]"
    r"|(?<![\w@.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.(?:com|org|net|gov|edu|int|info|biz|io|ai|co|in|uk|us|news|tv|me|app|dev)"
    r"(?:\.[a-z]{2})?\b(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]'”’])?"
)
# Numbers with inner separators: dates (12/05/2024), times (10:30), decimals, lakh/thousand
# groups (1,20,000), ranges and percentages (2023-24, 5-7%). Short ones (under four digits)
# translate fine and are left alone.
_NUMERAL = re.compile(r"~?\d+(?:\.\d+)?\s?%?\s?-\s?~?\d+(?:\.\d+)?\s?%|\d+(?:[-/.,:'+]\d+)+%?")
_HANDLE = re.compile(r"(?<![\w@<])[A-Za-z0-9_.-]*[#@][^\W_][\w]*")
# What the model writes instead of copying a placeholder: the token itself with stray spaces or
# square brackets, or "ID" transliterated into the output script.
_ID_WORDS = ("ID", "आईडी", "आई. डी.", "आई . डी .", "आयडी", "आय. डी.", "आय . डी .", "ऐडि", "ऐटि", "आइडि",
             "آئی ڈی", "آی ڈی", "ꯑꯥꯏꯗꯤ", "ᱟᱭᱰᱤ")
_ID_NAME = "|".join(re.escape(w) for w in sorted(_ID_WORDS, key=len, reverse=True))
_TRANSLATED_ID_NAME = "|".join(re.escape(w) for w in sorted(_ID_WORDS[1:], key=len, reverse=True))
_PLACEHOLDER_OUT = re.compile(
    rf"[<\[]\s*(?:{_ID_NAME})\s*(\d+)\s*[>\]]"  # <ID1>, < ID1 >, [ID 1], <आईडी1>
    rf"|(?<![\w<\[])(?:{_TRANSLATED_ID_NAME})\s?(\d+)(?!\d)")  # आईडी 1


@dataclass
class Prepared:
    """A sentence ready for SentencePiece, and the spans hidden behind its placeholders."""

    text: str
    placeholders: dict[int, str] = field(default_factory=dict)


def wrap_placeholders(text: str) -> Prepared:
    """Hide e-mails, URLs, long numbers and handles behind ``<IDn>`` so the model copies them verbatim."""
    found: dict[str, int] = {}

    def hide(match: re.Match[str]) -> str:
        span = match.group(0)
        if pattern is _URL and len(span.replace(".", "")) < 4:
            return span
        if pattern is _NUMERAL and len(re.sub(r"[\s.:]", "", span)) < 4:
            return span
        number = found.setdefault(span, len(found) + 1)
        return f"<ID{number}>"

    for pattern in (_EMAIL, _URL, _NUMERAL, _HANDLE):
        text = pattern.sub(hide, text)
    return Prepared(" ".join(text.split()), {n: span for span, n in found.items()})


def restore_placeholders(text: str, placeholders: dict[int, str]) -> str:
    """Put the hidden spans back, also where the model spaced, bracketed or transliterated the token."""
    if not placeholders:
        return text

    def put_back(match: re.Match[str]) -> str:
        number = int(match.group(1) or match.group(2))
        return placeholders.get(number, match.group(0))

    return _PLACEHOLDER_OUT.sub(put_back, text)


# -- Indic normalisation and tokenisation ---------------------------------------------------------

_DROPPED = dict.fromkeys(map(ord, "\ufeff\ufffe\u2060\u00ad\u200c\u200d"))
_SPACES = {0x200B: " ", 0x00A0: " "}


@cache
def _nukta_decompositions() -> dict[int, str]:
    """Precomposed nukta letters (क़, ড়, ਖ਼…) as base + nukta, the form the vocabulary uses."""
    table = {}
    for start in BLOCK_START.values():
        nukta = chr(start + 0x3C)
        for code in range(start, start + 0x80):
            parts = unicodedata.decomposition(chr(code)).split()
            if len(parts) == 2 and chr(int(parts[1], 16)) == nukta:
                table[code] = chr(int(parts[0], 16)) + nukta
    return table


def normalize_indic(text: str, script: str) -> str:
    """Invisible characters out, one spelling per letter, '|' as danda, ':' after a Devanagari letter as visarga."""
    text = text.translate(_DROPPED).translate(_SPACES)
    if script in BLOCK_START:
        text = text.translate(_nukta_decompositions())
    if script in DANDA_SCRIPTS:
        text = text.replace("|", "\u0964")
    if script == "Deva":
        text = re.sub(r"([\u0900-\u097f]):", "\\1\u0903", text)
    return text


_ASCII_PUNCT = re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_INDIC_PUNCT = re.compile(rf"([{_ASCII_PUNCT}\u0964\u0965\uaaf0\uaaf1\uabeb-\uabef\u1c7e\u1c7f])")
_ARABIC_PUNCT = re.compile(rf"([{_ASCII_PUNCT}\u0609\u060a\u060c\u061e\u066a-\u066d\u06d4])")
_SPLIT_NUMBER = re.compile(r"\d+(?: [,.:/] \d+)+")


def tokenize_indic(text: str, script: str) -> str:
    """Punctuation as separate tokens; numbers such as ``1,20,000`` or ``10:30`` stay whole."""
    pattern = _ARABIC_PUNCT if script in ("Arab", "Aran") else _INDIC_PUNCT
    text = " ".join(pattern.sub(r" \1 ", text.replace("\t", " ")).split())
    if pattern is _INDIC_PUNCT:
        text = _SPLIT_NUMBER.sub(lambda m: m.group(0).replace(" ", ""), text)
    return text


_LEFT_ATTACHED = re.compile(r" ([!%)\]},.:;>?\u0964\u0965])")
_RIGHT_ATTACHED = re.compile(r"([#$(\[{<@]) ")
_BOTH_ATTACHED = re.compile(r" ([-/\\]) ")


def detokenize_indic(text: str) -> str:
    """Undo the trivial tokenisation: no space before ``।`` ``,`` ``.`` ``?`` ``)``, none after ``(``, quotes hug their text."""
    text = _SPLIT_NUMBER.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = _BOTH_ATTACHED.sub(r"\1", text)
    text = _LEFT_ATTACHED.sub(r"\1", text)
    text = _RIGHT_ATTACHED.sub(r"\1", text)
    for quote in "'\"`":
        pieces = text.split(quote)
        if len(pieces) == 1:
            continue
        out = pieces[0]
        for i, piece in enumerate(pieces[1:]):
            if i % 2 == 0:  # an opening quote takes the next word
                out = out + quote + piece.lstrip(" ")
            else:  # a closing one the previous
                out = out.rstrip(" ") + quote + piece
        text = out
    return text


# -- script unification ---------------------------------------------------------------------------

def to_devanagari(text: str, script: str) -> str:
    """Move a Brahmi-derived script's letters to the same places in the Devanagari block."""
    start = BLOCK_START.get(script)
    if start is None or start == BLOCK_START["Deva"]:
        return text
    shift = BLOCK_START["Deva"] - start
    out = []
    for c in text:
        offset = ord(c) - start
        out.append(chr(ord(c) + shift) if 0 <= offset <= PARALLEL_END and offset not in SHARED_OFFSETS else c)
    return "".join(out).replace(" \u094d ", "\u094d")


def from_devanagari(text: str, script: str) -> str:
    """Devanagari model output back into ``script``, where the target block has the letter.

    Tamil folds the stops it lacks onto the plain ones; Odia's य़ becomes ୟ (a
    letter of its own there, not ଯ + nukta). Letters a script lacks altogether
    stay in Devanagari rather than becoming unassigned code points.
    """
    start = BLOCK_START.get(script)
    if start is None or start == BLOCK_START["Deva"]:
        return text
    out = []
    for c in text:
        offset = ord(c) - BLOCK_START["Deva"]
        if not (0 <= offset <= PARALLEL_END) or offset in SHARED_OFFSETS:
            out.append(c)
            continue
        if script == "Taml":
            offset = _tamil_offset(offset)
        offset = _MISSING_LETTERS.get(script, {}).get(offset, offset)
        mapped = chr(start + offset)
        if unicodedata.category(mapped) != "Cn":
            out.append(mapped)
        elif offset != 0x3C:  # a nukta the script lacks is dropped, not left dangling
            out.append(c)
    converted = "".join(out)
    if script == "Orya":
        converted = converted.replace("\u0b2f\u0b3c", "\u0b5f")
    return converted


# -- English --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _moses() -> tuple[Any, Any, Any]:
    try:
        from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer
    except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
        raise ImportError("IndicTrans2 models need sacremoses (pip install sacremoses)") from exc
    return MosesPunctNormalizer(lang="en"), MosesTokenizer(lang="en"), MosesDetokenizer(lang="en")


def tokenize_english(text: str) -> str:
    normalizer, tokenizer, _ = _moses()
    return " ".join(tokenizer.tokenize(normalizer.normalize(text), escape=False))


def detokenize_english(text: str) -> str:
    return _moses()[2].detokenize(text.split())


# -- the whole pipeline ---------------------------------------------------------------------------

def preprocess(text: str, source: str) -> Prepared:
    """A sentence in FLORES language ``source`` (``hin_Deva``) as IndicTrans2 expects it, before SentencePiece."""
    prepared = wrap_placeholders(ascii_digits(normalize_punctuation(text)))
    script = script_of(source)
    if source == "eng_Latn" or script == "Latn":
        prepared.text = tokenize_english(prepared.text)
        return prepared
    tokens = tokenize_indic(normalize_indic(prepared.text, script), script)
    prepared.text = to_devanagari(tokens, script) if is_unified(source) else tokens
    return prepared


def postprocess(text: str, target: str, placeholders: dict[int, str] | None = None) -> str:
    """Decoded model output (SentencePiece already undone) as plain text in ``target``'s script."""
    script = script_of(target)
    if script in ("Arab", "Aran"):
        text = re.sub(r" ([\u061f\u06d4\u060c])", r"\1", text)
        text = text.replace("\u066e\u06ea", "\u0620")  # Kashmiri palatalised yeh, split by the tokenizer
    text = restore_placeholders(text, placeholders or {})
    if target == "eng_Latn" or script == "Latn":
        return detokenize_english(text)
    if is_unified(target):
        text = from_devanagari(text, script)
    return detokenize_indic(text)
