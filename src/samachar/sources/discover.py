"""Feed autodiscovery: from a site's page to its feed URL."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from samachar.errors import FeedError, FetchError
from samachar.sources.jsonfeed import looks_like_json
from samachar.sources.parse import parse_feed

FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/x-rss+xml",
    "application/x-atom+xml",
    "text/xml",
    "application/xml",
}
MAX_CANDIDATES = 3

if TYPE_CHECKING:
    from samachar.fetch import HttpClient


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"].strip()
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            kind = values.get("type", "").split(";", 1)[0].strip().lower()
            href = values.get("href", "").strip()
            if "alternate" in rels and kind in FEED_TYPES and href:
                self.links.append(href)

    handle_startendtag = handle_starttag


def discover_feed_urls(html: str, base_url: str) -> list[str]:
    """Absolute feed URLs a page announces with ``<link rel="alternate">``, in page order."""
    parser = _FeedLinks()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser rarely fails; whatever was found so far still counts
        pass
    base = urljoin(base_url, parser.base) if parser.base else base_url
    found: list[str] = []
    for href in parser.links:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found.append(url)
    return found


async def resolve_feed_url(client: HttpClient, url: str) -> str:
    """The feed behind ``url``: the URL itself if it is a feed, else the first
    feed its page announces that parses. FeedError/FetchError otherwise."""
    result = await client.fetch(url)
    final = result.permanent_url or url
    try:
        parse_feed(result.body, result.url)
        return final
    except FeedError as exc:
        if looks_like_json(result.body) or "entity" in str(exc):
            raise
    candidates = discover_feed_urls(result.text(), result.url)
    if not candidates:
        raise FeedError(f"no feed found at {url}: not a feed and the page announces none")
    problems: list[str] = []
    for candidate in candidates[:MAX_CANDIDATES]:
        try:
            found = await client.fetch(candidate)
            parse_feed(found.body, found.url)
            return found.permanent_url or candidate
        except (FeedError, FetchError) as exc:
            problems.append(f"{candidate}: {exc}")
    raise FeedError(f"no readable feed at {url}: {problems[0]}")
