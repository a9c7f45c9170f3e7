"""Extraction quality as a number: word-shingle precision/recall/F1.

The method is the one of the Zyte (Scrapinghub) article-extraction benchmark,
so our figures compare with published ones: text is split into ``\\w+``
tokens, compared as multisets of 4-token shingles, each page's counts are
normalised to sum to one, precision and recall are averaged over pages, and
F1 is computed from the two averages.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")
SHINGLE = 4


@dataclass(frozen=True)
class PageScore:
    """Shares of shingles on one page: matched, extra (predicted only), missed (expected only)."""

    tp: float
    fp: float
    fn: float


@dataclass(frozen=True)
class CorpusScore:
    precision: float
    recall: float
    f1: float
    pages: int


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def score_page(expected: str, predicted: str) -> PageScore:
    truth, guess = shingles(expected), shingles(predicted)
    tp = sum((truth & guess).values())
    fp = sum((guess - truth).values())
    fn = sum((truth - guess).values())
    total = tp + fp + fn
    if not total:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def score_corpus(pages: list[PageScore]) -> CorpusScore:
    """Average precision and recall over pages (pages with nothing to measure are left out)."""
    precisions = [_precision(p) for p in pages if p.tp + p.fp > 0]
    recalls = [_recall(p) for p in pages if p.tp + p.fn > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return CorpusScore(precision, recall, f1, len(pages))


def _precision(p: PageScore) -> float:
    if p.fp == 0 and p.fn == 0:
        return 1.0
    return p.tp / (p.tp + p.fp) if p.tp + p.fp else 0.0


def _recall(p: PageScore) -> float:
    if p.fp == 0 and p.fn == 0:
        return 1.0
    return p.tp / (p.tp + p.fn) if p.tp + p.fn else 0.0
