"""Per-source filters: the rules, the stage that applies them, releasing by hand, and the command.

A filtered entry ends ``filtered`` with the rule that matched, costs no engine
time, and an editor can let it through.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from conftest import database_url
from loopback import LoopbackSite

from samachar.cli import main
from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.errors import ConfigError
from samachar.filters import (
    MAX_PATTERN_CHARS,
    Candidate,
    FilterRules,
    check_pattern,
    first_match,
)
from samachar.model import EntryState
from samachar.pipeline import Pipeline
from samachar.service import SiteService
from samachar.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def candidate(title="Council approves road repairs", text="The council in Shimla approved repairs to 42 roads.",
              categories=("Politics",), published=NOW - timedelta(days=1)) -> Candidate:
    return Candidate(title=title, text=text, categories=list(categories), published=published)


# -- the rules ---------------------------------------------------------------------------------------

def test_words_match_whole_words_in_any_case_and_script():
    assert first_match(FilterRules(exclude=["ROADS"]), candidate(), NOW) == "excluded word 'ROADS' in the body"
    assert first_match(FilterRules(exclude=["road"]), candidate(text="Roadside stalls."), NOW) == (
        "excluded word 'road' in the title")  # the title's "road", not the body's "Roadside"
    assert first_match(FilterRules(exclude=["oad"]), candidate(), NOW) is None
    assert first_match(FilterRules(exclude=["road repairs"]), candidate(), NOW)  # a phrase
    hindi = candidate(title="राशिफल आज का", text="मेष राशि के लोगों के लिए दिन शुभ है।")
    assert first_match(FilterRules(exclude=["राशिफल"]), hindi, NOW) == "excluded word 'राशिफल' in the title"
    assert first_match(FilterRules(exclude=["राशि"]), hindi, NOW) == "excluded word 'राशि' in the body"
    assert first_match(FilterRules(exclude=["रा"]), hindi, NOW) is None  # a vowel sign does not split a word


def test_include_rules_keep_only_what_matches_one_of_them():
    rules = FilterRules(include=["budget"], include_re=[r"\bshimla\b"])
    assert first_match(rules, candidate(), NOW) is None  # the pattern matched, case-insensitively
    reason = first_match(rules, candidate(text="Nothing about it."), NOW)
    assert reason and "none of the included" in reason and "'budget'" in reason and r"/\bshimla\b/" in reason


def test_patterns_categories_length_and_age():
    assert first_match(FilterRules(exclude_re=[r"\d+ roads"]), candidate(), NOW) == (
        r"excluded pattern /\d+ roads/ in the body")
    assert first_match(FilterRules(exclude_categories=["politics"]), candidate(), NOW) == (
        "category 'politics' is excluded")
    assert first_match(FilterRules(categories=["Sport", "Weather"]), candidate(), NOW) == (
        "none of the categories Sport, Weather")
    assert first_match(FilterRules(categories=["POLITICS"]), candidate(), NOW) is None
    assert first_match(FilterRules(min_words=9), candidate(), NOW) is None
    assert first_match(FilterRules(min_words=20), candidate(), NOW) == (
        "body has 9 words, fewer than the minimum of 20")
    old = candidate(published=NOW - timedelta(days=10))
    assert first_match(FilterRules(max_age_days=7), old, NOW) == (
        "published 10 days ago, more than the maximum age of 7 days")
    assert first_match(FilterRules(max_age_days=7), candidate(published=None), NOW) is None  # no date: kept
    assert first_match(FilterRules(), candidate(), NOW) is None


def test_a_bad_pattern_is_refused_in_one_line():
    for pattern, said in (("(unclosed", "not valid"), ("x" * (MAX_PATTERN_CHARS + 1), "at most"),
                          (r"(\w+\s?)*$", "repeats a group"), ("(a+)+", "repeats a group"), ("", "empty")):
        with pytest.raises(ConfigError, match=said) as raised:
            check_pattern(pattern)
        assert "\n" not in str(raised.value)
    assert check_pattern(r"(budget|tax)+").search("TAX")


def test_stored_rules_are_checked_when_read():
    assert FilterRules.from_json(None).is_empty()
    rules = FilterRules.from_json({"exclude": ["horoscope"], "min_words": 50})
    assert rules.exclude == ["horoscope"] and rules.min_words == 50
    for bad, said in (({"exclude": "horoscope"}, "list of strings"), ({"min_words": -1}, "at least 0"),
                      ({"exclude_re": ["(a*)*"]}, "repeats a group"), ({"colour": ["red"]}, "unknown filter rule"),
                      (["exclude"], "must be an object"), ({"exclude": ["!!"]}, "no letters or digits")):
        with pytest.raises(ConfigError, match=said):
            FilterRules.from_json(bad)


def test_changes_add_words_and_replace_numbers():
    rules = FilterRules(exclude=["horoscope"], min_words=50)
    changed = rules.with_changes(FilterRules(exclude=["horoscope", "quiz"], max_age_days=3, min_words=80))
    assert changed.to_json() == {"exclude": ["horoscope", "quiz"], "min_words": 80, "max_age_days": 3}


# -- the stage -----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><article><h1>{title}</h1><p>{body}</p>
<p>The district council said the work would start next week and cost 12.5 million rupees in all.</p>
</article></main></body></html>"""
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hill Post</title><link>https://hillpost.example/</link><description>News</description>
<item><title>Council approves road repairs</title><link>{{BASE}}/roads.html</link><guid>roads</guid>
<category>Politics</category></item>
<item><title>Your horoscope for Friday</title><link>{{BASE}}/stars.html</link><guid>stars</guid>
<category>Astrology</category></item>
</channel></rss>"""


def routes() -> dict:
    return {
        "/feed.xml": (200, "application/rss+xml", FEED),
        "/roads.html": (200, "text/html", PAGE.format(title="Council approves road repairs",
                                                     body="The council in Shimla approved repairs to 42 roads.")),
        "/stars.html": (200, "text/html", PAGE.format(title="Your horoscope for Friday",
                                                     body="Aries should expect a calm day at the council.")),
        "/robots.txt": (200, "text/plain", "User-agent: *\nAllow: /\n"),
    }


class CountingEngine:
    """Returns its input and remembers every segment it was given: what the engine was paid for."""

    name = "counting"
    segments: ClassVar[list[str]] = []

    def translate(self, segments, source, target):
        type(self).segments.extend(segments)
        return [f"[{target}] {s}" for s in segments]


def make_pipeline(tmp_path) -> Pipeline:
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias"), default_policy="full",
                    translation=TranslationConfig(source_language="en", engines=["test_filters:CountingEngine"],
                                                  hold_on_error=False))
    return Pipeline(Store(database_url(tmp_path)), config, allow_private=True)


def test_a_filtered_entry_is_never_translated_and_can_be_released_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(CountingEngine, "segments", [])
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        source = pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        pipeline.store.sources.set_filters(source.id, {"exclude": ["horoscope"]})
        report = pipeline.run_once()
        assert report.filtered == 1 and report.published == 1 and report.extracted == 2
        stars = next(e for e in pipeline.store.entries.list() if "horoscope" in e.title)
        assert stars.state == EntryState.FILTERED
        assert stars.error == "filtered by the source's rules: excluded word 'horoscope' in the title"
        assert pipeline.store.entries.history(stars.id)[-1].reason == stars.error
        assert pipeline.store.translations.get(stars.id, "es") is None
        assert not [s for s in CountingEngine.segments if "horoscope" in s.lower() or "Aries" in s]

        service = SiteService(pipeline.store, pipeline.config)
        assert service.release(stars.id) and not service.release(stars.id)  # once filtered, once released
        assert pipeline.store.entries.get(stars.id).state == EntryState.EXTRACTED
        assert "released by an editor" in pipeline.store.entries.history(stars.id)[-1].reason
        again = pipeline.run_once()  # the rule still matches; the released entry goes through
    assert again.filtered == 0 and again.published == 1
    assert pipeline.store.entries.get(stars.id).state == EntryState.PUBLISHED
    assert any("Aries" in s for s in CountingEngine.segments)


def test_a_source_without_filters_is_not_slowed_by_the_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(CountingEngine, "segments", [])
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        calls = []
        monkeypatch.setattr(pipeline.store.entries, "was_released", lambda entry_id: calls.append(entry_id))
        report = pipeline.run_once()
    assert report.published == 2 and report.filtered == 0 and calls == []


# -- the commands ------------------------------------------------------------------------------------

@pytest.fixture
def home(tmp_path):
    assert main(["--home", str(tmp_path), "init", "--language", "es", "--engine", "apertium", "--base-url",
                 "https://noticias.example/"]) == 0
    store = Store(f"sqlite:///{tmp_path / 'samachar.db'}")
    store.sources.add("https://hillpost.example/feed.xml")
    store.close()
    return tmp_path


def run(home, *args: str) -> int:
    return main(["--home", str(home), *args])


def test_source_filter_sets_shows_and_clears_rules(home, capsys):
    assert run(home, "source", "filter", "1", "--exclude", "horoscope", "quiz", "--include-re", r"\bshimla\b",
               "--category", "Politics", "--min-words", "80", "--max-age-days", "3") == 0
    out = capsys.readouterr().out
    assert "exclude: 'horoscope', 'quiz'" in out and "min words: 80" in out
    assert run(home, "source", "filter", "https://hillpost.example/feed.xml", "--exclude", "lottery") == 0
    capsys.readouterr()
    assert run(home, "source", "list", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["filters"] == {"include_re": [r"\bshimla\b"], "exclude": ["horoscope", "quiz", "lottery"],
                                 "categories": ["Politics"], "min_words": 80, "max_age_days": 3}
    assert run(home, "source", "filter", "1", "--clear") == 0
    assert "no filters" in capsys.readouterr().out
    assert run(home, "source", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["filters"] == {}


def test_source_filter_refuses_a_bad_pattern_or_source_in_one_line(home, capsys):
    for args in (("1", "--exclude-re", "(a+)+"), ("1", "--include-re", "[unclosed"), ("7", "--exclude", "x"),
                 ("1", "--exclude-re", "y" * 201)):
        assert run(home, "source", "filter", *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert run(home, "source", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["filters"] == {}  # nothing half-stored


def test_entry_release_refuses_an_entry_that_is_not_filtered(home, capsys):
    from samachar.model import FeedEntry
    from samachar.sources.identity import entry_identity

    store = Store(f"sqlite:///{home / 'samachar.db'}")
    feed_entry = FeedEntry(title="Story", url="https://hillpost.example/story")
    [entry_id] = store.entries.add_many(1, [(feed_entry, entry_identity(feed_entry, 1))])
    assert run(home, "entry", "release", str(entry_id)) == 2
    assert capsys.readouterr().err.strip() == f"error: entry {entry_id} is new, not filtered"
    store.entries.set_state(entry_id, EntryState.EXTRACTED)
    store.entries.set_state(entry_id, EntryState.FILTERED, error="filtered by the source's rules: x")
    assert run(home, "entry", "release", str(entry_id)) == 0
    assert "released" in capsys.readouterr().out
    assert store.entries.get(entry_id).state == EntryState.EXTRACTED and store.entries.was_released(entry_id)
    assert run(home, "entry", "list", "--state", "filtered", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    store.close()
