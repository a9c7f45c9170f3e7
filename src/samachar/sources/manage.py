"""Adding, finding, removing, importing and exporting sources: what ``samachar source …`` and the desk's
Sources page both do, written once.

Synchronous: the CLI calls these directly and the desk from a worker thread
(discovery runs its own short event loop).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from samachar.config import http_url_problem
from samachar.errors import SamacharError

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.store import Store
    from samachar.store.sources import SourceRow

FIELDS = ("name", "policy", "language", "interval_minutes", "seo", "stories_mode")


class DiscoveryFailed(SamacharError):
    """The address is neither a feed nor a page that announces one that parses."""


def check_feed_url(url: str) -> None:
    """A one-line error unless ``url`` is an absolute http(s) address."""
    problem = http_url_problem(url)
    if problem:
        raise SamacharError(f"{url!r} is not a usable http(s) URL: {problem}; give the feed's or the site's address")


@dataclass
class Added:
    """What adding a source came to: a new source, or one already followed (with the fields given applied)."""

    source: SourceRow
    created: bool
    asked: str  # the address as given
    updated: list[str] = field(default_factory=list)  # fields set on a source already followed

    def message(self) -> str:
        if not self.created:
            updated = f"; updated its {', '.join(k.split('_')[0] for k in self.updated)}" if self.updated else ""
            return f"already followed as source {self.source.id} ({self.source.display_name}){updated}"
        note = f" (discovered from {self.asked})" if self.source.url != self.asked else ""
        return f"source {self.source.id}: {self.source.url}{note}"


def _already_followed(store: Store, url: str, asked: str, changes: dict[str, Any]) -> Added | None:
    existing = store.sources.find(url)
    if existing is None:
        return None
    if changes:
        existing = store.sources.add(existing.url, **changes) or existing
    return Added(existing, created=False, asked=asked, updated=list(changes))


def discover_feed(config: Config, url: str) -> str:
    """The feed behind a site's or a feed's address (fetched through the guarded client)."""
    from samachar.fetch import HttpClient
    from samachar.sources.discover import resolve_feed_url

    async def resolve() -> str:
        async with HttpClient(allow_private=config.allow_private_networks,
                              user_agent=config.fetch.user_agent) as client:
            return await resolve_feed_url(client, url)

    try:
        return asyncio.run(resolve())
    except SamacharError as exc:
        raise DiscoveryFailed(f"cannot add {url}: {exc}") from exc


def add_source(store: Store, config: Config, url: str, *, discover: bool = True, **changes: Any) -> Added:
    """Follow ``url`` (a feed, or a site whose feed is discovered), setting the fields given
    (``name``, ``policy``, ``language``, ``interval_minutes``, ``seo``; None: not given)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown source fields: {', '.join(sorted(unknown))}")
    changes = {k: v for k, v in changes.items() if v is not None}
    url = url.strip()
    check_feed_url(url)
    found = _already_followed(store, url, url, changes)
    if found is not None:
        return found
    feed = url
    if discover:
        feed = discover_feed(config, url)
        if feed != url and (found := _already_followed(store, feed, url, changes)) is not None:
            return found
    return Added(store.sources.add(feed, **changes), created=True, asked=url)


def find_source(store: Store, wanted: str) -> SourceRow:
    """The source named by its id or its feed URL; else a one-line error."""
    wanted = wanted.strip()
    source = store.sources.get(int(wanted)) if wanted.isascii() and wanted.isdigit() else store.sources.find(wanted)
    if source is None:
        raise SamacharError(f"no source {wanted}; see 'samachar source list'")
    return source


def remove_source(store: Store, wanted: str) -> SourceRow:
    """Stop following a source (its entries are kept); the source as it was."""
    source = find_source(store, wanted)
    if not store.sources.remove(source.id):
        raise SamacharError(f"no source {wanted.strip()}; see 'samachar source list'")
    return source


def import_opml(store: Store, data: bytes) -> int:
    """Follow every feed of an OPML document (titles become names); how many it listed."""
    from samachar.sources.opml import parse_opml

    items = parse_opml(data)
    for url, title in items:
        store.sources.add(url, name=title)
    return len(items)


def export_opml(store: Store) -> str:
    """The sources as an OPML document."""
    from samachar.sources.opml import write_opml

    return write_opml([(s.url, s.display_name) for s in store.sources.list()])
