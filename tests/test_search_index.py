"""The site's search index in the store: fed by publishing, reconciled on every run, served page by page.

Runs on SQLite (FTS5) and, with SAMACHAR_TEST_DATABASE_URL, on PostgreSQL (the portable path); the portable
path is also forced on SQLite by a store without the FTS5 table.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from conftest import database_url
from lxml import html as lxml_html
from sqlalchemy import func, select, text

from samachar.config import SiteConfig
from samachar.model import Article, Block, FeedEntry, TranslatedArticle
from samachar.publish.search import TABLE, index_published, reconcile, search
from samachar.sources.identity import entry_identity
from samachar.store import Store
from samachar.store.schema import search_index

LANG = "hi"


@pytest.fixture(params=["native", "portable"])
def store(request, tmp_path):
    s = Store(database_url(tmp_path))
    if request.param == "portable":
        if s.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL runs the portable path as its native one")
        with s.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {TABLE}"))
    yield s
    s.close()


def publish(store: Store, n: int, title: str, body: str, *, source_id: int | None = None,
            summary: str = "", lang: str = LANG) -> int:
    """One article through the store's own publishing steps (entry, article, translation, post), not indexed."""
    source_id = source_id or store.sources.add("https://news.example/feed.xml", policy="full").id
    item = FeedEntry(title=f"Story {n}", url=f"https://news.example/{n}", summary=f"<p>feed body {n}</p>")
    [entry_id] = store.entries.add_many(source_id, [(item, entry_identity(item, source_id))])
    store.articles.save(entry_id, Article(url=item.url, title=f"Story {n}", blocks=[Block("paragraph", f"en {n}")],
                                          publisher="Daily Example"))
    store.translations.save(entry_id, TranslatedArticle(
        title=title, blocks=[Block("paragraph", body)], source_lang="en", target_lang=lang, engine="test",
        summary=summary), state="translated")
    assert store.posts.publish(entry_id, lang, f"Story {n}", now=datetime(2026, 1, 1, 0, n % 60, tzinfo=UTC))
    return entry_id


def find(store: Store, query: str, **kwargs) -> list[int]:
    return [hit.id for hit in search(store, query, LANG, **kwargs)]


def indexed(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(search_index)).scalar_one()


def test_published_but_never_indexed_is_reconciled_on_the_next_run(store):
    # A kill between publishing and indexing: 30 published, the index got 17 of them.
    ids = [publish(store, n, f"बाढ़ समाचार {n}", f"नदी का जलस्तर बढ़ा, रिपोर्ट {n}") for n in range(30)]
    index_published(store, ids[:17], lang=LANG, default_policy="full")
    assert len(find(store, "बाढ़", limit=100)) == 17
    done = reconcile(store, LANG, default_policy="full")
    assert (done.indexed, done.removed) == (13, 0)
    assert sorted(find(store, "बाढ़", limit=100)) == ids
    assert reconcile(store, LANG, default_policy="full") == type(done)(0, 0)  # nothing left to mend


def test_a_run_indexes_what_a_killed_run_published_but_left_out_of_the_index(tmp_path):
    home, db_url = tmp_path / "home", database_url(tmp_path)
    env = {**os.environ, "SAMACHAR_HOME": str(home), "SAMACHAR_DATABASE_URL": db_url}

    def samachar(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "samachar", "-q", *args], check=False, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        return proc

    samachar("init", "--language", "es", "--engine", "apertium")
    store = Store(db_url)
    try:
        ids = [publish(store, n, f"Inundaciones en la región {n}", f"El río creció {n}", lang="es") for n in range(30)]
        index_published(store, ids[:17], lang="es")  # the kill came after these
        assert len(search(store, "inundaciones", "es", limit=100)) == 17
        samachar("run", "--once")  # nothing new to publish: the run mends the index all the same
        assert sorted(hit.id for hit in search(store, "inundaciones", "es", limit=100)) == ids
    finally:
        store.close()


def test_reconcile_drops_deleted_and_unpublished_and_publishing_again_replaces(store):
    keep, deleted, unpublished = (publish(store, n, f"चुनाव {n}", "मतदान शांतिपूर्ण रहा") for n in range(3))
    index_published(store, lang=LANG, default_policy="full")
    store.entries.tombstone(deleted)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM posts WHERE entry_id = :id"), {"id": unpublished})
    assert sorted(find(store, "चुनाव")) == [keep, deleted, unpublished]
    done = reconcile(store, LANG, default_policy="full")
    assert (done.indexed, done.removed) == (0, 2)
    assert find(store, "चुनाव") == [keep] and indexed(store) == 1
    store.translations.save(keep, TranslatedArticle(title="नया शीर्षक", blocks=[Block("paragraph", "मतगणना कल")],
                                                    source_lang="en", target_lang=LANG, engine="test"),
                            state="translated")
    assert index_published(store, [keep, deleted], lang=LANG, default_policy="full") == 1  # the deleted: not shown
    assert find(store, "चुनाव") == [] and find(store, "मतगणना") == [keep] and indexed(store) == 1


