"""Publish targets: the protocol, its records per (entry, language, target), idempotence and isolation.

The third-party target here is the protocol's own example shape, talking real HTTP
to a small JSON post API on 127.0.0.1 that this test starts and counts.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import database_url

from samachar.config import CONFIG_NAME, Config, load_config
from samachar.errors import ConfigError, TargetError
from samachar.model import Block, PublishedArticle, blocks_to_html
from samachar.publish.targets import (
    SITE,
    Remote,
    available_targets,
    load_targets,
    publish_to_targets,
    revision,
    unpublish_everywhere,
)
from samachar.store import Store


class PostApi:
    """POST /posts creates, POST /posts/ID updates, DELETE /posts/ID removes; ``fail`` answers 503."""

    def __init__(self):
        self.posts: dict[str, dict] = {}
        self.requests: list[str] = []
        self.fail = False
        self.delay = 0.0  # seconds each create or update takes
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                api.requests.append(f"POST {self.path}")
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(api.delay)
                if api.fail:
                    return self._answer(503)
                post_id = self.path.removeprefix("/posts").strip("/") or str(len(api.posts) + 1)
                api.posts[post_id] = payload
                return self._answer(200, {"id": post_id, "url": f"{api.base}/p/{post_id}"})

            def do_GET(self):  # the orphan lookup: GET /posts?key=K
                api.requests.append(f"GET {self.path}")
                key = self.path.partition("key=")[2]
                found = [{"id": i, "url": f"{api.base}/p/{i}"} for i, p in api.posts.items() if p.get("key") == key]
                return self._answer(200, {"posts": found})

            def do_DELETE(self):
                api.requests.append(f"DELETE {self.path}")
                api.posts.pop(self.path.removeprefix("/posts/"), None)
                return self._answer(200)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DeskTarget:
    """A third-party target, written as the protocol's docstring shows."""

    kind = "desk"

    def __init__(self, name: str, url: str):
        self.name = name
        self.url = url
        self.flushed = 0

    def publish(self, article, previous):
        key = f"{article.id}-{article.lang}"
        body = json.dumps({"title": article.title, "html": blocks_to_html(article.blocks), "key": key}).encode()
        remote_id = previous.remote_id if previous else None
        if previous and previous.recovering and not remote_id:  # a create a crash may have cut short
            with urllib.request.urlopen(f"{self.url}?key={key}", timeout=10) as response:
                orphans = json.load(response)["posts"]
            remote_id = orphans[0]["id"] if orphans else None
        url = f"{self.url}/{remote_id}" if remote_id else self.url
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise TargetError(f"the desk answered HTTP {exc.code}") from None
        return Remote(id=str(answer["id"]), url=answer["url"])

    def unpublish(self, previous):
        request = urllib.request.Request(f"{self.url}/{previous.remote_id}", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()

    def flush(self):
        self.flushed += 1


class SlowDeskTarget(DeskTarget):
    """A desk that leaves ``publishing-<pid>`` in ``marks`` while it publishes (for kill tests)."""

    def __init__(self, name: str, url: str, marks: str):
        super().__init__(name, url)
        self.marks = Path(marks)

    def publish(self, article, previous):
        mark = self.marks / f"publishing-{os.getpid()}"
        mark.touch()
        try:
            return super().publish(article, previous)
        finally:
            mark.unlink(missing_ok=True)


class BrokenTarget:
    """A target with a bug: it must not stop the others."""

    name = "broken"

    def publish(self, article, previous):
        raise KeyError("a bug")


@pytest.fixture
def api():
    server = PostApi()
    yield server
    server.close()


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    source = store.sources.add("https://paper.example/feed.xml").id
    from samachar.model import FeedEntry
    from samachar.sources.identity import entry_identity

    for n in (1, 2):
        item = FeedEntry(title=f"Story {n}", url=f"https://paper.example/{n}")
        store.entries.add_many(source, [(item, entry_identity(item, source))])
    yield store
    store.close()


def article(entry_id: int, title: str = "शीर्षक") -> PublishedArticle:
    from datetime import datetime

    return PublishedArticle(
        id=entry_id, slug=f"{entry_id}-story", lang="hi", title=title, blocks=[Block("paragraph", "पाठ।")],
        summary=None, published_at=datetime(2026, 12, 1, tzinfo=UTC), policy="full",
        original_title="Story", original_url=f"https://paper.example/{entry_id}", publisher="Paper",
        source_id=1, source_name="Paper", source_url="https://paper.example/feed.xml")


def test_the_built_in_site_is_registered_as_a_target_like_any_other(tmp_path, store):
    assert SITE in available_targets()
    config = Config(home=tmp_path)
    [site] = load_targets(store, config)
    assert site.name == SITE
    remote = site.publish(article(1), None)
    assert remote.url == "http://localhost:8000/articles/1-story/" and remote.id == "1-story"


def test_each_article_is_created_once_then_updated_never_duplicated(api, store):
    desk = DeskTarget("desk", api.base + "/posts")
    first = publish_to_targets([desk], [article(1), article(2)], store)
    assert first.published == {"desk": 2} and len(api.posts) == 2
    record = store.publications.get(1, "hi", "desk")
    assert record.state == "published" and record.remote_url == f"{api.base}/p/{record.remote_id}"
    assert record.revision == revision(article(1)) and record.intent_at is None

    again = publish_to_targets([desk], [article(1), article(2)], store)  # a rerun
    assert again.published == {} and again.updated == {} and len(api.requests) == 2

    changed = publish_to_targets([desk], [article(1, title="नया शीर्षक")], store)  # a corrected translation
    assert changed.updated == {"desk": 1} and len(api.posts) == 2
    assert api.requests[-1] == f"POST /posts/{record.remote_id}"
    assert api.posts[record.remote_id]["title"] == "नया शीर्षक"
    assert desk.flushed == 2  # once per round that changed something


def test_a_failing_target_is_recorded_and_retried_without_blocking_the_others(api, store):
    desk = DeskTarget("desk", api.base + "/posts")
    api.fail = True
    report = publish_to_targets([BrokenTarget(), desk], [article(1)], store)
    assert report.failed["broken"] == ["entry 1: KeyError: 'a bug'"]
    assert report.failed["desk"] == ["entry 1: the desk answered HTTP 503"]
    failed = store.publications.get(1, "hi", "desk")
    assert failed.state == "failed" and failed.attempts == 1
    assert store.publications.unfinished("desk", "hi") == [1]

    api.fail = False
    assert publish_to_targets([desk], [article(1)], store).published == {}  # backoff not over yet
    later = failed.updated_at.replace(year=failed.updated_at.year + 1)
    assert publish_to_targets([desk], [article(1)], store, now=later).published == {"desk": 1}
    assert store.publications.unfinished("desk", "hi") == [] and len(api.posts) == 1


def test_a_create_interrupted_by_a_crash_reaches_the_target_as_pending(api, store):
    """The intent is written before the request: a crash after it leaves a record the target can recover from."""
    seen = []

    class Recovering(DeskTarget):
        def publish(self, article, previous):
            seen.append((previous.state, previous.remote_id, previous.recovering))
            return super().publish(article, previous)

    store.publications.record_intent(1, "hi", "desk")  # what a killed run left behind
    publish_to_targets([Recovering("desk", api.base + "/posts")], [article(1)], store)
    assert seen == [("pending", None, True)]


def test_delete_takes_an_entry_down_from_every_target(api, store):
    desk = DeskTarget("desk", api.base + "/posts")
    publish_to_targets([desk], [article(1)], store)
    assert unpublish_everywhere([desk], store, 1) == []
    assert api.posts == {} and store.publications.get(1, "hi", "desk").state == "unpublished"


@pytest.mark.parametrize("tables, message", [
    ('[[targets]]\nkind = "nonesuch"\nname = "x"\n', "kind = 'nonesuch'"),
    ('[[targets]]\nkind = "site"\nname = "x"\n', "kind = 'site'"),
    ('targets = "wp"\n', "targets must be [[targets]] tables"),
])
def test_target_configuration_is_checked_when_it_loads(tmp_path: Path, tables, message):
    (tmp_path / CONFIG_NAME).write_text(tables, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(tmp_path)



def test_a_run_publishes_to_every_configured_target_once_and_delete_takes_it_down(api, tmp_path, monkeypatch,
                                                                                  capsys):
    """`[[targets]]` in the config: the run's publish stage delivers to the site and to the desk."""
    from dataclasses import replace

    from loopback import LoopbackSite
    from test_images_pipeline import make_pipeline, routes

    from samachar.service import SiteService

    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.config = replace(pipeline.config, targets=[
            {"kind": "test_targets:DeskTarget", "name": "desk", "url": api.base + "/posts"}])
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        assert pipeline.run_once().published == 2
        assert len(api.posts) == 2 and all("Shimla" in p["html"] or "Mandi" in p["html"] for p in api.posts.values())
        store = pipeline.store
        [first, second] = sorted(e.id for e in store.entries.list())
        records = {p.target: p for p in store.publications.for_entry(first)}
        assert set(records) == {"site", "desk"} and records["desk"].state == "published"
        assert records["site"].remote_url.startswith("https://noticias.example/articles/")

        pipeline.store.sources.schedule_now()
        pipeline.run_once()  # a rerun sends nothing
        assert len(api.requests) == 2

        SiteService(store, pipeline.config).delete(first)
        assert api.requests[-1] == f"DELETE /posts/{records['desk'].remote_id}" and len(api.posts) == 1
        assert store.publications.get(first, "es", "desk").state == "unpublished"
        assert store.publications.get(second, "es", "desk").state == "published"

    from samachar.cli import main

    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    capsys.readouterr()
    assert main(["--home", str(tmp_path), "entry", "list", "--json"]) == 0
    listed = {e["id"]: e["targets"] for e in json.loads(capsys.readouterr().out)}
    assert listed[second]["desk"] == {"state": "published", "url": store.publications.get(second, "es", "desk").remote_url,
                                      "error": None}
    assert set(listed[second]) == {"site", "desk"} and first not in listed  # deleted entries are not listed
