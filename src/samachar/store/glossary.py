"""The site glossary: one fixed rendering per term and target language."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from samachar.store.schema import glossary


class GlossaryRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, source_term: str, target_term: str, lang: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(glossary).where(glossary.c.lang == lang).where(glossary.c.source_term == source_term))
            conn.execute(glossary.insert().values(lang=lang, source_term=source_term, target_term=target_term))

    def remove(self, source_term: str, lang: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(glossary).where(glossary.c.lang == lang)
                                .where(glossary.c.source_term == source_term)).rowcount > 0

    def terms(self, lang: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(glossary.c.source_term, glossary.c.target_term)
                                .where(glossary.c.lang == lang).order_by(glossary.c.source_term))
            return {r.source_term: r.target_term for r in rows}
