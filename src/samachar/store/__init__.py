"""Storage: one SQLAlchemy engine, versioned migrations, one module per entity.

``Store(url)`` opens (and migrates) the database; its attributes are the
entity repositories: ``sources``, ``entries``, ``articles``, ``translations``,
``posts``, ``publications``, ``glossary``, ``images``, ``users``.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from samachar.store.articles import ArticleRepository
from samachar.store.entries import EntryRepository
from samachar.store.glossary import GlossaryRepository
from samachar.store.images import ImageRepository
from samachar.store.migrations import migrate
from samachar.store.posts import PostRepository
from samachar.store.publications import PublicationRepository
from samachar.store.sources import SourceRepository
from samachar.store.translations import TranslationRepository
from samachar.store.users import UserRepository


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys, WAL, a busy timeout and, under WAL only, ``synchronous=NORMAL``.

    WAL + NORMAL writes every commit to the WAL before it returns but syncs the disk
    at checkpoints only: a killed process (kill -9, a crash) loses nothing committed,
    a power cut can roll back the last commits, never half of one, in commit order
    (so a feed's ETag never survives without its entries). It saves one fsync per
    commit: 0.4-9 ms each on the benchmark machine's shared disk.
    A database that is not in WAL (``:memory:``) keeps FULL.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    if str(cursor.fetchone()[0]).lower() == "wal":
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = open_engine(url)
        self.version = migrate(self.engine)
        self.sources = SourceRepository(self.engine)
        self.entries = EntryRepository(self.engine)
        self.articles = ArticleRepository(self.engine)
        self.translations = TranslationRepository(self.engine)
        self.posts = PostRepository(self.engine)
        self.publications = PublicationRepository(self.engine)
        self.glossary = GlossaryRepository(self.engine)
        self.images = ImageRepository(self.engine)
        self.users = UserRepository(self.engine)  # the desk's users, sessions, API tokens

    def close(self) -> None:
        self.engine.dispose()
