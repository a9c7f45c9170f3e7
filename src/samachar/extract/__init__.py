"""Extraction: a fetched page (or a feed entry) → an Article with structure and attribution.

``extract_article(html, url)`` for pages, ``article_from_feed(entry, url)`` as
the fallback, ``blocks_from_html(fragment, base_url)`` for any body fragment,
and :func:`samachar.extract.policy.apply_policy` for the republish policy.
trafilatura is imported only when a page is extracted.
"""

from __future__ import annotations

from samachar.extract.article import article_from_feed, extract_article
from samachar.extract.blocks import blocks_from_html

__all__ = ["article_from_feed", "blocks_from_html", "extract_article"]
