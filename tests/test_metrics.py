"""``/metrics``: Prometheus' text format, read back with Prometheus' own parser."""

from __future__ import annotations

import pytest
from conftest import database_url

from samachar import metrics
from samachar.model import FeedEntry
from samachar.sources.identity import entry_identity
from samachar.store import Store

parser = pytest.importorskip("prometheus_client.parser")


def families(text: str) -> dict[str, dict[tuple, float]]:
    found: dict[str, dict[tuple, float]] = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def test_store_gauges_and_process_counters_parse_as_prometheus_text(store):
    metrics.reset()
    source = store.sources.add("https://paper.example/feed.xml").id
    items = [FeedEntry(title=f"Story {n}", url=f"https://paper.example/{n}") for n in range(3)]
    ids = store.entries.add_many(source, [(i, entry_identity(i, source)) for i in items])
    store.entries.set_state(ids[0], "failed", error="HTTP 404")
    store.publications.record_published(ids[1], "hi", "wp", remote_id="7", remote_url=None, revision="r")
    metrics.observe_stage("fetch", 0.25, entries=2)
    metrics.observe_stage("fetch", 0.5, entries=1)
    metrics.count_engine("apertium", segments=10, characters=420, seconds=1.5)
    metrics.count_fetch_error("paper.example", "HTTPStatusError")

    found = families(metrics.render(store))
    assert found["samachar_entries"] == {(("state", "failed"),): 1, (("state", "new"),): 2}
    assert found["samachar_publications"] == {(("state", "published"), ("target", "wp")): 1}
    assert found["samachar_sources"] == {(("status", "new"),): 1}
    assert found["samachar_stage_seconds_sum"] == {(("stage", "fetch"),): 0.75}
    assert found["samachar_stage_seconds_count"] == {(("stage", "fetch"),): 2}
    assert found["samachar_stage_entries_total"] == {(("stage", "fetch"),): 3}
    assert found["samachar_engine_segments_total"] == {(("engine", "apertium"),): 10}
    assert found["samachar_fetch_errors_total"] == {(("host", "paper.example"), ("kind", "HTTPStatusError")): 1}
    assert found["samachar_leases_held"][(("kind", "entry"),)] == 0


def test_label_values_are_escaped():
    metrics.reset()
    metrics.count_fetch_error('bad"host\\\n', "X")
    [(labels, value)] = families(metrics.render())["samachar_fetch_errors_total"].items()
    assert dict(labels)["host"] == 'bad"host\\\n' and value == 1


@pytest.mark.parametrize("address, allowed", [("127.0.0.1", True), ("::1", True), ("10.1.2.3", False),
                                               ("", False), ("not an ip", False)])
def test_only_loopback_scrapers_by_default(address, allowed, monkeypatch):
    monkeypatch.delenv("SAMACHAR_METRICS_ALLOW", raising=False)
    assert metrics.client_allowed(address) is allowed


def test_other_networks_are_allowed_when_named(monkeypatch):
    monkeypatch.setenv("SAMACHAR_METRICS_ALLOW", "10.0.0.0/8, bogus")
    assert metrics.client_allowed("10.1.2.3") and not metrics.client_allowed("127.0.0.1")


def test_the_site_server_answers_metrics_to_loopback_scrapers_only(monkeypatch):
    from site_data import loopback, samples
    from test_web import get

    from samachar.config import SiteConfig
    from samachar.web.app import create_app

    metrics.reset()
    metrics.observe_stage("publish", 0.5, entries=3)
    app = create_app(samples.sample_articles, SiteConfig(), metrics_text=metrics.render)
    with loopback.serve_app(app) as url:
        status, headers, body = get(url.rstrip("/") + "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert families(body.decode())["samachar_stage_entries_total"] == {(("stage", "publish"),): 3}
        monkeypatch.setenv("SAMACHAR_METRICS_ALLOW", "10.0.0.0/8")  # the loopback scraper is no longer let in
        status, _, _ = get(url.rstrip("/") + "/metrics")
        assert status == 404
