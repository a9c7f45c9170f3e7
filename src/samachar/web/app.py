"""The live site: the static export's pages, served by Starlette from the same templates.

Pages are rendered on first request from a snapshot of the published articles
and kept until the snapshot changes; the snapshot is re-read from
``load_articles`` at most every ``refresh_seconds`` (in a worker thread, one
reload at a time), and its rendered pages are dropped only when the articles
differ. Every response carries a Content-Security-Policy without any script
source; cacheable responses carry Cache-Control and a strong ETag, and a
matching ``If-None-Match`` gets 304.

Stored images (``[site] images = "local"``) are served from the database under
``media/``, only those the current pages show: with the Content-Type sniffed
when they were stored, ``nosniff``, a CSP that lets nothing run (an SVG opened
on its own included), and a year's cache (the name is the content's hash).

:meth:`samachar.service.SiteService.create_app` wires it to the store (the
published articles, search, the stored images); run it with uvicorn::

    app = SiteService(store, config).create_app()
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from samachar.config import SiteConfig
from samachar.model import PublishedArticle
from samachar.publish.search import ArticleIndex, SearchHit
from samachar.publish.site import (
    CRAWLER_FILES,
    CSP_POLICY,
    FEED_FILES,
    MEDIA_DIR,
    TIME_DEPENDENT_FILES,
    MediaLibrary,
    SiteView,
    csp_policy,
)

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
CACHE_MEDIA = "public, max-age=31536000, immutable"  # a media file's name is its content's hash
MEDIA_CSP = {"image/svg+xml": "default-src 'none'; style-src 'unsafe-inline'"}  # others: nothing at all


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
    media: set[str] | None = None
    index: ArticleIndex | None = None
    by_id: dict[int, PublishedArticle] | None = None
    _index_lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, key: str) -> RenderedPage | None:
        """The rendered page at ``key``, kept for the snapshot's life (the news sitemap, which ages, is not)."""
        if key in self.pages:
            return self.pages[key]
        page = self.view.render(key)
        if page is None:
            return None
        rendered = RenderedPage(page.body, page.content_type, _etag(page.body), _cache_control(key))
        if key not in TIME_DEPENDENT_FILES:
            self.pages[key] = rendered
        return rendered

    def media_paths(self) -> set[str]:
        """The stored images this snapshot's pages show."""
        if self.media is None:
            self.media = set(self.view.media_paths())
        return self.media

    def search(self, query: str) -> list[SearchHit]:
        """The site's search over this snapshot's articles, indexed in memory on first use.

        For a site served without a store's index, or when that index fails.
        """
        with self._index_lock:
            if self.index is None:
                self.index = ArticleIndex(self.view.articles)
        return self.index.search(query)

    def articles_for(self, hits: Sequence[SearchHit | PublishedArticle]) -> list[PublishedArticle]:
        """The snapshot's articles for these hits, in their order, as the index shows them.

        The index's title and excerpt stand in for the body, which a result's
        card never needs: a card of an 8 MB article costs what any other does.
        A hit newer than the snapshot shows once the snapshot is reloaded.
        """
        if self.by_id is None:
            self.by_id = {article.id: article for article in self.view.articles}
        found = []
        for hit in hits:
            article = self.by_id.get(hit.id)
            if article is None:
                continue
            if isinstance(hit, SearchHit):  # the card reads the summary as HTML: the excerpt is text
                article = replace(article, title=hit.title, summary=html.escape(hit.excerpt, quote=False), blocks=[])
            found.append(article)
        return found


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _cache_control(key: str) -> str:
    if key.startswith("static/"):
        return CACHE_STATIC
    if key.rsplit("/", 1)[-1] in FEED_FILES or key in CRAWLER_FILES or key.startswith("sitemap-"):
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
                 refresh_seconds: float, media: MediaLibrary | None = None):
        self.load_articles = load_articles
        self.site = site
        self.refresh_seconds = refresh_seconds
        self.media = media if site.images == "local" else None
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
                # An image stored after its article was published changes the pages too.
                media_revision = await run_in_threadpool(self.media.revision) if self.media is not None else None
            except Exception as exc:  # keep serving the last good snapshot
                if self.snapshot is None:
                    raise
                log.warning("site reload failed, serving the previous snapshot: %s", exc)
                self.snapshot.loaded_at = now
                return self.snapshot
            fingerprint = _fingerprint(articles) + (repr(media_revision) if media_revision is not None else "")
            if self.snapshot is not None and self.snapshot.fingerprint == fingerprint:
                self.snapshot.loaded_at = now
            else:
                view = await run_in_threadpool(lambda: SiteView(articles, self.site, live=True, media=self.media))
                self.snapshot = Snapshot(view, fingerprint, now)
            return self.snapshot


