"""Storing a polled feed in bulk: a fixed number of statements per feed, the same dedupe rules as one by one.

Runs on SQLite, and on PostgreSQL when SAMACHAR_TEST_DATABASE_URL names one (CI).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import database_url
from sqlalchemy import create_engine, event, func, select

from samachar.model import FeedEntry
from samachar.sources.identity import entry_identity
from samachar.store import Store
from samachar.store.schema import entries, entry_events
from samachar.store.sources import utcnow

LONG_BODY = "<p>" + " ".join(f"word{i}" for i in range(60)) + "</p>"


@dataclass
class Ident:
    key: str
    normalized_url: str | None
    content_hash: str | None
    legacy_key: str | None = None


@pytest.fixture
def store(tmp_path):
    s = Store(database_url(tmp_path))
    yield s
    s.close()


def story(n: int, body: str | None = None, **fields) -> FeedEntry:
    return FeedEntry(title=f"Story {n}", url=f"https://news.example/{n}", summary=body or f"<p>Body {n}.</p>",
                     **fields)


def feed(count: int, start: int = 0) -> list[tuple[FeedEntry, object]]:
    return [(e, entry_identity(e, 1)) for e in (story(n) for n in range(start, start + count))]


@contextlib.contextmanager
def statements(store: Store):
    """Every SQL statement sent to the database meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def test_a_feed_is_stored_in_the_same_few_statements_whatever_its_length(store):
    src = store.sources.add("https://news.example/feed").id
    with statements(store) as one:
        assert len(store.entries.add_many(src, feed(1))) == 1
    with statements(store) as many:
        assert len(store.entries.add_many(src, feed(300, start=1))) == 300
    assert len(many) == len(one) <= 4, many  # lookup, entries, history; not one round trip per item
    with statements(store) as again:  # a re-poll: nothing new, so nothing is written
        assert store.entries.add_many(src, feed(301)) == []
    assert len(again) < len(one)
    assert not [s for s in again if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))], again


def test_new_ids_come_back_in_feed_order_each_with_its_history_line(store):
    src = store.sources.add("https://news.example/feed").id
    store.entries.add_many(src, feed(1, start=5))
    items = feed(10)
    new_ids = store.entries.add_many(src, items)
    assert len(new_ids) == 9
    assert [store.entries.get(i).title for i in new_ids] == [e.title for e, _ in items if e.title != "Story 5"]
    for entry_id in new_ids:
        [line] = store.entries.history(entry_id)
        assert (line.state, line.attempt, line.reason) == ("new", 0, f"new in the feed of source {src}")
    row = store.entries.get(new_ids[0])
    assert (row.state, row.attempts, row.source_id, row.url) == ("new", 0, src, "https://news.example/0")


def test_duplicates_inside_one_feed_are_stored_once(store):
    src = store.sources.add("https://news.example/feed").id
    a, b, c = story(1, LONG_BODY), story(2), story(3)
    same_text = FeedEntry(title=a.title, url="https://mirror.example/1", summary=LONG_BODY)
    short_twin = FeedEntry(title=b.title, url="https://mirror.example/2", summary=b.summary)
    items = [
        (a, Ident("url:a", "a", "h1")),
        (a, Ident("url:a", "a", "h1")),  # the same key twice
        (b, Ident("guid:1:b", "b", "h2")),
        (b, Ident("guid:1:b2", "b", "h3")),  # another key, the same link
        (same_text, Ident("url:mirror/1", "mirror/1", "h1")),  # the same long text under another link
        (short_twin, Ident("url:mirror/2", "mirror/2", "h2")),  # the same short text: too little to be a twin
        (c, Ident("hash:h4", None, "h4")),
        (c, Ident("hash:h4", None, "h4")),
    ]
    new_ids = store.entries.add_many(src, items)
    assert [store.entries.get(i).key for i in new_ids] == ["url:a", "guid:1:b", "url:mirror/2", "hash:h4"]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(entry_events)).scalar() == 4


def test_dedupe_holds_across_lookup_chunks_and_against_other_sources(store):
    """A feed longer than one lookup's IN list: duplicates far apart and old entries are still found."""
    first = store.sources.add("https://a.example/feed").id
    second = store.sources.add("https://b.example/feed").id
    old = FeedEntry(title="Old wire story", url="https://wire.example/old", summary=LONG_BODY)
    [old_id] = store.entries.add_many(first, [(old, entry_identity(old, first))])
    items = feed(2500)
    echo = items[3][0]
    items.insert(2400, (FeedEntry(title=echo.title, url=echo.url + "?utm_source=rss", summary="<p>Other.</p>"),
                        Ident("guid:2:echo", echo.url, "h-echo")))
    copy = FeedEntry(title=old.title, url="https://b.example/copy", summary=old.summary)
    items.insert(1700, (copy, entry_identity(copy, second)))
    new_ids = store.entries.add_many(second, items)
    assert len(new_ids) == 2500 and old_id not in new_ids
    assert len(set(new_ids)) == 2500 and new_ids == sorted(new_ids)
    assert store.entries.add_many(second, feed(2500)) == []


