"""Sources: feed parsing, entry identity, polling, OPML and feed discovery."""

from __future__ import annotations

from typing import Any

__all__ = ["parse_feed"]


def __getattr__(name: str) -> Any:
    """``parse_feed`` on first use: polling imports this package, and a poll of 304s parses nothing."""
    if name == "parse_feed":
        from samachar.sources.parse import parse_feed

        return parse_feed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
