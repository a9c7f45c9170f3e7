"""Site search, in one place: the index, how it is kept whole, and the query, for SQLite and PostgreSQL.

The index is the table ``search_index``: one row per published (entry,
language) holding what a result shows — slug, title, excerpt, date — so that
results come from it alone, a page at a time, and never load an article.
Where it can (SQLite), the words go to an FTS5 table (``post_search``, rowid =
the row's id) ranked by bm25 with the title weighted up; elsewhere
(PostgreSQL) the row keeps its words folded and every query word must begin a
word of the article, title matches first, then the newest.

FTS5's default ``unicode61`` tokenizer takes only letters, numbers and
private-use characters as token characters, so Devanagari vowel signs
(matras, virama, anusvara: Unicode category M) would split words apart —
"मॉस्को" would become "म", "स", "क" and a search for "मॉ" would match anything
with "म". The index's tokenizer adds ``M*``, which keeps every Indic word
whole; text and queries are NFC-normalized so that nukta forms match, and
Latin diacritics are folded ("educacion" finds "educación"). The portable
path folds the same way in Python.

Publishing indexes what it publishes (:func:`index_published`), republishing
a changed translation included, and every run calls :func:`reconcile`: two
anti-joins, no article read (about 0.1 s for 10,000 posts), that index the
posts the index lacks (a kill between publishing and indexing) and drop the
rows whose post or entry is gone. :func:`search` answers the site's
``/search``.

The ``Connection`` functions (``index_articles``, ``remove_articles``,
``search_hits``) work inside the caller's transaction; ``ArticleIndex`` holds
a site's articles in memory, for a site served without a database.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    create_engine,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ColumnClause

from samachar.model import PublishedArticle, html_to_text
from samachar.publish.site import SUMMARY_WORDS
from samachar.store.schema import (
    SEARCH_FTS,
    SEARCH_FTS_DDL,
    articles,
    entries,
    posts,
    search_index,
    translations,
)

if TYPE_CHECKING:
    from samachar.store import Store

TABLE = SEARCH_FTS
TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0
MAX_RESULTS = 100  # per query: a page of results, never the whole index
MAX_OFFSET = 1000  # deeper pages are not worth the database's work
MAX_TERMS = 16
EXCERPT_CHARS = 2000  # however long its words, an excerpt stays small
MAX_INDEXED_CHARS = 200_000  # of one article's text: a runaway page does not bloat the index
BATCH = 100  # articles loaded at a time while indexing: memory stays bounded whatever the site's size

_fts = sql_table(SEARCH_FTS, sql_column("rowid"), sql_column("title"), sql_column("body"))
_fts_match: ColumnClause[Any] = literal_column(SEARCH_FTS)  # FTS5's hidden column named after its table
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class SearchHit:
    """One result, as the index holds it."""

    id: int  # the entry id, as PublishedArticle.id
    slug: str
    title: str
    excerpt: str
    published_at: datetime


@dataclass(frozen=True)
class Reconciled:
    indexed: int  # posts missing from the index
    removed: int  # rows whose post or entry is gone


# -- words ---------------------------------------------------------------------------------------

def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value or "")


def _terms(value: str) -> Iterator[str]:
    """Runs of letters, marks and digits (any script)."""
    current: list[str] = []
    for ch in value:
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch)
        elif current:
            yield "".join(current)
            current = []
    if current:
        yield "".join(current)


def query_terms(query: str) -> list[str]:
    """Words of a user query, NFC, at most ``MAX_TERMS``."""
    return list(_terms(_nfc(query)))[:MAX_TERMS]


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH string: every word required, each as a quoted prefix (no operator injection)."""
    terms = query_terms(query)
    if not terms:
        return None
    return " AND ".join(f'"{term}"*' for term in terms)


def fold(value: str) -> str:
    """What the portable path compares: NFC, case-folded, Latin diacritics (U+0300–U+036F) dropped.

    Indic vowel signs are marks of their own blocks and stay.
    """
    decomposed = unicodedata.normalize("NFD", value or "")
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not 0x300 <= ord(ch) <= 0x36F)).casefold()


def _words(value: str) -> str:
    """`` word word `` — each word between spaces, so that ``LIKE '% pre%'`` finds a word's beginning."""
    return " " + " ".join(_terms(fold(value))) + " "


def _body_text(article: PublishedArticle) -> str:
    parts = [html_to_text(article.summary or ""), *(b.text for b in article.blocks), article.original_title,
             article.publisher, article.source_name, *article.authors, *article.categories]
    return _nfc("\n".join(p for p in parts if p))[:MAX_INDEXED_CHARS]


