"""Same story, written apart: the pluggable similarity and the built-in lexical one.

Two outlets that report one event share what the event is made of: the people and places named, the
figures, the date, the words only this event uses. A :class:`StorySimilarity` turns an item into
features, names the keys under which the index files them (two items are compared only when they share
a key: candidates stay sub-linear) and scores two feature sets. The index keeps the features it is given
(``encode``/``decode``) so that a restart rebuilds it without re-reading bodies, and tells the similarity
which items it holds (``add``/``remove``) so that corpus statistics such as IDF follow the corpus.

Similarities are found by name in the entry-point group ``samachar.similarities`` (the built-in
``lexical`` is registered there too) or as ``package.module:Class``.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from samachar.stories.model import StoryItem
from samachar.stories.text import fold, term, word_hashes, words

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class StorySimilarity(Protocol):
    """What the story index needs of a similarity (see docs/engines.md)."""

    name: str
    threshold: float  # a score at or above it puts two items in one story

    def features(self, item: StoryItem) -> Any:
        """What the similarity keeps of an item (computed once, when the item is placed)."""

    def encode(self, features: Any) -> bytes:
        """The features as bytes, for the database."""

    def decode(self, data: bytes) -> Any:
        """Features back from :meth:`encode`'s bytes."""

    def keys(self, features: Any) -> Collection[int]:
        """Keys under which the index files the item; items sharing no key are never compared."""

    def add(self, features: Any) -> None:
        """The index now holds an item with these features (update corpus statistics)."""

    def remove(self, features: Any) -> None:
        """The index no longer holds it."""

    def score(self, a: Any, b: Any) -> float:
        """How likely the two items report one event, comparable with ``threshold``."""


_STOP = frozenset(fold(" ".join((
    "a an the of in on at to for from by with and or but is are was were be been has have had it its this that "
    "these those as not no he she they we you i his her their our said says say will would can could also after "
    "before over under into than then there here who which what when where while about more most other some such "
    "only up out one two new mr ms dr",
    "का की के को में से पर ने है हैं था थे थी और या भी तो यह वह इस उस एक कि जो कर किया गया गई गए हो रहा रही रहे "
    "लिए साथ बाद पहले तक कहा बताया ही नहीं हुआ हुई हुए अपने उन्होंने वे ये जब तब कुछ सभी किसी",
))).split())
# A capital not preceded by a letter (checked after it: a pattern that starts with its capital is scanned for
# in C), then the words that continue the name.
_CAPITALISED = re.compile(r"[A-Z](?<!\w.)[\w'’-]*(?:\s+(?:(?:of|de|la|al|bin)\s+)?[A-Z][\w'’-]*)*")
_HONORIFIC = re.compile(r"(?:श्री|श्रीमती|डॉ\.?|मंत्री|मुख्यमंत्री|प्रधानमंत्री|जज|न्यायाधीश|कप्तान)\s+(\S+(?:\s+\S+)?)")
_DEVANAGARI = re.compile("[\u0900-\u097f]")
_PLACE_SUFFIX = ("पुर", "बाद", "गढ़", "नगर", "गंज", "कोट", "पुरा", "गांव", "घाटी", "जिले", "जिला")


_MONTHS = frozenset(fold(
    "jan january feb february mar march apr april may jun june jul july aug august sep sept september oct october "
    "nov november dec december जनवरी फरवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर सितम्बर अक्टूबर नवंबर नवम्बर दिसंबर दिसम्बर"
).split())


# A word that starts with a digit (its start checked after the digit, which is scanned for in C), and the word after.
_NUMBER = re.compile(r"(\d(?<![^ ]\d)[^ ]*)(?= ([^ ]+)|$)")


def _figures(body: Sequence[str]) -> set[str]:
    """Numbers with the word after them ("38 killed", "8412 votes"): not dates or years, which other events share.

    Found by one search over the words joined (numbers are few: the words between them are not looked at).
    """
    found = set()
    joined = " ".join(body)
    for match in _NUMBER.finditer(joined):
        word, after = match.group(1), match.group(2) or ""
        if word in {"1", "2"} or (len(word) == 4 and word[:2] in {"19", "20"}) or after in _MONTHS:
            continue
        start = match.start()
        if start and joined[joined.rfind(" ", 0, start - 1) + 1:start - 1] in _MONTHS:
            continue
        found.add(f"{word} {after}")
    return found


