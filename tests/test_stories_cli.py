"""``samachar story list|split|merge``, ``entry list --json``'s story and ``source add --stories``, in process.

A home with two outlets reporting one wire story (one published, one merged) and a
third outlet's unrelated report; the commands run against it as an operator would.
"""

from __future__ import annotations

import json

import pytest
from conftest import database_url
from loopback import LoopbackSite
from test_stories_stage import WIRE, outlet_routes

from samachar.cli import main
from samachar.config import load_config, write_config
from samachar.model import EntryState
from samachar.pipeline import Pipeline
from samachar.stages import STAGES
from samachar.store import Store

OTHER = [  # the wire outlet's report of another event altogether
    "PUNE: The Maharashtra cabinet on Thursday approved a 2,300-crore plan to build 14 water treatment plants "
    "along the Mula and Mutha rivers before 2028, Water Resources Minister Kavita Deshmukh said.",
    "The plants will treat 900 million litres of sewage a day, which now flows untreated into the rivers, "
    "and will be built by the municipal corporations of Pune and Pimpri-Chinchwad.",
    "Environmental groups welcomed the decision but said the deadline had already slipped twice since 2019, "
    "and asked for quarterly reports on the work to be made public.",
    "The first three plants, at Baner, Kharadi and Hadapsar, are to be ready by the end of next year, the "
    "minister told reporters after the cabinet meeting in Mumbai.",
]


@pytest.fixture
def home(tmp_path, monkeypatch):
    write_config(tmp_path, language="es", engines=["apertium"])
    text = (tmp_path / "samachar.toml").read_text(encoding="utf-8").replace('default_policy = "excerpt"',
                                                                            'default_policy = "full"')
    (tmp_path / "samachar.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("SAMACHAR_HOME", str(tmp_path))
    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    return tmp_path


def pipeline_for(home) -> Pipeline:
    config = load_config(home)
    return Pipeline(Store(config.db_url), config, allow_private=True)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def entries_json(capsys) -> dict[str, dict]:
    code, out, _ = run_cli(capsys, "entry", "list", "--json")
    assert code == 0
    return {next(f for f in ("hill", "doaba", "wire") if f"/{f}/" in e["url"]): e for e in json.loads(out)}


@pytest.fixture
def reported(home):
    """Hill Post published, Doaba Times's copy merged into it, Meridian Wire's unrelated report published."""
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("doaba", WIRE), **outlet_routes("wire", OTHER)}
    with LoopbackSite(routes) as site:
        pipeline = pipeline_for(home)
        pipeline.store.sources.add(site.url("/hill/feed.xml"), policy="full")
        pipeline.store.sources.add(site.url("/wire/feed.xml"), policy="full")
        pipeline.run_once()
        pipeline.store.sources.add(site.url("/doaba/feed.xml"), policy="full")
        pipeline.run_once()
        yield site, pipeline


def test_entry_list_json_gives_each_entry_its_story_or_null_when_alone(reported, capsys):
    entries = entries_json(capsys)
    assert entries["doaba"]["state"] == "merged" and "merged into story" in entries["doaba"]["error"]
    assert entries["hill"]["story"] is not None and entries["hill"]["story"] == entries["doaba"]["story"]
    assert entries["wire"]["story"] is None
    code, out, _ = run_cli(capsys, "entry", "list")
    assert code == 0 and "merged into story" in out


def test_story_list_shows_the_stories_of_two_or_more_with_sources_and_first_seen(reported, capsys):
    code, out, _ = run_cli(capsys, "story", "list", "--json")
    assert code == 0
    [story] = json.loads(out)
    assert story["sources"] == ["Doaba Times", "Hill Post"]
    assert [m["state"] for m in story["entries"]] == ["published", "merged"]  # first seen first
    assert story["primary"] == story["entries"][0]["id"] and story["first_seen"].startswith("2026-03-03")
    code, out, _ = run_cli(capsys, "story", "list", "--all", "--json")
    assert len(json.loads(out)) == 2
    code, out, _ = run_cli(capsys, "story", "list")
    assert code == 0 and f"story {story['story']}" in out and "Doaba Times" in out


def test_split_sends_a_merged_entry_to_translation_and_the_next_run_publishes_it_alone(reported, capsys):
    _, pipeline = reported
    before = entries_json(capsys)
    hill_revision = pipeline.store.publications.get(before["hill"]["id"], "es", "site").revision
    code, out, _ = run_cli(capsys, "story", "split", str(before["doaba"]["id"]))
    assert code == 0 and f"entry {before['doaba']['id']} left story" in out
    assert entries_json(capsys)["doaba"]["state"] == "extracted"
    pipeline.run_once()
    after = entries_json(capsys)
    assert after["doaba"]["state"] == "published" and after["doaba"]["story"] is None
    assert after["hill"]["story"] is None and pipeline.store.posts.count("es") == 3
    # The primary no longer credits the entry split off: its posts were updated.
    assert pipeline.store.publications.get(before["hill"]["id"], "es", "site").revision != hill_revision
    again = pipeline.run_once()  # never re-joined automatically
    assert again.published == 0 and entries_json(capsys)["doaba"]["story"] is None


def test_merge_puts_an_unpublished_entry_into_a_story_published_once_crediting_both(home, capsys):
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("wire", OTHER)}
    with LoopbackSite(routes) as site:
        pipeline = pipeline_for(home)
        pipeline.store.sources.add(site.url("/hill/feed.xml"), policy="full")
        pipeline.store.sources.add(site.url("/wire/feed.xml"), policy="full")
        pipeline.run_stages([s for s in STAGES if s.name not in ("translate", "publish")])
        entries = entries_json(capsys)
        assert entries["hill"]["story"] is None and entries["wire"]["story"] is None
        code, out, _ = run_cli(capsys, "story", "merge", str(entries["hill"]["id"]), str(entries["wire"]["id"]))
        assert code == 0, out
        pipeline.run_once()
    merged = entries_json(capsys)
    assert merged["wire"]["state"] == EntryState.MERGED and merged["hill"]["state"] == "published"
    assert merged["hill"]["story"] == merged["wire"]["story"] is not None
    [article] = pipeline.store.posts.published_articles("es")
    assert [c.publisher for c in article.also_reported_by] == ["Meridian Wire"]


@pytest.mark.parametrize("args", [("story", "split", "999"), ("story", "merge", "1", "999"),
                                  ("story", "merge", "999", "1")])
def test_unknown_entries_are_one_line_errors(home, capsys, args):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and err.startswith("error: no entry ") and err.count("\n") == 1


def test_source_add_takes_its_stories_mode(home, capsys):
    code, _, err = run_cli(capsys, "source", "add", "--no-discover", "--stories", "separate",
                           "https://wire.example/feed.xml")
    assert code == 0, err
    store = Store(load_config(home).db_url)
    try:
        assert store.sources.get("https://wire.example/feed.xml").stories_mode == "separate"
    finally:
        store.close()
    with pytest.raises(SystemExit):
        main(["source", "add", "--stories", "sometimes", "https://wire.example/feed.xml"])
