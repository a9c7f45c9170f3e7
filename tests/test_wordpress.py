"""WordPress target against a real WordPress (Debian's package on 127.0.0.1): posts with images, terms and
attribution; updates, trash; errors said in one line with their fix; `samachar target list/check`."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import timedelta

import pytest
from conftest import database_url

pytest.register_assert_rewrite("wordpress")  # a plugin too (pytest_plugins below)
from wordpress import (
    ORIGIN,
    PASSWORD_ENV,
    PUBLISHER,
    STORIES,
    Admin,
    home_with_target,
    seed,
    target_requests,
    target_table,
)

from samachar.cli import main
from samachar.config import Config, SiteConfig, load_config
from samachar.errors import ConfigError, TargetError
from samachar.model import PublishedArticle
from samachar.publish.targets import (
    TargetContext,
    build_target,
    publish_to_targets,
    unpublish_everywhere,
)
from samachar.publish.wordpress import SLUG_MAX, post_slug
from samachar.store import Store

pytest_plugins = ("wordpress",)  # its fixtures: wordpress_site, wp


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def make_target(site, store, home, **options):
    config = Config(home=home, site=SiteConfig(language="hi", base_url="https://samachar.example/"),
                    default_policy="full")
    return build_target(target_table(site, **options), TargetContext(store=store, config=config))


def published(store) -> list[PublishedArticle]:
    return store.posts.published_articles("hi", default_policy="full")


def creating(requests: list[str]) -> list[str]:
    """Requests that make something: a post, a media item, a term."""
    return [r for r in requests if re.match(r"POST /wp-json/wp/v2/(posts|media|tags|categories)(\?|$)", r)]


# ---- without WordPress ------------------------------------------------------------------------

def test_slugs_are_ascii_from_the_original_words_short_and_unique(tmp_path):
    def article(entry_id, original, title="शीर्षक"):
        return PublishedArticle(id=entry_id, slug="x", lang="hi", title=title, blocks=[], summary=None,
                                published_at=None, policy="full", original_title=original, original_url="",
                                publisher="", source_id=1, source_name="", source_url="")

    slug = post_slug(article(12, "Pyongyang always stands with Moscow, says envoy"))
    assert slug == "12-pyongyang-always-stands-with-moscow-says-envoy"
    long = post_slug(article(123456, "A very long headline " * 20))
    assert len(long) <= SLUG_MAX and long.isascii() and not long.endswith("-")
    assert post_slug(article(7, "प्योंगयांग हमेशा मास्को")) == "7-hi"  # no ASCII words at all: never digits alone
    assert post_slug(article(8, "प्योंगयांग", title="Pyongyang")) == "8-pyongyang"
    assert post_slug(article(1, "Same words")) != post_slug(article(2, "Same words"))


@pytest.mark.parametrize("options, message", [
    ({"status": "live"}, "target 'wp': status = 'live'; use publish, draft or pending"),
    ({"held": "draft"}, "target 'wp': held = 'draft'; use skip or pending"),
    ({"tags": "yes"}, "target 'wp': tags = 'yes'; use true or false"),
    ({"url": "http://news.example.org"}, "use the site's https:// address"),
    ({"url": "news.example.org"}, "target 'wp': url = 'news.example.org': it is not an http:// or https:// address"),
    ({"password_env": ""}, "target 'wp': password_env = ''"),
    ({"slug": "unicode"}, "target 'wp': slug = 'unicode'; use 'ascii'"),
    ({"colour": "red"}, "target 'wp': unknown key(s) colour"),
])
def test_a_wrong_key_is_one_line_naming_it(tmp_path, capsys, monkeypatch, options, message):
    monkeypatch.delenv("SAMACHAR_ALLOW_PRIVATE_NETWORKS", raising=False)
    table = {"kind": "wordpress", "name": "wp", "url": "https://news.example.org", "user": "editor",
             "password_env": "WP_APP_PASSWORD", **options}
    (tmp_path / "samachar.toml").write_text("[[targets]]\n" + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in table.items()), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_target(load_config(tmp_path).targets[0], TargetContext(store=None, config=load_config(tmp_path)))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert main(["--home", str(tmp_path), "target", "list"]) == 2
    assert message in capsys.readouterr().err


def test_without_private_networks_a_local_address_is_refused_before_any_request(tmp_path, monkeypatch):
    monkeypatch.delenv("SAMACHAR_ALLOW_PRIVATE_NETWORKS", raising=False)
    monkeypatch.setenv("WP_APP_PASSWORD", "not sent anywhere")
    table = {"kind": "wordpress", "name": "wp", "url": "https://127.0.0.1:9/", "user": "editor",
             "password_env": "WP_APP_PASSWORD"}
    target = build_target(table, TargetContext(store=None, config=Config(home=tmp_path)))
    with pytest.raises(TargetError, match=r"refused 127\.0\.0\.1: resolves to 127\.0\.0\.1 \(loopback address"):
        target.check()


# ---- against WordPress -------------------------------------------------------------------------

def test_articles_become_posts_with_images_terms_and_attribution(wp, store, tmp_path):
    seed(store)
    target = make_target(wp, store, tmp_path, category="समाचार")
    since = len(wp.requests())
    report = publish_to_targets([target], published(store), store)
    assert report.published == {"wp": 3} and not report.failed
    admin = Admin(wp)
    posts = {p["id"]: p for p in admin.posts()}
    assert len(posts) == 3
    records = {a.id: store.publications.get(a.id, "hi", "wp") for a in published(store)}
    assert {int(r.remote_id) for r in records.values()} == set(posts)

    first = posts[int(records[1].remote_id)]
    assert first["title"]["raw"] == STORIES[0].title_hi  # Devanagari intact
    assert first["slug"] == "1-pyongyang-always-stands-with-moscow-says-envoy"  # ASCII, not percent-encoded
    assert first["status"] == "publish" and records[1].remote_url == first["link"]
    content = first["content"]["raw"]
    assert all(text in content for text in STORIES[0].body_hi)
    attribution = re.search(r'<aside class="attribution".*?</aside>', content, re.DOTALL).group(0)
    assert PUBLISHER in attribution and f'href="{ORIGIN}/story/1"' in attribution
    assert "2026" in attribution and "मूल लेख" in attribution  # the original's date; labels in Hindi
    assert first["excerpt"]["raw"] == STORIES[0].body_hi[0]

    media = {m["id"]: m for m in admin.media()}
    assert len(media) == 2  # the shared lead image once, the body figure once
    lead = media[first["featured_media"]]
    assert lead["alt_text"] == "मंच पर राजदूत" and "सोमवार को राजदूत।" in lead["caption"]["raw"]
    assert posts[int(records[2].remote_id)]["featured_media"] == first["featured_media"]  # uploaded once
    assert posts[int(records[3].remote_id)]["featured_media"] == 0
    figure = next(m for m in media.values() if m["id"] != first["featured_media"])
    assert figure["source_url"] in content and "wp-content/uploads" in figure["source_url"]
    assert ORIGIN + "/img/" not in content  # body images are the site's uploads, not hotlinks ([site] images local)

    tags = {t["name"]: t["id"] for t in admin.terms("tags")}
    assert set(tags) == {"दुनिया", "कोरिया", "मौसम"}  # the translated labels, each created once
    assert sorted(first["tags"]) == sorted([tags["दुनिया"], tags["कोरिया"]])
    [category] = [c for c in admin.terms("categories") if c["name"] == "समाचार"]
    assert all(p["categories"] == [category["id"]] for p in posts.values())
    made = creating(target_requests(wp, since))
    assert len(made) == 3 + 2 + 3 + 1  # posts, media, tags, category: each once


def test_a_rerun_sends_nothing_and_a_new_process_creates_nothing(wp, store, tmp_path):
    seed(store)
    publish_to_targets([make_target(wp, store, tmp_path)], published(store), store)
    since = len(wp.requests())
    again = publish_to_targets([make_target(wp, store, tmp_path)], published(store), store)
    assert again.published == again.updated == {} and target_requests(wp, since) == []

    # The site's language is retranslated: every post is updated, from a fresh target (empty caches).
    changed = [a.__class__(**{**a.__dict__, "title": a.title + " (संशोधित)"}) for a in published(store)]
    report = publish_to_targets([make_target(wp, store, tmp_path)], changed, store)
    assert report.updated == {"wp": 3}
    requests = target_requests(wp, since)
    assert creating(requests) == []  # media remembered, terms found by name, posts updated by id
    assert sum(r.startswith("POST /wp-json/wp/v2/posts/") for r in requests) == 3
    assert {p["title"]["raw"] for p in Admin(wp).posts()} == {a.title for a in changed}
    assert len(Admin(wp).posts()) == 3


def test_delete_trashes_the_post_and_a_post_deleted_in_wordpress_is_made_again(wp, store, tmp_path):
    seed(store, STORIES[:2])
    target = make_target(wp, store, tmp_path)
    publish_to_targets([target], published(store), store)
    first = store.publications.get(1, "hi", "wp")
    assert unpublish_everywhere([target], store, 1) == []
    [trashed] = Admin(wp).trashed()
    assert trashed["id"] == int(first.remote_id) and trashed["slug"].endswith("__trashed")
    assert store.publications.get(1, "hi", "wp").state == "unpublished"

    second = store.publications.get(2, "hi", "wp")
    Admin(wp).call("DELETE", f"wp/v2/posts/{second.remote_id}", force="true")  # an editor deletes it for good
    article = next(a for a in published(store) if a.id == 2)
    article.title += " (नया)"
    assert publish_to_targets([target], [article], store).updated == {"wp": 1}
    [again] = [p for p in Admin(wp).posts() if p["slug"].startswith("2-")]
    assert again["id"] != int(second.remote_id) and store.publications.get(2, "hi", "wp").remote_id == str(again["id"])


def test_an_image_type_wordpress_refuses_leaves_the_posts_without_it(wp, store, tmp_path, caplog):
    from samachar.images import read_image

    seed(store, STORIES[1:2] + STORIES[1:2])  # two stories with the same lead image
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80"/></svg>'
    store.images.save(f"{ORIGIN}/img/envoy.png", read_image(svg))
    since = len(wp.requests())
    report = publish_to_targets([make_target(wp, store, tmp_path)], published(store), store)
    assert report.published == {"wp": 2} and not report.failed
    assert [p["featured_media"] for p in Admin(wp).posts()] == [0, 0] and Admin(wp).media() == []
    assert sum(r.startswith("POST /wp-json/wp/v2/media") for r in target_requests(wp, since)) == 1  # asked once
    assert "does not take image/svg+xml uploads" in caplog.text

    wp.control(allow_svg=True)  # a site with an SVG plugin
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE target_media SET uploaded_at = '2000-01-01 00:00:00'")  # a day and more ago
    changed = [a.__class__(**{**a.__dict__, "title": a.title + "!"}) for a in published(store)]
    publish_to_targets([make_target(wp, store, tmp_path)], changed, store)
    featured = {p["featured_media"] for p in Admin(wp).posts()}
    assert len(featured) == 1 and featured != {0} and len(Admin(wp).media()) == 1


def test_held_entries_go_out_as_pending_posts_for_review(wp, store, tmp_path):
    [entry_id] = seed(store, STORIES[2:])
    store.entries.set_state(entry_id, "held", reason="QA: numbers differ")
    target = make_target(wp, store, tmp_path, held="pending", status="publish")
    assert target.publish_held and not make_target(wp, store, tmp_path).publish_held
    held = store.posts.held_articles("hi", [entry_id], default_policy="full")
    assert [a.held for a in held] == [True]
    publish_to_targets([target], held, store)
    [post] = Admin(wp).posts()
    assert post["status"] == "pending"
    # Approved: published like any other entry; the same post becomes public, none is added.
    store.entries.set_state(entry_id, "published", reason="approved")
    publish_to_targets([target], published(store), store)
    [approved] = Admin(wp).posts()
    assert approved["id"] == post["id"] and approved["status"] == "publish"


def test_a_failing_post_stops_neither_the_others_nor_other_targets(wp, store, tmp_path):
    seed(store)
    good = make_target(wp, store, tmp_path)
    broken = make_target(wp, store, tmp_path, name="wp2", user="nobody")
    report = publish_to_targets([broken, good], published(store), store)
    assert report.published == {"wp": 3} and len(report.failed["wp2"]) == 3
    assert store.publications.get(1, "hi", "wp2").state == "failed"


@pytest.mark.parametrize("case, expected", [
    ("wrong password", "either the password is wrong"),
    ("header stripped", "the host strips the Authorization header"),
    ("no application passwords", "Application Passwords are off on this site; WordPress offers them over HTTPS"),
    ("subscriber", "WordPress user 'reader' may not create a post"),
    ("rest off", "no WordPress REST API at"),
    ("too large", "too large (HTTP 413)"),
    ("unavailable", "WordPress failed to create a post (503"),
    ("slow down", "WordPress asked samachar to slow down (429"),
])
def test_each_refusal_is_one_line_with_its_fix_and_never_the_password(wp, store, tmp_path, monkeypatch, caplog,
                                                                      case, expected):
    seed(store, STORIES[2:])
    options = {}
    if case == "wrong password":
        monkeypatch.setenv(PASSWORD_ENV, "abcd efgh ijkl mnop qrst uvwx")
    elif case == "header stripped":
        wp.control(strip_authorization=True)
    elif case == "no application passwords":
        wp.control(app_passwords_off=True)
    elif case == "subscriber":
        monkeypatch.setenv(PASSWORD_ENV, wp.reader_password)
        options = {"user": wp.reader}
    elif case == "rest off":
        wp.control(rest_off=True)
    elif case == "too large":
        wp.control(max_body=200)
    elif case == "unavailable":
        wp.control(fail={"POST /wp-json/wp/v2/posts": 503})
    elif case == "slow down":
        wp.control(fail={"POST /wp-json/wp/v2/posts": 429})
    password = os.environ[PASSWORD_ENV]
    caplog.set_level(logging.DEBUG)
    target = make_target(wp, store, tmp_path, **options)
    with pytest.raises(TargetError) as caught:
        target.publish(published(store)[0], None)
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    report = publish_to_targets([target], published(store), store)
    record = store.publications.get(1, "hi", "wp")
    assert record.state == "failed" and expected in record.error and report.failed["wp"]
    later = record.updated_at + timedelta(minutes=2)  # retried after its backoff, and fixed meanwhile
    wp.control()
    monkeypatch.setenv(PASSWORD_ENV, wp.password)
    fixed = make_target(wp, store, tmp_path)
    assert publish_to_targets([fixed], published(store), store, now=later).published == {"wp": 1}
    assert len(Admin(wp).posts()) == 1
    dump = "\n".join(store.engine.raw_connection().driver_connection.iterdump()) \
        if store.engine.dialect.name == "sqlite" else ""
    for secret in {password, wp.password, wp.password.replace(" ", "")}:
        assert secret not in caplog.text and secret not in message and secret not in dump


def test_target_list_and_check(wp, tmp_path, capsys, monkeypatch):
    home = home_with_target(tmp_path / "home", wp)
    assert main(["--home", str(home), "target", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["kind"], r["url"], r["status"]) for r in rows] == [
        ("site", "site", "https://samachar.example/", "publish"), ("wp", "wordpress", wp.url, "publish")]

    assert main(["--home", str(home), "target", "check", "wp"]) == 0
    out = capsys.readouterr().out
    assert f"{wp.url}/wp-json/ answers" in out and "administrator" in out and "upload_files" in out

    monkeypatch.setenv(PASSWORD_ENV, wp.reader_password)
    reader = home_with_target(tmp_path / "reader", wp, user=wp.reader)
    assert main(["--home", str(reader), "target", "check", "wp"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: WordPress user 'reader' (subscriber) lacks edit_posts, upload_files, publish_posts")
    assert "\n" not in err

    monkeypatch.setenv(PASSWORD_ENV, "wrong wrong wrong")
    assert main(["--home", str(home), "target", "check", "wp"]) == 2
    err = capsys.readouterr().err
    assert "did not log in user 'samachar'" in err and "Application Passwords" in err and "wrong wrong" not in err

    monkeypatch.delenv(PASSWORD_ENV)
    assert main(["--home", str(home), "target", "check", "wp"]) == 2
    assert f"the environment variable {PASSWORD_ENV} is empty" in capsys.readouterr().err

    assert main(["--home", str(home), "target", "check", "nope"]) == 2
    assert "no target 'nope' in samachar.toml (targets: site, wp)" in capsys.readouterr().err


def test_rest_root_without_pretty_permalinks_is_found_through_rest_route(wp, store, tmp_path):
    """A site without the Link header (some hosts strip it) is still reached, through ?rest_route=/."""
    seed(store, STORIES[2:])
    wp.control(strip_link=True)
    since = len(wp.requests())
    publish_to_targets([make_target(wp, store, tmp_path)], published(store), store)
    assert [p["title"]["raw"] for p in Admin(wp).posts()] == [STORIES[2].title_hi]
    assert any("rest_route=%2Fwp%2Fv2%2Fposts" in r or "rest_route=/wp/v2/posts" in r
               for r in target_requests(wp, since))