def _terms(found: Sequence[str], hashes: Sequence[int]) -> set[int]:
    """The hashes of the words that can be terms: not stop words, single letters or bare digits."""
    return {hashed for word, hashed in zip(found, hashes, strict=True)
            if len(word) > 1 and word not in _STOP and not word.isdigit()}


DF_SLOTS = 1 << 22  # document frequencies are counted per hashed slot of a key (16 MB; rare collisions)


@dataclass(frozen=True, slots=True)
class LexicalFeatures:
    hours: float  # published, in hours since the epoch
    terms: frozenset[int]  # the distinctive words of title and body
    title: frozenset[int]
    names: frozenset[int]  # people, places, organisations
    figures: frozenset[int]  # numbers with the word after them
    # Derived once, by the similarity: [the keys' document-frequency slots (NumPy), the sums of weights when
    # first compared (Σ idf² of terms, Σ idf of names, of title words, of figures), the keys (NumPy; until
    # the slots are made)].
    derived: list[Any] = field(default_factory=lambda: [None, None, None], compare=False, repr=False)


class LexicalSimilarity:
    """IDF-weighted overlap of words, names, title and figures, and the time apart, in a logistic model."""

    name = "lexical"
    # Fitted by `python -m samachar.stories.evaluate --fit` on tests/data/stories/ (pairs within 72 hours):
    # agreement on figures and names weighs most; each day apart lowers the odds (follow-ups keep names, title).
    WEIGHTS = (4.22, 5.1, 3.8, 7.31, -0.78)
    BIAS = -3.9
    # Chosen on the precision/recall curve of the labeled set (`evaluate --curve`): the best F1 with precision
    # ≥ 0.98 (0.70–0.75 tie; the middle of that plateau). Merging two stories hides one from readers, missing a
    # merge only publishes a story twice.
    threshold = 0.75

    LEAD_WORDS = 200  # words of the body compared: the lead is what reports of one event share
    LEAD_CHARS = 1600  # and where its names are looked for

    def __init__(self) -> None:
        import numpy as np  # loaded when a similarity is made, not on import

        self._np = np
        # Items holding each key (by hashed slot), updated in one NumPy step per item added or removed.
        self._df = np.zeros(DF_SLOTS, dtype=np.int32)
        self._docs = 0
        # IDF weights are computed once per term and kept while the corpus changes by less than 1/8: a
        # comparison then costs what the two items share, not what they hold.
        self._weights: dict[int, float] = {}
        self._weights_docs = 0
        self._generation = 0

    def features(self, item: StoryItem) -> LexicalFeatures:
        title_all = words(item.title)
        title_words = [w for w in title_all if w not in _STOP and len(w) > 1]
        body_words = words(item.text)[:self.LEAD_WORDS]
        terms = _terms(body_words, word_hashes(item.text)[:self.LEAD_WORDS])
        terms.update(_terms(title_all, word_hashes(item.title)))
        names = set()
        devanagari = _DEVANAGARI.search(item.text) is not None
        for text in (item.title, item.text[:self.LEAD_CHARS]):
            for match in _CAPITALISED.findall(text):
                folded = " ".join(words(match)) if not match.isascii() else " ".join(match.casefold().split())
                if folded and folded not in _STOP:
                    names.add(folded)
            if devanagari:  # names without capitals: after an honorific, or by a place-name ending
                names.update(" ".join(words(match.group(1))) for match in _HONORIFIC.finditer(text))
        if devanagari:
            names.update(w for w in body_words if w.endswith(_PLACE_SUFFIX) and len(w) > 3)
        return LexicalFeatures(
            hours=item.published.timestamp() / 3600.0, terms=frozenset(terms),
            title=frozenset(map(term, title_words)), names=frozenset(map(term, names)),
            figures=frozenset(map(term, _figures(body_words))))

    def encode(self, features: LexicalFeatures) -> bytes:
        parts = (features.terms, features.title, features.names, features.figures)
        head = struct.pack("<d4I", features.hours, *map(len, parts))
        return head + b"".join(struct.pack(f"<{len(p)}I", *sorted(p)) for p in parts)

    def decode(self, data: bytes) -> LexicalFeatures:
        hours, *counts = struct.unpack_from("<d4I", data)
        offset, parts = struct.calcsize("<d4I"), []
        for count in counts:
            parts.append(frozenset(struct.unpack_from(f"<{count}I", data, offset)))
            offset += 4 * count
        return LexicalFeatures(hours, parts[0], parts[1], parts[2], parts[3])

    def keys(self, features: LexicalFeatures) -> np.ndarray:
        """Its words, names and figures (int64): the index looks up the rarest of them (see StoryIndex)."""
        derived = features.derived
        if derived[2] is None:
            every = features.terms | features.names | features.figures
            derived[2] = self._np.fromiter(every, dtype=self._np.int64, count=len(every))
        found: np.ndarray = derived[2]
        return found

    def _slots(self, features: LexicalFeatures) -> np.ndarray:
        """The document-frequency slots of the item's keys (two keys in one slot count once, in adding as in
        removing: NumPy's ``a[slots] += 1`` adds once per slot)."""
        derived = features.derived
        if derived[0] is None:
            # Kept while the item is in the window, as int32 (half the memory); the keys themselves go.
            derived[0] = (self.keys(features) & (DF_SLOTS - 1)).astype(self._np.int32)
            derived[2] = None
        found: np.ndarray = derived[0]
        return found

    def add(self, features: LexicalFeatures) -> None:
        self._docs += 1
        self._df[self._slots(features)] += 1
        self._drift()

    def remove(self, features: LexicalFeatures) -> None:
        self._docs -= 1
        self._df[self._slots(features)] -= 1
        self._drift()

    def _drift(self) -> None:
        if abs(self._docs - self._weights_docs) > max(16, self._weights_docs // 8):
            self._weights.clear()
            self._weights_docs = self._docs
            self._generation += 1

    def _idf(self, keys: frozenset[int]) -> list[float]:
        """The keys' IDF weights: those of this generation as remembered, the others computed in one NumPy step."""
        known = self._weights
        try:
            return list(map(known.__getitem__, keys))  # usually all remembered: no set of the missing to make
        except KeyError:
            missing = keys.difference(known)
        if missing:
            np = self._np
            flat = np.fromiter(missing, dtype=np.int64, count=len(missing))
            fresh = np.log1p((self._docs + 1) / (self._df[flat & (DF_SLOTS - 1)] + 1.0))
            known.update(zip(missing, fresh.tolist(), strict=True))
        return list(map(known.__getitem__, keys))

    def _sums(self, features: LexicalFeatures) -> list[float]:
        """Σ idf² of the terms, Σ idf of names, title words, figures: once, with the weights of when it was first
        compared."""
        derived = features.derived
        if derived[1] is None:
            sums = []
            for n, part in enumerate((features.terms, features.names, features.title, features.figures)):
                weights = self._idf(part)
                sums.append(sum(w * w for w in weights) if n == 0 else sum(weights))
            derived[1] = sums
        found: list[float] = derived[1]
        return found

    def _overlap(self, a: frozenset[int], b: frozenset[int], total_a: float, total_b: float) -> float:
        """Weighted share of what the smaller set has in common with the other (IDF weights)."""
        common = a & b
        if not common:
            return 0.0
        total = total_a if len(a) <= len(b) else total_b
        return sum(self._idf(common)) / total if total > 0 else 0.0

    def components(self, a: LexicalFeatures, b: LexicalFeatures) -> tuple[float, ...]:
        """What the score weighs: shared words (IDF cosine), names, title words, figures (IDF-weighted share of
        the smaller set), days apart."""
        sa, sb = self._sums(a), self._sums(b)
        common = a.terms & b.terms
        norm = math.sqrt(sa[0] * sb[0])
        text = sum(w * w for w in self._idf(common)) / norm if common and norm > 0 else 0.0
        return (text, self._overlap(a.names, b.names, sa[1], sb[1]), self._overlap(a.title, b.title, sa[2], sb[2]),
                self._overlap(a.figures, b.figures, sa[3], sb[3]), abs(a.hours - b.hours) / 24.0)

    def score(self, a: LexicalFeatures, b: LexicalFeatures) -> float:
        """The probability that the two report one event: a logistic model fitted on the labeled set."""
        z = self.BIAS + sum(w * x for w, x in zip(self.WEIGHTS, self.components(a, b), strict=True))
        return 1.0 / (1.0 + math.exp(-z))
