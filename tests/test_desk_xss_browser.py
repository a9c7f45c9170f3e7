"""The site tests' XSS vectors, stored where feeds and editors put text, never run in a desk page (Chromium).

Entry titles and bodies (original and translation), QA messages, source names
and glossary terms all carry the vectors; every GET page of the desk, taken
from the app's routes, is opened as an admin in headless Chromium.
"""

from __future__ import annotations

import pytest
from desk import PASSWORDS, USERS, open_desk
from site_data import loopback, xss
from test_browser import Reader, browser  # noqa: F401 (the fixture, shared)
from test_desk_security import concrete, desk_routes

from samachar.model import Article, Block, EntryState, FeedEntry, Flag, TranslatedArticle
from samachar.sources.identity import entry_identity
from samachar.web.app import SECURITY_HEADERS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
OPEN_PATHS = {"/admin/login", "/admin/static/{name}"}


def plant_vectors(desk) -> list[int]:
    """One held entry per vector, the vector in its title, body, translation, flag, source name; and glossary."""
    store = desk.store
    entry_ids = []
    for i, vector in enumerate(xss.VECTORS):
        source = store.sources.add(f"https://hostile{i % 5}.example/feed.xml", name=f"स्रोत {vector}")
        entry = FeedEntry(title=f"Title {i} {vector}", url=f"https://hostile{i % 5}.example/{i}", summary=vector)
        [entry_id] = store.entries.add_many(source.id, [(entry, entry_identity(entry, source.id))])
        store.articles.save(entry_id, Article(url=entry.url, title=f"Title {i} {vector}",
                                              blocks=[Block("paragraph", f"Safe paragraph {i}. {vector}"),
                                                      Block("heading", vector, level=2)]))
        store.translations.save(entry_id, TranslatedArticle(
            title=f"शीर्षक {i} {vector}", blocks=[Block("paragraph", f"सुरक्षित अनुच्छेद {i}. {vector}"),
                                               Block("heading", vector, level=2)],
            source_lang="en", target_lang="hi", engine="test",
            flags=[Flag(check="numbers", severity="error", source=vector, target=vector,
                        message=f"number missing {vector}", block=0)]), state=EntryState.HELD)
        store.entries.set_state(entry_id, EntryState.HELD, error=f"held for review: numbers: {vector}")
        store.glossary.add(f"term {i} {vector}", f"शब्द {vector}", "hi")
        entry_ids.append(entry_id)
    return entry_ids


def desk_pages(desk, entry_ids: list[int]) -> list[str]:
    """Every GET page of the desk with its parameters filled; an entry's pages once per hostile entry."""
    pages = []
    for path, method, _endpoint in desk_routes(desk.app.routes):
        if method != "GET" or path in OPEN_PATHS or path.endswith("{path:path}") or path.endswith(".opml"):
            continue
        if "{id" in path and path.startswith("/admin/entries/"):
            for entry_id in entry_ids:
                desk.ids["entries"] = entry_id
                pages.append(concrete(desk, path))
        elif "/api/" not in path:
            pages.append(concrete(desk, path))
    return list(dict.fromkeys(pages))


def test_hostile_text_never_runs_in_any_desk_page(browser, tmp_path):  # noqa: F811 (the fixture)
    with open_desk(tmp_path) as desk:
        entry_ids = plant_vectors(desk)
        first_source = desk.store.sources.list()[0]
        desk.ids = {"entries": entry_ids[0], "sources": first_source.id, "users": desk.users["editor"].id}
        pages = desk_pages(desk, entry_ids)
        assert "/admin/review" in pages and "/admin/glossary" in pages and "/admin/sources" in pages
        assert len(pages) > len(entry_ids)
        with loopback.serve_app(desk.app) as url:
            reader = Reader(browser)
            try:
                reader.open(url + "/admin/login")
                reader.page.fill("#username", USERS["admin"])
                reader.page.fill("#password", PASSWORDS["admin"])
                reader.page.click("button[type=submit]")
                reader.page.wait_for_url(url + "/admin/")
                for page in pages:
                    response = reader.page.goto(url + page, wait_until="load")
                    assert response is not None and response.status == 200, (page, response and response.status)
                    assert response.headers.get("content-security-policy") == \
                        SECURITY_HEADERS["Content-Security-Policy"], page
                    reader.page.hover("h1")
                    assert reader.page.evaluate(f"() => typeof window.{xss.XSS_GLOBAL}") == "undefined", page
                review = reader.page.goto(url + "/admin/review", wait_until="load")
                assert review is not None
                assert "Title 0 <script>alert('XSS')</script>" in reader.page.inner_text("main") or \
                    "शीर्षक 0 <script>alert('XSS')</script>" in reader.page.inner_text("main")  # shown, as text
                assert reader.dialogs == []
                assert reader.errors == []
                assert reader.external == []
            finally:
                reader.close()
