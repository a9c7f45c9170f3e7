"""Extracted articles, one per entry, stored as JSON of :class:`samachar.model.Article`."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from samachar.model import Article
from samachar.store.entries import record_event
from samachar.store.schema import articles, entries, pages
from samachar.store.sources import utcnow


class ArticleRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, entry_id: int, article: Article, *, note: str | None = None) -> None:
        """Store the article and move the entry to ``extracted``; the raw page is no longer needed."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(articles.delete().where(articles.c.entry_id == entry_id))
            conn.execute(articles.insert().values(entry_id=entry_id, data=article.to_dict(),
                                                  body_source=article.source, extracted_at=now))
            conn.execute(pages.delete().where(pages.c.entry_id == entry_id))
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(state="extracted", error=None, note=note, updated_at=now))
            record_event(conn, entry_id, note or f"extracted from the {article.source}")

    def get(self, entry_id: int) -> Article | None:
        with self.engine.connect() as conn:
            data = conn.execute(select(articles.c.data).where(articles.c.entry_id == entry_id)).scalar()
        return Article.from_dict(data) if data else None
