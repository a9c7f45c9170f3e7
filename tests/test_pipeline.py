"""The orchestrator over real stages, a real SQLite store, Apertium and a loopback site.

One bad feed or page never stops a run; a page that cannot be fetched falls back
to the feed's content; a second run publishes nothing twice; an interrupted run
resumes; QA errors hold an article with its reason until a reviewer approves it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import database_url
from loopback import LoopbackSite

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.pipeline import Pipeline
from samachar.service import SiteService
from samachar.store import Store
from samachar.translate.engines.apertium import ApertiumEngine

if not ApertiumEngine().supports("en", "es"):
    pytest.skip("Apertium eng-spa is not installed (apt-get install apertium apertium-eng-spa)", allow_module_level=True)

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Hill Post</title>
<link rel="canonical" href="https://hillpost.example/{slug}">
<meta property="og:site_name" content="Hill Post">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle","headline":"{title}",
"datePublished":"2026-11-20T09:00:00+05:30","author":{{"@type":"Person","name":"Asha Negi"}},
"publisher":{{"@type":"Organization","name":"Hill Post"}}}}</script></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav><main><article><h1>{title}</h1>
<p>The district council in Shimla approved a plan on Monday to repair 42 roads before the winter, according to
<a href="https://hillpost.example/council">a statement from the council</a>.</p>
<p>"Work will start next week," the chairman said. The plan costs 12.5 million rupees and covers 3 blocks.</p>
<p>Residents of Shimla said the roads had been in poor shape since the monsoon, when heavy rain damaged
several bridges and retaining walls across the hills.</p>
</article></main><footer>© 2026 Hill Post</footer></body></html>"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hill Post</title><link>https://hillpost.example/</link><description>News</description>
<item><title>Council approves road repairs</title><link>{{BASE}}/roads.html</link><guid>https://hillpost.example/roads</guid>
<pubDate>Fri, 20 Nov 2026 03:30:00 GMT</pubDate></item>
<item><title>Bridge reopens in Solan</title><link>{{BASE}}/missing.html</link><guid>https://hillpost.example/bridge</guid>
<description>&lt;p&gt;The old bridge in Solan reopened on Tuesday after 8 months of repairs.&lt;/p&gt;</description>
<pubDate>Thu, 19 Nov 2026 03:30:00 GMT</pubDate></item>
</channel></rss>"""


def routes():
    return {
        "/feed.xml": (200, "application/rss+xml", FEED),
        "/roads.html": (200, "text/html; charset=utf-8", PAGE.format(title="Council approves road repairs", slug="roads")),
        "/broken.xml": (200, "text/html", "<html><body>This is not a feed</body></html>"),
        "/gone.xml": (410, "text/plain", "gone"),
    }


def make_pipeline(tmp_path, **translation) -> Pipeline:
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias"),
                    translation=TranslationConfig(source_language="en", engines=["apertium"], **translation))
    return Pipeline(Store(database_url(tmp_path)), config, allow_private=True)


