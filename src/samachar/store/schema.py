"""The database tables (SQLAlchemy Core), as of the newest migration.

Portable SQL only: these tables run on SQLite today and PostgreSQL next.
Times are stored as timezone-aware UTC; JSON columns hold the plain
dataclasses of :mod:`samachar.model` as dictionaries.
"""

from __future__ import annotations

from datetime import timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no offset; PostgreSQL does. This makes both behave the same.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()

ENTRY_STATES = ("new", "fetched", "extracted", "translated", "published", "failed", "held")

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UTCDateTime(), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), nullable=False, unique=True),
    Column("name", Text),
    Column("feed_title", Text),
    Column("site_url", String(2048)),
    Column("policy", String(16)),  # full / excerpt / link; NULL: the site default
    Column("language", String(16)),  # the source's language; NULL: the site's source language
    Column("interval_minutes", Integer),
    Column("seo", String(16)),  # v3: canonical / noindex / index; NULL: the site default
    Column("filters", JSON),  # v4: include/exclude rules evaluated after extraction; NULL: none
    Column("etag", Text),
    Column("last_modified", Text),
    Column("status", String(16), nullable=False, default="new"),  # new / ok / error / gone
    Column("error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_polled_at", UTCDateTime()),
    Column("next_poll_at", UTCDateTime()),
    Column("locked_until", UTCDateTime()),  # the poller's lease ends then unless renewed
    Column("lease_owner", String(200)),  # v4: the poller holding the lease (host:pid:random)
    Column("created_at", UTCDateTime(), nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("key", Text, nullable=False, unique=True),
    Column("normalized_url", String(2048)),
    Column("content_hash", String(64)),
    Column("guid", Text),
    Column("url", String(2048)),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("content_html", Text),
    Column("author", Text),
    Column("published", UTCDateTime()),
    Column("image", String(2048)),
    Column("categories", JSON),
    Column("state", String(16), nullable=False, default="new"),
    Column("error", Text),
    Column("note", Text),  # v2: how the entry was handled, e.g. which body was used and why
    Column("attempts", Integer, nullable=False, default=0),
    Column("deleted_at", UTCDateTime()),  # tombstone: never re-imported
    Column("lease_owner", String(200)),  # v4: the worker working on the entry now, if any
    Column("lease_until", UTCDateTime()),  # v4: when that claim lapses unless renewed
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_entries_normalized_url", "normalized_url"),
    Index("ix_entries_content_hash", "content_hash"),
    Index("ix_entries_state", "state"),
)

pages = Table(
    "pages",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("url", String(2048), nullable=False),  # after redirects
    Column("html", Text, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("body_source", String(8), nullable=False),  # page / feed
    Column("extracted_at", UTCDateTime(), nullable=False),
)

translations = Table(
    "translations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("engine", String(100), nullable=False),
    Column("data", JSON, nullable=False),
    Column("has_errors", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("entry_id", "lang", name="uq_translations_entry_lang"),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("slug", String(200), nullable=False, unique=True),
    Column("published_at", UTCDateTime(), nullable=False),
    UniqueConstraint("entry_id", "lang", name="uq_posts_entry_lang"),
)

translation_memory = Table(
    "translation_memory",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of engine, model, pair, tagged source
    Column("engine", String(100), nullable=False),
    Column("model", String(300), nullable=False),
    Column("source_lang", String(16), nullable=False),
    Column("target_lang", String(16), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("target_text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

glossary = Table(
    "glossary",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("lang", String(16), nullable=False),
    Column("source_term", String(300), nullable=False),
    Column("target_term", String(300), nullable=False),
    UniqueConstraint("lang", "source_term", name="uq_glossary_lang_term"),
)

entry_events = Table(
    "entry_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),  # the state the entry is in after the event
    Column("reason", Text),  # the error, note or action that explains it
    Column("attempt", Integer, nullable=False, default=0),
    Index("ix_entry_events_entry", "entry_id", "id"),
)

images = Table(
    "images",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), nullable=False, unique=True),  # where the image was fetched from
    Column("sha256", String(64)),  # of the bytes; the site's file name derives from it
    Column("content_type", String(64)),  # sniffed from the bytes, not the header
    Column("width", Integer),
    Column("height", Integer),
    Column("size", Integer),
    Column("data", LargeBinary),  # NULL when the fetch failed (see error)
    Column("error", Text),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Index("ix_images_sha256", "sha256"),
)

publications = Table(
    "publications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("target", String(100), nullable=False),  # the target's configured name ("site", "wp"…)
    Column("state", String(16), nullable=False),  # pending / published / failed / unpublished
    Column("remote_id", Text),  # the target's id for the post (a WordPress post id…)
    Column("remote_url", String(2048)),
    Column("revision", String(64)),  # hash of what was sent: a changed translation updates the target
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("intent_at", UTCDateTime()),  # written before a request that creates something remotely
    Column("published_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("entry_id", "lang", "target", name="uq_publications_entry_lang_target"),
    Index("ix_publications_target_state", "target", "state"),
)

search_index = Table(  # v5: what a search result shows, so results never load an article (samachar.publish.search)
    "search_index",
    metadata,
    Column("id", Integer, primary_key=True),  # on SQLite also the rowid of its words in SEARCH_FTS
    Column("entry_id", Integer, nullable=False),  # no foreign key: reconciling drops what is gone
    Column("lang", String(16), nullable=False),
    Column("slug", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("title_words", Text),  # folded words " a b ", where there is no FTS5 (PostgreSQL); else NULL
    Column("words", Text),  # title and body, likewise
    Column("indexed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("entry_id", "lang", name="uq_search_index_entry_lang"),
    Index("ix_search_index_lang_published", "lang", "published_at"),
)

# v5, SQLite only: the words of each search_index row, ranked by FTS5 (its rowid is search_index.id). The
# tokenizer keeps Indic vowel signs inside words (category M) and folds Latin diacritics.
SEARCH_FTS = "post_search"
SEARCH_FTS_DDL = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_FTS} USING fts5(title, body, "
                  "tokenize = \"unicode61 remove_diacritics 2 categories 'L* N* Co M*'\")")

target_media = Table(  # v6: each image uploaded once per publish target (samachar.publish.wordpress)
    "target_media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(100), nullable=False),  # the target's configured name
    Column("image", String(64), nullable=False),  # the stored file's name: its content hash and extension
    Column("remote_id", String(64)),  # the target's id for it (a WordPress media id); NULL: refused
    Column("remote_url", String(2048)),
    Column("error", Text),  # why the target refused it (a file type it does not take); asked again a day later
    Column("uploaded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("target", "image", name="uq_target_media_target_image"),
)
