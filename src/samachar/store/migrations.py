"""Versioned schema migrations: an append-only list.

Order is important. Add new migrations at the end of the list; never edit one
that has shipped. Each is a function of a SQLAlchemy connection, run in a
transaction, after which ``schema_version`` records its number.

A new database is created by the first migration straight from
:mod:`samachar.store.schema`, so later migrations bring *older* databases up
to date and skip what a new one already has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import OperationalError

from samachar.store import schema


def _v1_initial(conn: Connection) -> None:
    tables = [
        schema.sources, schema.entries, schema.pages, schema.articles, schema.translations,
        schema.posts, schema.translation_memory, schema.glossary,
    ]
    schema.metadata.create_all(conn, tables=tables)


def _v2_entry_notes(conn: Connection) -> None:
    """Informational notes (e.g. "used the feed's content: page returned 404"), apart from errors."""
    if not _has_column(conn, "entries", "note"):
        conn.execute(text("ALTER TABLE entries ADD COLUMN note TEXT"))


def _v3_history_seo_images(conn: Connection) -> None:
    """Entry history (``entry show``), per-source SEO choice, images stored in the site."""
    if inspect(conn).has_table("sources") and not _has_column(conn, "sources", "seo"):
        conn.execute(text("ALTER TABLE sources ADD COLUMN seo VARCHAR(16)"))
    schema.metadata.create_all(conn, tables=[schema.entry_events, schema.images])


def _v4_stages_targets_workers(conn: Connection) -> None:
    """Per-source filters, per-(entry, language, target) publish records, leases on entries and sources."""
    for table, column, sql_type in (("sources", "filters", "JSON"), ("entries", "lease_owner", "VARCHAR(200)"),
                                    ("entries", "lease_until", _timestamp(conn)),
                                    ("sources", "lease_owner", "VARCHAR(200)")):
        if inspect(conn).has_table(table) and not _has_column(conn, table, column):
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
    schema.metadata.create_all(conn, tables=[schema.publications])


def _v5_search_index(conn: Connection) -> None:
    """Search served from an index of its own (slug, title, excerpt, date), the words in FTS5 on SQLite.

    The FTS5 table before it was keyed by entry id alone; it is dropped, and the next run's reconciling
    indexes every published article again. A SQLite without FTS5 searches the portable way.
    """
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.execute(text(f"DROP TABLE IF EXISTS {schema.SEARCH_FTS}"))
    schema.metadata.create_all(conn, tables=[schema.search_index])
    if sqlite:
        try:
            conn.execute(text(schema.SEARCH_FTS_DDL))
        except OperationalError:  # "no such module: fts5"
            pass


def _v6_target_media(conn: Connection) -> None:
    """Images uploaded to a publish target, so that each is uploaded there once (a WordPress media id)."""
    schema.metadata.create_all(conn, tables=[schema.target_media])


def _v7_editorial_desk(conn: Connection) -> None:
    """Users, sessions, API tokens and login attempts for /admin/; engine usage and runs for the dashboard;
    pausing a source, per-source targets, approving for a chosen time."""
    for table, column, sql_type in (("sources", "paused", "BOOLEAN NOT NULL DEFAULT FALSE"),
                                    ("sources", "targets", "JSON"),
                                    ("entries", "publish_after", _timestamp(conn))):
        if inspect(conn).has_table(table) and not _has_column(conn, table, column):
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
    schema.metadata.create_all(conn, tables=[schema.users, schema.sessions, schema.api_tokens,
                                             schema.login_attempts, schema.engine_usage, schema.runs])


def _v8_stories(conn: Connection) -> None:
    """Stories: entries that report one event share a story (samachar.stories); per-source stories mode."""
    if inspect(conn).has_table("sources") and not _has_column(conn, "sources", "stories_mode"):
        conn.execute(text("ALTER TABLE sources ADD COLUMN stories_mode VARCHAR(16)"))
    schema.metadata.create_all(conn, tables=[schema.stories, schema.story_members, schema.story_signatures])


def _timestamp(conn: Connection) -> str:
    return "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"


def _has_column(conn: Connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(conn).get_columns(table))


MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial,
    _v2_entry_notes,
    _v3_history_seo_images,
    _v4_stages_targets_workers,
    _v5_search_index,
    _v6_target_media,
    _v7_editorial_desk,
    _v8_stories,
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
