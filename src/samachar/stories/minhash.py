"""Near-verbatim copies: MinHash signatures of word shingles, and an LSH index over their bands.

A wire text republished with a new headline, a dropped paragraph or another byline keeps most of its
word 3-grams; two reports written apart share few. The estimated Jaccard of two signatures is the share
of positions where they agree. A NumPy implementation of our own (see docs/benchmarks.md for the
comparison with datasketch): signatures are ``uint32`` arrays, stored as their bytes, and computed for a
whole batch of texts in one pass (:func:`signatures`), as their band keys are (:func:`band_keys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

PERMUTATIONS = 64
BANDS, ROWS = 21, 3  # 63 of the 64 positions: a pair at Jaccard 0.5 is a candidate 93% of the time, 0.7: 99.9%
SHINGLE = 3
_SEED = 0x5A3A_C4A2

_rng = np.random.default_rng(_SEED)
# Multiply-shift hashing (Dietzfelbinger): h(x) = (a·x + b) mod 2^64 >> 32, a odd.
_A = _rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd constant: a·h1 + h2 keeps the order of the words
_EMPTY = np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)
# A band's ROWS values folded into one 64-bit bucket key (odd multipliers; a collision of two different bands
# only adds a candidate, which the Jaccard estimate then rejects).
_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)[:ROWS]
_BAND_ID = np.arange(BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
_CHUNK = 1 << 11  # shingles hashed per NumPy pass: its temporaries (chunk × 64 × 8 bytes, 1 MB) stay in cache (3x
# faster than 32 MB passes)


def shingles(hashed_words: Sequence[int], size: int = SHINGLE) -> np.ndarray:
    """64-bit hashes of a text's word n-grams (of its words when fewer), from the words' own hashes mixed
    position by position (:func:`samachar.stories.text.word_hashes`)."""
    hashed = np.array(hashed_words, dtype=np.uint64)
    if len(hashed) < size:
        return hashed[:1]
    with np.errstate(over="ignore"):
        mixed = hashed[:len(hashed) - size + 1].copy()
        for offset in range(1, size):
            mixed = mixed * _MIX + hashed[offset:len(hashed) - size + 1 + offset]
    return mixed


def signature(hashes: np.ndarray) -> np.ndarray:
    """The MinHash signature of a set of shingle hashes (all 0xFFFFFFFF for an empty text)."""
    one: np.ndarray = signatures([hashes])[0]
    return one


def signatures(shingled: Sequence[np.ndarray]) -> np.ndarray:
    """The signatures of many texts' shingle hashes at once, one row each: one NumPy pass, not one per text."""
    counts = np.fromiter(map(len, shingled), dtype=np.int64, count=len(shingled))
    joined = np.concatenate(shingled) if len(shingled) else np.zeros(0, dtype=np.uint64)
    return _signatures(joined.astype(np.uint64, copy=False), counts)


def signatures_of_words(hashed_texts: Sequence[Sequence[int]]) -> np.ndarray:
    """The signatures of many texts from their words' hashes (:func:`samachar.stories.text.word_hashes`):
    :func:`signatures` of their :func:`shingles`, the shingles of all the texts made in one pass."""
    lengths = np.fromiter(map(len, hashed_texts), dtype=np.int64, count=len(hashed_texts))
    flat = np.fromiter(chain.from_iterable(hashed_texts), dtype=np.uint64, count=int(lengths.sum()))
    mixed = flat.copy()  # at each position, the shingle that starts there (across texts too: those are dropped)
    with np.errstate(over="ignore"):
        for offset in range(1, SHINGLE):
            mixed[:-offset] = mixed[:-offset] * _MIX + flat[offset:]
    # A text's shingles start at its first len - SHINGLE + 1 positions; one shorter has one: its first word.
    counts = np.minimum(lengths, np.maximum(lengths - SHINGLE + 1, 1))
    total = int(counts.sum())
    firsts = np.cumsum(counts) - counts
    at = np.repeat(np.cumsum(lengths) - lengths, counts) + (np.arange(total) - np.repeat(firsts, counts))
    short = np.repeat(lengths < SHINGLE, counts)
    return _signatures(np.where(short, flat[at], mixed[at]), counts)


