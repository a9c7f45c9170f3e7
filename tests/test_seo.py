"""What search engines are told about an article page: canonical, noindex or index, per site and per source."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from conftest import database_url
from lxml import html as lxml_html
from site_data import BASE
from sqlalchemy import update

from samachar.config import SiteConfig
from samachar.model import Article, Block, FeedEntry, TranslatedArticle
from samachar.publish.site import render_site
from samachar.store import Store
from samachar.store.schema import sources

ORIGINAL = "https://dailyledger.example/world/moscow-pyongyang-talks"
OWN = BASE + "articles/moscow-pyongyang-talks/"
PATH = "articles/moscow-pyongyang-talks/index.html"


def head(articles, **site) -> dict[str, object]:
    page = lxml_html.fromstring(render_site(articles, SiteConfig(base_url=BASE, **site))[PATH])
    meta = {m.get("property") or m.get("name"): m.get("content") for m in page.xpath("//meta[@content]")}
    return {"canonical": page.xpath("//link[@rel='canonical']/@href"),
            "robots": page.xpath("//meta[@name='robots']/@content"),
            "og:url": meta["og:url"], "seo": page.xpath("//article[@class='article']/@data-seo")}


@pytest.mark.parametrize(("site", "expected"), [
    ({}, {"canonical": [ORIGINAL], "robots": [], "og:url": ORIGINAL, "seo": ["canonical"]}),
    ({"seo": "canonical"}, {"canonical": [ORIGINAL], "robots": [], "og:url": ORIGINAL, "seo": ["canonical"]}),
    ({"seo": "noindex"}, {"canonical": [], "robots": ["noindex"], "og:url": OWN, "seo": ["noindex"]}),
    ({"seo": "index"}, {"canonical": [OWN], "robots": [], "og:url": OWN, "seo": ["index"]}),
    # the older setting keeps its meaning: canonical = "self" is seo = "index" …
    ({"canonical": "self"}, {"canonical": [OWN], "robots": [], "og:url": OWN, "seo": ["index"]}),
    # … unless seo says something other than its default
    ({"canonical": "self", "seo": "noindex"}, {"canonical": [], "robots": ["noindex"], "og:url": OWN,
                                               "seo": ["noindex"]}),
])
def test_site_wide_setting(articles, site, expected):
    assert head(articles, **site) == expected


def test_a_source_choice_overrides_the_site(articles):
    noindexed = [replace(articles[0], seo="noindex"), *articles[1:]]
    assert head(noindexed)["robots"] == ["noindex"] and head(noindexed)["canonical"] == []
    indexed = [replace(articles[0], seo="index"), *articles[1:]]
    assert head(indexed, seo="noindex")["canonical"] == [OWN]
    unknown = [replace(articles[0], seo="sometimes"), *articles[1:]]
    assert head(unknown, seo="index")["canonical"] == [OWN]  # a value the site does not know: the site's choice


def test_canonical_without_a_usable_original_points_at_our_page(articles):
    broken = [replace(articles[0], original_url="javascript:alert(1)"), *articles[1:]]
    assert head(broken)["canonical"] == [OWN]


def test_listings_are_always_their_own_canonical_and_indexable(articles):
    pages = render_site([replace(a, seo="noindex") for a in articles], SiteConfig(base_url=BASE, seo="noindex"))
    for path, url in (("index.html", BASE), ("sources/2/index.html", BASE + "sources/2/")):
        page = lxml_html.fromstring(pages[path])
        assert page.xpath("//link[@rel='canonical']/@href") == [url] and not page.xpath("//meta[@name='robots']")


def test_noindex_keeps_the_structured_data_pointing_at_the_original(articles):
    page = lxml_html.fromstring(render_site(articles, SiteConfig(base_url=BASE, seo="noindex"))[PATH])
    data = json.loads(page.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["url"] == OWN and data["isBasedOn"]["url"] == ORIGINAL


def test_the_store_hands_the_source_choice_to_the_site(tmp_path):
    store = Store(database_url(tmp_path))
    try:
        published = {}
        for name, seo in (("quiet", "noindex"), ("plain", None)):
            source = store.sources.add(f"https://{name}.example/feed", policy="full")
            if seo:
                with store.engine.begin() as conn:
                    conn.execute(update(sources).where(sources.c.id == source.id).values(seo=seo))
            url = f"https://{name}.example/story"
            [entry_id] = store.entries.add_many(source.id, [(FeedEntry(title="Story", url=url, summary="x"),
                                                             _Ident(url))])
            store.articles.save(entry_id, Article(url=url, title="Story", blocks=[Block("paragraph", "Hello.")],
                                                  published=datetime(2026, 11, 1, tzinfo=UTC)))
            store.translations.save(entry_id, TranslatedArticle(
                title="कहानी", blocks=[Block("paragraph", "नमस्ते।")], source_lang="en", target_lang="hi",
                engine="test"), state="translated")
            store.posts.publish(entry_id, "hi", "Story")
            published[name] = entry_id
        by_id = {a.id: a for a in store.posts.published_articles("hi")}
        assert by_id[published["quiet"]].seo == "noindex" and by_id[published["plain"]].seo is None
    finally:
        store.close()


class _Ident:
    def __init__(self, url: str):
        self.key, self.normalized_url, self.content_hash = "url:" + url, url, None