def excerpt(article: PublishedArticle) -> str:
    """What a card shows of the article: its summary, else its first paragraph, cut to the card's words."""
    body = html_to_text(article.summary or "") or next(
        (b.text for b in article.blocks if b.kind == "paragraph" and b.text), "")
    words = [m.group() for m in islice(_WORD.finditer(body), SUMMARY_WORDS + 1)]  # not a split of a whole book
    return " ".join(words[:SUMMARY_WORDS])[:EXCERPT_CHARS] + (" …" if len(words) > SUMMARY_WORDS else "")


# -- the index, inside the caller's transaction --------------------------------------------------

def ensure_search_tables(conn: Connection) -> None:
    """Create the index where no migration has (a bare database, the in-memory ``ArticleIndex``)."""
    if inspect(conn).has_table(search_index.name):
        return
    search_index.create(conn)
    if conn.dialect.name == "sqlite":
        try:
            conn.execute(text(SEARCH_FTS_DDL))
        except OperationalError:  # a SQLite built without FTS5: the portable path
            pass


def _uses_fts(conn: Connection) -> bool:
    if conn.dialect.name != "sqlite":
        return False
    found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
                         {"name": SEARCH_FTS}).first()
    return found is not None


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _delete_rows(conn: Connection, row_ids: list[int], fts: bool) -> None:
    for chunk in _chunks(row_ids):
        if fts:
            conn.execute(_fts.delete().where(_fts.c.rowid.in_(chunk)))
        conn.execute(search_index.delete().where(search_index.c.id.in_(chunk)))


def index_articles(conn: Connection, published: Iterable[PublishedArticle]) -> int:
    """Add or replace these articles in the index (one row per entry and language); returns how many."""
    ensure_search_tables(conn)
    fts = _uses_fts(conn)
    now = datetime.now(UTC)
    count = 0
    for article in published:
        remove_articles(conn, [article.id], article.lang, fts=fts)
        title = _nfc(article.title)
        body = _body_text(article)
        values = {"entry_id": article.id, "lang": article.lang, "slug": article.slug, "title": article.title,
                  "excerpt": excerpt(article), "published_at": article.published_at, "indexed_at": now}
        if not fts:
            values.update(title_words=_words(title), words=_words(title + "\n" + body))
        row_id = conn.execute(search_index.insert().values(**values).returning(search_index.c.id)).scalar_one()
        if fts:
            conn.execute(_fts.insert().values(rowid=row_id, title=title, body=body))
        count += 1
    return count


def remove_articles(conn: Connection, entry_ids: list[int], lang: str | None = None, *,
                    fts: bool | None = None) -> None:
    """Drop these entries from the index: in ``lang``, or in every language."""
    if not inspect(conn).has_table(search_index.name):
        return
    fts = _uses_fts(conn) if fts is None else fts
    for chunk in _chunks(list(entry_ids)):
        query = select(search_index.c.id).where(search_index.c.entry_id.in_(chunk))
        if lang is not None:
            query = query.where(search_index.c.lang == lang)
        _delete_rows(conn, list(conn.execute(query).scalars()), fts)


def search_hits(conn: Connection, query: str, lang: str | None, *, limit: int = 50,
                offset: int = 0) -> list[SearchHit]:
    """Published articles in ``lang`` (None: any) matching every word of ``query``, best first."""
    terms = query_terms(query)
    if not terms:
        return []
    limit = max(1, min(int(limit), MAX_RESULTS))
    offset = max(0, min(int(offset), MAX_OFFSET))
    fields = (search_index.c.entry_id, search_index.c.slug, search_index.c.title, search_index.c.excerpt,
              search_index.c.published_at)
    newest = (search_index.c.published_at.desc(), search_index.c.entry_id.desc())
    if _uses_fts(conn):
        statement = (select(*fields).select_from(_fts.join(search_index, search_index.c.id == _fts.c.rowid))
                     .where(_fts_match.op("MATCH")(match_expression(query)))
                     .order_by(func.bm25(_fts_match, literal_column(repr(TITLE_WEIGHT)),
                                         literal_column(repr(BODY_WEIGHT))), *newest))
    else:
        folded = [f for f in (fold(t) for t in terms) if f]
        if not folded:
            return []
        in_title = and_(*(search_index.c.title_words.like(f"% {t}%") for t in folded))
        statement = (select(*fields).where(*(search_index.c.words.like(f"% {t}%") for t in folded))
                     .order_by(case((in_title, 0), else_=1), *newest))
    if lang is not None:
        statement = statement.where(search_index.c.lang == lang)
    rows = conn.execute(statement.limit(limit).offset(offset))
    return [SearchHit(row.entry_id, row.slug, row.title, row.excerpt, row.published_at) for row in rows]


