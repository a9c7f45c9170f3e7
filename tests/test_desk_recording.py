"""What the dashboard reads is recorded where the work happens: engine usage, runs, paused sources,
per-source publish targets. On SQLite, or PostgreSQL through ``database_url``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import database_url
from sqlalchemy import select

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.model import Article, Block
from samachar.stages import Translator
from samachar.store import Store
from samachar.store.schema import engine_usage, runs


class CountingEngine:
    """Upper-cases what it gets; keeps a running token count the way an LLM engine would report one."""

    name = "counting"
    model = "v1"

    def __init__(self) -> None:
        self.tokens_used = 0
        self.sent: list[str] = []

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.sent.extend(segments)
        self.tokens_used += sum(len(s.split()) for s in segments)
        return [s.upper() for s in segments]


class SilentEngine(CountingEngine):
    """The same, without a token count."""

    name = "silent"

    def __init__(self) -> None:
        super().__init__()
        del self.tokens_used

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.sent.extend(segments)
        return [s.upper() for s in segments]


def _article(n: int) -> Article:
    return Article(url=f"https://paper.example/{n}", title=f"Story number {n}",
                   blocks=[Block("paragraph", f"First sentence {n}. Second sentence {n}.")])


def _usage(store: Store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        return {row.engine: dict(row._mapping) for row in conn.execute(select(engine_usage))}


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def _translator(store: Store, tmp_path, engine_class: str) -> Translator:
    config = Config(home=tmp_path, site=SiteConfig(language="hi"),
                    translation=TranslationConfig(source_language="en", engines=[engine_class]))
    return Translator(store, config)


def test_engine_usage_counts_what_was_sent_and_never_memory_hits(store, tmp_path):
    translator = _translator(store, tmp_path, "test_desk_recording:CountingEngine")
    translator.translate_many([_article(1), _article(2)], "en", "hi")
    engine = translator.engine_for("en", "hi")
    first = _usage(store)["counting"]
    assert first["segments"] == len(engine.sent) > 0
    assert first["characters"] == sum(len(s) for s in engine.sent)
    assert first["tokens"] == engine.tokens_used > 0
    assert first["documents"] == 2 and first["seconds"] >= 0
    assert (first["source_lang"], first["target_lang"]) == ("en", "hi") and len(first["day"]) == 10

    translator.translate_many([_article(1)], "en", "hi")  # everything from the memory: the engine did nothing
    assert _usage(store)["counting"] == first

    sent_before = len(engine.sent)
    translator.translate_many([_article(3)], "en", "hi")  # the same day's row grows
    grown = _usage(store)["counting"]
    assert grown["segments"] == first["segments"] + len(engine.sent) - sent_before
    assert grown["documents"] == 3 and grown["id"] == first["id"]


def test_an_engine_that_reports_no_tokens_leaves_them_null(store, tmp_path):
    _translator(store, tmp_path, "test_desk_recording:SilentEngine").translate_many([_article(1)], "en", "hi")
    row = _usage(store)["silent"]
    assert row["tokens"] is None and row["segments"] > 0


def _runs(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(runs).order_by(runs.c.id))]


def test_each_run_and_poll_is_recorded_with_what_it_did(tmp_path):
    from loopback import LoopbackSite
    from test_images_pipeline import make_pipeline, routes

    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path, images="remote")
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
        pipeline.store.sources.schedule_now()
        pipeline.poll()
    run, poll = _runs(pipeline.store)
    assert run["kind"] == "run" and run["finished_at"] >= run["started_at"]
    assert run["counts"]["published"] == report.published > 0 and run["counts"]["polled"] == 1
    assert run["owner"].rsplit(":", 1)[1].isdigit()
    assert poll["kind"] == "poll" and poll["counts"] == {"polled": 1}


def test_idle_worker_rounds_share_one_row(tmp_path):
    from test_images_pipeline import make_pipeline

    from samachar.worker import Worker, parse_stages

    pipeline = make_pipeline(tmp_path, images="remote")
    worker = Worker(pipeline.store, pipeline.config, parse_stages("fetch,extract"))
    worker.run(rounds=3, idle_sleep=0)
    [row] = _runs(pipeline.store)
    assert row["kind"] == "worker" and row["finished_at"] > row["started_at"]


def test_a_paused_source_is_not_polled_by_a_run_or_a_worker(tmp_path):
    from loopback import LoopbackSite
    from test_images_pipeline import make_pipeline, routes

    from samachar.worker import Worker, parse_stages

    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path, images="remote")
        store = pipeline.store
        source = store.sources.add(site.url("/feed.xml"))
        assert store.sources.set_paused(source.id, True)
        assert store.sources.due() == [] and store.sources.next_due_at() is None
        pipeline.run_once()
        Worker(store, pipeline.config, parse_stages("poll"), allow_private=True).run(rounds=1, idle_sleep=0)
        assert site.hits["/feed.xml"] == 0 and store.sources.get(source.id).paused

        store.sources.set_paused(source.id, False)
        assert [s.id for s in store.sources.due()] == [source.id]
        Worker(store, pipeline.config, parse_stages("poll"), allow_private=True).run(rounds=1, idle_sleep=0)
        assert site.hits["/feed.xml"] == 1
        assert store.sources.next_due_at() == store.sources.get(source.id).next_poll_at


def test_a_source_goes_only_to_its_listed_targets(tmp_path):
    from test_targets import DeskTarget, PostApi, article

    from samachar.publish.targets import publish_to_targets, routed_away

    api = PostApi()
    store = Store(database_url(tmp_path))
    try:
        from samachar.model import FeedEntry
        from samachar.sources.identity import entry_identity

        paper = store.sources.add("https://paper.example/feed.xml").id
        other = store.sources.add("https://other.example/feed.xml").id
        for source, n in ((paper, 1), (other, 2)):
            item = FeedEntry(title=f"Story {n}", url=f"https://paper.example/{n}")
            store.entries.add_many(source, [(item, entry_identity(item, source))])
        store.sources.set_targets(paper, {"wp": {"category": "Politics"}})  # not the desk
        desk = DeskTarget("desk", api.base + "/posts")
        second = replace(article(2), source_id=other)
        report = publish_to_targets([desk], [article(1), second], store)
        assert report.published == {"desk": 1} and [p["key"] for p in api.posts.values()] == ["2-hi"]
        assert store.publications.get(1, "hi", "desk") is None
        assert routed_away(store, "desk", [1, 2]) == {1} and routed_away(store, "wp", [1, 2]) == set()

        store.sources.set_targets(paper, None)  # every target again
        assert publish_to_targets([desk], [article(1)], store).published == {"desk": 1}
    finally:
        store.close()
        api.close()


def test_wordpress_takes_the_category_the_source_gives_it(store, tmp_path):
    from test_targets import article

    from samachar.publish.targets import TargetContext
    from samachar.publish.wordpress import WordPressTarget

    source = store.sources.add("https://paper.example/feed.xml").id
    config = Config(home=tmp_path)
    wp = WordPressTarget("wp", url="https://wp.example", user="editor", password_env="WP_PASSWORD",
                         category="News", context=TargetContext(store=store, config=config))
    assert wp.category_for(replace(article(1), source_id=source)) == "News"
    store.sources.set_targets(source, {"wp": {"category": "Politics"}, "desk": {}})
    fresh = WordPressTarget("wp", url="https://wp.example", user="editor", password_env="WP_PASSWORD",
                            category="News", context=TargetContext(store=store, config=config))
    assert fresh.category_for(replace(article(1), source_id=source)) == "Politics"
    store.sources.set_targets(source, {"wp": {}})
    again = WordPressTarget("wp", url="https://wp.example", user="editor", password_env="WP_PASSWORD",
                            category="News", context=TargetContext(store=store, config=config))
    assert again.category_for(replace(article(1), source_id=source)) == "News"
