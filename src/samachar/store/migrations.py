"""Versioned schema migrations: an append-only list.

Order is important. Add new migrations at the end of the list; never edit one
that has shipped. Each is a function of a SQLAlchemy connection, run in a
transaction, after which ``schema_version`` records its number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, inspect, select

from samachar.store import schema


def _v1_initial(conn: Connection) -> None:
    tables = [
        schema.sources, schema.entries, schema.pages, schema.articles, schema.translations,
        schema.posts, schema.translation_memory, schema.glossary,
    ]
    schema.metadata.create_all(conn, tables=tables)


MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial,
]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(schema.schema_version.c.version).order_by(schema.schema_version.c.version.desc())).scalar()
    return int(value or 0)


def migrate(engine: Engine) -> int:
    """Apply every pending migration; returns the schema version."""
    with engine.begin() as conn:
        schema.metadata.create_all(conn, tables=[schema.schema_version])
        version = current_version(conn)
    for number, step in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        with engine.begin() as conn:
            step(conn)
            conn.execute(schema.schema_version.insert().values(version=number, applied_at=datetime.now(timezone.utc)))
        version = number
    return version
