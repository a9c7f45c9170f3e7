"""Automatic checks on each translated segment.

Each check looks at one source segment and its translation (plain text, tags
already restored) and returns :class:`~samachar.model.Flag` objects. ``error``
flags hold an article for review; ``warning`` flags are shown to reviewers.
Checks that translate-toolkit's pofilter already does well (brackets, URLs,
e-mail addresses) are delegated to :mod:`translate.filters.checks`.

Checks here: numbers (separators, Devanagari and other digits and Indian
lakh grouping normalised), quotation marks, untranslated output (identical to
the source, or still in the source's script), length ratio outside the pair's
band, truncation, sentence count, repetition loops. Tags, names and the
glossary are checked where they are repaired (:mod:`.markup`, :mod:`.names`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from samachar.model import Flag
from samachar.translate.segment import CLOSERS, TERMINALS, WORD_CLASS, count_sentences

NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f\u2009']\d+)*")
DOUBLE_QUOTES = "“”„«»\""
WORDS = re.compile(WORD_CLASS + "+")

# Usual length of a translation relative to its source, per pair; outside → warning.
LENGTH_BANDS: dict[tuple[str, str], tuple[float, float]] = {
    ("en", "hi"): (0.7, 2.2),
    ("en", "es"): (0.7, 1.9),
    ("es", "en"): (0.5, 1.4),
    ("hi", "en"): (0.4, 1.5),
}
DEFAULT_BAND = (0.45, 2.4)
MIN_LENGTH_FOR_RATIO = 30

SCRIPTS = {
    "Latin": ("en", "es", "fr", "de", "pt", "it", "ca", "gl", "nl", "ro", "eo", "oc", "id", "tr", "vi", "sw"),
    "Devanagari": ("hi", "mr", "ne", "sa"),
    "Bengali": ("bn", "as"),
    "Gurmukhi": ("pa",),
    "Gujarati": ("gu",),
    "Tamil": ("ta",),
    "Telugu": ("te",),
    "Kannada": ("kn",),
    "Malayalam": ("ml",),
    "Oriya": ("or",),
    "Arabic": ("ar", "ur", "fa", "ps"),
    "Cyrillic": ("ru", "uk", "bg", "sr"),
    "Greek": ("el",),
    "Hebrew": ("he",),
}
LANG_SCRIPT = {lang: script for script, langs in SCRIPTS.items() for lang in langs}


def flag(check: str, severity: str, source: str, target: str, message: str) -> Flag:
    return Flag(check=check, severity=severity, source=source, target=target, message=message)


def numbers(text: str) -> list[str]:
    """Numbers as digit strings: any digits to ASCII, grouping and decimal marks removed,
    so ``1,20,000``, ``120,000`` and ``१,२०,०००`` are all ``120000``."""
    found = []
    for m in NUMBER.finditer(text):
        digits = "".join(str(unicodedata.digit(ch)) for ch in m.group(0) if ch.isdigit())
        found.append(digits)
    return found


@cache
def script_of(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    first = name.split(" ")[0]
    if first in ("LATIN",):
        return "Latin"
    if first == "DEVANAGARI":
        return "Devanagari"
    if first == "BENGALI":
        return "Bengali"
    if first == "GURMUKHI":
        return "Gurmukhi"
    if first in ("ARABIC",):
        return "Arabic"
    if first == "CYRILLIC":
        return "Cyrillic"
    return first.title()


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip().rstrip(CLOSERS + " ")
    return bool(stripped) and stripped[-1] in TERMINALS + ":;"


def _loop(tokens: list[str]) -> str | None:
    """An n-gram (n ≤ 4) repeated three or more times in a row."""
    for n in range(1, 5):
        for i in range(0, len(tokens) - 3 * n + 1):
            gram = tokens[i : i + n]
            if tokens[i + n : i + 2 * n] == gram and tokens[i + 2 * n : i + 3 * n] == gram:
                return " ".join(gram)
    return None


@cache
def _pofilter():  # noqa: ANN202 - translate-toolkit's checker object
    from translate.filters import checks

    return checks.StandardChecker()


def check_segment(source: str, target: str, source_lang: str, target_lang: str) -> list[Flag]:
    """All per-segment checks on plain ``source`` and ``target``."""
    flags: list[Flag] = []
    src, tgt = source.strip(), target.strip()
    if not src:
        return flags
    if not tgt:
        return [flag("empty", "error", src, tgt, "the translation is empty")]

    # Numbers: every source number must be in the translation.
    src_numbers, tgt_numbers = numbers(src), numbers(tgt)
    missing = list(src_numbers)
    extra = []
    for n in tgt_numbers:
        if n in missing:
            missing.remove(n)
        else:
            extra.append(n)
    if missing:
        flags.append(flag("numbers", "error", src, tgt, f"numbers missing from the translation: {', '.join(missing)}"))
    elif extra:
        flags.append(flag("numbers", "warning", src, tgt, f"numbers not in the source: {', '.join(extra)}"))

    # Quotation marks.
    sq = sum(src.count(q) for q in DOUBLE_QUOTES)
    tq = sum(tgt.count(q) for q in DOUBLE_QUOTES)
    if sq != tq:
        flags.append(flag("quotes", "error", src, tgt, f"{sq} quotation marks in the source, {tq} in the translation"))

    # Brackets, URLs, e-mail addresses: translate-toolkit's pofilter.
    checker = _pofilter()
    for name in ("brackets", "urls", "emails"):
        try:
            getattr(checker, name)(src, tgt)
        except Exception as exc:  # FilterFailure and its kin
            flags.append(flag(name, "warning", src, tgt, str(exc) or name))

    # Untranslated.
    words = WORDS.findall(src)
    if source_lang != target_lang and sum(1 for w in words if any(c.isalpha() for c in w)) >= 3:
        if _fold(src) == _fold(tgt):
            flags.append(flag("untranslated", "error", src, tgt, "the translation is identical to the source"))
        else:
            src_script = LANG_SCRIPT.get(source_lang)
            tgt_script = LANG_SCRIPT.get(target_lang)
            if src_script and tgt_script and src_script != tgt_script:
                letters = [script_of(c) for c in tgt if c.isalpha()]
                if letters and sum(1 for s in letters if s == src_script) / len(letters) > 0.5:
                    flags.append(flag("untranslated", "error", src, tgt, f"the translation is mostly in {src_script} script"))

    # Length ratio and truncation.
    if len(src) >= MIN_LENGTH_FOR_RATIO:
        low, high = LENGTH_BANDS.get((source_lang, target_lang), DEFAULT_BAND)
        ratio = len(tgt) / len(src)
        if ratio < low or ratio > high:
            flags.append(flag("length", "warning", src, tgt, f"translation is {ratio:.2f}× the source length (usual {low}–{high})"))
    if _ends_sentence(src) and not _ends_sentence(tgt):
        flags.append(flag("truncated", "error", src, tgt, "the source ends a sentence, the translation stops short"))

    # Sentence count.
    ns, nt = count_sentences(src, source_lang), count_sentences(tgt, target_lang)
    if ns != nt:
        flags.append(flag("sentences", "warning", src, tgt, f"{ns} sentence(s) in the source, {nt} in the translation"))

    # Repetition loops (a neural engine stuck on a phrase).
    loop = _loop([w.lower() for w in WORDS.findall(tgt)])
    if loop and not _loop([w.lower() for w in WORDS.findall(src)]):
        flags.append(flag("repetition", "error", src, tgt, f"'{loop}' repeats in a loop"))
    return flags


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
