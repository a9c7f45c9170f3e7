"""No duplicate posts in a real WordPress: `kill -9` of `samachar run` at several moments of a push, and a
timeout whose request did succeed, each leave exactly one post per entry and one media item per image."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from conftest import database_url

pytest.register_assert_rewrite("wordpress")  # a plugin too (pytest_plugins below)
from wordpress import (
    Admin,
    home_with_target,
    run_env,
    seed,
    target_requests,
    target_table,
)

from samachar.config import Config, SiteConfig
from samachar.errors import TargetError
from samachar.publish.targets import TargetContext, build_target, publish_to_targets
from samachar.store import Store

pytest_plugins = ("wordpress",)  # its fixtures: wordpress_site, wp


def wait_for_answer(site, key: str, since: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until WordPress has finished a request ``METHOD /path`` (its answer held back by the router)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(a.split("?")[0].split(" ")[:2] == key.split(" ") for a in site.answers()[since:]):
            return
        if process.poll() is not None:
            pytest.fail(f"the push ended before {key}: {process.communicate()}")
        time.sleep(0.05)
    pytest.fail(f"WordPress never answered {key}")


def test_kill_9_at_several_moments_of_a_push_leaves_one_post_per_entry(wp, tmp_path):
    home = home_with_target(tmp_path / "home", wp)
    database = database_url(home)
    store = Store(database)
    entry_ids = seed(store)
    store.close()
    env = run_env(wp, database)
    run = [sys.executable, "-m", "samachar", "--home", str(home), "-q", "run", "--once"]
    since = len(wp.requests())
    # Newest first: entry 3 (no image), entry 2 (the shared lead image), entry 1 (lead and a body image).
    moments = [
        "POST /wp-json/wp/v2/media",  # an image uploaded, its media id not recorded yet
        "POST /wp-json/wp/v2/posts",  # a post created, its id not recorded yet
        "POST /wp-json/wp/v2/posts",  # the same, for a later entry, after recovering the earlier one
    ]
    for key in moments:
        wp.control(delay={key: 60})
        answered = len(wp.answers())
        with subprocess.Popen(run, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as push:
            try:
                wait_for_answer(wp, key, answered, push)
            finally:
                push.kill()  # SIGKILL: no cleanup, no record of the answer (leaving the block closes its pipes)
        wp.control()
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr

    posts = Admin(wp).posts()
    assert sorted(p["slug"].split("-")[0] for p in posts) == sorted(str(i) for i in entry_ids)  # one each
    assert len(Admin(wp).media()) == 2  # the shared lead image and the body image, once each
    requests = target_requests(wp, since)
    assert sum(r.startswith("POST /wp-json/wp/v2/media?") for r in requests) == 2  # never uploaded twice
    store = Store(database)
    try:
        records = {i: store.publications.get(i, "hi", "wp") for i in entry_ids}
    finally:
        store.close()
    assert all(r.state == "published" and r.intent_at is None for r in records.values())
    assert {r.remote_id for r in records.values()} == {str(p["id"]) for p in posts}


def test_a_timeout_whose_create_did_succeed_makes_no_second_post(wp, tmp_path):
    database = database_url(tmp_path)
    store = Store(database)
    try:
        seed(store)
        config = Config(home=tmp_path, site=SiteConfig(language="hi"), default_policy="full")
        target = build_target(target_table(wp, timeout=1), TargetContext(store=store, config=config))
        articles = store.posts.published_articles("hi", default_policy="full")[:1]
        wp.control(delay={"POST /wp-json/wp/v2/posts": 3})  # WordPress creates it, the answer comes too late
        report = publish_to_targets([target], articles, store)
        assert "did not answer POST within 1 s" in report.failed["wp"][0]
        record = store.publications.get(articles[0].id, "hi", "wp")
        assert record.state == "failed" and record.remote_id is None
        assert len(Admin(wp).posts()) == 1  # it exists all the same
        wp.control()

        since = len(wp.requests())
        later = record.updated_at + timedelta(minutes=2)
        assert publish_to_targets([target], articles, store, now=later).published == {"wp": 1}
        [post] = Admin(wp).posts()
        assert store.publications.get(articles[0].id, "hi", "wp").remote_id == str(post["id"])
        assert not any(r.startswith("POST /wp-json/wp/v2/posts?") for r in target_requests(wp, since))
        with pytest.raises(TargetError, match="did not answer"):
            wp.control(delay={"GET /wp-json/wp/v2/posts": 3})
            target.find_post(articles[0], "x")
    finally:
        wp.control()
        store.close()
