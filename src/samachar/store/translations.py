"""Translations of articles, one per (entry, language)."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from samachar.model import TranslatedArticle
from samachar.store.entries import record_event
from samachar.store.schema import entries, translations
from samachar.store.sources import utcnow


class TranslationRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, entry_id: int, translated: TranslatedArticle, *, state: str, reason: str | None = None) -> None:
        """Store the translation and move the entry to ``state`` (``translated`` or ``held``)."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(translations.delete().where(translations.c.entry_id == entry_id)
                         .where(translations.c.lang == translated.target_lang))
            conn.execute(translations.insert().values(
                entry_id=entry_id, lang=translated.target_lang, engine=translated.engine,
                data=translated.to_dict(), has_errors=translated.has_errors, created_at=now))
            conn.execute(update(entries).where(entries.c.id == entry_id)
                         .values(state=state, error=reason, updated_at=now))
            record_event(conn, entry_id, reason or f"translated into {translated.target_lang} by {translated.engine}")

    def get(self, entry_id: int, lang: str) -> TranslatedArticle | None:
        with self.engine.connect() as conn:
            data = conn.execute(select(translations.c.data).where(translations.c.entry_id == entry_id)
                                .where(translations.c.lang == lang)).scalar()
        return TranslatedArticle.from_dict(data) if data else None
