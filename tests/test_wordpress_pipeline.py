"""`samachar run` publishes the demo's articles (Apertium en→es) into a real WordPress: every one a post
with its featured image, its tags and the publisher's credit; a second run sends WordPress nothing; `entry
delete` trashes the post."""

from __future__ import annotations

import json
import re

import pytest
from conftest import database_url

pytest.register_assert_rewrite("wordpress")  # a plugin too (pytest_plugins below)
from wordpress import Admin, target_requests, target_toml

from samachar.cli import main
from samachar.config import load_config
from samachar.demo import feed_paths
from samachar.demo.server import SampleServer
from samachar.store import Store
from samachar.translate.engines.apertium import ApertiumEngine

pytest_plugins = ("wordpress",)  # its fixtures: wordpress_site, wp

if not ApertiumEngine().supports("en", "es"):
    pytest.skip("Apertium eng-spa is not installed (apt-get install apertium apertium-eng-spa)", allow_module_level=True)


def test_samachar_run_publishes_the_demo_articles_into_wordpress_once(wp, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "samachar.toml").write_text(
        'default_policy = "full"\n[site]\nlanguage = "es"\ntitle = "Noticias"\nbase_url = "https://noticias.example/"\n'
        '[translation]\nsource_language = "en"\nengines = ["apertium"]\n' + target_toml(wp), encoding="utf-8")
    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(home))
    wp.control(allow_svg=True)  # the demo's images are SVG: core WordPress takes them with a plugin only
    config = load_config(home)
    with SampleServer() as base:
        for path in feed_paths():
            assert main(["--home", str(home), "-q", "source", "add", base + path, "--policy", "full"]) == 0
        assert main(["--home", str(home), "-q", "run", "--once"]) == 0
        capsys.readouterr()

        store = Store(config.db_url)
        try:
            articles = store.posts.published_articles("es", default_policy="full")
            records = {a.id: store.publications.get(a.id, "es", "wp") for a in articles}
            stored = store.images.files_for([a.image.src for a in articles if a.image])
        finally:
            store.close()
        assert articles and all(r is not None and r.state == "published" for r in records.values()), records
        admin = Admin(wp)
        posts = {str(p["id"]): p for p in admin.posts()}
        assert len(posts) == len(articles)  # one post each
        for article in articles:
            post = posts[records[article.id].remote_id]
            assert post["title"]["raw"] == article.title and post["slug"].isascii()
            content = post["content"]["raw"]
            assert article.publisher in content and f'href="{article.original_url}"' in content
            assert "Artículo original" in content  # the site's attribution block, in the site's language
            if article.image and article.image.src in stored:
                assert post["featured_media"], article.title
            labels = {article.tag_labels.get(c, c) for c in article.categories}
            assert len(post["tags"]) == len(labels)
        assert sum(bool(p["featured_media"]) for p in posts.values()) >= 1
        media = admin.media()
        assert len({m["source_url"] for m in media}) == len(media)  # no image uploaded twice
        assert not re.search(r"https?://[^\"']*\.example/[^\"']*\.(png|jpe?g|svg)", " ".join(
            p["content"]["raw"] for p in posts.values()))  # images are the site's copies, not hotlinks

        since = len(wp.requests())
        assert main(["--home", str(home), "-q", "run", "--once"]) == 0  # the feeds again: nothing new
        assert target_requests(wp, since) == [] and len(admin.posts()) == len(articles)

    first = articles[0]
    assert main(["--home", str(home), "-q", "entry", "delete", str(first.id)]) == 0
    capsys.readouterr()
    trashed = [p["id"] for p in admin.trashed()]
    assert trashed == [int(records[first.id].remote_id)] and len(admin.posts()) == len(articles) - 1
    assert main(["--home", str(home), "target", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["wp"]["posts"] == {"published": len(articles) - 1, "unpublished": 1}
