"""The store: migrations, dedupe across sources, tombstones, the per-source lock, publish-once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from conftest import database_url
from sqlalchemy import inspect

from samachar.model import Article, Block, FeedEntry, TranslatedArticle
from samachar.store import Store
from samachar.store.migrations import MIGRATIONS
from samachar.store.posts import slugify


@dataclass
class Ident:
    key: str
    normalized_url: str | None
    content_hash: str | None


@pytest.fixture
def store(tmp_path):
    s = Store(database_url(tmp_path))  # SQLite, or SAMACHAR_TEST_DATABASE_URL (PostgreSQL in CI)
    yield s
    s.close()


LONG_BODY = "<p>" + " ".join(f"word{i}" for i in range(60)) + "</p>"


def entry(title: str, url: str, body: str = LONG_BODY) -> FeedEntry:
    return FeedEntry(title=title, url=url, summary=body)


def test_migrations_are_recorded_and_rerunning_is_a_no_op(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = Store(url)
    assert first.version == len(MIGRATIONS)
    tables = set(inspect(first.engine).get_table_names())
    assert {"sources", "entries", "articles", "translations", "posts", "translation_memory", "glossary"} <= tables
    first.close()
    second = Store(url)
    assert second.version == len(MIGRATIONS)
    second.close()


def test_entries_are_deduplicated_across_sources_by_key_url_and_hash(store):
    a = store.sources.add("https://a.example/feed").id
    b = store.sources.add("https://b.example/feed").id
    first = store.entries.add_many(a, [(entry("One", "https://x.example/1"), Ident("url:x/1", "x/1", "h1")),
                                       (entry("Two", "https://x.example/2"), Ident("url:x/2", "x/2", "h2"))])
    assert len(first) == 2
    again = store.entries.add_many(b, [
        (entry("One again", "https://x.example/1"), Ident("guid:2:abc", "x/1", "h9")),  # same URL
        (entry("Two copy", "https://y.example/2"), Ident("url:y/2", "y/2", "h2")),  # same content
        (entry("Three", "https://x.example/3"), Ident("url:x/3", "x/3", "h3")),
    ])
    assert len(again) == 1
    assert [e.title for e in store.entries.list()] == ["Three", "Two", "One"]
    # Same title, no real body: a hash of almost nothing identifies nothing; both are kept.
    short = store.entries.add_many(b, [
        (entry("Horoscope today", "https://h.example/16", "<p>Read it.</p>"), Ident("url:h/16", "h/16", "hh")),
        (entry("Horoscope today", "https://h.example/17", "<p>Read it.</p>"), Ident("url:h/17", "h/17", "hh")),
    ])
    assert len(short) == 2
    assert {s.url: s.entries for s in store.sources.list()} == {"https://a.example/feed": 2, "https://b.example/feed": 3}


def test_a_tombstoned_entry_is_never_imported_again(store):
    src = store.sources.add("https://a.example/feed").id
    [entry_id] = store.entries.add_many(src, [(entry("Gone", "https://x.example/g"), Ident("url:g", "g", "hg"))])
    store.entries.tombstone(entry_id)
    assert store.entries.list() == []
    assert store.entries.add_many(src, [(entry("Gone", "https://x.example/g"), Ident("url:g", "g", "hg"))]) == []


def test_the_source_lock_keeps_overlapping_runs_out(store):
    src = store.sources.add("https://a.example/feed").id
    now = datetime.now(timezone.utc)
    assert store.sources.acquire(src, now)
    assert not store.sources.acquire(src, now)
    assert store.sources.acquire(src, now + timedelta(hours=1))  # a crashed run's lock expires
    store.sources.release(src)
    assert store.sources.acquire(src, now)


def test_publishing_twice_publishes_once_and_state_moves(store):
    src = store.sources.add("https://a.example/feed", policy="full").id
    [entry_id] = store.entries.add_many(src, [(entry("Story", "https://x.example/s"), Ident("url:s", "s", "hs"))])
    article = Article(url="https://x.example/s", title="Story", blocks=[Block("paragraph", "Hello <em>world</em>.")],
                      publisher="X Times", published=datetime(2026, 11, 1, tzinfo=timezone.utc))
    store.articles.save(entry_id, article)
    assert store.entries.get(entry_id).state == "extracted"
    assert store.articles.get(entry_id).published == article.published
    translated = TranslatedArticle(title="कहानी", blocks=[Block("paragraph", "नमस्ते <em>दुनिया</em>।")],
                                   source_lang="en", target_lang="hi", engine="test")
    store.translations.save(entry_id, translated, state="translated")
    assert store.posts.publish(entry_id, "hi", "Story")
    assert not store.posts.publish(entry_id, "hi", "Story")
    assert store.posts.count("hi") == 1
    [published] = store.posts.published_articles("hi")
    assert (published.title, published.publisher, published.original_url) == ("कहानी", "X Times", "https://x.example/s")
    assert published.blocks[0].html == "नमस्ते <em>दुनिया</em>।"
    assert store.entries.get(entry_id).state == "published"


def test_timestamps_come_back_timezone_aware(store):
    src = store.sources.add("https://a.example/feed").id
    published = datetime(2026, 3, 2, 19, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    e = entry("Dated", "https://x.example/d")
    e.published = published
    [entry_id] = store.entries.add_many(src, [(e, Ident("url:d", "d", "hd"))])
    assert store.entries.get(entry_id).published == published


def test_slugs_are_ascii_and_unique_per_entry():
    assert slugify("Cabinet clears ₹5,801 crore second phase of Lucknow Metro", 7) == \
        "7-cabinet-clears-5-801-crore-second-phase-of-lucknow-metro"
    assert slugify("मॉस्को", 3) == "3"


def test_an_older_database_is_brought_up_to_date(tmp_path):
    from sqlalchemy import create_engine, text

    from samachar.store.migrations import MIGRATIONS, migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:  # a version-1 database: entries without the note column
        conn.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at DATETIME NOT NULL)"))
        conn.execute(text("INSERT INTO schema_version VALUES (1, '2026-11-01 00:00:00')"))
        conn.execute(text("CREATE TABLE entries (id INTEGER PRIMARY KEY, title TEXT)"))
    assert migrate(engine) == len(MIGRATIONS)
    assert "note" in {c["name"] for c in inspect(engine).get_columns("entries")}


def test_entries_done_in_another_language_are_reopened_and_failed_ones_can_be_retried(store):
    src = store.sources.add("https://a.example/feed").id
    [done, failed] = store.entries.add_many(src, [(entry("Done", "https://x.example/d"), Ident("url:d", "d", "hd")),
                                                  (entry("Bad", "https://x.example/b"), Ident("url:b", "b", "hb"))])
    store.articles.save(done, Article(url="https://x.example/d", title="Done", blocks=[Block("paragraph", "Hi.")]))
    store.translations.save(done, TranslatedArticle(title="Hecho", blocks=[Block("paragraph", "Hola.")],
                                                    source_lang="en", target_lang="es", engine="t"), state="translated")
    store.posts.publish(done, "es", "Done")
    assert store.entries.reopen_for_language("es") == 0
    assert store.entries.reopen_for_language("hi") == 1
    assert store.entries.get(done).state == "extracted"

    store.entries.set_state(failed, "failed", error="page not fetched: HTTP 503")
    assert store.entries.reset(failed) == "new"
    assert store.entries.get(failed).state == "new" and store.entries.get(failed).attempts == 0
    assert store.entries.reset(failed) is None  # only failed or held entries


def test_a_re_poll_of_a_database_with_collapsed_fragment_ids_restores_the_lost_entries_once(store):
    from samachar.sources.identity import content_hash, entry_identity

    page = "https://blog.example.org/now.html"
    feed = [FeedEntry(title=f"Now {d}", url=f"{page}#2026-02-{d:02}", guid=f"{page}#2026-02-{d:02}",
                      summary=f"<p>Day {d}.</p>") for d in range(1, 31)]
    plain = FeedEntry(title="Plain", url="https://blog.example.org/p/1", guid="https://blog.example.org/p/1",
                      summary="<p>Other.</p>")
    src = store.sources.add("https://blog.example.org/atom.xml").id
    # What older versions stored: the fragment dropped, so the 30 ids collapsed into one entry.
    old = [(e, Ident(f"url:{page}", page, content_hash(e))) for e in feed]
    [kept] = store.entries.add_many(src, old + [(plain, entry_identity(plain, src))])[:1]
    assert len(store.entries.list()) == 2

    restored = store.entries.add_many(src, [(e, entry_identity(e, src)) for e in feed + [plain]])
    assert len(restored) == 29 and kept not in restored
    assert sorted(e.title for e in store.entries.list()) == sorted([e.title for e in feed] + ["Plain"])
    assert store.entries.add_many(src, [(e, entry_identity(e, src)) for e in feed + [plain]]) == []


def test_every_state_change_and_recorded_error_is_in_the_entry_history(store):
    src = store.sources.add("https://a.example/feed", policy="full").id
    [entry_id, other] = store.entries.add_many(src, [(entry("Story", "https://x.example/s"), Ident("url:s", "s", "hs")),
                                                     (entry("Other", "https://x.example/o"), Ident("url:o", "o", "ho"))])
    store.entries.record_error(entry_id, "page not fetched: HTTP 503")
    store.entries.save_page(entry_id, "https://x.example/s", "<html></html>")
    store.articles.save(entry_id, Article(url="https://x.example/s", title="Story", blocks=[Block("paragraph", "Hi.")]),
                        note="page body has 1 words; used the feed's content")
    translated = TranslatedArticle(title="Historia", blocks=[Block("paragraph", "Hola.")], source_lang="en",
                                   target_lang="es", engine="t")
    store.translations.save(entry_id, translated, state="held", reason="held for review: numbers: 12 missing")
    store.translations.save(entry_id, translated, state="held", reason="held for review: numbers: 12 missing")
    assert store.entries.set_state(entry_id, "translated", expect="held", reason="approved")
    assert not store.entries.set_state(entry_id, "translated", expect="held")  # no change: no event
    store.posts.publish(entry_id, "es", "Story")
    store.entries.set_state(other, "failed", error="no article body")
    store.entries.set_state(other, "failed", error="no article body")  # the same again: nothing new to say
    store.entries.reset(other)
    assert store.entries.reopen_for_language("hi") == 1
    store.entries.tombstone(other)

    history = store.entries.history(entry_id)
    assert [(h.state, h.attempt) for h in history] == [
        ("new", 0), ("new", 1), ("fetched", 1), ("extracted", 1), ("held", 1), ("held", 1), ("translated", 1),
        ("published", 1), ("extracted", 0)]
    assert "HTTP 503" in history[1].reason and "feed's content" in history[3].reason
    assert "numbers" in history[4].reason and history[6].reason == "approved" and "hi" in history[-1].reason
    assert all(h.at.tzinfo is not None for h in history)
    assert [(h.state, h.reason) for h in store.entries.history(other)] == [
        ("new", f"new in the feed of source {src}"), ("failed", "no article body"), ("new", "retried"),
        ("new", "deleted")]


def test_sources_keep_their_seo_choice_and_are_removed_by_id_or_url(store):
    first = store.sources.add("https://a.example/feed", seo="noindex")
    assert store.sources.get(first.id).seo == "noindex"
    assert store.sources.add("https://a.example/feed").seo == "noindex"  # unchanged unless given
    second = store.sources.add("https://b.example/feed")
    assert second.seo is None  # the site's default
    assert store.sources.find("HTTPS://A.example/feed?utm_source=x").id == first.id
    assert store.sources.find("https://c.example/feed") is None
    assert store.sources.remove(first.id) and store.sources.remove(second.url)
    assert not store.sources.remove(first.id) and not store.sources.remove(2**70)
    assert store.sources.list() == []


def test_a_publisher_that_moved_keeps_its_entries_identities(store):
    src = store.sources.add("http://127.0.0.1:4001/feed.xml").id
    old = "http://127.0.0.1:4001/a/story.html"
    [moved] = store.entries.add_many(src, [(entry("Moved", old), Ident("url:m", old, "hm"))])
    [kept] = store.entries.add_many(src, [(entry("Kept", "http://other.example/x"),
                                           Ident("url:k", "http://other.example/x", "hk"))])
    store.entries.save_page(moved, old, "<p>page</p>")
    assert store.entries.move_site("http://127.0.0.1:4001", "http://127.0.0.1:5002/") == 1
    assert store.entries.get(moved).url == "http://127.0.0.1:5002/a/story.html"
    assert store.entries.page(moved)[0] == "http://127.0.0.1:5002/a/story.html"
    assert store.entries.get(kept).url == "http://other.example/x"
    new = "http://127.0.0.1:5002/a/story.html"  # the moved link, seen again, is no new story
    assert store.entries.add_many(src, [(entry("Moved", new), Ident("url:m2", new, "hm2"))]) == []


def test_a_poll_outcome_is_recorded_in_one_statement_and_a_moved_feed_keeps_a_free_url(store):
    from sqlalchemy import event

    from samachar.model import ParsedFeed, PollOutcome

    moved = store.sources.add("https://a.example/old.xml")
    other = store.sources.add("https://b.example/feed.xml")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        store.sources.record_poll(
            PollOutcome(source_id=moved.id, status="ok", next_poll_at=now + timedelta(minutes=30), etag='"v1"',
                        last_modified="Tue, 01 Dec 2026 11:00:00 GMT", new_url="https://a.example/new.xml"),
            now, feed=ParsedFeed(title="A Times", site_url="https://a.example/", entries=[], format="rss"))
        store.sources.record_poll(  # moved onto a URL another source follows: the URL stays as it was
            PollOutcome(source_id=other.id, status="not_modified", next_poll_at=now + timedelta(minutes=5),
                        new_url="https://a.example/new.xml"), now)
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    assert len(seen) == 2, seen
    a, b = store.sources.get(moved.id), store.sources.get(other.id)
    assert (a.url, a.etag, a.last_modified, a.feed_title, a.site_url, a.status, a.last_polled_at) == (
        "https://a.example/new.xml", '"v1"', "Tue, 01 Dec 2026 11:00:00 GMT", "A Times", "https://a.example/", "ok", now)
    assert (b.url, b.status, b.next_poll_at) == ("https://b.example/feed.xml", "ok", now + timedelta(minutes=5))
    store.sources.record_poll(PollOutcome(source_id=moved.id, status="not_modified",
                                          next_poll_at=now + timedelta(minutes=30)), now)
    assert store.sources.get(moved.id).etag == '"v1"'  # a 304 without validators keeps the ones it had
    store.sources.record_poll(PollOutcome(source_id=moved.id, status="error", next_poll_at=now + timedelta(hours=1),
                                          error="HTTP 503", error_count=1), now)
    assert (store.sources.get(moved.id).status, store.sources.get(moved.id).error) == ("error", "HTTP 503")
