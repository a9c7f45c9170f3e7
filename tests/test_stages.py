"""The stage table and its one failure policy, read from the table and run over a loopback site.

The policy's hardest case first: a broken install (trafilatura that will not
import) must leave every entry retryable, log the traceback once and say so in
the run's report; once the install is mended, the next run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from datetime import timedelta

import pytest
from conftest import database_url
from loopback import LoopbackSite

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.errors import (
    BlockedAddress,
    ConfigError,
    ExtractionError,
    FetchError,
    HTTPStatusError,
    PairNotInstalled,
    RobotsDisallowed,
    RobotsUnavailable,
    RuntimeMissing,
    TooLarge,
    TranslationError,
)
from samachar.model import EntryState
from samachar.pipeline import Pipeline
from samachar.stages import STAGES, ErrorClass, Mode, NoLink, Treatment, classify
from samachar.store import Store

RESTING = {EntryState.FILTERED, EntryState.PUBLISHED, EntryState.FAILED, EntryState.HELD, EntryState.MERGED}

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><article><h1>{title}</h1>
<p>The district council in Shimla approved a plan on Monday to repair 42 roads before the winter.</p>
<p>Work will start next week, the chairman said. The plan costs 12.5 million rupees and covers 3 blocks.</p>
<p>Residents said the roads had been in poor shape since the monsoon damaged several bridges.</p>
</article></main></body></html>"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hill Post</title><link>https://hillpost.example/</link><description>News</description>
<item><title>Council approves road repairs</title><link>{{BASE}}/roads.html</link><guid>roads</guid>
<description>&lt;p&gt;The council approved repairs to 42 roads in Shimla.&lt;/p&gt;</description></item>
<item><title>Bridge reopens in Solan</title><link>{{BASE}}/bridge.html</link><guid>bridge</guid></item>
</channel></rss>"""


def routes() -> dict:
    return {
        "/feed.xml": (200, "application/rss+xml", FEED),
        "/roads.html": (200, "text/html; charset=utf-8", PAGE.format(title="Council approves road repairs")),
        "/bridge.html": (200, "text/html; charset=utf-8", PAGE.format(title="Bridge reopens in Solan")),
        "/robots.txt": (200, "text/plain", "User-agent: *\nAllow: /\n"),
    }


def english_site(tmp_path, **site) -> Pipeline:
    """A site in the sources' own language: every stage runs, no engine is needed."""
    config = Config(home=tmp_path, site=SiteConfig(language="en", title="News", **site),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]), default_policy="full")
    return Pipeline(Store(database_url(tmp_path)), config, allow_private=True)


# -- the table -------------------------------------------------------------------------------------

def exits(stage, error_class: ErrorClass) -> set[EntryState]:
    """Where an entry of ``stage`` can end up after an error of ``error_class``, read from the table."""
    treatment = stage.on_error[error_class]
    if treatment in (Treatment.WAIT, Treatment.RETRY):
        return {stage.takes}
    if treatment is Treatment.BACKOFF:  # stays, and once out of attempts goes the permanent way
        return {stage.takes} | exits(stage, ErrorClass.PERMANENT)
    if treatment is Treatment.FALLBACK:
        return set(stage.fallback_to)
    return {EntryState.FAILED}


def test_every_state_has_exactly_one_way_out_per_error_class():
    entry_stages = [s for s in STAGES if s.takes is not None]
    taken = {s.takes for s in entry_stages}
    assert taken | RESTING == set(EntryState) and not taken & RESTING  # every working state has a stage
    for stage in entry_stages:
        assert set(stage.on_error) == set(ErrorClass), stage.name  # one treatment for each class, no other
        assert stage.on_error[ErrorClass.TEMPORARY] is Treatment.BACKOFF, stage.name
        assert stage.on_error[ErrorClass.PERMANENT] in (Treatment.FAIL, Treatment.FALLBACK), stage.name
        assert stage.on_error[ErrorClass.CONFIGURATION] is Treatment.WAIT, stage.name
        assert stage.on_error[ErrorClass.UNEXPECTED] is Treatment.RETRY, stage.name
        if stage.on_error[ErrorClass.PERMANENT] is Treatment.FALLBACK:
            assert stage.fallback is not None and stage.fallback_to, stage.name
        assert stage.save is not None and stage.moves_to, stage.name
        for error_class in ErrorClass:
            assert exits(stage, error_class) <= set(EntryState), (stage.name, error_class)
        assert stage.on_error[ErrorClass.UNEXPECTED] is not Treatment.FAIL  # a bug never fails an entry
    assert entry_stages[-1].moves_to == {EntryState.PUBLISHED}


