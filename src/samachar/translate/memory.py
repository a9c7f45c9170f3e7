"""Translation memory: segments already translated are not sent to the engine again.

A segment is found by the sha256 of (engine name, engine model, source
language, target language, normalised tagged source). Normalising folds
whitespace and Unicode forms, so a re-fetched article whose only change is
one paragraph re-translates only that paragraph's sentences. Tags are
numbered within the segment, so the same sentence with the same markup hits
wherever it appears.

Two implementations share the protocol: :class:`InMemoryTranslationMemory`
for one run, and :class:`SqlTranslationMemory` over the ``translation_memory``
table of the store.

An editor's correction (:mod:`samachar.editorial`) is kept under the engine
name :data:`HUMAN` with no model: that key is the same whichever engine asks,
and both memories answer it before the engine's own key, so a re-translation
with any engine of the chain keeps what the editor wrote.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import sqlalchemy

_SPACE = re.compile(r"\s+")
HUMAN = "human"  # the engine name of an editor's translation


@dataclass(frozen=True)
class MemoryKey:
    """What identifies one translated segment."""

    engine: str
    model: str
    source_lang: str
    target_lang: str
    source_text: str

    @property
    def digest(self) -> str:
        parts = (self.engine, self.model, self.source_lang, self.target_lang, normalise(self.source_text))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def human(self) -> MemoryKey:
        """The key of an editor's translation of the same source text: engine-independent, looked up first."""
        return MemoryKey(HUMAN, "", self.source_lang, self.target_lang, self.source_text)


def normalise(text: str) -> str:
    """The form of a source segment that decides whether two segments are the same."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@runtime_checkable
class TranslationMemory(Protocol):
    """Where translated segments are kept. ``get_many`` returns only the hits."""

    def get_many(self, keys: list[MemoryKey]) -> dict[MemoryKey, str]: ...

    def put_many(self, items: dict[MemoryKey, str]) -> None: ...


class InMemoryTranslationMemory:
    """A dict; counts hits and misses so benchmarks and tests can read them."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[MemoryKey]) -> dict[MemoryKey, str]:
        found: dict[MemoryKey, str] = {}
        for k in keys:
            digest = next((d for d in (k.human().digest, k.digest) if d in self.entries), None)
            if digest is not None:
                found[k] = self.entries[digest]
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[MemoryKey, str]) -> None:
        for key, target in items.items():
            self.entries[key.digest] = target


class SqlTranslationMemory:
    """The ``translation_memory`` table: key (sha256 hex), engine, model,
    source_lang, target_lang, source_text, target_text, created_at."""

    def __init__(self, db: sqlalchemy.Engine, table: sqlalchemy.Table | None = None):
        self.db = db
        self.table = table if table is not None else self._table()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _table() -> sqlalchemy.Table:
        from samachar.store.schema import translation_memory

        return translation_memory

    def get_many(self, keys: list[MemoryKey]) -> dict[MemoryKey, str]:
        import sqlalchemy as sa

        by_digest: dict[str, list[MemoryKey]] = {}
        by_human: dict[str, list[MemoryKey]] = {}
        for k in keys:
            by_digest.setdefault(k.digest, []).append(k)
            by_human.setdefault(k.human().digest, []).append(k)
        found: dict[MemoryKey, str] = {}
        human: dict[MemoryKey, str] = {}
        digests = list(dict.fromkeys([*by_digest, *by_human]))
        with self.db.connect() as conn:
            for i in range(0, len(digests), 500):
                chunk = digests[i : i + 500]
                rows = conn.execute(
                    sa.select(self.table.c.key, self.table.c.target_text).where(self.table.c.key.in_(chunk))
                )
                for digest, target in rows:
                    found.update((k, target) for k in by_digest.get(digest, ()))
                    human.update((k, target) for k in by_human.get(digest, ()))
        found.update(human)  # an editor's translation wins over any engine's
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[MemoryKey, str]) -> None:
        import sqlalchemy as sa

        if not items:
            return
        now = datetime.now(timezone.utc)
        rows = {
            key.digest: {
                "key": key.digest,
                "engine": key.engine,
                "model": key.model,
                "source_lang": key.source_lang,
                "target_lang": key.target_lang,
                "source_text": normalise(key.source_text),
                "target_text": target,
                "created_at": now,
            }
            for key, target in items.items()
        }
        if self.db.dialect.name in ("sqlite", "postgresql"):
            # One upsert: workers that translate the same sentence at once both succeed, last answer kept.
            if self.db.dialect.name == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as upsert
            else:
                from sqlalchemy.dialects.postgresql import insert as upsert
            values = list(rows.values())
            with self.db.begin() as conn:
                for start in range(0, len(values), 100):
                    statement = upsert(self.table).values(values[start:start + 100])
                    conn.execute(statement.on_conflict_do_update(
                        index_elements=[self.table.c.key],
                        set_={"target_text": statement.excluded.target_text,
                              "created_at": statement.excluded.created_at}))
            return
        with self.db.begin() as conn:
            existing = set(
                conn.execute(sa.select(self.table.c.key).where(self.table.c.key.in_(list(rows)))).scalars()
            )
            for digest in existing:
                conn.execute(
                    sa.update(self.table)
                    .where(self.table.c.key == digest)
                    .values(target_text=rows[digest]["target_text"], created_at=now)
                )
            new_rows = [row for digest, row in rows.items() if digest not in existing]
            if new_rows:
                conn.execute(sa.insert(self.table), new_rows)
