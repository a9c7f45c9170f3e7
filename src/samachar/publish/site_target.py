"""The built-in site as a publish target, registered like any other (``samachar.targets``: ``site``).

The site renders every published article together (pages, feeds, sitemaps), so a
publish here is bookkeeping — the article's public URL on the site — and the
pages are (re)built by ``samachar run``/``build`` from what is published. It is
always first: the slug it gives an article is what the other targets link to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samachar.publish.targets import SITE, Remote, TargetContext

if TYPE_CHECKING:
    from samachar.model import PublishedArticle
    from samachar.store.publications import Publication


class SiteTarget:
    kind = SITE

    def __init__(self, name: str = SITE, *, context: TargetContext):
        self.name = name
        self.base_url = context.config.site.base_url

    def publish(self, article: PublishedArticle, previous: Publication | None) -> Remote:
        from samachar.publish.site import DEFAULT_BASE_URL, slugify

        segment = slugify(article.slug, fold_case=False) or str(article.id)
        base = (self.base_url or DEFAULT_BASE_URL).rstrip("/") + "/"
        return Remote(id=article.slug, url=f"{base}articles/{segment}/")

    def unpublish(self, previous: Publication) -> None:
        """Nothing to remove here: a deleted entry's page is gone from the next build."""
