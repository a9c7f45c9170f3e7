"""parse_feed against self-describing fixtures in tests/data/feeds/.

Each well-formed fixture carries its expectations: an XML comment
``<!-- Expect: {json} -->`` or, in JSON feeds, an ``_expect`` member. Keys are
``count``, feed fields (``title``, ``site_url``, ``format``, ``ttl``) and
``entries.N.field``; ``field_contains`` / ``field_lacks`` test substrings;
dates compare as instants. Ill-formed fixtures say ``Expect-Error: words``
(or ``_expect_error``): parse_feed must raise FeedError whose message
contains the words.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from samachar.errors import FeedError
from samachar.sources import parse_feed

DATA = Path(__file__).resolve().parent / "data" / "feeds"
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "feeds"
_EXPECT = re.compile(rb"<!-- Expect: (\{.*?\}) -->", re.S)
_EXPECT_ERROR = re.compile(rb"Expect-Error: ([^\n-]+)")


def _expectations(path: Path) -> dict:
    body = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(body)["_expect"]
    match = _EXPECT.search(body)
    assert match, f"{path.name} has no Expect comment"
    return json.loads(match.group(1))


def _value(parsed, dotted: str):
    obj = parsed
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


@pytest.mark.parametrize("path", sorted((DATA / "wellformed").iterdir()), ids=lambda p: p.name)
def test_wellformed_fixture(path: Path) -> None:
    expect = _expectations(path)
    parsed = parse_feed(path.read_bytes(), f"https://fixture.example/{path.name}")
    for key, wanted in expect.items():
        if key == "count":
            assert len(parsed.entries) == wanted, key
            continue
        if key.endswith("_contains"):
            assert wanted in (_value(parsed, key.removesuffix("_contains")) or ""), key
            continue
        if key.endswith("_lacks"):
            actual = _value(parsed, key.removesuffix("_lacks")) or ""
            for bad in wanted:
                assert bad not in actual, (key, bad)
            continue
        actual = _value(parsed, key)
        if isinstance(actual, datetime):
            assert actual.tzinfo is not None, key
            assert actual == datetime.fromisoformat(wanted), key
        else:
            assert actual == wanted, (key, actual)


_ILLFORMED = sorted(p for p in (DATA / "illformed").iterdir() if _EXPECT_ERROR.search(p.read_bytes()) or p.suffix == ".json")


@pytest.mark.parametrize("path", _ILLFORMED, ids=lambda p: p.name)
def test_illformed_fixture_is_a_one_line_feed_error(path: Path) -> None:
    body = path.read_bytes()
    if path.suffix == ".json":
        words = json.loads(body)["_expect_error"]
    else:
        words = _EXPECT_ERROR.search(body).group(1).decode().strip()
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "https://fixture.example/bad")
    message = str(caught.value)
    assert words.lower() in message.lower()
    assert "\n" not in message and len(message) < 200


def test_broken_but_recoverable_feed_keeps_every_item() -> None:
    path = DATA / "illformed" / "rss20_broken_recoverable.xml"
    parsed = parse_feed(path.read_bytes(), "https://broken.example.com/feed")
    expect = _expectations(path)
    assert len(parsed.entries) == expect["count"]
    assert [e.title for e in parsed.entries] == [expect["entries.0.title"], expect["entries.1.title"]]


def test_empty_body_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="empty"):
        parse_feed(b"  \n", "https://x.example/")


def test_billion_laughs_never_expands() -> None:
    body = (DATA / "illformed" / "billion_laughs.xml").read_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FeedError, match="entity"):
        parse_feed(body, "https://laughs.example.com/feed")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5 * 1024 * 1024  # 10^9 "lol"s would be gigabytes


def test_entity_declaration_in_utf16_document_is_refused() -> None:
    body = (DATA / "illformed" / "external_entity.xml").read_text().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    with pytest.raises(FeedError, match="entity"):
        parse_feed(body.encode("utf-16"), "https://xxe.example.com/feed")


def test_html_with_junk_before_root_is_still_named() -> None:
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(b"Warning: something broke\n<html><body>oops</body></html>", "https://x.example/")


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob("*.xml.gz"))


@pytest.mark.corpus
def test_corpus_entries_at_least_the_better_parser() -> None:
    """On every real feed we keep as many entries as the better of feedparser and fastfeedparser."""
    files = _corpus_files()
    if not files:
        pytest.skip("../shared/corpus/feeds is absent")
    import fastfeedparser
    import feedparser

    short: list[str] = []
    total = 0
    for path in files:
        body = gzip.decompress(path.read_bytes())
        try:
            fast = len(fastfeedparser.parse(body).entries)
        except Exception:
            fast = 0
        slow = len(feedparser.parse(body).entries)
        try:
            ours = len(parse_feed(body, f"https://corpus.example/{path.name}").entries)
        except FeedError as exc:
            ours = 0
            assert max(fast, slow) == 0, f"{path.name}: {exc}"
        total += ours
        if ours < max(fast, slow):
            short.append(f"{path.name}: ours {ours}, fastfeedparser {fast}, feedparser {slow}")
    assert not short, short
    assert total > 1000
