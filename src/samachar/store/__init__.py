"""Storage: one SQLAlchemy engine, versioned migrations, one module per entity.

``Store(url)`` opens (and migrates) the database; its attributes are the
entity repositories: ``sources``, ``entries``, ``articles``, ``translations``,
``posts``, ``publications``, ``glossary``, ``images``.
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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
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

    def close(self) -> None:
        self.engine.dispose()
