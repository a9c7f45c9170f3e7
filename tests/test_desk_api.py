"""The desk's JSON API (/api/v1/) with bearer tokens: entries, sources, errors, roles."""

from __future__ import annotations

import pytest
from desk import csrf_of, open_desk, signed_in
from loopback import LoopbackSite

from samachar.model import Article, Block, EntryState, FeedEntry, TranslatedArticle
from samachar.sources.identity import entry_identity


@pytest.fixture
def desk(tmp_path):
    with open_desk(tmp_path) as desk:
        yield desk


def add_entry(desk, title: str, *, state: EntryState | None = None, feed: str = "https://hillpost.example/feed.xml",
              lang: str | None = None) -> int:
    source = desk.store.sources.add(feed)
    entry = FeedEntry(title=title, url=f"{feed.rsplit('/', 1)[0]}/{title.split()[0].lower()}")
    [entry_id] = desk.store.entries.add_many(source.id, [(entry, entry_identity(entry, source.id))])
    if lang:
        desk.store.articles.save(entry_id, Article(url=entry.url, title=title, blocks=[Block("paragraph", title)]))
        desk.store.translations.save(entry_id, TranslatedArticle(
            title=f"{lang} {title}", blocks=[Block("paragraph", f"{lang} {title}")], source_lang="en",
            target_lang=lang, engine="test"), state=EntryState.TRANSLATED)
    if state is not None:
        desk.store.entries.set_state(entry_id, state, error="held for review: numbers: 42 missing"
                                     if state == EntryState.HELD else None)
    return entry_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_and_bad_tokens_get_401_json(desk):
    client = desk.client()
    for response in (client.get("/api/v1/entries"), client.get("/api/v1/entries", headers=bearer("sam_nope"))):
        assert response.status_code == 401
        assert set(response.json()) == {"error"} and "\n" not in response.json()["error"]
    token_id, token = desk.accounts.create_token(desk.users["editor"])
    assert client.get("/api/v1/entries", headers=bearer(token)).status_code == 200
    desk.accounts.revoke_token(token_id)
    assert client.get("/api/v1/entries", headers=bearer(token)).status_code == 401


def test_entries_list_filters_and_pages(desk):
    held = add_entry(desk, "Bridge closed after storm", state=EntryState.HELD, lang="hi")
    other = add_entry(desk, "Council meets", feed="https://valley.example/rss", lang="es")
    add_entry(desk, "Market opens")
    client, headers = desk.client(), bearer(desk.token("editor"))
    everything = client.get("/api/v1/entries", headers=headers).json()
    assert everything["total"] == 3 and len(everything["entries"]) == 3
    assert [e["id"] for e in client.get("/api/v1/entries?state=held", headers=headers).json()["entries"]] == [held]
    assert [e["id"] for e in client.get("/api/v1/entries?lang=es", headers=headers).json()["entries"]] == [other]
    valley = client.get("/api/v1/entries", params={"source": "https://valley.example/rss"}, headers=headers).json()
    assert [e["id"] for e in valley["entries"]] == [other] and valley["entries"][0]["source"]["url"].startswith(
        "https://valley.example")
    page = client.get("/api/v1/entries?limit=2&offset=2", headers=headers).json()
    assert len(page["entries"]) == 1 and page["total"] == 3 and page["offset"] == 2
    for bad in ("state=nonsense", "limit=0", "limit=x", "offset=-1", "colour=red", "source=999"):
        response = client.get(f"/api/v1/entries?{bad}", headers=headers)
        assert response.status_code in (400, 404) and "error" in response.json(), bad


