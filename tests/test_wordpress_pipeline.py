"""The demo's articles, through the whole pipeline (Apertium en→es), into a real WordPress: every one a
post with its featured image, its tags and the publisher's credit; a second push changes nothing."""

from __future__ import annotations

import re

import pytest
from conftest import database_url

pytest.register_assert_rewrite("wordpress")  # a plugin too (pytest_plugins below)
from wordpress import Admin, target_requests, target_table

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.demo import feed_paths
from samachar.demo.server import SampleServer
from samachar.pipeline import Pipeline
from samachar.publish.targets import TargetContext, build_target, publish_to_targets
from samachar.store import Store
from samachar.translate.engines.apertium import ApertiumEngine

pytest_plugins = ("wordpress",)  # its fixtures: wordpress_site, wp

if not ApertiumEngine().supports("en", "es"):
    pytest.skip("Apertium eng-spa is not installed (apt-get install apertium apertium-eng-spa)", allow_module_level=True)


def test_the_demo_articles_are_published_into_wordpress_once(wp, tmp_path):
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias",
                                                   base_url="https://noticias.example/"),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]), default_policy="full")
    store = Store(database_url(tmp_path))
    try:
        with SampleServer() as base:
            for path in feed_paths():
                store.sources.add(base + path, policy="full")
            report = Pipeline(store, config, allow_private=True).run_once()
        articles = store.posts.published_articles("es", default_policy="full")
        assert articles and report.published == len(articles), report.summary()
        wp.control(allow_svg=True)  # the demo's images are SVG: core WordPress takes them with a plugin only
        target = build_target(target_table(wp), TargetContext(store=store, config=config))
        pushed = publish_to_targets([target], articles, store)
        assert pushed.published == {"wp": len(articles)} and not pushed.failed

        admin = Admin(wp)
        posts = {str(p["id"]): p for p in admin.posts()}
        assert len(posts) == len(articles)
        with_images = 0
        for article in articles:
            post = posts[store.publications.get(article.id, "es", "wp").remote_id]
            assert post["title"]["raw"] == article.title and post["slug"].isascii()
            content = post["content"]["raw"]
            assert article.publisher in content and f'href="{article.original_url}"' in content
            assert "Artículo original" in content  # the site's attribution block, in the site's language
            stored = store.images.files_for([article.image.src]) if article.image else {}
            if stored:
                with_images += 1
                assert post["featured_media"], article.title
            labels = {article.tag_labels.get(c, c) for c in article.categories}
            assert len(post["tags"]) == len(labels)
        assert with_images >= 1
        media = admin.media()
        assert len({m["source_url"] for m in media}) == len(media)  # no image uploaded twice
        assert not re.search(r"https?://[^\"']*\.example/[^\"']*\.(png|jpe?g|svg)", " ".join(
            p["content"]["raw"] for p in posts.values()))  # images are the site's copies, not hotlinks

        since = len(wp.requests())
        assert publish_to_targets([build_target(target_table(wp), TargetContext(store=store, config=config))],
                                  articles, store).published == {}
        assert target_requests(wp, since) == []
    finally:
        store.close()
