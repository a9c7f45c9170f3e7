"""Sources: feed parsing, entry identity, polling, OPML and feed discovery."""

from __future__ import annotations

from samachar.sources.parse import parse_feed

__all__ = ["parse_feed"]