def _signatures(joined: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Signatures of texts whose shingle hashes are ``joined``, ``counts`` of them for each text in turn."""
    out = np.tile(_EMPTY, (len(counts), 1))
    full = np.flatnonzero(counts)
    if not full.size:
        return out
    sizes = counts[full]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    minimum = np.empty((len(full), PERMUTATIONS), dtype=np.uint64)
    # Texts are taken whole, a few at a time, so that each pass's minimum is a text's minimum.
    first = 0
    while first < len(full):
        last = int(np.searchsorted(ends, starts[first] + _CHUNK, side="right"))
        last = max(last, first + 1)
        part = joined[starts[first]:ends[last - 1]]
        with np.errstate(over="ignore"):  # repeated shingles change no minimum: no need to make them unique
            mixed = (part[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
        minimum[first:last] = np.minimum.reduceat(mixed, starts[first:last] - starts[first], axis=0)
        first = last
    out[full] = minimum.astype(np.uint32)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """The LSH bucket keys of signatures (one row of ``BANDS`` 64-bit keys per signature)."""
    rows = sigs.reshape(-1, PERMUTATIONS)[:, :BANDS * ROWS].reshape(-1, BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        keys: np.ndarray = (rows * _BAND_MIX).sum(axis=2, dtype=np.uint64) ^ _BAND_ID
    return keys


class MinHashLSH:
    """Band buckets of the signatures kept; entries are removed as they leave the horizon.

    Nearly every bucket holds one key (only copies share a band), so a bucket of one is the key itself, an
    int, and a bucket of more a list: no container made per band, and nothing for the garbage collector to walk
    through again and again (there are hundreds of thousands of buckets).
    """

    def __init__(self) -> None:
        self._buckets: dict[int, int | list[int]] = {}
        self._signatures: dict[int, np.ndarray] = {}
        self._bands: dict[int, tuple[int, ...]] = {}  # each key's band keys, for its removal

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, key: int, sig: np.ndarray, bands: list[int] | None = None) -> None:
        """Keep ``sig`` under ``key``; ``bands`` are its :func:`band_keys` when already computed."""
        if key in self._signatures:
            return
        if bands is None:
            bands = band_keys(sig)[0].tolist()
        self._signatures[key] = sig
        self._bands[key] = tuple(bands)
        buckets = self._buckets
        for band in bands:
            bucket = buckets.setdefault(band, key)
            if bucket is key:
                continue
            if isinstance(bucket, int):
                buckets[band] = [bucket, key]
            else:
                bucket.append(key)

    def remove(self, key: int) -> None:
        if self._signatures.pop(key, None) is None:
            return
        buckets = self._buckets
        for band in self._bands.pop(key):
            bucket = buckets.get(band)
            if bucket is None:
                continue
            if isinstance(bucket, int):
                if bucket == key:
                    del buckets[band]
            elif key in bucket:
                bucket.remove(key)
                if len(bucket) == 1:
                    buckets[band] = bucket[0]

    def best(self, sig: np.ndarray, threshold: float, bands: list[int] | None = None) -> tuple[int, float] | None:
        """The kept entry most like ``sig`` at or above ``threshold`` (estimated Jaccard), if any."""
        if not np.any(sig != 0xFFFFFFFF):
            return None
        if bands is None:
            bands = band_keys(sig)[0].tolist()
        found: set[int] = set()
        for bucket in map(self._buckets.get, bands):
            if bucket is None:
                continue
            if isinstance(bucket, int):
                found.add(bucket)
            else:
                found.update(bucket)
        if not found:
            return None
        keys = sorted(found)
        agree = np.count_nonzero(np.stack([self._signatures[k] for k in keys]) == sig, axis=1)
        n = int(np.argmax(agree))  # the first of the best: the lowest key, as a scan in key order finds it
        score = float(agree[n]) / PERMUTATIONS
        return (keys[n], score) if score >= threshold else None
