"""What an operator or an editor does to a site, in one place: the CLI, the demo and the web app call it.

Delete, retry, approve and release entries; set a source's filters; build
the static site; make the served site; search what is published. None of
this is a pipeline stage: these act on one entry or on the whole site, when
someone asks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samachar.model import EntryState, PublishedArticle

if TYPE_CHECKING:
    from datetime import datetime

    from samachar.config import Config
    from samachar.filters import FilterRules
    from samachar.publish.search import SearchHit
    from samachar.store import Store
    from samachar.store.sources import SourceRow


log = logging.getLogger("samachar.service")


class SiteService:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.config = config

    # -- entries ---------------------------------------------------------------------------------

    def delete(self, entry_id: int) -> bool:
        """Unpublish an entry and leave a tombstone, so no later poll imports it again.

        A static site already built in the home is rebuilt without it.
        """
        if self.store.entries.get(entry_id) is None:
            return False
        from samachar.publish.search import remove_articles
        from samachar.publish.targets import load_targets, unpublish_everywhere

        self.store.entries.tombstone(entry_id)
        for failure in unpublish_everywhere(load_targets(self.store, self.config), self.store, entry_id):
            log.warning("entry_id=%d not removed from %s; retried on the next delete", entry_id, failure)
        with self.store.engine.begin() as conn:
            remove_articles(conn, [entry_id])
        if (self.config.site_dir / "index.html").exists():
            self.build(self.config.site_dir)
        return True

    def retry(self, entry_id: int) -> EntryState | None:
        """Give a failed or held entry another go from the furthest stage it reached; the state, or None."""
        return self.store.entries.reset(entry_id)

    def approve(self, entry_id: int, at: datetime | None = None, by: str | None = None) -> bool:
        """A reviewer accepts a held translation: it is published on the next run (after ``at``, if given)."""
        from samachar.editorial import approve

        return approve(self.store, entry_id, at=at, editor=by)

    def release(self, entry_id: int) -> bool:
        """Let a filtered entry through: back to extracted, translated on the next run, its filters skipped."""
        return self.store.entries.release(entry_id)

    # -- sources ---------------------------------------------------------------------------------

    def set_filters(self, source: SourceRow, rules: FilterRules) -> FilterRules:
        """Store a source's filters (already checked); empty rules remove them."""
        self.store.sources.set_filters(source.id, None if rules.is_empty() else rules.to_json())
        return rules

    # -- the site --------------------------------------------------------------------------------

    def published_articles(self, entry_ids: list[int] | None = None) -> list[PublishedArticle]:
        return self.store.posts.published_articles(
            self.config.site.language, default_policy=self.config.default_policy,
            excerpt_words=self.config.excerpt_words, entry_ids=entry_ids)

    def build(self, out_dir: Path) -> int:
        """The static export into ``out_dir``; returns the number of files."""
        from samachar.publish.site import build_site

        return build_site(self.published_articles(), self.config.site, out_dir, media=self.store.images)

    def create_app(self, admin: bool = True) -> Any:
        """The served site: the same pages as the static build, plus search; with ``admin``, the
        editorial desk under /admin/ and its API under /api/v1/ (:mod:`samachar.web.admin`)."""
        from samachar.web.app import create_app

        self.reconcile_search()
        from samachar import metrics

        desk_routes: list[Any] = []
        if admin:
            from samachar.web.admin import admin_routes

            desk_routes = admin_routes()
        app = create_app(self.published_articles, self.config.site, search=self.search_hits,
                         media=self.store.images, metrics_text=lambda: metrics.render(self.store),
                         extra_routes=desk_routes)
        if admin:
            from samachar.web.admin import DeskContext

            app.state.desk = DeskContext(service=self, store=self.store, config=self.config)
        return app

    # -- search ---------------------------------------------------------------------------------

    def index_for_search(self, entry_ids: list[int] | None = None) -> None:
        """Index these published entries for the site's search (None: all of them)."""
        from samachar.publish.search import index_published

        index_published(self.store, entry_ids, lang=self.config.site.language,
                        default_policy=self.config.default_policy, excerpt_words=self.config.excerpt_words)

    def reconcile_search(self) -> None:
        """Make the search index match what is published: what a killed run left out, what was deleted."""
        from samachar.publish.search import reconcile

        reconcile(self.store, self.config.site.language, default_policy=self.config.default_policy,
                  excerpt_words=self.config.excerpt_words)

    def search_hits(self, query: str, limit: int = 50) -> list[SearchHit]:
        """The best matches for ``query`` as the index holds them (title, excerpt, date): the served /search."""
        from samachar.publish.search import search

        return search(self.store, query, self.config.site.language, limit=limit)

    def search(self, query: str, limit: int = 50) -> list[PublishedArticle]:
        """Published articles matching ``query``, best first, whole."""
        ids = [hit.id for hit in self.search_hits(query, limit)]
        by_id = {a.id: a for a in self.published_articles(entry_ids=ids)} if ids else {}
        return [by_id[i] for i in ids if i in by_id]
