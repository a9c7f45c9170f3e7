"""Automatic checks on each translated segment.

Each check looks at one source segment and its translation (plain text, tags
already restored) and returns :class:`~samachar.model.Flag` objects. ``error``
flags hold an article for review; ``warning`` flags are shown to reviewers.
Checks that translate-toolkit's pofilter already does well (brackets, URLs,
e-mail addresses) are delegated to :mod:`translate.filters.checks`.

Checks here: numbers (separators, Devanagari and other digits and Indian
lakh grouping normalised; ordinals, Roman numerals and number words count,
see :mod:`.numerals`), quotation marks, untranslated output (identical to the
source, or still in the source's script), length ratio outside the pair's
band, truncation, sentence count, repetition loops, words run together. Tags,
names and the glossary are checked where they are repaired (:mod:`.markup`,
:mod:`.names`).

:func:`repair_segment` mends what can be mended on the tagged translation,
whatever the engine: end punctuation matched to the source (a fragment gains
no full stop or danda, a sentence keeps one) and words run together split
where the source shows the split. Each repair is a warning for reviewers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from samachar.model import Flag
from samachar.translate.markup import TAG_RE, strip_tags
from samachar.translate.numerals import ORDINAL_SUFFIXES, fold, word_numbers, word_value
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
    # A number may be written as an ordinal or number word, or a Roman numeral, on the other side.
    missing = _unmatched(missing, word_numbers(tgt, target_lang))
    extra = _unmatched(extra, word_numbers(src, source_lang))
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

    # Words run together that the source cannot show how to split (the rest :func:`repair_segment` splits).
    for fusion in fused_words(src, tgt, source_lang, target_lang):
        if fusion.doubt:
            flags.append(flag("fused_words", "warning", src, tgt, fusion.doubt))
    return flags


def _unmatched(digit_numbers: list[str], values: list[int]) -> list[str]:
    """``digit_numbers`` less those the other side writes in words (``values``), each word used once."""
    left = list(values)
    out = []
    for n in digit_numbers:
        if int(n) in left:
            left.remove(int(n))
        else:
            out.append(n)
    return out


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


# --- End punctuation -----------------------------------------------------------------------------

# Sentence-final marks of any language: the segmenter's, plus CJK and Arabic ones.
END_MARKS = TERMINALS + "。！？؟"
FULL_STOP = {"hi": "।", "mr": "।", "ne": "।", "sa": "।", "zh": "。", "ja": "。"}
_KEEPS_KIND = {"?": "?", "？": "?", "؟": "?", "!": "!", "！": "!", "…": "…"}
# A source ending in one of these is neither a fragment nor a closed sentence: left alone.
_OTHER_ENDS = ":;,"
_TAIL = re.compile(rf"(?:\s|{TAG_RE.pattern}|[{re.escape(CLOSERS)}])*\Z")


def _split_tail(text: str) -> tuple[str, str]:
    """``text`` as its body and its tail: the closing quotes, brackets, tags and spaces at the end."""
    start = _TAIL.search(text).start()  # type: ignore[union-attr]
    return text[:start], text[start:]


def repair_punctuation(source: str, target: str, target_lang: str) -> tuple[str, str | None]:
    """``target`` ending as ``source`` does: a fragment ("Relief camps: 312") loses the full stop or
    danda an engine closed it with, a sentence that lost its end mark gets the target language's.
    Works on plain or tagged text; closing tags and quotes stay in place. Returns the text and a
    note on the repair, or None."""
    src_body, src_tail = _split_tail(source)
    body, tail = _split_tail(target)
    if not src_body or not body:
        return target, None
    src_end, end = src_body[-1], body[-1]
    if src_end in END_MARKS:
        if end in END_MARKS or end == "|" or unicodedata.category(end).startswith("P"):
            return target, None  # ("|": a danda typed as a bar)
        mark = _KEEPS_KIND.get(src_end, FULL_STOP.get(target_lang.split("-")[0], "."))
        if src_tail.strip():  # the source's mark sits inside its closing quote or tag: so does ours
            return body + mark + tail, f"added '{mark}': the source ends a sentence"
        return target.rstrip() + mark, f"added '{mark}': the source ends a sentence"
    if src_end in _OTHER_ENDS or end not in END_MARKS:
        return target, None
    if (end in "?？" and "¿" in body) or (end in "!！" and "¡" in body):
        return target, None  # an opened Spanish question or exclamation is the engine's choice
    if re.search(r"[^\W\d_]\.[^\W\d_]+\.\Z", body):
        return target, None  # the full stop of a dotted abbreviation ("p.m.", "EE.UU.")
    stripped = re.sub(rf"\s*[{re.escape(END_MARKS)}]+\Z", "", body)
    if not stripped.strip():
        return target, None
    return stripped + tail, f"removed '{body[len(stripped):].strip()}': the source has no end punctuation"


def repair_segment(source: str, target: str, source_lang: str, target_lang: str) -> tuple[str, list[Flag]]:
    """``target`` (tagged, as the engine's answer after tag repair) with words run together split
    where the source shows the split, and end punctuation matched to the source's. A warning for
    each repair, so reviewers see what samachar changed."""
    src_plain = strip_tags(source)
    text = target
    notes: list[tuple[str, str]] = []  # (check, message)
    for fusion in fused_words(src_plain, strip_tags(target), source_lang, target_lang):
        if fusion.fixed is None:
            continue
        pattern = re.compile(rf"(?<!{WORD_CLASS}){re.escape(fusion.token)}(?!{WORD_CLASS})")
        repaired = pattern.sub(lambda _m, fixed=fusion.fixed: fixed, text)
        if repaired == text:  # markup inside the token
            notes.append(("fused_words", f"'{fusion.token}' runs words together (markup inside it, not repaired)"))
        else:
            text = repaired
            notes.append(("fused_words", f"repaired run-together words: '{fusion.token}' → '{fusion.fixed}'"))
    text, note = repair_punctuation(source, text, target_lang)
    if note:
        notes.append(("punctuation", note))
    plain = strip_tags(text)
    return text, [flag(check, "warning", src_plain, plain, message) for check, message in notes]


# --- Words run together --------------------------------------------------------------------------

# Short words an engine glues to the next one ("de21", "conPutin"); pieces, never whole-word matches.
FUNCTION_WORDS = {
    "en": {"of", "the", "in", "on", "at", "to", "for", "with", "by", "from", "and", "an"},
    "es": {"de", "del", "la", "el", "los", "las", "en", "con", "por", "para", "un", "una", "al", "sin", "su", "sus"},
    "fr": {"de", "du", "des", "le", "la", "les", "en", "au", "aux", "un", "une", "avec", "pour", "par", "sur", "dans"},
    "pt": {"de", "do", "da", "dos", "das", "em", "no", "na", "com", "por", "para", "um", "uma", "ao"},
}
# How a language links a noun to a number that qualified it ("21-year-old person" → "persona de 21 años");
# engines glue it to the noun ("personade21años").
LINKERS = {"es": "de", "pt": "de", "fr": "de", "ca": "de", "gl": "de", "it": "di"}
# Languages that write compounds as one word: a long word there is normal.
COMPOUNDING = {"de", "nl", "sv", "da", "nb", "nn", "no", "fi", "et", "hu", "is", "tr"}
LONG_WORD = 18  # letters; and this many more than the source's longest word:
LONGER_THAN_SOURCE = 5
_LINKISH = re.compile(r"://|^www\.|@|^#|[^\W\d_]\.[^\W\d_]|/")


@dataclass(frozen=True)
class Fusion:
    """A token of the translation that runs words together."""

    token: str
    fixed: str | None  # the token with its spaces back, where the source shows where
    doubt: str | None = None  # what still looks run together, for a warning


def _letter(ch: str) -> bool:
    """A letter or a combining mark (Devanagari vowel signs and viramas are marks)."""
    return ch.isalpha() or unicodedata.category(ch).startswith("M")


def _letters(text: str, pos: int, step: int) -> str:
    """The run of letters of ``text`` from ``pos`` on, rightwards (``step`` 1) or leftwards (-1)."""
    i = pos
    while 0 <= i < len(text) and _letter(text[i]):
        i += step
    return text[pos:i] if step > 0 else text[i + 1 : pos + 1]


def _core(token: str) -> str:
    """A whitespace token without the punctuation and symbols around it."""
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(token[end - 1])[0] in "PS":
        end -= 1
    return token[start:end]


def _glued(text: str, pos: int, step: int) -> bool:
    """Whether the character at ``pos`` (beside a number, ``step`` away from it) glues it to a word:
    a letter does, and so does a hyphen to a word that is not all lower case ("COVID-19", "U-17";
    not "21-year-old")."""
    if not 0 <= pos < len(text):
        return False
    ch = text[pos]
    if _letter(ch):
        return True
    if ch in "-‐‑":
        word = _letters(text, pos + step, step)
        return bool(word) and not word.islower()
    return False


def _source_sides(source: str) -> dict[str, tuple[bool, bool]]:
    """For each number of the source (as digits): whether it is glued to a word on its left and on its right,
    in any of its occurrences."""
    sides: dict[str, tuple[bool, bool]] = {}
    for m in NUMBER.finditer(source):
        (digits,) = numbers(m.group(0))
        left, right = sides.get(digits, (False, False))
        sides[digits] = (left or _glued(source, m.start() - 1, -1), right or _glued(source, m.end(), 1))
    return sides


_COMPOUND = re.compile(rf"({NUMBER.pattern}|[^\W\d_]+)(?:[^\W\d_]{{1,2}})?[-‐‑](?=[^\W\d_])")


def _compound_values(source: str, source_lang: str) -> set[int]:
    """Values of the numbers that open a hyphenated compound in the source ("21-year-old", "23rd-minute",
    "four-hour"): their translation puts a linking word before the number, which engines glue to the noun."""
    values = set()
    for m in _COMPOUND.finditer(source):
        after = source[m.end() :]
        if not after[:1].islower():
            continue
        digits = numbers(m.group(1))
        value = int(digits[0]) if digits else word_value(m.group(1), source_lang)
        if value is not None:
            values.add(value)
    return values


@dataclass
class _Context:
    """What a translation's tokens are judged against."""

    target_lang: str
    linker: str | None
    function_words: set[str]
    source_tokens: set[str]  # cores, as written
    source_words: set[str]  # folded letter words of 4+ letters
    target_words: set[str]  # folded standalone words of the translation, 4+ letters
    wanted: set[int]  # number values of the source the translation writes nowhere on its own
    sides: dict[str, tuple[bool, bool]]
    compounds: set[int]  # values of source numbers that open a hyphenated compound
    longest_source_word: int

    def kind(self, piece: str) -> str | None:
        """F: a function word; N: a number word, "N!" when it renders a source number found nowhere
        else; S: a source word; W: a word the translation has on its own."""
        folded = fold(piece)
        if folded in self.function_words:
            return "F"
        value = word_value(piece, self.target_lang)
        if value is not None:
            return "N!" if value in self.wanted else "N"
        if folded in self.source_words:
            return "S"
        if folded in self.target_words:
            return "W"
        return None


def _context(source: str, target: str, source_lang: str, target_lang: str) -> _Context:
    lang = target_lang.split("-")[0]
    source_cores = [_core(t) for t in source.split()]
    source_words = {fold(w) for w in WORDS.findall(source) if len(w) >= 4 and all(_letter(c) for c in w)}
    target_words = {fold(w) for w in (_core(t) for t in target.split()) if len(w) >= 4 and all(_letter(c) for c in w)}
    source_values = {int(n) for n in numbers(source)} | set(word_numbers(source, source_lang))
    target_values = {int(n) for n in numbers(target)} | set(word_numbers(target, target_lang))
    return _Context(
        target_lang=lang,
        linker=LINKERS.get(lang),
        function_words=FUNCTION_WORDS.get(lang, set()),
        source_tokens=set(source_cores),
        source_words=source_words,
        target_words=target_words,
        wanted=source_values - target_values,
        sides=_source_sides(source),
        compounds=_compound_values(source, source_lang),
        longest_source_word=max((len(w) for w in WORDS.findall(source)), default=0),
    )


def fused_words(source: str, target: str, source_lang: str, target_lang: str) -> list[Fusion]:
    """Tokens of plain ``target`` that run words together where ``source`` has them apart: letters glued
    to a source number ("personade21años"), a word glued to a source word or name ("conPutin",
    "debatedecuatro"), and words unusually long for the language. Links, e-mail addresses, hashtags and
    tokens written so in the source ("G20", "COVID-19", "YouTube") are never fused."""
    ctx = _context(source, target, source_lang, target_lang)
    found: dict[str, Fusion] = {}
    for raw in target.split():
        token = _core(raw)
        if token in found or not token or token in ctx.source_tokens or _LINKISH.search(raw):
            continue
        fusion = _fusion(token, ctx)
        if fusion is not None:
            found[token] = fusion
    return list(found.values())


def _fusion(token: str, ctx: _Context) -> Fusion | None:
    spaced, doubts = _split_numbers(token, ctx)
    chunks = [_split_letters(chunk, ctx, doubts) if all(_letter(c) for c in chunk) else chunk
              for chunk in spaced.split(" ")]
    fixed = " ".join(chunks)
    if fixed == token and not doubts:
        return None
    doubt = "; ".join(f"'{d}' may run words together" for d in doubts) or None
    return Fusion(token, fixed if fixed != token else None, doubt)


def _split_numbers(token: str, ctx: _Context) -> tuple[str, list[str]]:
    """Spaces put between a source number and the letters glued to it, on each side where the
    source has it apart; ordinal and decade endings ("21st", "14º", "14वीं") stay. The linking word
    glued to the noun before it is split off too when the source made the number part of a compound
    ("21-year-old": "personade21años" → "persona de 21 años"); any other letters before it that end
    in a function word go to the doubts."""
    out: list[str] = []
    doubts: list[str] = []
    pos = 0
    suffixes = {fold(x) for x in ORDINAL_SUFFIXES.get(ctx.target_lang, set()) | ORDINAL_SUFFIXES["en"] | {"º", "ª"}}
    for m in NUMBER.finditer(token):
        (digits,) = numbers(m.group(0))
        if digits not in ctx.sides:
            continue
        src_left, src_right = ctx.sides[digits]
        before = token[pos : m.start()]
        word = _letters(before, len(before) - 1, -1)  # glued on the left
        suffix = _letters(token, m.end(), 1)  # glued on the right
        split_left = bool(word) and not src_left
        split_right = bool(suffix) and not src_right and fold(suffix) not in suffixes
        if split_left:
            unlinked = _unlink(word, ctx) if int(digits) in ctx.compounds else None
            if unlinked:
                before = before[: len(before) - len(word)] + unlinked
            elif _ends_in_function_word(word, ctx):
                doubts.append(word)
        out.append(before + (" " if split_left else "") + m.group(0) + (" " if split_right else ""))
        pos = m.end()
    out.append(token[pos:])
    return "".join(out), doubts


def _unlink(word: str, ctx: _Context) -> str | None:
    """``word`` with the language's linking word at its end split off ("personade" → "persona de"), if it has one."""
    linker = ctx.linker
    if not linker or not word.lower().endswith(linker) or len(word) - len(linker) < 3 or ctx.kind(word):
        return None
    return word[: -len(linker)] + " " + word[-len(linker) :]


def _ends_in_function_word(word: str, ctx: _Context) -> bool:
    folded = fold(word)
    if ctx.kind(word) is not None:
        return False
    return any(folded.endswith(f) and len(folded) - len(f) >= 3 for f in ctx.function_words)


def _split_letters(chunk: str, ctx: _Context, doubts: list[str]) -> str:
    """A run of letters split into the words it is made of, where they are known: a lower-case
    word glued to a source name ("conPutin"), pieces that are source words, number words and
    function words ("debatedecuatro"), a noun glued to the linked number of a source compound
    ("monetariadeseis" for "six-member"). What only looks run together goes to ``doubts``."""
    if len(chunk) < 5 or ctx.kind(chunk) not in (None, "W"):  # (W: every token is a word of its translation)
        return chunk
    for i in range(2, len(chunk) - 1):
        if chunk[i - 1].islower() and chunk[i].isupper() and chunk[i:] in ctx.source_tokens:
            return chunk[:i] + " " + _split_letters(chunk[i:], ctx, doubts)
    pieces = _segment(chunk, ctx)
    if pieces is not None:
        return " ".join(pieces)
    folded = fold(chunk)
    for k in range(len(chunk) - 2, 2, -1):
        head, tail = chunk[:k], chunk[k:]
        kind = ctx.kind(tail)
        if kind == "N!" and word_value(tail, ctx.target_lang) in ctx.compounds and _unlink(head, ctx):
            return f"{_unlink(head, ctx)} {tail}"
        if kind in ("N!", "S") and _ends_in_function_word(head, ctx):
            doubts.append(chunk)
            return chunk
    script = {script_of(c) for c in chunk if c.isalpha()}
    if (
        script == {"Latin"}
        and ctx.target_lang not in COMPOUNDING
        and len(folded) >= LONG_WORD
        and len(folded) > ctx.longest_source_word + LONGER_THAN_SOURCE
    ):
        doubts.append(chunk)
    return chunk


def _segment(chunk: str, ctx: _Context) -> list[str] | None:
    """``chunk`` as the fewest known pieces (2+ letters each) that make a plausible run of words: it does
    not start with a function word, each function word comes before a source word or number, and at
    least one piece is a source word or a number the translation has nowhere else."""
    n = len(chunk)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(2, n + 1):
        for start in range(end - 1):
            prev = best[start]
            if prev is None or (start, end) == (0, n) or ctx.kind(chunk[start:end]) is None:
                continue
            if best[end] is None or len(prev) + 1 < len(best[end]):  # type: ignore[arg-type]
                best[end] = prev + [chunk[start:end]]
    pieces = best[n]
    if pieces is None or len(pieces) < 2:
        return None
    kinds = [ctx.kind(p) for p in pieces]
    if kinds[0] == "F" or not any(k in ("S", "N!") for k in kinds):
        return None
    if any(k == "F" and (i + 1 == len(kinds) or kinds[i + 1] not in ("S", "N!")) for i, k in enumerate(kinds)):
        return None
    return pieces
