"""One rendering per name per article, and the site glossary on every segment.

Names are found in the source as runs of capitalised words (for scripts with
case). Each name and each glossary term is also translated on its own, in the
same engine call as the article, which gives the engine's *isolated
rendering*. Then, per name:

1. the rendering is the glossary's, if the glossary has the name; otherwise
   the isolated rendering if it occurs in the translation; otherwise the name
   itself if it survived; otherwise the first close variant found;
2. in every segment whose source has the name, a close variant of that
   rendering (edit distance 1–2, as ``मास्को``/``मॉस्को``) is replaced by it,
   with a warning flag saying so.

Glossary terms missing from a segment's translation are replaced where their
isolated rendering or a variant of it can be found, and flagged as errors
where they cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from samachar.model import Flag
from samachar.translate.markup import TAG_RE
from samachar.translate.segment import WORD_CLASS

_CAP_RUN = re.compile(
    r"(?<![\w’'])[A-Z][\w’'.-]*[\w]"
    r"(?:(?:\s+(?:of|de|del|la|bin|van|von)){0,1}\s+[A-Z][\w’'.-]*[\w])*"
)
_POSSESSIVE = re.compile(r"[’']s$")
FUNCTION_WORDS = {
    "The", "A", "An", "In", "On", "At", "He", "She", "It", "They", "We", "I", "But", "And", "This",
    "That", "These", "Those", "His", "Her", "Their", "Our", "Its", "There", "If", "When", "While",
    "After", "Before", "As", "For", "With", "By", "From", "To", "Of", "Some", "Many", "Both",
    "Mr", "Mrs", "Ms", "Dr", "Prof", "What", "Every", "All", "No", "Yes",
}


@dataclass
class SegmentText:
    """A segment as the name pass sees it: plain source, tagged target (edited in place)."""

    source: str
    target: str
    block: int | None = None


def find_names(sentences: list[str]) -> list[str]:
    """Capitalised runs that look like names, in order of first appearance.

    A capitalised word that opens a sentence counts only if the same word is
    also capitalised somewhere else in mid-sentence.
    """
    runs: list[tuple[str, bool]] = []
    mid_sentence: set[str] = set()
    for sentence in sentences:
        opening = len(sentence) - len(sentence.lstrip(" “\"‘'«(¿¡"))
        for m in _CAP_RUN.finditer(sentence):
            initial = m.start() == opening
            runs.append((m.group(0), initial))
            words = m.group(0).split()
            mid_sentence.update(words[1:] if initial else words)
    seen: dict[str, None] = {}
    for run, initial in runs:
        words = _POSSESSIVE.sub("", run).rstrip(".").split()
        if initial and words and words[0] not in mid_sentence:
            words = words[1:]
        while words and (words[0] in FUNCTION_WORDS or words[0].islower()):
            words = words[1:]
        while words and words[-1].lower() in ("of", "de", "del", "la", "the", "and"):
            words = words[:-1]
        name = " ".join(words)
        if len(name) < 3 or re.search(r"\b\w\.", name):
            continue  # too short, or initials ("A. K. Sharma" is checked as "Sharma")
        seen.setdefault(name, None)
    return list(seen)


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance counting a swap of two neighbours as one edit (optimal string alignment)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


_W = WORD_CLASS


def _word_re(phrase: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<!{_W})" + re.escape(phrase) + rf"(?!{_W})", flags)


def _visible(text: str) -> str:
    return TAG_RE.sub(" ", text)


_TOKEN = re.compile(_W + "+")
_EDGE_PUNCT = " \t\n.,;:!?।॥…\"'“”‘’«»()[]"


def clean_rendering(text: str) -> str:
    """An isolated rendering without the punctuation engines add to fragments."""
    return text.strip(_EDGE_PUNCT)


def find_variant(target: str, rendering: str) -> str | None:
    """A run of words in ``target`` (outside tags) within a small edit distance of ``rendering``."""
    n = len(_TOKEN.findall(rendering))
    if n == 0:
        return None
    limit = 1 if len(rendering) < 8 else 2
    visible = _visible(target)
    words = list(_TOKEN.finditer(visible))
    for i in range(0, len(words) - n + 1):
        start, end = words[i].start(), words[i + n - 1].end()
        candidate = visible[start:end]
        if candidate == rendering or candidate[:1].isupper() != rendering[:1].isupper():
            continue
        if 0 < _distance(candidate, rendering, limit) <= limit and _word_re(candidate).search(target):
            return candidate
    return None


def enforce_names(
    segments: list[SegmentText],
    names: list[str],
    isolated: dict[str, str],
    glossary: dict[str, str] | None = None,
) -> list[Flag]:
    """Normalise name variants across ``segments`` (editing their targets); flags for each change."""
    glossary = glossary or {}
    flags: list[Flag] = []
    for name in names:
        pattern = _word_re(name)
        holders = [s for s in segments if pattern.search(s.source)]
        if not holders:
            continue
        if name in glossary:
            rendering = glossary[name]
        else:
            rendering = None
            candidates = [c for c in (isolated.get(name), name) if c]
            for candidate in candidates:
                if any(_word_re(candidate).search(s.target) for s in holders):
                    rendering = candidate
                    break
            if rendering is None and candidates:
                for seg in holders:
                    variant = find_variant(seg.target, candidates[0])
                    if variant:
                        rendering = variant
                        break
            if rendering is None:
                continue
        exact = _word_re(rendering)
        for seg in holders:
            wanted = len(pattern.findall(seg.source))
            if len(exact.findall(seg.target)) >= wanted:
                continue
            variant = find_variant(seg.target, rendering)
            if variant is None:
                continue
            before = seg.target
            seg.target = _word_re(variant).sub(rendering, seg.target)
            flags.append(
                Flag(
                    check="names",
                    severity="warning",
                    source=seg.source,
                    target=before,
                    message=f"'{name}' was rendered '{variant}' here and '{rendering}' elsewhere; normalised",
                    block=seg.block,
                )
            )
    return flags


def enforce_glossary(
    segments: list[SegmentText], glossary: dict[str, str], isolated: dict[str, str]
) -> list[Flag]:
    """Every glossary term in a source segment must appear as its target term."""
    flags: list[Flag] = []
    for term, wanted in glossary.items():
        pattern = _word_re(term, re.IGNORECASE)
        good = _word_re(wanted, re.IGNORECASE)
        for seg in segments:
            if not pattern.search(seg.source) or good.search(seg.target):
                continue
            replaced = False
            for rendering in (isolated.get(term), term):
                if rendering and _word_re(rendering).search(seg.target):
                    seg.target = _word_re(rendering).sub(wanted, seg.target)
                    replaced = True
                    break
            if not replaced:
                variant = find_variant(seg.target, wanted) or (
                    find_variant(seg.target, isolated[term]) if isolated.get(term) else None
                )
                if variant:
                    seg.target = _word_re(variant).sub(wanted, seg.target)
                    replaced = True
            if not replaced:
                flags.append(
                    Flag(
                        check="glossary",
                        severity="error",
                        source=seg.source,
                        target=seg.target,
                        message=f"glossary: '{term}' should be translated '{wanted}'",
                        block=seg.block,
                    )
                )
    return flags
