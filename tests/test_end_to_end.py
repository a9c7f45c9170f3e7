"""The whole road, offline: demo samples on loopback → pipeline → built site.

Runs the real command (`samachar demo --build-only`) into a temporary home, then
checks what a reader and a search engine get: the target language, the canonical
link to the original article, visible attribution linking to it — and that a
second run changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from samachar.demo import samples_dir
from samachar.demo.run import SAMPLES_PORT


def run_cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMACHAR_HOME": str(home)}
    env.pop("SAMACHAR_ALLOW_PRIVATE_NETWORKS", None)
    proc = subprocess.run([sys.executable, "-m", "samachar.cli", "-q", *args], env=env, capture_output=True,
                          text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def tree_digest(folder: Path) -> dict[str, str]:
    """Each file's hash; the samples' loopback port is blanked (it moves when another samachar holds it)."""
    return {str(p.relative_to(folder)): hashlib.sha256(LOOPBACK_PORT.sub(b"127.0.0.1:PORT", p.read_bytes())).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


LOOPBACK_PORT = re.compile(rb"127\.0\.0\.1:(?!8000\b)\d+")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("site")
    first = run_cli(home, "demo", "--build-only", "--out", str(out))
    return home, out, first


def article_pages(out: Path) -> list[Path]:
    return sorted(out.glob("articles/*/index.html"))


def test_demo_says_which_language_and_engine(demo_site):
    _, _, first = demo_site
    lines = [line for line in first.stdout.splitlines() if "translating English" in line]
    assert len(lines) == 1, first.stdout
    assert "Hindi" in lines[0] or "Spanish" in lines[0]


def test_demo_builds_attributed_article_pages_in_the_target_language(demo_site):
    home, out, _ = demo_site
    manifest = json.loads((samples_dir() / "manifest.json").read_text(encoding="utf-8"))
    originals = {a["canonical_url"]: a for a in manifest["articles"]}
    config = (home / "samachar.toml").read_text(encoding="utf-8")
    target = "hi" if 'language = "hi"' in config else "es"

    pages = article_pages(out)
    assert len(pages) >= 3
    seen = set()
    for page in pages:
        doc = lxml_html.fromstring(page.read_bytes())
        assert doc.get("lang") == target, page
        [canonical] = doc.xpath('//link[@rel="canonical"]/@href')
        assert canonical in originals, (page, canonical)
        seen.add(canonical)
        visible_links = doc.xpath("//body//a/@href")
        assert canonical in visible_links, f"{page}: no visible link to the original"
        publisher = originals[canonical]["publisher"]
        assert publisher in doc.text_content(), f"{page}: publisher {publisher!r} not credited"
        title = doc.xpath("//h1")[0].text_content().strip()
        assert title and title != originals[canonical]["title"], f"{page}: title not translated"
    assert len(seen) == len(pages), "the same original was published twice"


def test_every_sample_entry_is_accounted_for(demo_site):
    home, _, _ = demo_site
    entries = json.loads(run_cli(home, "entry", "list", "--json").stdout)
    assert entries and all({"title", "url", "source_url", "published", "state"} <= set(e) for e in entries)
    states = {e["state"] for e in entries}
    assert states <= {"published", "held", "merged"}, [(e["title"], e["state"], e["error"]) for e in entries
                                             if e["state"] not in ("published", "held")]
    sources = json.loads(run_cli(home, "source", "list", "--json").stdout)
    assert len(sources) >= 3
    assert all(s["status"] == "ok" and s["error"] is None and s["entries"] > 0 for s in sources), sources


def test_a_second_run_changes_nothing(demo_site):
    """Also when the samples' usual port is taken (another samachar runs): they move, nothing is duplicated."""
    home, out, _ = demo_site
    before = tree_digest(out)
    entries_before = json.loads(run_cli(home, "entry", "list", "--json").stdout)
    with socket.socket() as squatter:
        try:
            squatter.bind(("127.0.0.1", SAMPLES_PORT))
            squatter.listen(1)
        except OSError:
            pass  # taken already, so the first run did not have it either
        run_cli(home, "demo", "--build-only", "--out", str(out))
    entries_after = json.loads(run_cli(home, "entry", "list", "--json").stdout)
    assert [(e["id"], e["state"]) for e in entries_after] == [(e["id"], e["state"]) for e in entries_before]
    assert tree_digest(out) == before