def search_ids(conn: Connection, query: str, lang: str, limit: int = 50) -> list[int]:
    """Entry ids of the best matches (for callers that only need ids)."""
    return [hit.id for hit in search_hits(conn, query, lang, limit=limit)]


# -- the index of a store ------------------------------------------------------------------------

def index_published(store: Store, entry_ids: Iterable[int] | None = None, *, lang: str,
                    default_policy: str = "excerpt", excerpt_words: int = 60) -> int:
    """Index these published entries (None: all published in ``lang``), ``BATCH`` articles at a time.

    The text indexed is the text the site shows (cut to each source's policy);
    an id that is not published (any more) is dropped from the index.
    """
    if entry_ids is None:
        with store.engine.connect() as conn:
            ids = list(conn.execute(select(posts.c.entry_id).where(posts.c.lang == lang)
                                    .order_by(posts.c.entry_id)).scalars())
    else:
        ids = list(dict.fromkeys(entry_ids))
    count = 0
    for chunk in _chunks(ids, BATCH):
        found = store.posts.published_articles(lang, default_policy=default_policy, excerpt_words=excerpt_words,
                                               entry_ids=chunk)
        with store.engine.begin() as conn:
            count += index_articles(conn, found)
            gone = set(chunk) - {a.id for a in found}
            if gone:
                remove_articles(conn, sorted(gone), lang)
    return count


def reconcile(store: Store, lang: str, *, default_policy: str = "excerpt", excerpt_words: int = 60) -> Reconciled:
    """Make the index match what is published in ``lang``: index the posts it lacks, drop what is gone.

    Only presence is compared (NULL tests and index lookups), never a
    timestamp stored after an article's JSON, which SQLite would read through:
    a changed translation is indexed again by the publishing that republishes it.
    """
    with store.engine.begin() as conn:
        ensure_search_tables(conn)
    shown = ((search_index.c.entry_id == posts.c.entry_id) & (search_index.c.lang == posts.c.lang))
    with store.engine.connect() as conn:
        stale = list(conn.execute(
            select(posts.c.entry_id)
            .select_from(posts.join(entries, entries.c.id == posts.c.entry_id)
                         .join(articles, articles.c.entry_id == posts.c.entry_id)
                         .join(translations, (translations.c.entry_id == posts.c.entry_id)
                               & (translations.c.lang == posts.c.lang))
                         .outerjoin(search_index, shown))
            .where(posts.c.lang == lang, entries.c.deleted_at.is_(None), search_index.c.id.is_(None))
            .order_by(posts.c.entry_id)).scalars())
        gone = list(conn.execute(
            select(search_index.c.entry_id)
            .select_from(search_index.outerjoin(posts, shown)
                         .outerjoin(entries, entries.c.id == search_index.c.entry_id)
                         .outerjoin(articles, articles.c.entry_id == search_index.c.entry_id)
                         .outerjoin(translations, (translations.c.entry_id == search_index.c.entry_id)
                                    & (translations.c.lang == search_index.c.lang)))
            .where(search_index.c.lang == lang)
            .where(or_(posts.c.id.is_(None), entries.c.id.is_(None), entries.c.deleted_at.is_not(None),
                       articles.c.entry_id.is_(None), translations.c.id.is_(None)))).scalars())
    if gone:
        with store.engine.begin() as conn:
            remove_articles(conn, gone, lang)
    indexed = index_published(store, stale, lang=lang, default_policy=default_policy,
                              excerpt_words=excerpt_words) if stale else 0
    return Reconciled(indexed=indexed, removed=len(gone))


def search(store: Store, query: str, lang: str, *, limit: int = 50, offset: int = 0) -> list[SearchHit]:
    """The site's search: at most ``limit`` hits from the index, best first, after ``offset``."""
    with store.engine.connect() as conn:
        return search_hits(conn, query, lang, limit=limit, offset=offset)


class ArticleIndex:
    """The same index over articles held in memory (an in-memory SQLite), for a site served without a store."""

    def __init__(self, published: Iterable[PublishedArticle]):
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        self._lock = threading.Lock()  # one connection, shared by the server's threads
        with self._lock, self.engine.begin() as conn:
            index_articles(conn, published)

    def search(self, query: str, *, limit: int = 50, offset: int = 0) -> list[SearchHit]:
        with self._lock, self.engine.connect() as conn:
            return search_hits(conn, query, None, limit=limit, offset=offset)

    def close(self) -> None:
        self.engine.dispose()
