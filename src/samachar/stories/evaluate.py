"""Scores of the story index on the labeled set (tests/data/stories/*.jsonl): B-cubed over story labels.

B-cubed asks of every entry: of the entries put in its cluster, how many truly share its story
(precision), and of those that share its story, how many were put in its cluster (recall); both are
averaged over entries. Three figures are reported: near-duplicates (clusters made by the near-duplicate
links alone, scored against the ``near_dup`` labels, a null label being a group of its own), all stories
(the index's stories against the ``story`` labels), and what URL/GUID/hash dedupe alone does (each entry
its own story unless its URL or body repeats an earlier one's exactly), today's behaviour.

``python -m samachar.stories.evaluate`` prints them, with the precision/recall curve of the threshold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from samachar.stories.model import StoryItem, StorySettings

LABELED = Path(__file__).resolve().parents[3] / "tests" / "data" / "stories"


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        return self.f(1.0)

    def f(self, beta: float) -> float:
        """F-beta: beta < 1 weighs precision more (F0.5: a wrong merge costs more than a missed one)."""
        total = beta * beta * self.precision + self.recall
        return (1 + beta * beta) * self.precision * self.recall / total if total else 0.0

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


def bcubed(predicted: Mapping[str, Hashable], gold: Mapping[str, Hashable]) -> Score:
    """B-cubed precision and recall of a clustering (item → cluster) against labels (item → label)."""
    if set(predicted) != set(gold):
        raise ValueError("the clustering and the labels must cover the same items")
    if not gold:
        return Score(1.0, 1.0)
    clusters: dict[Hashable, set[str]] = {}
    labels: dict[Hashable, set[str]] = {}
    for item, cluster in predicted.items():
        clusters.setdefault(cluster, set()).add(item)
        labels.setdefault(gold[item], set()).add(item)
    precision = recall = 0.0
    for item in gold:
        mine, truth = clusters[predicted[item]], labels[gold[item]]
        common = len(mine & truth)
        precision += common / len(mine)
        recall += common / len(truth)
    return Score(precision / len(gold), recall / len(gold))


@dataclass(frozen=True)
class Labeled:
    id: str
    story: str
    near_dup: str | None
    kind: str
    url: str
    lang: str
    published: datetime
    title: str
    body: tuple[str, ...]


def load_labeled(paths: Iterable[Path] | None = None) -> list[Labeled]:
    """The labeled entries, in ingestion order (published, then id)."""
    found = []
    for path in paths if paths is not None else sorted(LABELED.glob("*.jsonl")):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append(Labeled(row["id"], row["story"], row.get("near_dup"), row["kind"], row["url"],
                                     row["lang"], datetime.fromisoformat(row["published"]), row["title"],
                                     tuple(row["body"])))
    return sorted(found, key=lambda r: (r.published.astimezone(timezone.utc), r.id))


@dataclass(frozen=True)
class Clustering:
    story: dict[str, int]  # labeled id → story id
    near_dup: dict[str, str]  # labeled id → the first entry of its chain of near-duplicate links


def cluster(records: Sequence[Labeled], settings: StorySettings | None = None) -> Clustering:
    """Place the records, in order, in a fresh index over a throw-away SQLite database."""
    from sqlalchemy import insert

    from samachar.store import Store
    from samachar.store.schema import entries
    from samachar.stories.index import StoryIndex

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'stories.db'}")
        try:
            now = datetime.now(timezone.utc)
            with store.engine.begin() as conn:
                ids = [conn.execute(insert(entries).values(key=r.id, title=r.title, state="extracted", attempts=0,
                                                           created_at=now, updated_at=now)
                                    .returning(entries.c.id)).scalar_one() for r in records]
            index = StoryIndex(store, settings)
            placed = index.place_many([
                StoryItem(entry_id=entry_id, source_id=None, lang=r.lang, title=r.title, text="\n\n".join(r.body),
                          published=r.published) for entry_id, r in zip(ids, records, strict=True)])
        finally:
            store.close()
    by_entry = {entry_id: r.id for entry_id, r in zip(ids, records, strict=True)}
    root: dict[str, str] = {}
    for r, p in zip(records, placed, strict=True):
        root[r.id] = root[by_entry[p.near_duplicate_of]] if p.near_duplicate_of is not None else r.id
    return Clustering({r.id: p.story_id for r, p in zip(records, placed, strict=True)}, root)


def exact_dedupe(records: Sequence[Labeled]) -> dict[str, str]:
    """Today's behaviour: an entry is a duplicate only of one with the same URL or the same body."""
    first: dict[str, str] = {}
    found = {}
    for r in records:
        digest = hashlib.sha256("\n\n".join(r.body).encode()).hexdigest()
        owner = first.get(r.url) or first.get(digest) or r.id
        first.setdefault(r.url, owner)
        first.setdefault(digest, owner)
        found[r.id] = owner
    return found


