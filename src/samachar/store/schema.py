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
    Float,
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

# -- v7: the editorial desk (samachar.web.admin, samachar.desk) ----------------------------------------

users = Table(  # people who sign in to /admin/: editors review, admins also run sources, targets and users
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # editor / admin
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters and salt
    Column("language", String(16)),  # the desk's language for this user; NULL: Accept-Language
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
)

sessions = Table(  # server-side sessions: the cookie holds a random id, the database only its hash
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the session id
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("address", String(64)),  # the client's address at login
    Index("ix_sessions_user", "user_id"),
)

api_tokens = Table(  # bearer tokens for /api/v1/: shown once at creation, kept as a hash, revocable
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100)),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

login_attempts = Table(  # failed sign-ins, counted per account and per address to limit guessing
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("username", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_address_at", "address", "at"),
)

engine_usage = Table(  # what the engines did per day, for the dashboard (written by the translate stage)
    "engine_usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, UTC
    Column("engine", String(100), nullable=False),
    Column("source_lang", String(16), nullable=False),
    Column("target_lang", String(16), nullable=False),
    Column("documents", Integer, nullable=False, default=0),
    Column("segments", Integer, nullable=False, default=0),
    Column("characters", Integer, nullable=False, default=0),
    Column("tokens", Integer),  # where the engine reports them; NULL: it does not
    Column("seconds", Float, nullable=False, default=0.0),
    UniqueConstraint("day", "engine", "source_lang", "target_lang", name="uq_engine_usage_day_engine_pair"),
)

runs = Table(  # each run of the stages (samachar run, poll, a worker's round), for "the last run and the next"
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # run / poll / worker
    Column("owner", String(200)),  # host:pid of the process
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("counts", JSON),  # entries moved per stage, errors
    Index("ix_runs_started", "started_at"),
)

# v7 columns on existing tables: sources.paused (no polling while set), sources.targets (JSON: per-source
# publish targets and their category, {"wp": {"category": "Politics"}}; NULL: every target, no category),
# entries.publish_after (approved for a chosen time: published on the first run after it).
sources.append_column(Column("paused", Boolean, nullable=False, default=False, server_default="0"))
sources.append_column(Column("targets", JSON))
entries.append_column(Column("publish_after", UTCDateTime()))

# -- v8: stories (samachar.stories) -------------------------------------------------------------------

stories = Table(  # entries that report one event; every placed entry has one (a story of one when alone)
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_seen_at", UTCDateTime(), nullable=False),  # the earliest member's published time
    Column("primary_entry_id", Integer, ForeignKey("entries.id", ondelete="SET NULL")),  # the one published
    Column("manual", Boolean, nullable=False, default=False, server_default="0"),  # split or merged by hand
)

story_members = Table(  # which story each entry is in, and what decided it
    "story_members",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("near_duplicate_of", Integer),  # the entry whose near-verbatim copy this is, if any
    Column("score", Float, nullable=False, default=0.0),  # the similarity that decided (0.0: alone)
    Column("published", UTCDateTime(), nullable=False),  # orders members; bounds the time window
    Column("placed_at", UTCDateTime(), nullable=False),
    Index("ix_story_members_story", "story_id"),
)

story_signatures = Table(  # what the index keeps per entry, so a restart rebuilds it without reading bodies
    "story_signatures",
    metadata,
    Column("id", Integer, primary_key=True),  # placement order: another process's placements are read after it
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("source_id", Integer),
    Column("lang", String(16), nullable=False),
    Column("published", UTCDateTime(), nullable=False),
    Column("minhash", LargeBinary, nullable=False),  # the MinHash signature of the body's word shingles
    Column("similarity", String(100), nullable=False),  # the StorySimilarity that computed `features`
    Column("features", LargeBinary, nullable=False),  # its features, as it encodes them
    Index("ix_story_signatures_published", "published"),
)

# v8 column on sources: stories_mode (merge / separate; NULL: the [stories] mode default)
sources.append_column(Column("stories_mode", String(16)))
