"""Every desk route, taken from the app itself, is locked: anonymous refused, CSRF required, admin pages for admins.

The routes are enumerated from ``app.routes`` (mounts included), so a route
added tomorrow is tested tomorrow; only the exceptions below are listed.
"""

from __future__ import annotations

import re

import pytest
from desk import csrf_of, open_desk, signed_in
from starlette.routing import Mount, Route

from samachar.model import Article, Block, EntryState, FeedEntry, TranslatedArticle
from samachar.sources.identity import entry_identity

OPEN_PATHS = {"/admin/login", "/admin/static/{name}"}  # reachable without a session, by design
ADMIN_ONLY_PREFIXES = ("/admin/sources", "/admin/targets", "/admin/users")  # the admin pages
SAFE = {"GET", "HEAD", "OPTIONS"}


def desk_routes(routes, prefix: str = ""):
    """(path template, method, endpoint) of every route under /admin or /api/v1, mounts walked."""
    for route in routes:
        if isinstance(route, Mount):
            yield from desk_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            path = prefix + route.path
            if path == "/admin" or path.startswith(("/admin/", "/api/v1/", "/api/v1")):
                for method in sorted(route.methods or {"GET"}):
                    yield path, method, route.endpoint


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with open_desk(tmp_path_factory.mktemp("desk-security")) as desk:
        source = desk.store.sources.add("https://hillpost.example/feed.xml", name="Hill Post")
        entry = FeedEntry(title="Bridge closed", url="https://hillpost.example/bridge")
        [entry_id] = desk.store.entries.add_many(source.id, [(entry, entry_identity(entry, source.id))])
        desk.store.articles.save(entry_id, Article(url=entry.url, title="Bridge closed",
                                                   blocks=[Block("paragraph", "The bridge closed at 9.")]))
        desk.store.translations.save(entry_id, TranslatedArticle(
            title="पुल बंद", blocks=[Block("paragraph", "पुल बंद हुआ।")], source_lang="en", target_lang="hi",
            engine="test"), state=EntryState.HELD)
        desk.store.glossary.add("Shimla", "शिमला", "hi")
        desk.ids = {"entries": entry_id, "sources": source.id, "users": desk.users["editor"].id}
        yield desk


def concrete(desk, template: str) -> str:
    """The template with its parameters filled by things that exist (an entry, a source, a user, the site)."""
    def fill(match: re.Match) -> str:
        name, kind = match.group(1), match.group(2) or "str"
        if kind == "int":
            before = template[:match.start()].rstrip("/").rsplit("/", 1)[-1]
            return str(desk.ids.get(before, 0 if name == "n" else 1))
        if kind == "path":
            return "anything"
        return "site"
    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, template)


def cases(desk):
    found = [(path, method, endpoint) for path, method, endpoint in desk_routes(desk.app.routes)
             if path not in OPEN_PATHS]
    assert len({p for p, _m, _e in found}) >= 20, "the desk's routes were not found"  # review, ops and core's
    return found


def test_every_desk_route_is_guarded_by_a_desk_decorator(desk):
    unguarded = [(p, m) for p, m, endpoint in cases(desk) if getattr(endpoint, "desk_role", None) is None]
    assert unguarded == []


def test_every_route_refuses_anonymous_requests(desk):
    client = desk.client()
    for path, method, _endpoint in cases(desk):
        url = concrete(desk, path)
        response = client.request(method, url)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert method == "HEAD" or "error" in response.json()
        else:
            assert response.status_code == 303, (method, url, response.status_code)
            assert response.headers["location"] == "/admin/login"
            json = client.request(method, url, headers={"Accept": "application/json"})
            assert json.status_code == 401 and (method == "HEAD" or "error" in json.json()), (method, url)


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_every_change_needs_the_csrf_token(desk, role):
    client = signed_in(desk.client(), role)
    for path, method, _endpoint in cases(desk):
        if method in SAFE:
            continue
        url = concrete(desk, path)
        for headers, data in (({}, {}), ({}, {"csrf_token": "forged-token"}),
                              ({"X-CSRF-Token": "forged-token"}, {}),
                              ({}, {"csrf_token": csrf_of(client)[:-2] + "xx"})):
            response = client.request(method, url, headers=headers, data=data or None)
            assert response.status_code == 403, (role, method, url, data, response.status_code)
    assert desk.store.entries.get(desk.ids["entries"]).state == EntryState.HELD  # nothing happened
    assert desk.store.sources.get(desk.ids["sources"]) is not None
    assert desk.store.users.get(desk.ids["users"]) is not None


def test_admin_pages_answer_403_to_an_editor(desk):
    client = signed_in(desk.client(), "editor")
    admin_only = [(p, m, e) for p, m, e in cases(desk) if e.desk_role == "admin"]
    assert {p for p, _m, _e in admin_only} >= {p for p, _m, _e in cases(desk) if p.startswith(ADMIN_ONLY_PREFIXES)}
    for path, method, _endpoint in admin_only:
        url = concrete(desk, path)
        data = None if method in SAFE else {"csrf_token": csrf_of(client)}
        headers = {} if method in SAFE else {"X-CSRF-Token": csrf_of(client)}
        response = client.request(method, url, data=data, headers=headers)
        assert response.status_code == 403, (method, url, response.status_code)
    assert desk.store.sources.get(desk.ids["sources"]) is not None


def test_editor_tokens_cannot_reach_admin_api_routes(desk):
    client = desk.client()
    headers = {"Authorization": f"Bearer {desk.token('editor')}"}
    admin_api = [(p, m) for p, m, e in cases(desk) if p.startswith("/api/") and e.desk_role == "admin"]
    assert admin_api, "the API has admin-only routes (adding and removing sources)"
    for path, method in admin_api:
        response = client.request(method, concrete(desk, path), headers=headers, json={"url": "https://x.example/"})
        assert response.status_code == 403, (method, path, response.status_code)


def test_every_desk_page_sends_the_site_csp(desk):
    from samachar.web.app import SECURITY_HEADERS

    client = signed_in(desk.client(), "admin")
    for path, method, _endpoint in cases(desk):
        if method != "GET":
            continue
        response = client.get(concrete(desk, path))
        assert response.headers.get("content-security-policy") == SECURITY_HEADERS["Content-Security-Policy"], path
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_a_forgotten_route_would_be_caught(tmp_path):
    """The enumeration sees a route added later, and sees that it lacks a guard."""
    from starlette.responses import PlainTextResponse

    async def careless(request):
        return PlainTextResponse("secret")

    with open_desk(tmp_path) as fresh:
        fresh.app.router.routes.insert(0, Route("/admin/careless/{id:int}", careless, methods=["POST"]))
        found = {(p, m): e for p, m, e in desk_routes(fresh.app.routes)}
        assert getattr(found[("/admin/careless/{id:int}", "POST")], "desk_role", None) is None
        assert fresh.client().post("/admin/careless/1").status_code == 200  # what the tests above would refuse
