"""The desk's operator pages over a real app and store: dashboard, sources, glossary, targets."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from desk import csrf_of, open_desk, signed_in
from lxml import html as lxml_html

from samachar.config import Config
from samachar.model import EntryState, FeedEntry
from samachar.sources.identity import entry_identity

EN = {"Accept-Language": "en"}
OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>feeds</title></head><body>
<outline text="One" xmlUrl="https://one.example/feed.xml"/>
<outline text="Two"><outline text="Two inner" xmlUrl="https://two.example/rss"/></outline>
</body></opml>"""


@pytest.fixture
def desk(tmp_path):
    config = Config(home=tmp_path / "home", targets=[{"kind": "test_targets:DeskTarget", "name": "desk",
                                                      "url": "http://127.0.0.1:9/posts"}])
    with open_desk(tmp_path, config) as desk:
        yield desk


def post(client, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_of(client), **(data or {})}, **kwargs)


def follow(client, response):
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return client.get(response.headers["location"])


def flash_of(page) -> str:
    found = lxml_html.fromstring(page.text).xpath("//p[contains(@class, 'flash')]")
    return found[0].text_content().strip() if found else ""


ADMIN_ONLY = [("GET", "/admin/sources"), ("GET", "/admin/sources/1"), ("GET", "/admin/targets"),
              ("GET", "/admin/sources/export.opml"), ("POST", "/admin/sources"), ("POST", "/admin/sources/1/pause"),
              ("POST", "/admin/sources/1/resume"), ("POST", "/admin/sources/1/remove"),
              ("POST", "/admin/sources/import-opml"), ("POST", "/admin/targets/desk/check")]


@pytest.mark.parametrize("method, path", ADMIN_ONLY)
def test_an_editor_cannot_reach_the_operator_pages(desk, method, path):
    desk.store.sources.add("https://paper.example/feed.xml")
    client = signed_in(desk.client(headers=EN), "editor")
    response = client.get(path) if method == "GET" else post(client, path)
    assert response.status_code == 403
    assert desk.store.sources.get(1).paused is False and len(desk.store.sources.list()) == 1


@pytest.mark.parametrize("path", ["/admin/", "/admin/glossary"])
def test_an_editor_sees_the_dashboard_and_the_glossary(desk, path):
    client = signed_in(desk.client(headers=EN), "editor")
    assert client.get(path).status_code == 200
    assert desk.client().get(path).status_code == 303  # anonymous: to the login


def test_the_dashboard_shows_the_numbers_as_charts_and_as_text(desk):
    store = desk.store
    source = store.sources.add("https://paper.example/feed.xml", name="<b>Paper</b>").id
    items = [FeedEntry(title=f"Story {n}", url=f"https://paper.example/{n}") for n in range(3)]
    ids = store.entries.add_many(source, [(i, entry_identity(i, source)) for i in items])
    store.entries.set_state(ids[0], EntryState.HELD, error="held for review: numbers: 12 is missing")
    store.entries.set_state(ids[1], EntryState.FAILED, error='page not fetched: <script>alert("x")</script>')
    client = signed_in(desk.client(headers=EN), "editor")
    page = client.get("/admin/")
    assert page.status_code == 200 and "content-security-policy" in page.headers
    doc = lxml_html.fromstring(page.text)
    assert len(doc.xpath("//svg")) == 4 and all(svg.xpath("./title") for svg in doc.xpath("//svg"))
    assert not doc.xpath("//script") and not doc.xpath("//*[@style]")
    assert "<b>Paper</b>" in doc.text_content() and not doc.xpath("//b[text()='Paper']")
    errors = doc.xpath("//section[@aria-labelledby='errors-heading']//tr/td[2]")
    assert [e.text_content() for e in errors] == [f"entry {ids[1]}"]
    numbers = doc.xpath("//section[@aria-labelledby='states-heading']//tbody//td")
    assert [n.text_content() for n in numbers][:1] == ["1"]  # one new entry
    assert "held for review" not in page.text  # a held entry is not an error


