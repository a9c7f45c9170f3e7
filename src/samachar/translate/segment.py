"""Sentence segmentation that respects inline markup and quotations.

Works on plain text or on tagged text (``<g1>…</g1>``, ``<x1/>``, see
:mod:`samachar.translate.markup`). A candidate boundary is sentence-final
punctuation (``. ! ? … । ॥``), then any closing quotes or brackets (they belong
to the sentence before), then whitespace, then something that can start a
sentence (a capital, a digit, a letter of an uncased script such as
Devanagari, or an opening quote/bracket before one). A candidate is dropped
when:

1. a paired tag is open across it: a link or emphasis is never cut in two
   (the "…when it comes to NATO. Expansion." defect);
2. it falls inside a quotation that closes later in the same text: a quoted
   sentence stays with the sentence that quotes it;
3. the next word is an initial (``K. Sharma``): a wrong split costs a
   fragment translated out of context, a missed one costs nothing;
4. the word before the full stop is an initial (``A. K. Sharma``) or a known
   abbreviation (``Dr.``, ``Mohd.``, ``U.S.``, ``p.m.``, ``Sr.``, ``डॉ.``);
   abbreviations that often end a sentence (``U.S.``, ``p.m.``, ``Inc.``) end
   one only before a common sentence-opening word.

Decimals and times need no rule: a full stop must be followed by whitespace.
"""

from __future__ import annotations

import re

# A word character, including the vowel signs and viramas of Indic scripts that ``\w`` misses
# (but not the danda, which ends sentences).
WORD_CLASS = r"[\w\u0300-\u036f\u0900-\u0963\u0966-\u0dff\u0e00-\u0eff\u1000-\u109f]"
TAG_RE = re.compile(r"<\s*(/?)\s*([gx])\s*(\d+)\s*(/?)\s*>")

TERMINALS = ".!?…।॥"
CLOSERS = "”’\"'»)]}›"
OPENERS = "“‘\"'«([{¿¡‹„"
DOUBLE_OPEN = "“«„"
DOUBLE_CLOSE = "”»"

# Never end a sentence (titles, honorifics, "No. 5", months).
TITLES = {
    "en": {
        "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "maj", "gov", "sen",
        "rep", "rev", "hon", "st", "mt", "ft", "mohd", "md", "smt", "shri", "sri", "no", "nos",
        "vol", "fig", "figs", "art", "sec", "approx", "vs", "v", "jan", "feb", "mar", "apr",
        "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "cf", "al", "pt", "adv", "er",
        "brig", "cdr", "supt", "insp", "hr", "hrs", "rs",
    },
    "es": {
        "sr", "sra", "srta", "dr", "dra", "d", "dña", "ud", "uds", "lic", "ing", "av", "avda",
        "gral", "núm", "nº", "pág", "págs", "aprox", "ee", "vol", "cap", "art", "prof", "sto",
        "sta", "etc", "mohd", "smt", "shri",
    },
    "hi": {"डॉ", "श्री", "श्रीमती", "सुश्री", "मो", "प्रो", "सं", "क्र", "पृ", "कु", "स्व", "ले", "जन"},
}
# Abbreviations that may also end a sentence.
MAY_END = {
    "en": {"etc", "inc", "ltd", "co", "corp", "jr", "sr", "bros", "plc", "llc", "km", "kg", "ft"},
    "es": {"uu", "etc", "s.a", "cía", "km", "kg"},
    "hi": set(),
}
# Words that, capitalised after such an abbreviation, show a new sentence.
STARTERS = {
    "en": {
        "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "this", "that", "these",
        "those", "but", "and", "in", "on", "at", "for", "his", "her", "their", "our", "its",
        "there", "if", "when", "while", "after", "before", "as", "officials", "police", "some",
        "many", "both", "meanwhile", "however", "earlier", "later", "last", "also",
    },
    "es": {
        "el", "la", "los", "las", "un", "una", "pero", "y", "en", "este", "esta", "estos",
        "estas", "se", "su", "sus", "él", "ella", "ellos", "no", "si", "cuando", "mientras",
        "después", "antes", "según", "también", "sin", "con", "por", "para", "hay",
    },
    "hi": set(),
}
# Devanagari renderings of Latin letters, used as initials in Hindi names.
HINDI_INITIALS = {
    "ए", "बी", "सी", "डी", "ई", "एफ", "जी", "एच", "आई", "जे", "के", "एल", "एम", "एन", "ओ",
    "पी", "क्यू", "आर", "एस", "टी", "यू", "वी", "डब्ल्यू", "एक्स", "वाई", "जेड",
}

_WORD_BEFORE = re.compile(r"([^\s\"“”‘’'«»(\[]*)$")


def _lang(lang: str) -> str:
    return (lang or "en").split("-")[0].lower()


def _visible(text: str) -> tuple[str, list[int], list[int]]:
    """Text without tags (standalone tags read as a space), with each char's index
    in ``text`` and the number of paired tags open at it."""
    chars: list[str] = []
    index: list[int] = []
    depth: list[int] = []
    open_tags = 0
    pos = 0
    for m in TAG_RE.finditer(text):
        for i in range(pos, m.start()):
            chars.append(text[i])
            index.append(i)
            depth.append(open_tags)
        if m.group(2) == "x":
            chars.append(" ")
            index.append(m.start())
            depth.append(open_tags)
        elif m.group(1):
            open_tags = max(0, open_tags - 1)
        else:
            open_tags += 1
        pos = m.end()
    for i in range(pos, len(text)):
        chars.append(text[i])
        index.append(i)
        depth.append(open_tags)
    return "".join(chars), index, depth


