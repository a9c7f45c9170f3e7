"""Bundled sample news sources for ``samachar demo``.

Three fictional publishers on ``.example`` hosts, each with one feed (RSS 2.0,
Atom 1.0, JSON Feed 1.1) and article pages with real-looking site chrome. The
files say ``{{BASE}}`` wherever the served base URL belongs;
:class:`samachar.demo.server.SampleServer` fills it in when it serves them.
``samples/manifest.json`` lists every feed and article with the metadata the
pipeline should recover (canonical URL, publisher, title, author, dates).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

BASE_PLACEHOLDER = "{{BASE}}"


def samples_dir() -> Path:
    """The folder holding the sample files (inside the installed package)."""
    return Path(__file__).resolve().parent / "samples"


@cache
def _manifest_cached() -> str:
    return (samples_dir() / "manifest.json").read_text(encoding="utf-8")


def load_manifest() -> dict[str, Any]:
    """The parsed ``manifest.json`` (a fresh copy each call, safe to mutate)."""
    return json.loads(_manifest_cached())


def feed_paths() -> list[str]:
    """Served paths of the sample feeds, e.g. ``/deccan-courier/feed.xml``."""
    return [feed["path"] for feed in load_manifest()["feeds"]]


def article_entries() -> list[dict[str, Any]]:
    """The manifest's article records (path, feed, canonical_url, publisher, …)."""
    return load_manifest()["articles"]


__all__ = ["BASE_PLACEHOLDER", "article_entries", "feed_paths", "load_manifest", "samples_dir"]