def test_sources_are_added_paused_resumed_edited_and_removed(desk):
    client = signed_in(desk.client(headers=EN), "admin")
    added = post(client, "/admin/sources", {"url": "https://paper.example/feed.xml", "name": "Paper",
                                            "policy": "full", "no_discover": "1"})
    page = follow(client, added)
    source = desk.store.sources.find("https://paper.example/feed.xml")
    assert added.headers["location"] == f"/admin/sources/{source.id}"
    assert flash_of(page) == f"source {source.id}: https://paper.example/feed.xml"
    assert source.name == "Paper" and source.policy == "full"

    again = post(client, "/admin/sources", {"url": "https://paper.example/feed.xml", "no_discover": "1"})
    assert "already followed" in flash_of(follow(client, again))

    page = follow(client, post(client, f"/admin/sources/{source.id}/pause"))
    assert desk.store.sources.get(source.id).paused and "Paused Paper" in flash_of(page)
    follow(client, post(client, f"/admin/sources/{source.id}/resume"))
    assert not desk.store.sources.get(source.id).paused

    saved = post(client, f"/admin/sources/{source.id}", {
        "name": "", "policy": "", "seo": "noindex", "interval": "30", "targets_mode": "listed",
        "target-desk": "1", "category-desk": "Politics"})
    follow(client, saved)
    changed = desk.store.sources.get(source.id)
    assert (changed.name, changed.policy, changed.seo, changed.interval_minutes) == (None, None, "noindex", 30)
    assert changed.targets == {"desk": {"category": "Politics"}}
    page = client.get(f"/admin/sources/{source.id}")
    assert 'value="Politics"' in page.text and "checked" in page.text

    follow(client, post(client, f"/admin/sources/{source.id}", {"targets_mode": "all"}))
    assert desk.store.sources.get(source.id).targets is None

    bad = post(client, f"/admin/sources/{source.id}", {"policy": "everything"})
    assert bad.status_code == 400 and "everything" in bad.text

    page = follow(client, post(client, f"/admin/sources/{source.id}/remove"))
    assert desk.store.sources.get(source.id) is None and "entries are kept" in flash_of(page)
    assert client.get(f"/admin/sources/{source.id}").status_code == 404


def test_adding_an_unusable_address_says_why_in_one_line(desk):
    client = signed_in(desk.client(headers=EN), "admin")
    page = post(client, "/admin/sources", {"url": "ftp://paper.example/feed"})
    assert page.status_code == 400
    [error] = lxml_html.fromstring(page.text).xpath("//p[@role='alert']")
    assert "not a usable http(s) URL" in error.text_content() and desk.store.sources.list() == []


def test_a_site_address_is_added_by_the_feed_it_announces(desk, monkeypatch):
    from loopback import LoopbackSite

    monkeypatch.setenv("SAMACHAR_ALLOW_PRIVATE_NETWORKS", "1")
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Loop</title><link>{{BASE}}/</link>'
            "<item><title>One</title><link>{{BASE}}/1</link></item></channel></rss>")
    home = '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body></body></html>'
    with LoopbackSite({"/": (200, "text/html", home), "/feed.xml": (200, "application/rss+xml", feed)}) as site:
        client = signed_in(desk.client(headers=EN), "admin")
        follow(client, post(client, "/admin/sources", {"url": site.url("/")}))
        [source] = desk.store.sources.list()
        assert source.url == site.url("/feed.xml")


def test_opml_is_imported_from_an_upload_and_exported(desk):
    client = signed_in(desk.client(headers=EN), "admin")
    response = client.post("/admin/sources/import-opml", data={"csrf_token": csrf_of(client)},
                           files={"file": ("feeds.opml", OPML, "text/x-opml")})
    assert "Imported 2 sources" in flash_of(follow(client, response))
    assert {s.url for s in desk.store.sources.list()} == {"https://one.example/feed.xml", "https://two.example/rss"}
    exported = client.get("/admin/sources/export.opml")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert 'xmlUrl="https://two.example/rss"' in exported.text

    broken = client.post("/admin/sources/import-opml", data={"csrf_token": csrf_of(client)},
                         files={"file": ("feeds.opml", b"<rss></rss>", "text/xml")})
    assert broken.status_code == 400 and "not an OPML file" in broken.text


