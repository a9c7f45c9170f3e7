"""Full-text search over published articles with SQLite FTS5.

FTS5's default ``unicode61`` tokenizer treats only letters, numbers and
private-use characters as token characters, so Devanagari vowel signs
(matras, virama, anusvara: Unicode category M) split words apart — "मॉस्को"
becomes "म", "स", "क" and a search for "मॉ" matches anything with "म". The
table below adds ``M*`` to the token categories, which keeps every Indic word
whole; text and queries are NFC-normalized so nukta forms match. Latin
diacritics are folded (``remove_diacritics 2``: "educacion" finds "educación").

Rows are keyed by entry id (``rowid``); indexing an article again replaces it.
The caller owns the transaction (``with engine.begin() as conn: ...``).
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import Connection, text

from samachar.errors import ConfigError
from samachar.model import PublishedArticle, html_to_text
from samachar.publish.i18n import normalize_language

TABLE = "post_search"
TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value or "")


def ensure_search_table(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        raise ConfigError(f"search needs SQLite FTS5; the database is {conn.dialect.name}")
    conn.execute(text(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(lang UNINDEXED, title, body, "
        f"tokenize = \"{TOKENIZER}\")"))


def _body_text(article: PublishedArticle) -> str:
    parts = [html_to_text(article.summary or ""), *(b.text for b in article.blocks), article.original_title,
             article.publisher, article.source_name, *article.authors, *article.categories]
    return _nfc("\n".join(p for p in parts if p))


def index_articles(conn: Connection, articles: list[PublishedArticle]) -> int:
    """Add or replace these articles in the index; returns how many were written."""
    ensure_search_table(conn)
    for article in articles:
        conn.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), {"id": article.id})
        conn.execute(text(f"INSERT INTO {TABLE}(rowid, lang, title, body) VALUES (:id, :lang, :title, :body)"),
                     {"id": article.id, "lang": normalize_language(article.lang), "title": _nfc(article.title),
                      "body": _body_text(article)})
    return len(articles)


def remove_articles(conn: Connection, ids: list[int]) -> None:
    """Drop unpublished entries from the index."""
    ensure_search_table(conn)
    for entry_id in ids:
        conn.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), {"id": entry_id})


def query_terms(query: str) -> list[str]:
    """Words of a user query: runs of letters, marks and digits (any script)."""
    terms: list[str] = []
    current: list[str] = []
    for ch in _nfc(query):
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch)
        elif current:
            terms.append("".join(current))
            current = []
    if current:
        terms.append("".join(current))
    return terms[:16]


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH string: every word required, each as a quoted prefix (no operator injection)."""
    terms = query_terms(query)
    if not terms:
        return None
    return " AND ".join(f'"{term}"*' for term in terms)


def search_ids(conn: Connection, query: str, lang: str, limit: int = 50) -> list[int]:
    """Entry ids of published articles in ``lang`` matching every word of ``query``, best first."""
    expression = match_expression(query)
    if expression is None:
        return []
    ensure_search_table(conn)
    rows = conn.execute(text(
        f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :match AND lang = :lang "
        f"ORDER BY bm25({TABLE}, 0.0, {TITLE_WEIGHT}, {BODY_WEIGHT}), rowid DESC LIMIT :limit"),
        {"match": expression, "lang": normalize_language(lang), "limit": max(1, int(limit))})
    return [int(row[0]) for row in rows]
