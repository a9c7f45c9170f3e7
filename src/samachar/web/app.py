"""The live site: the static export's pages, served by Starlette from the same templates.

Pages are rendered on first request from a snapshot of the published articles
and kept until the snapshot changes; the snapshot is re-read from
``load_articles`` at most every ``refresh_seconds`` (in a worker thread, one
reload at a time), and its rendered pages are dropped only when the articles
differ. Every response carries a Content-Security-Policy without any script
source; cacheable responses carry Cache-Control and a strong ETag, and a
matching ``If-None-Match`` gets 304.

Run it with uvicorn::

    app = create_app(store.published_articles, config.site, search=store.search)
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from samachar.config import SiteConfig
from samachar.model import PublishedArticle
from samachar.publish.site import CSP_POLICY, FEED_FILES, SiteView

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP_POLICY + "; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
CACHE_HTML = "public, max-age=60"
CACHE_FEED = "public, max-age=300"
CACHE_STATIC = "public, max-age=86400"


@dataclass
class RenderedPage:
    body: bytes
    content_type: str
    etag: str
    cache_control: str


@dataclass
class Snapshot:
    view: SiteView
    fingerprint: str
    loaded_at: float
    pages: dict[str, RenderedPage] = field(default_factory=dict)
    search_text: dict[int, str] = field(default_factory=dict)

    def page(self, key: str) -> RenderedPage | None:
        if key not in self.pages:
            page = self.view.render(key)
            if page is None:
                return None
            self.pages[key] = RenderedPage(page.body, page.content_type, _etag(page.body), _cache_control(key))
        return self.pages[key]

    def local_search(self, query: str, limit: int = 50) -> list[PublishedArticle]:
        """Substring search over the snapshot, for when no FTS index is wired in."""
        terms = _fold(query).split()
        if not terms:
            return []
        found = []
        for article in self.view.articles:
            if article.id not in self.search_text:
                self.search_text[article.id] = _fold(" ".join(
                    [article.title, article.summary or "", article.original_title, article.publisher,
                     article.source_name, *article.authors, *article.categories, *(b.text for b in article.blocks)]))
            if all(term in self.search_text[article.id] for term in terms):
                found.append(article)
                if len(found) >= limit:
                    break
        return found


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _cache_control(key: str) -> str:
    if key.startswith("static/"):
        return CACHE_STATIC
    if key.rsplit("/", 1)[-1] in FEED_FILES:
        return CACHE_FEED
    return CACHE_HTML


def _fingerprint(articles: list[PublishedArticle]) -> str:
    return hashlib.blake2b(repr(articles).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [part.strip() for part in header.split(",")]
    return any(c.removeprefix("W/") == etag for c in candidates)


class LiveSite:
    """Holds the current snapshot and reloads it when it is older than ``refresh_seconds``."""

    def __init__(self, load_articles: Callable[[], list[PublishedArticle]], site: SiteConfig,
                 refresh_seconds: float):
        self.load_articles = load_articles
        self.site = site
        self.refresh_seconds = refresh_seconds
        self.snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Make the next request re-read the articles (after a publish, say)."""
        if self.snapshot is not None:
            self.snapshot.loaded_at = float("-inf")

    async def current(self) -> Snapshot:
        if self.snapshot is not None and time.monotonic() - self.snapshot.loaded_at < self.refresh_seconds:
            return self.snapshot
        async with self._lock:
            now = time.monotonic()
            if self.snapshot is not None and now - self.snapshot.loaded_at < self.refresh_seconds:
                return self.snapshot
            try:
                articles = await run_in_threadpool(self.load_articles)
            except Exception as exc:  # keep serving the last good snapshot
                if self.snapshot is None:
                    raise
                log.warning("site reload failed, serving the previous snapshot: %s", exc)
                self.snapshot.loaded_at = now
                return self.snapshot
            fingerprint = _fingerprint(articles)
            if self.snapshot is not None and self.snapshot.fingerprint == fingerprint:
                self.snapshot.loaded_at = now
            else:
                view = await run_in_threadpool(SiteView, articles, self.site, live=True)
                self.snapshot = Snapshot(view, fingerprint, now)
            return self.snapshot


def create_app(load_articles: Callable[[], list[PublishedArticle]], site: SiteConfig, *,
               search: Callable[[str], list[PublishedArticle]] | None = None,
               refresh_seconds: float = 30.0) -> Starlette:
    """The public site as an ASGI app; ``search(q)`` returns matching articles (FTS), else a scan."""
    live = LiveSite(load_articles, site, refresh_seconds)

    def respond(request: Request, page: RenderedPage, status: int = 200) -> Response:
        headers = {**SECURITY_HEADERS, "Cache-Control": page.cache_control, "ETag": page.etag}
        if status == 200 and _etag_matches(request.headers.get("if-none-match"), page.etag):
            return Response(status_code=304, headers=headers)
        return Response(page.body, status_code=status, media_type=page.content_type, headers=headers)

    async def not_found(request: Request, snapshot: Snapshot) -> Response:
        page = snapshot.page("404.html")
        assert page is not None
        return respond(request, page, status=404)

    async def serve(request: Request) -> Response:
        try:
            snapshot = await live.current()
        except Exception as exc:
            log.error("site unavailable: cannot load articles: %s", exc)
            return PlainTextResponse("The site is unavailable: its articles could not be loaded.\n",
                                     status_code=503, headers={**SECURITY_HEADERS, "Retry-After": "30"})
        prefix = snapshot.view.prefix
        path = request.url.path
        if not path.startswith(prefix):
            if path + "/" == prefix:
                return RedirectResponse(prefix, status_code=308, headers=SECURITY_HEADERS)
            return await not_found(request, snapshot)
        relative = path[len(prefix):]
        if relative in ("search", "search/"):
            return await serve_search(request, snapshot)
        if relative == "" or relative.endswith("/"):
            key = relative + "index.html"
        else:
            key = relative
        if "\x00" in key or any(part in ("", ".", "..") for part in key.split("/")):
            return await not_found(request, snapshot)
        page = snapshot.page(key)
        if page is None and "." not in key.rsplit("/", 1)[-1] and snapshot.page(key + "/index.html"):
            target = request.url.path + "/" + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(target, status_code=308, headers=SECURITY_HEADERS)
        if page is None:
            return await not_found(request, snapshot)
        return respond(request, page)

    async def serve_search(request: Request, snapshot: Snapshot) -> Response:
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
        results: list[PublishedArticle] | None = None
        if query:
            try:
                results = await run_in_threadpool(search, query) if search else snapshot.local_search(query)
            except Exception as exc:  # a broken index must not take the site down
                log.warning("search failed for %r, falling back to a scan: %s", query, exc)
                results = snapshot.local_search(query)
        body = snapshot.view.render_search(query, results).encode("utf-8")
        return Response(body, media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:  # load the articles before the first reader arrives
            await live.current()
        except Exception as exc:
            log.error("site not loaded at startup, will retry on the first request: %s", exc)
        yield

    app = Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "HEAD"])], lifespan=lifespan)
    app.state.live_site = live
    return app
