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

import re
import struct
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from samachar.stories.model import StoryItem
from samachar.stories.text import fold, hashes, word_hashes, words

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
        """How likely the two items report one event, comparable with ``threshold``.

        A similarity may also define ``score_many(a, others) -> Sequence[float]``, the scores of ``a`` with
        each of ``others``: the index then scores an item's candidates in one call (see :func:`scorer`).
        """


def scorer(similarity: StorySimilarity) -> Callable[[Any, Sequence[Any]], Sequence[float]]:
    """The similarity's ``score_many`` where it has one, else its ``score`` for each of the others."""
    many: Callable[[Any, Sequence[Any]], Sequence[float]] | None = getattr(similarity, "score_many", None)
    if many is not None:
        return many
    return lambda a, others: [similarity.score(a, b) for b in others]


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
PARTS = ("terms", "title", "names", "figures")  # what a score compares, each with its like (stored in this order)
_WEIGHED = [0, 2, 1, 3]  # the parts in the order of the model's weights: terms, names, title, figures


@dataclass(frozen=True, slots=True)
class LexicalFeatures:
    """An item's keys (CRC-32 hashes of folded words, names, figures), as one sorted NumPy array."""

    hours: float  # published, in hours since the epoch
    # Every part's keys, part by part, each part's sorted: a key of part p is stored as p << 32 | key
    # (uint64), so that one search compares all parts of two items at once.
    keyed: np.ndarray
    sizes: tuple[int, int, int, int]  # keys per part, in PARTS order
    # Derived by the similarity: [the document-frequency slots of its keys (NumPy; while it holds the item),
    # its keys (until then)].
    derived: list[Any] = field(default_factory=lambda: [None, None], compare=False, repr=False)

    def part(self, name: str) -> np.ndarray:
        """One part's keys (uint32, sorted): ``terms`` (the distinctive words of title and body), ``names``
        (people, places, organisations), ``title`` (the title's words), ``figures`` (numbers with the word
        after them)."""
        n = PARTS.index(name)
        start = sum(self.sizes[:n])
        found: np.ndarray = (self.keyed[start:start + self.sizes[n]] & 0xFFFFFFFF).astype("uint32")
        return found


