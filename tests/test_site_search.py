"""SQLite FTS5 search over published articles, Hindi first."""

from __future__ import annotations

from dataclasses import replace

import pytest
from site_data import samples
from sqlalchemy import create_engine, text

from samachar.model import Block
from samachar.publish.search import TABLE, index_articles, match_expression, remove_articles, search_ids


@pytest.fixture()
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'search.db'}")
    with engine.begin() as conn:
        index_articles(conn, samples.sample_articles())
    yield engine
    engine.dispose()


def find(engine, query: str, lang: str = "hi") -> list[int]:
    with engine.connect() as conn:
        return search_ids(conn, query, lang)


@pytest.mark.parametrize(("query", "expected"), [
    ("मॉस्को", [108]),                 # the brief's example: nukta-less o-matra + virama
    ("प्रतिनिधिमंडल", [108]),            # conjuncts and matras inside one word (figure caption)
    ("जलाशय", [107]),
    ("बुवाई", [107]),                   # u-matra, aa-matra, ii-matra
    ("कांस्य", [105]),                  # anusvara
    ("मॉस्को रेल", [108]),              # every word must match
    ("Ledger", [105, 108]),           # the publisher is searchable
    ("moscow", [108]),                # the original (English) title is indexed too
    ("शहर", [102, 103, 106]),         # a category
])
def test_hindi_and_english_queries(engine, query, expected):
    assert sorted(find(engine, query)) == expected


def test_title_matches_rank_first(engine):
    with engine.begin() as conn:
        body_only = replace(samples.sample_articles()[3], id=700, title="खेल समाचार", summary="",
                            blocks=[Block("paragraph", "टीम अगले महीने मॉस्को जाएगी")])
        index_articles(conn, [body_only])
    assert find(engine, "मॉस्को") == [108, 700]


def test_matras_do_not_split_words(engine):
    # With FTS5's default unicode61, "मॉस्को" is stored as म / स / क and these fragments would match.
    assert find(engine, "स्को") == []
    assert find(engine, "ॉस्को") == []
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE plain USING fts5(body)")
        conn.exec_driver_sql("INSERT INTO plain VALUES ('राष्ट्रपति ने मॉस्को की यात्रा की')")
        assert conn.exec_driver_sql("SELECT count(*) FROM plain WHERE plain MATCH '\"स्को\"'").scalar() == 1


def test_nfc_normalization_matches_decomposed_nukta(engine):
    with engine.begin() as conn:
        article = replace(samples.sample_articles()[0], id=500, title="ज़मीन का सौदा", blocks=[])
        index_articles(conn, [article])
    decomposed = "ज\u093cमीन"  # ज + nukta, as some keyboards type it
    precomposed = "\u095bमीन"  # the single code point ज़, which NFC decomposes
    assert find(engine, decomposed) == [500] and find(engine, precomposed) == [500]


def test_reindexing_replaces_by_id_and_removal(engine):
    with engine.begin() as conn:
        changed = replace(samples.sample_articles()[1], title="नया शीर्षक", summary="", blocks=[
            Block("paragraph", "अब इसमें केवल बाढ़ की बात है")])
        index_articles(conn, [changed])
        rows = conn.execute(text("SELECT id FROM search_index WHERE entry_id = 107")).scalars().all()
        assert len(rows) == 1  # replaced, not added: one row, and its words once in FTS5
        assert conn.execute(text(f"SELECT count(*) FROM {TABLE} WHERE rowid = :id"), {"id": rows[0]}).scalar() == 1
        assert conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar() == len(samples.sample_articles())
    assert find(engine, "बुवाई") == [] and find(engine, "बाढ़") == [107]
    with engine.begin() as conn:
        remove_articles(conn, [107])
    assert find(engine, "बाढ़") == []


def test_language_filter_and_spanish_diacritics(engine):
    with engine.begin() as conn:
        index_articles(conn, [replace(samples.sample_articles()[2], id=900, lang="es",
                                      title="La educación pública", summary="", blocks=[], categories=[])])
    assert find(engine, "educacion", "es") == [900] and find(engine, "educación", "es") == [900]
    assert find(engine, "educacion", "hi") == []
    assert find(engine, "शहर", "es") == []


@pytest.mark.parametrize("query", ['"', "AND", "a OR b NOT c", "title:x", "*", "NEAR(a b)", "()", "", "   "])
def test_operator_syntax_is_never_passed_through(engine, query):
    assert isinstance(find(engine, query), list)  # no fts5 syntax error reaches the caller


def test_match_expression_quotes_every_term():
    assert match_expression('मॉस्को "रेल" OR') == '"मॉस्को"* AND "रेल"* AND "OR"*'
    assert match_expression("!!!") is None