def test_the_table_is_in_order_each_stage_takes_what_an_earlier_one_makes():
    made = set()
    for stage in STAGES:
        if stage.takes is None:
            assert stage.mode is Mode.SOURCES
        else:
            assert stage.takes in made, f"{stage.name} takes {stage.takes}, which no earlier stage makes"
        made |= set(stage.moves_to) | set(stage.fallback_to)
    assert made | {EntryState.FAILED} == set(EntryState)  # failed: any stage's permanent way out


@pytest.mark.parametrize(("error", "expected"), [
    (HTTPStatusError("HTTP 404", 404), ErrorClass.PERMANENT),
    (HTTPStatusError("HTTP 410", 410), ErrorClass.PERMANENT),
    (HTTPStatusError("HTTP 429", 429), ErrorClass.TEMPORARY),
    (HTTPStatusError("HTTP 408", 408), ErrorClass.TEMPORARY),
    (HTTPStatusError("HTTP 503", 503), ErrorClass.TEMPORARY),
    (BlockedAddress("private"), ErrorClass.PERMANENT),
    (RobotsDisallowed("disallowed"), ErrorClass.PERMANENT),
    (TooLarge("cap"), ErrorClass.PERMANENT),
    (NoLink("no link"), ErrorClass.PERMANENT),
    (ExtractionError("no body"), ErrorClass.PERMANENT),
    (RobotsUnavailable("robots.txt 503"), ErrorClass.TEMPORARY),
    (FetchError("timed out"), ErrorClass.TEMPORARY),
    (TimeoutError(), ErrorClass.TEMPORARY),
    (ConnectionResetError(), ErrorClass.TEMPORARY),
    (TranslationError("engine answered 502"), ErrorClass.TEMPORARY),
    (PairNotInstalled("no en→hi"), ErrorClass.CONFIGURATION),
    (RuntimeMissing("pip install ctranslate2"), ErrorClass.CONFIGURATION),
    (ConfigError("bad option"), ErrorClass.CONFIGURATION),
    (ImportError("No module named 'trafilatura'"), ErrorClass.UNEXPECTED),
    (KeyError("title"), ErrorClass.UNEXPECTED),
    (RuntimeError("engine crashed"), ErrorClass.UNEXPECTED),
])
def test_one_classifier_for_every_stage(error, expected):
    assert classify(error) is expected


# -- the policy at work ----------------------------------------------------------------------------