def test_the_glossary_is_kept_by_editors(desk):
    client = signed_in(desk.client(headers=EN), "editor")
    lang = desk.config.site.language
    page = follow(client, post(client, "/admin/glossary", {"source": "Lok Sabha", "target": "लोकसभा"}))
    assert desk.store.glossary.terms(lang) == {"Lok Sabha": "लोकसभा"} and "Lok Sabha" in flash_of(page)
    assert "लोकसभा" in page.text
    assert post(client, "/admin/glossary", {"source": "", "target": "x"}).status_code == 400
    follow(client, post(client, "/admin/glossary/remove", {"source": "Lok Sabha"}))
    assert desk.store.glossary.terms(lang) == {}
    assert client.post("/admin/glossary", data={"source": "a", "target": "b"}).status_code == 403  # no CSRF token


def test_targets_show_their_status_and_check_their_connection_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("WP_SECRET_PASSWORD", "very-secret-app-password")
    config = Config(home=tmp_path / "home", targets=[
        {"kind": "wordpress", "name": "wp", "url": "https://127.0.0.1:9", "user": "poster",
         "password_env": "WP_SECRET_PASSWORD"}])
    with open_desk(tmp_path, config) as desk:
        source = desk.store.sources.add("https://paper.example/feed.xml").id
        item = FeedEntry(title="Story", url="https://paper.example/1")
        [entry] = desk.store.entries.add_many(source, [(item, entry_identity(item, source))])
        desk.store.publications.record_failure(entry, "hi", "wp", "WordPress answered HTTP 500")
        client = signed_in(desk.client(headers=EN), "admin")
        page = client.get("/admin/targets")
        assert page.status_code == 200
        rows = {r.xpath("./th")[0].text_content(): r for r in lxml_html.fromstring(page.text).xpath("//tbody/tr")}
        assert set(rows) == {"site", "wp"}
        assert "WordPress answered HTTP 500" in rows["wp"].text_content()
        checked = follow(client, post(client, "/admin/targets/wp/check"))
        said = flash_of(checked)
        assert said.startswith("Check failed:") and "very-secret" not in checked.text
        assert "very-secret" not in page.text and "WP_SECRET_PASSWORD" not in page.text
        site = flash_of(follow(client, post(client, "/admin/targets/site/check")))
        assert "the built-in site" in site
        unknown = flash_of(follow(client, post(client, "/admin/targets/nonesuch/check")))
        assert "no target 'nonesuch'" in unknown


def test_pages_are_in_hindi_for_a_hindi_reader(desk):
    client = signed_in(desk.client(headers={"Accept-Language": "hi"}), "admin")
    for path, heading in (("/admin/", "डैशबोर्ड"), ("/admin/sources", "स्रोत"), ("/admin/glossary", "शब्दावली"),
                          ("/admin/targets", "प्रकाशन लक्ष्य")):
        page = client.get(path)
        [h1] = lxml_html.fromstring(page.text).xpath("//h1")
        assert heading in h1.text_content(), (path, h1.text_content())
        assert not re.search(r"\b(Entries per state|Add a source|Add a term|Check connection)\b", page.text), path


def test_every_operations_route_is_guarded():
    from samachar.web.admin import operations

    for route in operations.ROUTES:
        assert getattr(route.endpoint, "desk_role", None) in ("editor", "admin"), route.path
    roles = {route.path: route.endpoint.desk_role for route in operations.ROUTES}
    assert roles["/admin/"] == roles["/admin/glossary"] == "editor" and roles["/admin/sources"] == "admin"


def test_config_with_a_bad_target_table_still_shows_the_page(tmp_path):
    config = Config(home=tmp_path / "home")
    config = replace(config, targets=[{"kind": "wordpress", "name": "wp"}])  # no url: does not load
    with open_desk(tmp_path, config) as desk:
        client = signed_in(desk.client(headers=EN), "admin")
        page = client.get("/admin/targets")
        [error] = lxml_html.fromstring(page.text).xpath("//p[@role='alert']")
        assert page.status_code == 200 and "target 'wp': url = None" in error.text_content()