def test_the_legacy_key_finds_the_one_entry_an_older_version_kept(store):
    src = store.sources.add("https://blog.example/atom.xml").id
    page = "https://blog.example/now.html"
    days = [FeedEntry(title=f"Now {d}", url=f"{page}#{d}", guid=f"{page}#{d}", summary=f"<p>Day {d}.</p>")
            for d in range(1, 6)]
    [kept] = store.entries.add_many(src, [(days[0], Ident(f"url:{page}", page, "old"))])  # what old versions stored
    restored = store.entries.add_many(src, [(e, entry_identity(e, src)) for e in days])
    assert len(restored) == 4 and kept not in restored
    assert store.entries.add_many(src, [(e, entry_identity(e, src)) for e in days]) == []


def test_an_entry_stored_meanwhile_by_another_process_is_skipped_not_an_error(store, tmp_path):
    """Between the lookup and the insert another poller stores the same key: the insert ignores the conflict."""
    src = store.sources.add("https://news.example/feed").id
    items = feed(3)
    other = create_engine(store.engine.url)
    done = []

    def race(conn, cursor, statement, parameters, context, executemany):
        if done or not statement.lstrip().upper().startswith("SELECT"):
            return
        done.append(True)
        now = utcnow()
        with other.begin() as rival:
            rival.execute(entries.insert().values(source_id=src, key=items[1][1].key, title="by the rival",
                                                  state="new", attempts=0, created_at=now, updated_at=now))

    event.listen(store.engine, "after_cursor_execute", race)
    try:
        new_ids = store.entries.add_many(src, items)
    finally:
        event.remove(store.engine, "after_cursor_execute", race)
        other.dispose()
    assert done
    assert [store.entries.get(i).title for i in new_ids] == ["Story 0", "Story 2"]
    assert sum(e.title == "by the rival" for e in store.entries.list()) == 1


def test_a_feed_is_stored_all_or_nothing(store):
    src = store.sources.add("https://news.example/feed").id

    def fail_history(conn, cursor, statement, parameters, context, executemany):
        if "entry_events" in statement:
            raise RuntimeError("disk full")

    event.listen(store.engine, "before_cursor_execute", fail_history)
    try:
        with pytest.raises(RuntimeError):
            store.entries.add_many(src, feed(20))
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_history)
    assert store.entries.list() == []
    assert len(store.entries.add_many(src, feed(20))) == 20


def test_a_tombstoned_entry_stays_out_of_a_bulk_insert(store):
    src = store.sources.add("https://news.example/feed").id
    ids = store.entries.add_many(src, feed(5))
    store.entries.tombstone(ids[2])
    [new] = store.entries.add_many(src, feed(6))
    assert store.entries.get(new).title == "Story 5" and len(store.entries.list()) == 5


@pytest.mark.parametrize("words, twin_kept", [(39, True), (40, False), (41, False)])
def test_a_content_hash_identifies_from_the_minimum_number_of_words(store, words, twin_kept):
    assert store.entries.HASH_MIN_WORDS == 40
    src = store.sources.add("https://news.example/feed").id
    body = "<p>" + " ".join(f"w{i}" for i in range(words - 1)) + " end.</p> \n"
    first = FeedEntry(title="Same", url="https://news.example/a", summary=body)
    twin = FeedEntry(title="Same", url="https://mirror.example/a", summary=body)
    new_ids = store.entries.add_many(src, [(first, entry_identity(first, src)), (twin, entry_identity(twin, src))])
    assert len(new_ids) == (2 if twin_kept else 1)


TRICKY = ["", "<p>a</p><p>b</p>", "one<br>two<BR/>three", "  lead\t\ttabs \r\n  and\x0bvt\x0cff  ",
          "&nbsp;nbsp&nbsp;&#10;nl&#160;x", "a\u2028b\u2029c\x85d\x1ce", "<a href='x'>li</a>nk <b>bo</b> ld",
          "<p>\xa0 inner \xa0</p>\n\n\n<p>next &amp; last</p>", "x<!-- c -->y", "&lt;tag&gt; stays text"]


def test_the_words_hashed_for_dedupe_are_those_of_the_text():
    """``html_words`` is the fast path of ``html_to_text(...).split()``: a stored hash must never change."""
    from samachar.model import html_to_text, html_words
    from samachar.sources.identity import content_hash

    bodies = TRICKY + [e.summary for e, _ in feed(3)] + [LONG_BODY]
    corpus = sorted((Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "feeds").glob("*.xml.gz"))
    if corpus:
        from samachar.sources.parse import parse_feed

        for path in corpus[:40]:
            parsed = parse_feed(gzip.decompress(path.read_bytes()), "https://example.org/feed.xml")
            bodies += [e.content_html or e.summary or "" for e in parsed.entries]
    for body in bodies:
        assert html_words(body) == html_to_text(body).split(), body[:80]
        entry = FeedEntry(title=" A  title ", summary=body)
        text = html_to_text(body)
        before = hashlib.sha256(f"A title\n{' '.join(text.split())}".encode()).hexdigest()
        assert content_hash(entry) == before