def _quote_spans(plain: str) -> list[tuple[int, int]]:
    """(open, close) positions of double quotations that close in ``plain``."""
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    straight_open: int | None = None
    straight_count = plain.count('"')
    for i, ch in enumerate(plain):
        if ch in DOUBLE_OPEN:
            stack.append(i)
        elif ch in DOUBLE_CLOSE:
            if stack:
                spans.append((stack.pop(), i))
        elif ch == '"' and straight_count % 2 == 0:
            if straight_open is None:
                straight_open = i
            else:
                spans.append((straight_open, i))
                straight_open = None
    return spans


def _can_start(plain: str, i: int) -> tuple[bool, str]:
    """Whether a sentence may start at ``plain[i]``; also the first word there."""
    j = i
    while j < len(plain) and (plain[j] in OPENERS or plain[j].isspace()):
        j += 1
    if j >= len(plain):
        return False, ""
    ch = plain[j]
    word = re.match(r"[\w’'-]*", plain[j:]).group(0)  # type: ignore[union-attr]
    if plain[i] in "¿¡" or ch in "¿¡":
        return True, word
    if ch.isdigit() or ch.isupper():
        return True, word
    if ch.isalpha() and not ch.islower():  # uncased scripts: Devanagari, Arabic, CJK…
        return True, word
    return False, word


def _is_abbreviation(word: str, next_word: str, lang: str) -> bool:
    """Whether the full stop after ``word`` belongs to an abbreviation, not a sentence end."""
    if not word:
        return False
    low = word.lower().rstrip(".")
    titles = TITLES.get(lang, TITLES["en"])
    may_end = MAY_END.get(lang, MAY_END["en"])
    starters = STARTERS.get(lang, set()) | STARTERS["en"]
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: A. K. Sharma
    if word in HINDI_INITIALS:
        return True
    if low in titles:
        return True
    dotted = "." in word.strip(".")
    single_lower = len(word) == 1 and word.isalpha() and word.islower()
    if dotted or single_lower or low in may_end:
        return next_word.lower() not in starters
    return False


def sentence_spans(text: str, lang: str = "en") -> list[tuple[int, int]]:
    """Start/end offsets of the sentences of ``text`` (tags included, gaps excluded)."""
    lang = _lang(lang)
    plain, index, depth = _visible(text)
    if not plain.strip():
        return [(0, len(text))] if text.strip() else []
    quotes = _quote_spans(plain)
    cuts: list[tuple[int, int]] = []  # (end of sentence in text, start of next in text)
    for m in re.finditer(rf"[{re.escape(TERMINALS)}]+[{re.escape(CLOSERS)}]*(\s+)", plain):
        ws_start, ws_end = m.start(1), m.end(1)
        if ws_end >= len(plain):
            continue
        if depth[ws_start] != 0 or depth[ws_end - 1] != 0:
            continue  # a paired tag is open across the gap
        if any(o < ws_start < c for o, c in quotes):
            continue
        ok, next_word = _can_start(plain, ws_end)
        if not ok:
            continue
        if re.match(r"[A-Z]\.(?:\s|$)", plain[ws_end:]):
            continue  # never before an initial: "Un. K. Sharma" (a false split costs more than a missed one)
        punct = m.group(0).rstrip()
        core = punct.rstrip(CLOSERS)
        if core == ".":
            before = _WORD_BEFORE.search(plain[: m.start()]).group(0)  # type: ignore[union-attr]
            if _is_abbreviation(before, next_word, lang):
                continue
            if before.isdigit() and not plain[: m.start() - len(before)].strip():
                continue  # "1. " opening a numbered item
        end = index[ws_start]
        start = index[ws_end]
        # Opening tags just before the next sentence's first character belong to it.
        while True:
            prev = re.search(r"<\s*g\s*\d+\s*>\s*$", text[:start])
            if not prev or prev.start() < end:
                break
            start = prev.start()
        cuts.append((end, start))
    spans: list[tuple[int, int]] = []
    pos = 0
    for end, start in cuts:
        spans.append((pos, end))
        pos = start
    spans.append((pos, len(text)))
    spans = [_trim(text, s, e) for s, e in spans]
    return _merge_unbalanced(text, [(s, e) for s, e in spans if e > s])


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Leading/trailing whitespace and standalone tags stay in the gaps."""
    while True:
        m = re.match(r"\s+|<\s*x\s*\d+\s*/?\s*>", text[start:end])
        if not m or m.end() == 0:
            break
        start += m.end()
    while True:
        m = re.search(r"(\s+|<\s*x\s*\d+\s*/?\s*>)$", text[start:end])
        if not m or m.start() == m.end():
            break
        end = start + m.start()
    return start, end


def _balanced(segment: str) -> bool:
    depth = 0
    for m in TAG_RE.finditer(segment):
        if m.group(2) != "g":
            continue
        depth += -1 if m.group(1) else 1
        if depth < 0:
            return False
    return depth == 0


def _merge_unbalanced(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join neighbours until every sentence holds whole tag pairs."""
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and not _balanced(text[merged[-1][0] : merged[-1][1]]):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def split_sentences(text_or_tagged: str, lang: str = "en") -> list[str]:
    """The sentences of a text or tagged segment, in order, without surrounding space."""
    return [text_or_tagged[s:e] for s, e in sentence_spans(text_or_tagged, lang)]


def count_sentences(text: str, lang: str = "en") -> int:
    return len(sentence_spans(text, lang))