def test_entry_show_approve_reject(desk):
    held = add_entry(desk, "Bridge closed after storm", state=EntryState.HELD, lang="hi")
    client, headers = desk.client(), bearer(desk.token("editor"))
    shown = client.get(f"/api/v1/entries/{held}", headers=headers)
    assert shown.status_code == 200 and shown.json()["id"] == held and shown.json()["state"] == "held"
    assert client.get("/api/v1/entries/999999", headers=headers).status_code == 404
    approved = client.post(f"/api/v1/entries/{held}/approve", headers=headers)
    assert approved.status_code == 200 and desk.store.entries.get(held).state == EntryState.TRANSLATED
    again = client.post(f"/api/v1/entries/{held}/approve", headers=headers)
    assert again.status_code == 409 and "not held" in again.json()["error"]
    later = add_entry(desk, "Dam level rises", state=EntryState.HELD, lang="hi")
    response = client.post(f"/api/v1/entries/{later}/approve", headers=headers, json={"publish_at": "2999-01-01T06:00"})
    assert response.status_code == 200 and response.json()["publish_after"].startswith("2999-01-01T06:00")
    bad = client.post(f"/api/v1/entries/{later}/approve", headers=headers, content=b"{not json")
    assert bad.status_code == 400
    rejected = client.post(f"/api/v1/entries/{held}/reject", headers=headers)
    assert rejected.status_code == 200 and desk.store.entries.get(held) is None  # a tombstone
    assert client.post("/api/v1/entries/999999/reject", headers=headers).status_code == 404


def test_sources_list_add_remove_and_roles(desk):
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Loop News</title>'
            '<link>{{BASE}}/</link><item><title>One</title><link>{{BASE}}/one</link></item></channel></rss>')
    editor, admin = bearer(desk.token("editor")), bearer(desk.token("admin"))
    client = desk.client()
    with LoopbackSite({"/feed.xml": (200, "application/rss+xml", feed)}) as site:
        url = site.url("/feed.xml")
        refused = client.post("/api/v1/sources", headers=editor, json={"url": url, "discover": False})
        assert refused.status_code == 403 and desk.store.sources.list() == []
        added = client.post("/api/v1/sources", headers=admin, json={"url": url, "name": "Loop", "discover": False})
        assert added.status_code == 201 and added.json()["name"] == "Loop" and added.json()["url"] == url
        again = client.post("/api/v1/sources", headers=admin, json={"url": url, "discover": False})
        assert again.status_code == 200 and again.json()["created"] is False
    for body in ({"url": "ftp://x"}, {}, {"url": url, "policy": "all"}, {"url": url, "colour": 1},
                 {"url": url, "interval_minutes": 0}):
        response = client.post("/api/v1/sources", headers=admin, json=body)
        assert response.status_code == 400 and "\n" not in response.json()["error"], body
    listed = client.get("/api/v1/sources", headers=editor).json()["sources"]
    assert [s["name"] for s in listed] == ["Loop"]
    source_id = listed[0]["id"]
    assert client.delete(f"/api/v1/sources/{source_id}", headers=editor).status_code == 403
    assert client.delete(f"/api/v1/sources/{source_id}", headers=admin).status_code == 200
    assert client.delete(f"/api/v1/sources/{source_id}", headers=admin).status_code == 404
    assert desk.store.sources.list() == []


def test_token_last_used_is_kept(desk):
    token_id, token = desk.accounts.create_token(desk.users["editor"], "ci")
    assert next(t for t in desk.accounts.tokens() if t.id == token_id).last_used_at is None
    desk.client().get("/api/v1/sources", headers=bearer(token))
    assert next(t for t in desk.accounts.tokens() if t.id == token_id).last_used_at is not None


def test_a_signed_in_browser_may_use_the_api_with_csrf_only(desk):
    held = add_entry(desk, "Bridge closed after storm", state=EntryState.HELD, lang="hi")
    client = signed_in(desk.client(), "editor")
    assert client.get("/api/v1/entries").status_code == 200
    assert client.post(f"/api/v1/entries/{held}/approve").status_code == 403
    assert client.post(f"/api/v1/entries/{held}/approve", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post(f"/api/v1/entries/{held}/approve", headers={"X-CSRF-Token": csrf_of(client)}).status_code == 200


def test_unknown_api_paths_answer_json(desk):
    client = desk.client()
    assert client.get("/api/v1/nothing").status_code == 401
    response = client.get("/api/v1/nothing", headers=bearer(desk.token()))
    assert response.status_code == 404 and "error" in response.json()