class LexicalSimilarity:
    """IDF-weighted overlap of words, names, title and figures, and the time apart, in a logistic model."""

    name = "lexical"
    # Fitted by `python -m samachar.stories.evaluate --fit` on tests/data/stories/ (pairs within 72 hours):
    # agreement on figures and names weighs most; each day apart lowers the odds (follow-ups keep names, title).
    WEIGHTS = (4.22, 5.1, 3.8, 7.31, -0.78)
    BIAS = -3.9
    # Chosen on the precision/recall curve of the labeled set (`evaluate --curve`, IDF as it stands when each
    # item is placed): precision is 1.000 from 0.68 up, 0.970 at 0.66; the best F1 there (0.949) is at its
    # edge, so 0.72 (F1 0.939) keeps a margin. Merging two stories hides one from readers, missing a merge
    # only publishes a story twice.
    threshold = 0.72

    LEAD_WORDS = 200  # words of the body compared: the lead is what reports of one event share
    LEAD_CHARS = 1600  # and where its names are looked for

    def __init__(self) -> None:
        import numpy as np  # loaded when a similarity is made, not on import

        self._np = np
        # Items holding each key (by hashed slot), updated in one NumPy step per item added or removed.
        self._df = np.zeros(DF_SLOTS, dtype=np.int32)
        self._docs = 0
        self._part_weights = np.zeros(len(PARTS))  # WEIGHTS of the parts, in PARTS order
        self._part_weights[_WEIGHED] = self.WEIGHTS[:len(PARTS)]

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
        return self._made(item.published.timestamp() / 3600.0,
                          (terms, set(hashes(title_words)), set(hashes(names)), set(hashes(_figures(body_words)))))

    def _made(self, hours: float, parts: Sequence[set[int]]) -> LexicalFeatures:
        """The features of the parts' keys: one array made and sorted (the part in the high bits sorts the
        parts apart), and the keys the index files under, while at hand as sets."""
        np = self._np
        terms, title, names, figures = parts
        tagged = [*terms, *(key | 1 << 32 for key in title), *(key | 2 << 32 for key in names),
                  *(key | 3 << 32 for key in figures)]
        keyed = np.sort(np.array(tagged, dtype=np.uint64))
        every = terms | names | figures
        features = LexicalFeatures(hours, keyed, (len(terms), len(title), len(names), len(figures)))
        features.derived[1] = np.sort(np.fromiter(every, dtype=np.int64, count=len(every)))
        return features

    def encode(self, features: LexicalFeatures) -> bytes:
        head = struct.pack("<d4I", features.hours, *features.sizes)
        return head + (features.keyed & 0xFFFFFFFF).astype("<u4").tobytes()

    def decode(self, data: bytes) -> LexicalFeatures:
        np = self._np
        hours, *sizes = struct.unpack_from("<d4I", data)
        keys = np.frombuffer(data, dtype="<u4", offset=struct.calcsize("<d4I")).astype(np.uint64)
        parts = np.repeat(np.arange(len(PARTS), dtype=np.uint64) << np.uint64(32), sizes)
        # Stored parts were sorted as they are now: no sort needed to read them back.
        return LexicalFeatures(hours, keys | parts, tuple(sizes))

    def keys(self, features: LexicalFeatures) -> np.ndarray:
        """Its words, names and figures (int64): the index looks up the rarest of them (see StoryIndex)."""
        derived = features.derived
        if derived[1] is None:
            terms, title, _, _ = features.sizes
            keyed = features.keyed
            every = self._np.concatenate((keyed[:terms], keyed[terms + title:])) & 0xFFFFFFFF  # not the title:
            # its distinctive words are terms already
            derived[1] = self._np.unique(every).astype(self._np.int64)
        found: np.ndarray = derived[1]
        return found

    def _slots(self, features: LexicalFeatures) -> np.ndarray:
        """The document-frequency slots of the item's keys (two keys in one slot count once, in adding as in
        removing: NumPy's ``a[slots] += 1`` adds once per slot)."""
        derived = features.derived
        if derived[0] is None:  # kept while the item is in the window, as int32 (half the memory)
            derived[0] = (self.keys(features) & (DF_SLOTS - 1)).astype(self._np.int32)
            derived[1] = None
        found: np.ndarray = derived[0]
        return found

    def add(self, features: LexicalFeatures) -> None:
        self._docs += 1
        self._df[self._slots(features)] += 1

    def remove(self, features: LexicalFeatures) -> None:
        self._docs -= 1
        self._df[self._slots(features)] -= 1

    def _weights(self, keyed: np.ndarray) -> np.ndarray:
        """Each key's weight as it is now: IDF, squared for terms (whose cosine is taken)."""
        numpy = self._np
        idf = numpy.log1p((self._docs + 1) / (self._df[keyed & numpy.uint64(DF_SLOTS - 1)] + 1.0))
        found: np.ndarray = numpy.where(keyed < numpy.uint64(1 << 32), idf * idf, idf)
        return found

    def _shares(self, a: LexicalFeatures, others: Sequence[LexicalFeatures]) -> tuple[np.ndarray, np.ndarray]:
        """The shares of ``a`` against each of ``others``, a row each with a column per part (PARTS order), and
        the days apart.

        All pairs in one set of NumPy steps: every key weighed at once, the others' looked up in ``a``'s
        sorted keys at once, sums per item and part by one ``bincount`` each.
        """
        np = self._np
        parts, groups = len(PARTS), (len(others) + 1) * len(PARTS)
        keyed = np.concatenate([a.keyed, *(b.keyed for b in others)])
        sizes = np.array([a.sizes, *(b.sizes for b in others)])
        segment = np.repeat(np.arange(groups), sizes.ravel())  # (item, part) of each key; a's first
        weights = self._weights(keyed)
        totals = np.bincount(segment, weights=weights, minlength=groups).reshape(-1, parts)
        own = a.keyed.size
        if own:
            rest = keyed[own:]
            at = np.minimum(np.searchsorted(a.keyed, rest), own - 1)
            shared = np.bincount(segment[own:], weights=weights[own:] * (a.keyed[at] == rest), minlength=groups)
            shared = shared.reshape(-1, parts)[1:]
        else:
            shared = np.zeros((len(others), parts))
        own_totals, totals = totals[0], totals[1:]
        # The share of the smaller set (a's when they are as large): its total is the denominator; for terms,
        # the cosine's norm. Where it is 0 so is what is shared, and the share is 0.
        smaller = np.where(sizes[0] <= sizes[1:], own_totals, totals)
        smaller[:, 0] = np.sqrt(own_totals[0] * totals[:, 0])
        days = np.abs(np.array([b.hours for b in others]) - a.hours) / 24.0
        return shared / np.maximum(smaller, 1e-300), days

    def components_many(self, a: LexicalFeatures, others: Sequence[LexicalFeatures]) -> np.ndarray:
        """What the score weighs, for ``a`` against each of ``others`` (a row each): shared words (IDF cosine),
        names, title words, figures (IDF-weighted share of the smaller set), days apart."""
        shares, days = self._shares(a, others)
        found: np.ndarray = self._np.column_stack((shares[:, _WEIGHED], days))
        return found

    def components(self, a: LexicalFeatures, b: LexicalFeatures) -> tuple[float, ...]:
        """:meth:`components_many` for one pair."""
        return tuple(self.components_many(a, [b])[0].tolist())

    def score_many(self, a: LexicalFeatures, others: Sequence[LexicalFeatures]) -> list[float]:
        """The probability that ``a`` and each of ``others`` report one event: a logistic model fitted on the
        labeled set."""
        if not others:
            return []
        np = self._np
        shares, days = self._shares(a, others)
        z = shares @ self._part_weights + days * self.WEIGHTS[-1] + self.BIAS
        found: list[float] = (1.0 / (1.0 + np.exp(-z))).tolist()
        return found

    def score(self, a: LexicalFeatures, b: LexicalFeatures) -> float:
        return self.score_many(a, [b])[0]