def create_app(load_articles: Callable[[], list[PublishedArticle]], site: SiteConfig, *,
               search: Callable[[str], Sequence[SearchHit | PublishedArticle]] | None = None,
               refresh_seconds: float = 30.0, media: MediaLibrary | None = None,
               metrics_text: Callable[[], str] | None = None, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The public site as an ASGI app; ``search(q)`` returns the best hits from the store's index
    (:func:`samachar.publish.search.search`), else the snapshot is indexed in memory;
    ``media`` holds the stored images (the store's ``images``); ``metrics_text`` renders ``/metrics``
    (Prometheus' text format) for the scrapers :func:`samachar.metrics.client_allowed` lets in;
    ``extra_routes`` (the editorial desk's) are matched before the site's pages."""
    live = LiveSite(load_articles, site, refresh_seconds, media)
    security = {**SECURITY_HEADERS,  # images from anywhere, or from the site only when it serves its own
                "Content-Security-Policy": csp_policy(live.media is not None) + "; frame-ancestors 'none'"}

    def respond(request: Request, page: RenderedPage, status: int = 200) -> Response:
        headers = {**security, "Cache-Control": page.cache_control, "ETag": page.etag}
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
                                     status_code=503, headers={**security, "Retry-After": "30"})
        prefix = snapshot.view.prefix
        path = request.url.path
        if not path.startswith(prefix):
            if path + "/" == prefix:
                return RedirectResponse(prefix, status_code=308, headers=security)
            return await not_found(request, snapshot)
        relative = path[len(prefix):]
        if relative in ("search", "search/"):
            return await serve_search(request, snapshot, "search" if relative == "search" else "search/index.html")
        if relative == "" or relative.endswith("/"):
            key = relative + "index.html"
        else:
            key = relative
        if "\x00" in key or any(part in ("", ".", "..") for part in key.split("/")):
            return await not_found(request, snapshot)
        if key.startswith(f"{MEDIA_DIR}/"):
            return await serve_media(request, snapshot, key)
        page = snapshot.page(key)
        if page is None and "." not in key.rsplit("/", 1)[-1] and snapshot.page(key + "/index.html"):
            target = request.url.path + "/" + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(target, status_code=308, headers=security)
        if page is None:
            return await not_found(request, snapshot)
        return respond(request, page)

    async def serve_media(request: Request, snapshot: Snapshot, key: str) -> Response:
        """A stored image the pages show, from the database; anything else under media/ is not found."""
        if live.media is None or key not in snapshot.media_paths():
            return await not_found(request, snapshot)
        found = await run_in_threadpool(live.media.read, key.rsplit("/", 1)[-1])
        if found is None:
            return await not_found(request, snapshot)
        data, content_type = found
        etag = '"' + key.rsplit("/", 1)[-1].split(".")[0] + '"'
        headers = {**security, "Content-Security-Policy": MEDIA_CSP.get(content_type, "default-src 'none'"),
                   "Cache-Control": CACHE_MEDIA, "ETag": etag}
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=content_type, headers=headers)

    async def serve_search(request: Request, snapshot: Snapshot, page_path: str) -> Response:
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
        results: list[PublishedArticle] | None = None
        if query:
            # Hits come from an index, a page of them; the cards from the snapshot in memory: no article is loaded.
            try:
                hits = await run_in_threadpool(search or snapshot.search, query)
            except Exception as exc:  # a broken index must not take the site down
                log.warning("search failed for %r, searching the snapshot in memory instead: %s", query, exc)
                hits = await run_in_threadpool(snapshot.search, query)
            results = snapshot.articles_for(hits)
        body = snapshot.view.render_search(query, results, page_path).encode("utf-8")
        return Response(body, media_type="text/html; charset=utf-8",
                        headers={**security, "Cache-Control": "no-cache"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:  # load the articles before the first reader arrives
            await live.current()
        except Exception as exc:
            log.error("site not loaded at startup, will retry on the first request: %s", exc)
        yield

    async def serve_metrics(request: Request) -> Response:
        from samachar import metrics

        if metrics_text is None or not metrics.client_allowed(request.client.host if request.client else None):
            return PlainTextResponse("not found\n", status_code=404, headers=security)
        body = await run_in_threadpool(metrics_text)
        return Response(body, media_type=metrics.CONTENT_TYPE, headers={**security, "Cache-Control": "no-store"})

    routes: list[BaseRoute] = [Route("/metrics", serve_metrics, methods=["GET"])] if metrics_text is not None else []
    routes.extend(extra_routes)
    routes.append(Route("/{path:path}", serve, methods=["GET", "HEAD"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.live_site = live
    return app
