"""The story index: places each entry in a story, keeps stories in the database, corrects by hand.

Placing an item asks two questions, in order: is it a near-verbatim copy of an entry seen within
``near_duplicate_hours`` (MinHash LSH over body shingles), and else does it report the same event as an
entry within ``window_hours`` (the :class:`~samachar.stories.similarity.StorySimilarity`)? It joins the
story of the entry it matched best, or starts a story of its own.

What the index holds in memory (signatures, features, an inverted index over the similarity's keys)
covers the horizon only, and is rebuilt from ``story_signatures`` on start, without reading bodies.
Story membership is always read from the database, so corrections made by another process (``story
split``, ``story merge``) count at once; placements made by another process are read before each batch.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from samachar.plugins import load_class
from samachar.store.schema import stories, story_members, story_signatures
from samachar.store.sources import utcnow
from samachar.stories.model import Placement, StoryError, StoryItem, StoryRow, StorySettings
from samachar.stories.similarity import StorySimilarity, scorer
from samachar.stories.text import word_hashes

if TYPE_CHECKING:
    import numpy as np

    from samachar.store import Store

SIMILARITY_GROUP = "samachar.similarities"
MAX_POSTING = 150  # a key shared by more kept entries than this is too common to find candidates by
QUERY_KEYS = 24  # keys looked up per item: those filed under by the fewest kept entries (the rarest)
FILE_KEYS = 32  # keys an item is filed under: its rarest when placed (filing under all would cost memory and time;
# 32 find the synthetic and the labeled stories as 64 did)
MAX_CANDIDATES = 4  # entries scored per item: those sharing the most of these keys with it
MIN_SHARED_KEYS = 3  # and at least this many: one rare word in common is chance, not one event
FILED_SLOTS = 1 << 22  # entries filed under each key are counted per hashed slot of the key (a NumPy array)


def load_similarity(name: str) -> StorySimilarity:
    """The similarity a name stands for (entry-point group ``samachar.similarities``, or module:Class)."""
    similarity: StorySimilarity = load_class(name, SIMILARITY_GROUP, "similarity")()
    return similarity


class _Batch:
    """What one place_many decided, resolved and written at its end in a few bulk statements.

    An item is decided by the entry it matched (or none); which story that entry is in is read once for the
    whole batch, so that the database is asked per batch, not per item.
    """

    def __init__(self) -> None:
        self.items: list[tuple[StoryItem, int | None, bool, float]] = []  # item, matched entry, near, score
        self.members: list[dict[str, Any]] = []
        self.signatures: list[dict[str, Any]] = []
        self.placed: set[int] = set()

    def add(self, item: StoryItem, match: int | None, near: bool, score: float, sig: Any, features: bytes) -> None:
        self.items.append((item, match, near, score))
        self.placed.add(item.entry_id)
        self.signatures.append({"entry_id": item.entry_id, "source_id": item.source_id, "lang": item.lang,
                                "published": item.published, "minhash": sig.tobytes(), "features": features})

    def flush(self, conn: Connection, similarity: str) -> dict[int, Placement]:
        """Resolve stories, insert what was decided; returns each item's placement."""
        outside = sorted({m for _, m, _, _ in self.items if m is not None and m not in self.placed})
        story_of: dict[int, int] = {}
        for start in range(0, len(outside), 500):
            story_of.update(conn.execute(select(story_members.c.entry_id, story_members.c.story_id)
                                         .where(story_members.c.entry_id.in_(outside[start:start + 500]))).all())
        sizes = _sizes(conn, set(story_of.values()))
        new: list[int] = []  # temporary ids (-1, -2, …) of the stories this batch starts
        first_seen: dict[int, datetime] = {}
        earliest: dict[int, datetime] = {}  # an existing story → the earliest item that joined it
        decided: dict[int, tuple[int, int, int | None, float]] = {}
        for item, match, near, score in self.items:
            story_id = story_of.get(match) if match is not None else None
            if story_id is None:
                story_id = -1 - len(new)
                new.append(story_id)
                first_seen[story_id] = item.published
                sizes[story_id] = 0
                match, near, score = None, False, 0.0
            elif story_id > 0:
                earliest[story_id] = min(earliest.get(story_id, item.published), item.published)
            story_of[item.entry_id] = story_id
            sizes[story_id] += 1
            decided[item.entry_id] = (story_id, sizes[story_id], match if near else None, score)
        real: dict[int, int] = {}
        if new:
            rows = [{"first_seen_at": first_seen[t], "manual": False} for t in new]
            ids = conn.execute(insert(stories).returning(stories.c.id, sort_by_parameter_order=True), rows).scalars()
            real = dict(zip(new, ids, strict=True))
        if earliest:
            conn.execute(update(stories).where(stories.c.id == bindparam("story"),
                                               stories.c.first_seen_at > bindparam("earliest"))
                         .values(first_seen_at=bindparam("earliest")),
                         [{"story": story_id, "earliest": at} for story_id, at in earliest.items()])
        if self.items:
            now = utcnow()
            conn.execute(insert(story_members), [
                {"entry_id": item.entry_id, "story_id": real.get(d[0], d[0]), "near_duplicate_of": d[2],
                 "score": d[3], "published": item.published, "placed_at": now}
                for item, d in ((item, decided[item.entry_id]) for item, _, _, _ in self.items)])
            conn.execute(insert(story_signatures), [{**row, "similarity": similarity} for row in self.signatures])
        return {entry_id: Placement(real.get(d[0], d[0]), d[1], d[2], d[3]) for entry_id, d in decided.items()}