@dataclass(frozen=True)
class Report:
    entries: int
    stories: int
    near_duplicates: Score
    all_stories: Score
    exact: Score


def near_dup_labels(records: Sequence[Labeled]) -> dict[str, str]:
    return {r.id: r.near_dup or f"single:{r.id}" for r in records}


def evaluate(records: Sequence[Labeled], settings: StorySettings | None = None) -> Report:
    found = cluster(records, settings)
    stories = {r.id: r.story for r in records}
    return Report(len(records), len(set(stories.values())),
                  near_duplicates=bcubed(found.near_dup, near_dup_labels(records)),
                  all_stories=bcubed(found.story, stories), exact=bcubed(exact_dedupe(records), stories))


def curve(records: Sequence[Labeled], thresholds: Iterable[float],
          settings: StorySettings | None = None) -> list[tuple[float, Score]]:
    """B-cubed over all stories at each same-story threshold (near-duplicates as configured)."""
    base = settings or StorySettings()
    stories = {r.id: r.story for r in records}
    return [(t, bcubed(cluster(records, replace(base, threshold=t)).story, stories)) for t in thresholds]


def fit(records: Sequence[Labeled], window_hours: float = 72.0, l2: float = 0.1) -> tuple[list[float], float]:
    """Logistic weights of the lexical similarity's components over all pairs within the window (IDF from all)."""
    import numpy as np

    from samachar.stories.similarity import LexicalSimilarity

    similarity = LexicalSimilarity()
    features = [similarity.features(StoryItem(0, None, r.lang, r.title, "\n\n".join(r.body), r.published))
                for r in records]
    for f in features:
        similarity.add(f)
    rows, same = [], []
    for i, a in enumerate(records):
        for j in range(i):
            if abs((a.published - records[j].published).total_seconds()) <= window_hours * 3600:
                rows.append(similarity.components(features[i], features[j]))
                same.append(float(a.story == records[j].story))
    x, y = np.array(rows), np.array(same)
    weights, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(5000):  # gradient descent on the log loss, with a little L2
        p = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
        weights -= 0.5 * (x.T @ (p - y) + l2 * weights) / len(y)
        bias -= 0.5 * float((p - y).mean())
    return [round(float(w), 2) for w in weights], round(bias, 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samachar.stories.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="labeled .jsonl files (default: tests/data/stories/)")
    parser.add_argument("--curve", action="store_true", help="also print precision/recall per threshold")
    parser.add_argument("--fit", action="store_true", help="also fit the lexical similarity's weights")
    args = parser.parse_args(argv)
    records = load_labeled(args.files or None)
    if not records:
        print("error: no labeled entries found")
        return 2
    report = evaluate(records)
    print(f"{report.entries} entries, {report.stories} stories")
    print(f"near-duplicates     {report.near_duplicates}")
    print(f"all stories         {report.all_stories}")
    print(f"URL/GUID/hash only  {report.exact}")
    if args.fit:
        weights, bias = fit(records)
        print(f"fitted WEIGHTS = {tuple(weights)}, BIAS = {bias}")
    if args.curve:
        print("threshold  precision  recall  F1     F0.5")
        for threshold, score in curve(records, [round(0.05 * n, 2) for n in range(2, 20)]):
            print(f"{threshold:9.2f}  {score.precision:9.3f}  {score.recall:6.3f}  {score.f1:.3f}  {score.f(0.5):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