def test_reconcile_loads_no_article_when_the_index_is_whole(store, monkeypatch):
    for n in range(5):
        publish(store, n, f"खेल {n}", "क्रिकेट मैच")
    index_published(store, lang=LANG, default_policy="full")

    def no_loading(*args, **kwargs):
        raise AssertionError("reconcile loaded articles although nothing was missing")

    monkeypatch.setattr(store.posts, "published_articles", no_loading)
    assert reconcile(store, LANG, default_policy="full").indexed == 0


def test_results_come_from_the_index_ranked_and_paged(store):
    body_only = publish(store, 1, "खेल समाचार", "टीम अगले महीने मॉस्को जाएगी")
    in_title = publish(store, 2, "मॉस्को में वार्ता", "दोनों देशों के प्रतिनिधि मिले", summary="<p>वार्ता का सार</p>")
    older = [publish(store, n, f"मॉस्को रिपोर्ट {n}", "विवरण") for n in range(3, 8)]
    index_published(store, lang=LANG, default_policy="full")
    hits = search(store, "मॉस्को", LANG, limit=3)
    assert len(hits) == 3 and body_only not in [h.id for h in hits]  # title matches first
    everything = find(store, "मॉस्को", limit=50)
    assert everything[-1] == body_only and set(everything) == {body_only, in_title, *older}
    assert find(store, "मॉस्को", limit=3, offset=3) == everything[3:6]
    [hit] = search(store, "वार्ता", LANG)
    assert (hit.id, hit.title, hit.excerpt) == (in_title, "मॉस्को में वार्ता", "वार्ता का सार")
    assert hit.slug.startswith(f"{in_title}-") and hit.published_at.year == 2026
    assert find(store, "मॉस्को", limit=10_000) == everything  # the limit is capped, not refused
    assert find(store, "nothing-like-this") == [] and find(store, '" OR *') == []
    assert search(store, "मॉस्को", "es") == []


def test_hindi_words_stay_whole_and_latin_diacritics_fold(store):
    moscow = publish(store, 1, "मॉस्को वार्ता", "राष्ट्रपति ने मॉस्को की यात्रा की")
    school = publish(store, 2, "La educación pública", "Escuelas")
    index_published(store, lang=LANG, default_policy="full")
    assert find(store, "मॉस्को") == [moscow] and find(store, "स्को") == [] and find(store, "मॉ") == [moscow]
    assert find(store, "educacion") == [school] and find(store, "EDUCACIÓN pub") == [school]


def big_body(megabytes: int) -> str:
    return " ".join(f"शब्द{i}" for i in range(megabytes * 1024 * 1024 // 24))  # ~24 bytes of JSON per word


def peak_bytes(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_search_request_needs_little_memory_whatever_the_article_size(store):
    source_id = store.sources.add("https://news.example/feed.xml", policy="full").id
    huge = publish(store, 1, "विशाल लेख", "भूकंप " + big_body(8), source_id=source_id)
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT length(CAST(data AS TEXT)) FROM translations WHERE entry_id = :id"), {"id": huge}).scalar()
    assert stored > 8_000_000
    small = publish(store, 2, "छोटा लेख", "भूकंप के झटके", source_id=source_id)
    index_published(store, lang=LANG, default_policy="full")
    assert sorted(find(store, "भूकंप")) == [huge, small]
    peak = peak_bytes(lambda: search(store, "भूकंप", LANG))
    assert peak < 2_000_000, f"a search allocated {peak} bytes"


def test_the_served_search_page_uses_the_index_within_bounded_memory(store):
    from samachar.web.app import create_app

    source_id = store.sources.add("https://news.example/feed.xml", policy="full").id
    huge = publish(store, 1, "विशाल लेख", "भूकंप " + big_body(8), source_id=source_id)
    index_published(store, lang=LANG, default_policy="full")
    site = SiteConfig(base_url="https://news.example.org/", language=LANG)
    app = create_app(lambda: store.posts.published_articles(LANG, default_policy="full"), site,
                     search=lambda q: search(store, q, LANG), refresh_seconds=3600)
    query = "/search?q=" + quote("भूकंप")
    assert "विशाल लेख" in asgi_get(app, "/") and asgi_get(app, query)  # the snapshot is loaded, the site warm
    page: list[str] = []
    peak = peak_bytes(lambda: page.append(asgi_get(app, query)))
    cards = lxml_html.fromstring(page[0]).xpath("//h2[@class='card-title']/a")
    assert [a.text for a in cards] == ["विशाल लेख"] and cards[0].get("href").startswith(f"articles/{huge}-")
    assert peak < 2_000_000, f"a search request allocated {peak} bytes"


def asgi_get(app, path_and_query: str) -> str:
    """One GET through the ASGI app in this thread's event loop, so that tracemalloc sees all of it."""
    path, _, query = path_and_query.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"news.example.org")], "server": ("news.example.org", 443),
             "client": ("127.0.0.1", 1)}
    body: list[bytes] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    asyncio.run(app(scope, receive, send))
    return b"".join(body).decode("utf-8")