def test_a_broken_install_leaves_entries_retryable_logs_once_and_the_next_run_extracts_them(
        tmp_path, monkeypatch, caplog):
    with LoopbackSite(routes()) as site:
        pipeline = english_site(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        with monkeypatch.context() as broken:
            broken.setitem(sys.modules, "trafilatura", None)  # "import trafilatura" raises ImportError
            with caplog.at_level(logging.WARNING, logger="samachar.pipeline"):
                report = pipeline.run_once()
        entries = pipeline.store.entries.list()
        assert report.fetched == 2 and report.extracted == 0 and report.failed == 0
        assert {e.state for e in entries} == {EntryState.FETCHED}  # not failed, not the feed's fallback either
        assert all("trafilatura" in e.error and e.attempts == 1 for e in entries), [e.error for e in entries]
        assert report.unexpected == {"extract: ModuleNotFoundError": 2}  # ImportError's own kind, named
        assert "2 unexpected errors" in report.summary()
        [line] = report.unexpected_lines()
        assert line.startswith("extract: ModuleNotFoundError in 2 entries") and "retried" in line
        tracebacks = [r for r in caplog.records if r.exc_info and issubclass(r.exc_info[0], ImportError)]
        assert len(tracebacks) == 1  # once per kind and run; the second entry gets one line
        assert sum("trafilatura" in r.getMessage() for r in caplog.records) == 2

        monkeypatch.setattr("samachar.stages.RETRY_BASE", timedelta(0))  # the backoff has passed
        mended = pipeline.run_once()
    assert mended.extracted == 2 and mended.published == 2 and not mended.unexpected
    assert {e.state for e in pipeline.store.entries.list()} == {EntryState.PUBLISHED}
    assert all(e.attempts == 0 for e in pipeline.store.entries.list())  # moving on cleared the count


def test_an_unexpected_error_waits_out_its_backoff(tmp_path, monkeypatch):
    with LoopbackSite(routes()) as site:
        pipeline = english_site(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        monkeypatch.setitem(sys.modules, "trafilatura", None)
        pipeline.run_once()
        again = pipeline.run_once()  # inside the backoff: not tried, not counted again
    assert not again.unexpected
    assert all(e.attempts == 1 for e in pipeline.store.entries.list())


def test_an_entry_that_fails_a_stage_goes_no_further_in_that_run(tmp_path, monkeypatch):
    """A filter that cannot be applied must not let its entries slip through to translation."""
    with LoopbackSite(routes()) as site:
        pipeline = english_site(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        [source] = pipeline.store.sources.list()
        pipeline.store.sources.set_filters(source.id, {"exclude": ["Solan"], "unknown_rule": 1})
        report = pipeline.run_once()
    assert report.extracted == 2 and report.translated == 0 and report.published == 0
    assert report.waiting and "filters of source" in report.waiting[0] and "unknown_rule" in report.waiting[0]
    entries = pipeline.store.entries.list()
    assert {e.state for e in entries} == {EntryState.EXTRACTED} and all(e.attempts == 0 for e in entries)


# -- one HTTP client per run -----------------------------------------------------------------------

def test_what_polling_learns_of_a_host_applies_to_its_pages(tmp_path):
    """A host that answered 503 to one feed is not asked for article pages in the same run."""
    busy = {**routes(), "/busy.xml": (503, "text/plain", "busy")}
    with LoopbackSite(busy) as site:
        pipeline = english_site(tmp_path)
        pipeline.store.sources.add(site.url("/busy.xml"))
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
    assert report.new_entries == 2 and report.poll_errors == 1
    assert site.hits["/roads.html"] == 0 and site.hits["/bridge.html"] == 0
    entries = pipeline.store.entries.list()
    assert {e.state for e in entries} == {EntryState.NEW}  # a temporary refusal: retried after the backoff
    assert all("wait" in e.error and e.attempts == 1 for e in entries)


def test_pages_and_images_of_a_run_share_one_robots_txt(tmp_path):
    from test_images_files import png

    page = PAGE.replace("<p>Work", '<figure><img src="/lead.png" alt="A road" width="64" height="48">'
                                   "<figcaption>The road near Shimla.</figcaption></figure><p>Work")
    with LoopbackSite({**routes(), "/roads.html": (200, "text/html", page.format(title="Council approves roads")),
                       "/lead.png": (200, "image/png", png(64, 48))}) as site:
        pipeline = english_site(tmp_path, images="local")
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
    assert report.published == 2 and site.hits["/lead.png"] == 1
    assert site.hits["/robots.txt"] == 1  # one client for the run: its pages and its images ask once


# -- storing polled entries off the event loop -----------------------------------------------------

def test_polled_entries_are_stored_off_the_event_loop(tmp_path, monkeypatch):
    with LoopbackSite(routes()) as site:
        pipeline = english_site(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"))
        stored_in: list[tuple[str, bool]] = []
        add_many = pipeline.store.entries.add_many

        def spy(source_id, items, **kwargs):
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            stored_in.append((threading.current_thread().name, on_loop))
            return add_many(source_id, items, **kwargs)

        monkeypatch.setattr(pipeline.store.entries, "add_many", spy)
        assert pipeline.poll().new_entries == 2
    assert stored_in and all(not on_loop for _, on_loop in stored_in)
    assert all(name != threading.main_thread().name for name, _ in stored_in)


def test_run_says_which_unexpected_errors_kept_entries_back(tmp_path, monkeypatch, capsys):
    from samachar.cli import main

    monkeypatch.setenv("SAMACHAR_ALLOW_PRIVATE_NETWORKS", "1")
    assert main(["--home", str(tmp_path), "init", "--language", "en", "--base-url", "https://n.example/"]) == 0
    with LoopbackSite(routes()) as site:
        assert main(["--home", str(tmp_path), "source", "add", site.url("/feed.xml"), "--no-discover"]) == 0
        monkeypatch.setitem(sys.modules, "trafilatura", None)
        assert main(["--home", str(tmp_path), "-q", "run", "--once"]) == 0
    err = capsys.readouterr().err
    assert "unexpected: extract: ModuleNotFoundError in 2 entries; they are retried later" in err