def _sizes(conn: Connection, story_ids: set[int]) -> dict[int, int]:
    """Members per story, for the given stories."""
    found: dict[int, int] = {}
    ids = sorted(story_ids)
    for start in range(0, len(ids), 500):
        found.update(conn.execute(select(story_members.c.story_id, func.count())
                                  .where(story_members.c.story_id.in_(ids[start:start + 500]))
                                  .group_by(story_members.c.story_id)).all())
    return found


def _file(postings: dict[int, int | array[int]], keys: list[int], entry_id: int) -> None:
    """File the entry under the keys: a key's first entry as the int itself, more as an int64 array (no
    container made for the keys only one entry has)."""
    for key in keys:
        posting = postings.setdefault(key, entry_id)
        if posting is entry_id:  # filed now (an entry is filed once under a key)
            continue
        if isinstance(posting, int):
            postings[key] = array("q", (posting, entry_id))
        else:
            posting.append(entry_id)


@dataclass(slots=True)
class _Kept:
    entry_id: int
    published: datetime
    lang: str
    signature: np.ndarray
    features: Any
    keys: np.ndarray  # the keys it is filed under (int64; empty once its features are gone)


class StoryIndex:
    def __init__(self, store: Store, settings: StorySettings | None = None):
        import numpy as np  # loaded when an index is made, not on import

        from samachar.stories import minhash

        self._np = np
        self._minhash = minhash
        self._no_keys = np.zeros(0, dtype=np.int64)
        self.store = store
        self.settings = settings or StorySettings()
        self.similarity = load_similarity(self.settings.similarity)
        self.threshold = self.settings.threshold if self.settings.threshold is not None else self.similarity.threshold
        self._window = timedelta(hours=self.settings.window_hours)
        self._horizon = timedelta(hours=max(self.settings.window_hours, self.settings.near_duplicate_hours))
        self._reset()
        self._refresh()

    # -- memory -------------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._kept: dict[int, _Kept] = {}
        self._by_time: list[tuple[datetime, int]] = []  # a heap: the oldest signature kept first
        self._in_window: list[tuple[datetime, int]] = []  # a heap: the oldest features kept first
        # key → the entry filed under it, or the entries (and some no longer) as raw int64 (one NumPy read for all
        # an item's keys): most keys (names, figures) are one entry's
        self._postings: dict[int, int | array[int]] = {}
        self._filed = self._np.zeros(FILED_SLOTS, dtype=self._np.int32)  # key slot → entries filed under it now
        self._evicted = 0
        self._lsh = self._minhash.MinHashLSH()
        self._newest: datetime | None = None
        self._seen_up_to = 0  # the highest story_signatures.id read
        self.similarity = load_similarity(self.settings.similarity)
        self._score_many = scorer(self.similarity)

    def _keys(self, features: Any) -> tuple[np.ndarray, np.ndarray]:
        """The similarity's keys for the features (int64), and how many kept entries are filed under each."""
        every = self.similarity.keys(features)
        np = self._np
        keys = every if isinstance(every, np.ndarray) else np.fromiter(every, dtype=np.int64, count=len(every))
        return keys, self._filed[keys & (FILED_SLOTS - 1)]

    def _keep(self, entry_id: int, published: datetime, lang: str, sig: np.ndarray, features: Any,
              keys: np.ndarray | None = None, bands: list[int] | None = None) -> None:
        """Hold an entry: its signature for the horizon, its features (None: not wanted) for the window."""
        if entry_id in self._kept:
            return
        if self._newest is not None and published < self._newest - self._horizon:
            return  # older than anything it could still match
        if features is not None and self._newest is not None and published < self._newest - self._window:
            features = None
        if features is None:
            keys = self._no_keys
        elif keys is None:  # read back: filed as when it was placed, under its keys filed under by the fewest
            every, filed = self._keys(features)
            keys = every[self._np.argsort(filed, kind="stable")[:FILE_KEYS]]
        self._kept[entry_id] = _Kept(entry_id, published, lang, sig, features, keys)
        heapq.heappush(self._by_time, (published, entry_id))
        self._lsh.add(entry_id, sig, bands)
        if features is not None:
            heapq.heappush(self._in_window, (published, entry_id))
            self.similarity.add(features)
            self._filed[keys & (FILED_SLOTS - 1)] += 1
            _file(self._postings, keys.tolist(), entry_id)
        if self._newest is None or published > self._newest:
            self._newest = published
            self._evict()

    def _evict(self) -> None:
        """Features leave after the window, signatures after the horizon (memory stays bounded)."""
        assert self._newest is not None
        oldest = self._newest - self._window
        while self._in_window and self._in_window[0][0] < oldest:
            _, entry_id = heapq.heappop(self._in_window)
            kept = self._kept.get(entry_id)
            if kept is not None and kept.features is not None:
                self._forget(kept)
        oldest = self._newest - self._horizon
        while self._by_time and self._by_time[0][0] < oldest:
            _, entry_id = heapq.heappop(self._by_time)
            gone = self._kept.pop(entry_id, None)
            if gone is None:
                continue
            self._lsh.remove(entry_id)
            if gone.features is not None:
                self._forget(gone)
        if self._evicted > max(1000, 2 * len(self._in_window)):  # postings keep entries gone, until now
            postings: dict[int, int | array[int]] = {}
            for kept in sorted(self._kept.values(), key=lambda k: (k.published, k.entry_id)):
                _file(postings, kept.keys.tolist(), kept.entry_id)
            self._postings = postings
            self._evicted = 0

    def _forget(self, kept: _Kept) -> None:
        """The entry's features leave the window: the similarity's statistics and the filed counts follow."""
        self.similarity.remove(kept.features)
        self._filed[kept.keys & (FILED_SLOTS - 1)] -= 1
        kept.features, kept.keys = None, self._no_keys
        self._evicted += 1

    def _refresh(self) -> None:
        """Read the signatures placed since the last read (all of the horizon on start), by this process or another."""
        np = self._np
        with self.store.engine.connect() as conn:
            # What was placed since the last read, ids only: usually this process's own last batch, which is
            # kept already (then nothing more is read; the blobs are read only for entries placed elsewhere).
            placed = conn.execute(select(story_signatures.c.id, story_signatures.c.entry_id)
                                  .where(story_signatures.c.id > self._seen_up_to)).all()
            if not placed:
                return
            if all(entry_id in self._kept for _, entry_id in placed):
                self._seen_up_to = max(row_id for row_id, _ in placed)
                return
            newest = conn.execute(select(func.max(story_signatures.c.published))
                                  .where(story_signatures.c.id > self._seen_up_to)).scalar()
            if newest is None:
                return
            start = newest - self._horizon
            if self._newest is not None:
                start = min(start, self._newest - self._horizon)
            rows = conn.execute(
                select(story_signatures.c.id, story_signatures.c.entry_id, story_signatures.c.published,
                       story_signatures.c.lang, story_signatures.c.minhash, story_signatures.c.similarity,
                       story_signatures.c.features)
                .where(story_signatures.c.id > self._seen_up_to, story_signatures.c.published >= start)
                .order_by(story_signatures.c.published, story_signatures.c.id)).all()
            top = max([self._seen_up_to, *(row.id for row in rows)])
            window_start = max(newest, self._newest or newest) - self._window
            # All signatures in one array, their band keys in one NumPy step: a restart costs what the rows cost.
            sigs = np.frombuffer(b"".join(row.minhash for row in rows), dtype=np.uint32)
            sigs = sigs.reshape(len(rows), self._minhash.PERMUTATIONS)
            bands = self._minhash.band_keys(sigs).tolist()
            for n, row in enumerate(rows):
                if row.entry_id in self._kept:
                    continue
                wanted = row.similarity == self.similarity.name and row.published >= window_start
                self._keep(row.entry_id, row.published, row.lang, sigs[n],
                           self.similarity.decode(row.features) if wanted else None, bands=bands[n])
            self._seen_up_to = max(top, conn.execute(select(func.max(story_signatures.c.id))).scalar() or 0)

    # -- placing ------------------------------------------------------------------------------------------

    def place(self, item: StoryItem) -> Placement:
        """The item's story, found or started, and stored; an entry placed before keeps its placement."""
        return self.place_many([item])[0]

    def place_many(self, items: Sequence[StoryItem]) -> list[Placement]:
        """Place items in order, in one transaction (a few statements per batch, not per item)."""
        if not items:
            return []
        self._refresh()
        try:
            with self.store.engine.begin() as conn:
                return self._place_batch(conn, items)
        except BaseException:
            self._reset()  # what was kept for a rolled-back batch must go: read it all again
            self._refresh()
            raise

    def _place_batch(self, conn: Connection, items: Sequence[StoryItem]) -> list[Placement]:
        placed = self._placed(conn, [item.entry_id for item in items])
        todo: dict[int, StoryItem] = {}
        for item in items:
            if item.entry_id not in placed:
                todo.setdefault(item.entry_id, item)
        # What needs no index is computed for the whole batch first: words, features, then the MinHash
        # signatures and their band keys in one NumPy step each.
        mh = self._minhash
        hashed, features = [], []
        for item in todo.values():
            hashed.append(word_hashes(item.text))
            features.append(self.similarity.features(item))  # right after: the words of the text are cached
        sigs = mh.signatures_of_words(hashed)
        bands = mh.band_keys(sigs).tolist()
        batch = _Batch()
        for n, item in enumerate(todo.values()):
            self._decide(item, sigs[n], bands[n], features[n], batch)
        placed.update(batch.flush(conn, self.similarity.name))
        return [placed[item.entry_id] for item in items]

    def _placed(self, conn: Connection, entry_ids: list[int]) -> dict[int, Placement]:
        found: dict[int, Placement] = {}
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start:start + 500]
            rows = conn.execute(select(story_members).where(story_members.c.entry_id.in_(chunk))).all()
            sizes = _sizes(conn, {row.story_id for row in rows})
            for row in rows:
                found[row.entry_id] = Placement(row.story_id, sizes[row.story_id], row.near_duplicate_of, row.score)
        return found

    def _decide(self, item: StoryItem, sig: np.ndarray, bands: list[int], features: Any, batch: _Batch) -> None:
        """The entry the item matched (a near-verbatim copy first, else the same story), kept for the batch."""
        keys, filed = self._keys(features)
        order = self._np.argsort(filed, kind="stable")  # the rarest keys first
        near = self._lsh.best(sig, self.settings.near_duplicate_threshold, bands)
        if near is not None and self._kept[near[0]].lang == item.lang:
            batch.add(item, near[0], True, near[1], sig, self.similarity.encode(features))
        else:
            match = self._same_story(item, features, keys, filed, order)
            batch.add(item, match[0] if match else None, False, match[1] if match else 0.0, sig,
                      self.similarity.encode(features))
        self._keep(item.entry_id, item.published, item.lang, sig, features, keys[order[:FILE_KEYS]], bands)

    def _story_of(self, conn: Connection, entry_id: int) -> int | None:
        found: int | None = conn.execute(select(story_members.c.story_id)
                                         .where(story_members.c.entry_id == entry_id)).scalar()
        return found

    def _same_story(self, item: StoryItem, features: Any, keys: np.ndarray, filed: np.ndarray,
                    order: np.ndarray) -> tuple[int, float] | None:
        """The kept entry within the window that scores highest with the item, at or above the threshold.

        Candidates come from the postings of the item's rarest keys (filed under by the fewest, but some;
        ``order`` ranks the keys by ``filed``).
        """
        ranked_filed = filed[order]
        rarest = keys[order[(ranked_filed > 0) & (ranked_filed <= MAX_POSTING)][:QUERY_KEYS]].tolist()
        np, kept_now = self._np, self._kept
        found = [posting for posting in map(self._postings.get, rarest) if posting is not None]
        if not found:
            return None
        # Entries counted by how many of these keys they are filed under, in one NumPy step over the postings'
        # bytes; those filed under too few, gone, out of the window or without features are passed over.
        ones = [posting for posting in found if isinstance(posting, int)]
        filed = np.frombuffer(b"".join(p for p in found if not isinstance(p, int)), dtype=np.int64)
        if ones:
            filed = np.concatenate((filed, np.array(ones, dtype=np.int64)))
        ids, hits = np.unique(filed, return_counts=True)
        enough = hits >= MIN_SHARED_KEYS
        ids, hits = ids[enough], hits[enough]
        candidates: list[int] = []
        for entry_id in ids[np.lexsort((ids, -hits))].tolist():  # the most keys shared first, then the lowest id
            kept = kept_now.get(entry_id)
            if kept is not None and kept.features is not None and abs(kept.published - item.published) <= self._window:
                candidates.append(entry_id)
                if len(candidates) == MAX_CANDIDATES:
                    break
        best: tuple[int, float] | None = None
        scores = self._score_many(features, [kept_now[e].features for e in candidates]) if candidates else []
        for entry_id, score in zip(candidates, scores, strict=True):
            if score >= self.threshold and (best is None or score > best[1]):
                best = (entry_id, score)
        return best

    # -- reading ------------------------------------------------------------------------------------------

    def story_of(self, entry_id: int) -> int | None:
        """The entry's story, or None when it is alone in it (or not placed)."""
        with self.store.engine.connect() as conn:
            story_id = self._story_of(conn, entry_id)
            if story_id is None or _sizes(conn, {story_id})[story_id] < 2:
                return None
            return story_id

    def members(self, story_id: int) -> list[int]:
        """Entry ids of the story, first seen first."""
        with self.store.engine.connect() as conn:
            return self._members(conn, story_id)

    def _members(self, conn: Connection, story_id: int) -> list[int]:
        return list(conn.execute(select(story_members.c.entry_id).where(story_members.c.story_id == story_id)
                                 .order_by(story_members.c.published, story_members.c.entry_id)).scalars())

    def stories(self, *, min_size: int = 1, limit: int | None = None) -> list[StoryRow]:
        """Stories with at least ``min_size`` members, the newest first."""
        with self.store.engine.connect() as conn:
            sizes = (select(story_members.c.story_id, func.count().label("size"))
                     .group_by(story_members.c.story_id).having(func.count() >= min_size).subquery())
            query = (select(stories).join(sizes, sizes.c.story_id == stories.c.id)
                     .order_by(stories.c.first_seen_at.desc(), stories.c.id.desc()))
            if limit is not None:
                query = query.limit(limit)
            rows = conn.execute(query).all()
            members: dict[int, list[int]] = {row.id: [] for row in rows}
            ids = list(members)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for story_id, entry_id in conn.execute(
                        select(story_members.c.story_id, story_members.c.entry_id)
                        .where(story_members.c.story_id.in_(chunk))
                        .order_by(story_members.c.published, story_members.c.entry_id)):
                    members[story_id].append(entry_id)
            return [StoryRow(row.id, members[row.id], row.first_seen_at, row.primary_entry_id) for row in rows]

    # -- corrections --------------------------------------------------------------------------------------

    def _require(self, conn: Connection, entry_id: int) -> int:
        story_id = self._story_of(conn, entry_id)
        if story_id is None:
            raise StoryError(f"entry {entry_id} is in no story yet (it has not been clustered)")
        return story_id

    def split(self, entry_id: int) -> int:
        """The entry leaves its story for a new one of its own, marked manual; returns the new story's id."""
        with self.store.engine.begin() as conn:
            old = self._require(conn, entry_id)
            published = conn.execute(select(story_members.c.published)
                                     .where(story_members.c.entry_id == entry_id)).scalar_one()
            new = conn.execute(insert(stories).values(first_seen_at=published, manual=True)
                               .returning(stories.c.id)).scalar_one()
            conn.execute(update(story_members).where(story_members.c.entry_id == entry_id)
                         .values(story_id=new, near_duplicate_of=None, score=0.0))
            conn.execute(update(stories).where(stories.c.id == old, stories.c.primary_entry_id == entry_id)
                         .values(primary_entry_id=None))
            self._settle(conn, old)
            return int(new)

    def merge(self, entry_a: int, entry_b: int) -> int:
        """B's story joins A's (marked manual); returns A's story id."""
        with self.store.engine.begin() as conn:
            story_a, story_b = self._require(conn, entry_a), self._require(conn, entry_b)
            if story_a != story_b:
                conn.execute(update(story_members).where(story_members.c.story_id == story_b)
                             .values(story_id=story_a))
                conn.execute(delete(stories).where(stories.c.id == story_b))
            conn.execute(update(stories).where(stories.c.id == story_a).values(manual=True))
            self._settle(conn, story_a)
            return story_a

    def _settle(self, conn: Connection, story_id: int) -> None:
        """A story's first-seen time after members came or went; a story left empty is removed."""
        first = conn.execute(select(func.min(story_members.c.published))
                             .where(story_members.c.story_id == story_id)).scalar()
        if first is None:
            conn.execute(delete(stories).where(stories.c.id == story_id))
        else:
            conn.execute(update(stories).where(stories.c.id == story_id).values(first_seen_at=first))

    def set_primary(self, story_id: int, entry_id: int | None) -> None:
        """The entry the merge policy publishes for the story (None: none chosen)."""
        with self.store.engine.begin() as conn:
            if conn.execute(select(stories.c.id).where(stories.c.id == story_id)).scalar() is None:
                raise StoryError(f"no story {story_id}")
            if entry_id is not None and self._story_of(conn, entry_id) != story_id:
                raise StoryError(f"entry {entry_id} is not in story {story_id}")
            conn.execute(update(stories).where(stories.c.id == story_id).values(primary_entry_id=entry_id))