def test_one_bad_feed_or_page_never_stops_the_run_and_nothing_is_published_twice(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        for path in ("/feed.xml", "/broken.xml", "/gone.xml"):
            pipeline.store.sources.add(site.url(path), policy="full")
        report = pipeline.run_once()
        assert report.polled == 3 and report.poll_errors == 2
        assert report.published == 2, report.summary()
        sources = {s.url.rsplit("/", 1)[1]: s for s in pipeline.store.sources.list()}
        assert sources["feed.xml"].status == "ok"
        assert sources["broken.xml"].status == "error" and sources["broken.xml"].error
        assert sources["gone.xml"].status == "gone"

        entries = {e.title: e for e in pipeline.store.entries.list()}
        assert entries["Bridge reopens in Solan"].state == "published"
        assert "404" in entries["Bridge reopens in Solan"].note  # the reason the feed's content was used
        assert pipeline.store.articles.get(entries["Bridge reopens in Solan"].id).source == "feed"
        roads = pipeline.store.articles.get(entries["Council approves road repairs"].id)
        assert roads.source == "page" and roads.publisher == "Hill Post"

        pipeline.store.sources.schedule_now()  # every source due again: a real second poll
        again = make_pipeline(tmp_path).run_once()
        assert again.polled == 2  # the muted (410) source is not polled again
        assert again.published == 0 and again.new_entries == 0
        assert pipeline.store.posts.count("es") == 2

    published = SiteService(pipeline.store, pipeline.config).published_articles()
    assert {p.original_url for p in published} >= {"https://hillpost.example/roads"}
    roads_post = next(p for p in published if p.original_url == "https://hillpost.example/roads")
    text = " ".join(b.text for b in roads_post.blocks)
    assert "Shimla" in text and "42" in text and "consejo" in text.lower()
    assert any('href="https://hillpost.example/council"' in b.html for b in roads_post.blocks)


def test_a_permanently_moved_feed_is_followed_and_its_new_address_kept(tmp_path):
    moved = {**routes(), "/old-feed.xml": (301, "text/plain", "{{BASE}}/feed.xml")}
    with LoopbackSite(moved) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/old-feed.xml"), policy="full")
        report = pipeline.poll()
    assert report.new_entries == 2
    [source] = pipeline.store.sources.list()
    assert source.url == site.url("/feed.xml") and source.status == "ok"


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    with LoopbackSite(routes()) as site:
        first = make_pipeline(tmp_path)
        first.store.sources.add(site.url("/feed.xml"), policy="full")
        report = first.poll()
        first.fetch_pages(report)  # killed here: pages fetched, nothing extracted or translated
        assert {e.state for e in first.store.entries.list()} <= {"fetched", "extracted"}
        resumed = make_pipeline(tmp_path).run_once()
    assert resumed.published == 2
    assert {e.state for e in first.store.entries.list()} == {"published"}


class EchoEngine:
    """Returns the source unchanged: what a broken engine does; QA must catch it."""

    name = "echo"

    def translate(self, segments, source, target):
        return list(segments)


def test_qa_errors_hold_an_article_with_its_reason_until_approved(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.engine_names = ["test_pipeline:EchoEngine"]
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
    assert report.held == 2 and report.published == 0
    held = pipeline.store.entries.list(states=("held",))
    assert len(held) == 2 and all(e.error.startswith("held for review:") for e in held)
    assert SiteService(pipeline.store, pipeline.config).approve(held[0].id)
    assert not SiteService(pipeline.store, pipeline.config).approve(held[0].id)  # already approved
    again = pipeline.run_once()
    assert again.published == 1


class CountingEngine(EchoEngine):
    """Apertium behind a call log; refuses any call that holds a sentence about Solan when ``picky``."""

    name = "counting"
    calls: list[list[str]] = []
    picky = False

    def translate(self, segments, source, target):
        type(self).calls.append(list(segments))
        if self.picky and any("Solan" in s for s in segments):
            raise RuntimeError("engine crashed on this input")
        return ApertiumEngine().translate(segments, source, target)


def test_articles_are_translated_together_and_one_that_breaks_the_engine_fails_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(CountingEngine, "calls", [])
    monkeypatch.setattr(CountingEngine, "picky", True)
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.engine_names = ["test_pipeline:CountingEngine"]
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
        # One call for both articles; it fails, so each is tried alone: the road story goes through.
        assert len(CountingEngine.calls) == 3
        assert any("Solan" in s for s in CountingEngine.calls[0]) and any("Shimla" in s for s in CountingEngine.calls[0])
        assert report.published == 1 and report.failed == 0
        bridge = next(e for e in pipeline.store.entries.list() if e.title == "Bridge reopens in Solan")
        assert bridge.state == "extracted" and "engine crashed on this input" in bridge.error  # retried later



def test_batch_articles_sets_how_many_articles_share_engine_calls(tmp_path, monkeypatch):
    for size, expected_calls in ((16, 1), (1, 2)):
        monkeypatch.setattr(CountingEngine, "calls", [])
        with LoopbackSite(routes()) as site:
            (tmp_path / str(size)).mkdir()
            pipeline = make_pipeline(tmp_path / str(size), batch_articles=size)
            pipeline.engine_names = ["test_pipeline:CountingEngine"]
            pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
            assert pipeline.run_once().published == 2
        assert len(CountingEngine.calls) == expected_calls


def test_a_deleted_entry_is_unpublished_and_never_imported_again(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        pipeline.run_once()
        service = SiteService(pipeline.store, pipeline.config)
        [victim] = [a for a in service.published_articles() if "roads" in a.original_url]
        assert service.search("Shimla") and service.delete(victim.id)
        assert victim.id not in {a.id for a in service.published_articles()}
        assert victim.id not in {a.id for a in service.search("Shimla")}
        pipeline.store.sources.schedule_now()
        again = pipeline.run_once()
    assert again.polled == 1 and again.new_entries == 0 and again.published == 0


def test_the_built_site_drops_a_deleted_article(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        pipeline.run_once()
    out = tmp_path / "out"
    (out / "keep.txt").parent.mkdir(parents=True)
    (out / "keep.txt").write_text("the operator's own file")
    service = SiteService(pipeline.store, pipeline.config)
    service.build(out)
    [victim, other] = service.published_articles()
    assert (out / "articles" / victim.slug / "index.html").exists()
    SiteService(pipeline.store, pipeline.config).delete(victim.id)
    SiteService(pipeline.store, pipeline.config).build(out)
    assert not (out / "articles" / victim.slug).exists()
    assert (out / "articles" / other.slug / "index.html").exists()
    assert victim.slug not in (out / "index.html").read_text(encoding="utf-8")
    assert (out / "keep.txt").read_text() == "the operator's own file"


def test_temporary_page_errors_are_retried_and_robots_outages_do_not_fail_entries(tmp_path, monkeypatch):
    flaky = {**routes(), "/robots.txt": (503, "text/plain", "busy")}
    with LoopbackSite(flaky) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
        roads = next(e for e in pipeline.store.entries.list() if "road" in e.title)
        assert roads.state == "new" and roads.attempts == 1 and "robots.txt" in roads.error
        assert report.failed == 0
        again = pipeline.run_once()  # inside the backoff: not tried again yet
        assert pipeline.store.entries.get(roads.id).attempts == 1 and again.fetched == 0
        site.routes["/robots.txt"] = (200, "text/plain", "User-agent: *\nAllow: /\n")
        monkeypatch.setattr("samachar.stages.RETRY_BASE", timedelta(0))  # the backoff has passed
        third = pipeline.run_once()
    assert third.fetched == 1 and pipeline.store.entries.get(roads.id).state == "published"
