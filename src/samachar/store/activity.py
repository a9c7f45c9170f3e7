"""What the engines and the runs did, kept for the desk's dashboard (:mod:`samachar.dashboard`).

``engine_usage`` holds one row per day, engine and language pair, added to by
every translation (an upsert, so concurrent workers add up instead of
overwriting each other); ``runs`` holds one row per ``samachar run`` round,
``poll`` and worker round.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, case, delete, func, select, update

from samachar.store.schema import engine_usage, runs
from samachar.store.sources import utcnow

if TYPE_CHECKING:
    from samachar.translate.document import EngineUsage


def _insert(conn: Connection) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def record_engine_usage(engine: Engine, usage: Mapping[str, EngineUsage], source_lang: str, target_lang: str,
                        now: datetime | None = None) -> None:
    """Add ``usage`` (engine name → what it was sent) to today's rows for the pair."""
    day = (now or utcnow()).strftime("%Y-%m-%d")
    with engine.begin() as conn:
        insert = _insert(conn)
        for name, used in usage.items():
            if not used.segments and not used.documents:
                continue
            statement = insert(engine_usage).values(
                day=day, engine=name[:100], source_lang=source_lang, target_lang=target_lang,
                documents=used.documents, segments=used.segments, characters=used.characters,
                tokens=used.tokens, seconds=used.seconds)
            new = statement.excluded
            conn.execute(statement.on_conflict_do_update(
                index_elements=["day", "engine", "source_lang", "target_lang"],
                set_={"documents": engine_usage.c.documents + new.documents,
                      "segments": engine_usage.c.segments + new.segments,
                      "characters": engine_usage.c.characters + new.characters,
                      "seconds": engine_usage.c.seconds + new.seconds,
                      "tokens": case((new.tokens.is_(None), engine_usage.c.tokens),
                                     else_=func.coalesce(engine_usage.c.tokens, 0) + new.tokens)}))


def run_owner() -> str:
    """``host:pid`` of this process, as the runs table names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(engine: Engine, kind: str, now: datetime | None = None) -> int:
    """A run begins: its row, unfinished, so the dashboard can say one is under way."""
    with engine.begin() as conn:
        return int(conn.execute(runs.insert().values(kind=kind, owner=run_owner(), started_at=now or utcnow())
                                .returning(runs.c.id)).scalar_one())


def finish_run(engine: Engine, run_id: int, counts: dict[str, Any], now: datetime | None = None) -> None:
    """A run ends with what it did. A worker round that did nothing after another that did nothing
    extends that one's row instead of adding a row every few seconds of idling."""
    now = now or utcnow()
    with engine.begin() as conn:
        row = conn.execute(select(runs.c.kind, runs.c.owner).where(runs.c.id == run_id)).first()
        if row is None:
            return
        if row.kind == "worker" and _idle(counts):
            previous = conn.execute(select(runs.c.id, runs.c.counts).where(runs.c.owner == row.owner)
                                    .where(runs.c.kind == "worker").where(runs.c.id < run_id)
                                    .order_by(runs.c.id.desc()).limit(1)).first()
            if previous is not None and _idle(previous.counts or {}):
                conn.execute(update(runs).where(runs.c.id == previous.id).values(finished_at=now))
                conn.execute(delete(runs).where(runs.c.id == run_id))
                return
        conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=now, counts=counts))


def _idle(counts: Mapping[str, Any]) -> bool:
    return not any(v for k, v in counts.items() if k != "skipped")
