"""An entry's article: its page extracted, completed from the feed; or the feed's own content.

The rules that decide which body an entry gets and what fills the gaps of a
page's metadata. Data in, data out: the caller hands in the feed entry and the
fetched page.
"""

from __future__ import annotations

from samachar.errors import ExtractionError
from samachar.extract.article import article_from_feed, extract_article
from samachar.model import Article, FeedEntry, Image

SHORT_BODY_WORDS = 120  # a page body shorter than this may lose to a much fuller feed content


def article_from_page(entry: FeedEntry, url: str, html: str, *,
                      feed_title: str | None = None) -> tuple[Article, str | None]:
    """The page's article, completed from the feed entry, and a note when the feed's body was used instead.

    Raises :class:`ExtractionError` when the page has no body.
    """
    article = extract_article(html, url, feed_title=feed_title)
    article, note = prefer_fuller_body(article, entry)
    return complete(article, entry), note


def article_from_entry(entry: FeedEntry, *, feed_title: str | None = None) -> Article:
    """The feed entry's own content as the article (the page could not be had or had no body).

    Raises :class:`ExtractionError` when the entry has no usable content either.
    """
    return complete(article_from_feed(entry, entry.url or "", feed_title=feed_title), entry)


def has_feed_content(entry: FeedEntry) -> bool:
    """Whether the feed carries a body (or a summary) that can stand in for the page."""
    return bool(entry.content_html or entry.summary)


def complete(article: Article, entry: FeedEntry) -> Article:
    """Fill what the page did not say from the feed entry; never invent."""
    article.title = article.title or entry.title
    if not article.published:
        article.published = entry.published
    if not article.authors and entry.author:
        article.authors = [entry.author]
    if entry.categories:  # the feed's categories are tags the site shows: they are translated with the rest
        known = {t.casefold() for t in article.tags}
        article.tags = article.tags + [c for c in dict.fromkeys(entry.categories) if c.casefold() not in known]
    if article.image is None and entry.image:
        article.image = Image(src=entry.image)
    return article


def prefer_fuller_body(article: Article, entry: FeedEntry) -> tuple[Article, str | None]:
    """A page with a stub body (a video page, a teaser) loses to a much fuller feed content.

    The page's own metadata (canonical URL, publisher, dates) is kept either way.
    """
    if not entry.content_html:
        return article, None
    page_words = len(article.text.split())
    if page_words >= SHORT_BODY_WORDS:
        return article, None
    try:
        feed_article = article_from_feed(entry, entry.url or article.url)
    except ExtractionError:
        return article, None
    feed_words = len(feed_article.text.split())
    if feed_words < 2 * max(page_words, 1):
        return article, None
    article.blocks, article.source = feed_article.blocks, "feed"
    return article, f"page body has {page_words} words; used the feed's content ({feed_words} words)"
