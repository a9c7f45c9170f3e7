"""The command-line contract of issue 2, called exactly as the acceptance checks call it.

Each command runs as a real process against a temporary home and the demo's
sample publishers on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samachar.demo import samples_dir
from samachar.demo.server import SampleServer
from samachar.translate.engines.apertium import ApertiumEngine

FIDELITY = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "fidelity"


def samachar(home: Path, *args: str, allow_private: bool = True, expect: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMACHAR_HOME": str(home)}
    env.pop("SAMACHAR_ALLOW_PRIVATE_NETWORKS", None)
    if allow_private:
        env["SAMACHAR_ALLOW_PRIVATE_NETWORKS"] = "1"
    proc = subprocess.run([sys.executable, "-m", "samachar", *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == expect, f"{args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def publishers():
    with SampleServer() as base:
        yield base


@pytest.fixture
def home(tmp_path):
    samachar(tmp_path, "init", "--language", "es", "--engine", "apertium")
    return tmp_path


def test_init_writes_the_config_into_samachar_home(home):
    config = (home / "samachar.toml").read_text(encoding="utf-8")
    assert 'language = "es"' in config and '"apertium"' in config
    assert (home / "samachar.db").exists()


def test_sources_add_discover_list_and_remove(home, publishers):
    out = samachar(home, "source", "add", publishers + "/deccan-courier/", "--name", "Courier").stdout
    assert "/deccan-courier/feed.xml" in out  # discovered from the site's <link rel="alternate">
    samachar(home, "source", "add", publishers + "/konkan-tide/atom.xml")
    listed = json.loads(samachar(home, "source", "list", "--json").stdout)
    assert [s["url"] for s in listed] == [publishers + "/deccan-courier/feed.xml", publishers + "/konkan-tide/atom.xml"]
    assert all({"url", "name", "entries", "status", "error"} <= set(s) for s in listed)
    assert listed[0]["name"] == "Courier" and listed[0]["status"] == "ok" and listed[0]["entries"] == 0
    samachar(home, "source", "remove", publishers + "/konkan-tide/atom.xml")
    assert len(json.loads(samachar(home, "source", "list", "--json").stdout)) == 1
    error = samachar(home, "source", "remove", publishers + "/nope.xml", expect=2).stderr
    assert error.startswith("error: ") and len(error.strip().splitlines()) == 1


def test_private_addresses_are_refused_unless_allowed(home, publishers):
    refused = samachar(home, "source", "add", publishers + "/deccan-courier/feed.xml", allow_private=False, expect=2)
    assert "error:" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    samachar(home, "source", "add", publishers + "/deccan-courier/feed.xml", "--no-discover")
    samachar(home, "poll", allow_private=False)  # exit 0, the error is recorded on the source
    [source] = json.loads(samachar(home, "source", "list", "--json").stdout)
    assert source["status"] == "error" and source["error"] and source["entries"] == 0


def test_poll_entry_list_run_and_build(home, publishers, tmp_path_factory):
    if not ApertiumEngine().supports("en", "es"):
        pytest.skip("Apertium eng-spa is not installed")
    samachar(home, "source", "add", publishers + "/meridian-wire/feed.json")
    assert "new entries" in samachar(home, "poll").stdout
    entries = json.loads(samachar(home, "entry", "list", "--json").stdout)
    assert entries and all({"title", "url", "source_url", "published", "state"} <= set(e) for e in entries)
    assert {e["state"] for e in entries} == {"new"}
    only = json.loads(samachar(home, "entry", "list", "--json", "--source", publishers + "/meridian-wire/feed.json").stdout)
    assert len(only) == len(entries)

    samachar(home, "run", "--once", "-q")
    states = {e["state"] for e in json.loads(samachar(home, "entry", "list", "--json").stdout)}
    assert states <= {"published", "held"} and "published" in states
    out = tmp_path_factory.mktemp("built")
    samachar(home, "build", "--out", str(out))
    pages = list(out.glob("articles/*/index.html"))
    held = json.loads(samachar(home, "entry", "list", "--json", "--state", "held").stdout)
    assert len(pages) == len(entries) - len(held)
    assert all('<html lang="es"' in p.read_text(encoding="utf-8") for p in pages)


def test_opml_round_trip(home, tmp_path):
    opml = tmp_path / "in.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="India"><outline type="rss" text="Courier" xmlUrl="https://deccancourier.example/feed.xml"/>
<outline type="rss" text="Tide" xmlUrl="https://konkantide.example/atom.xml"/></outline></body></opml>""")
    samachar(home, "source", "import-opml", str(opml))
    exported = samachar(home, "source", "export-opml").stdout
    assert 'xmlUrl="https://deccancourier.example/feed.xml"' in exported and "Tide" in exported


def test_glossary_add_and_list(home):
    samachar(home, "glossary", "add", "Moscow", "मॉस्को", "--lang", "hi")
    assert json.loads(samachar(home, "glossary", "list", "--lang", "hi", "--json").stdout) == {"Moscow": "मॉस्को"}


def test_extract_and_translate_print_the_pinned_json(home):
    page = next(samples_dir().glob("meridian-wire/india/*.html"))
    extracted = json.loads(samachar(home, "extract", str(page), "--url", "https://meridianwire.example/x", "--json").stdout)
    assert set(extracted) >= {"title", "text", "html", "canonical_url", "publisher", "author", "published",
                              "modified", "image", "language", "source"}
    assert extracted["publisher"] == "Meridian Wire" and extracted["source"] == "page"
    if not ApertiumEngine().supports("en", "es"):
        pytest.skip("Apertium eng-spa is not installed")
    translated = json.loads(samachar(home, "translate", str(page), "--from", "en", "--to", "es", "--engine",
                                     "apertium", "--json").stdout)
    assert set(translated) >= {"title", "source_html", "html", "flags"}
    assert translated["source_html"] == extracted["html"]
    assert translated["html"].count("<p>") == extracted["html"].count("<p>")
    assert translated["title"] != extracted["title"]


def test_a_missing_file_is_a_one_line_error(home):
    proc = samachar(home, "extract", "/nonexistent/page.html", "--json", expect=2)
    assert proc.stderr.startswith("error: /nonexistent/page.html") and len(proc.stderr.strip().splitlines()) == 1


def test_a_second_run_on_the_same_home_refuses_to_overlap(home):
    from samachar.runlock import run_lock

    with run_lock(home):
        proc = samachar(home, "run", "--once", expect=2)
    assert "another samachar run is in progress" in proc.stderr and str(os.getpid()) in proc.stderr
    samachar(home, "run", "--once")  # released: runs


def test_a_bad_config_value_is_a_one_line_error_that_names_the_key(home):
    config = home / "samachar.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("hold_on_error = true", "batch_articles = 0"),
                      encoding="utf-8")
    proc = samachar(home, "run", "--once", expect=2)
    assert "batch_articles = 0" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
