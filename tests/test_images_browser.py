"""In Debian's Chromium: the lead image of a built site loads from the site's own media file, from disk and
over HTTP, and no request leaves the machine."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import database_url
from site_data import loopback
from test_browser import browser  # noqa: F401 - the shared Chromium fixture
from test_images_site import LEAD, SVG, article, local

from samachar.images import read_image
from samachar.publish.site import build_site
from samachar.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.fixture
def built(tmp_path):
    store = Store(database_url(tmp_path))
    store.images.save(LEAD, read_image(SVG))
    out = tmp_path / "site"
    build_site([article(1, "lluvia")], local(), out, media=store.images)
    store.close()
    return out


def lead_image_state(browser, url: str) -> tuple[dict, list[str]]:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    elsewhere: list[str] = []

    def route(request_route) -> None:
        parts = urlsplit(request_route.request.url)
        if parts.scheme == "file" or parts.hostname == "127.0.0.1":
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    state = page.evaluate("""() => { const img = document.querySelector('figure.lead-image img');
        return {src: img.currentSrc, width: img.naturalWidth, complete: img.complete,
                caption: document.querySelector('figure.lead-image figcaption').innerText}; }""")
    context.close()
    return state, elsewhere


def test_lead_image_loads_from_the_local_file(browser, built):  # noqa: F811
    state, elsewhere = lead_image_state(browser, (built / "articles/lluvia/index.html").as_uri())
    assert state["complete"] and state["width"] == 1200, state
    assert state["src"].startswith((built / "media").as_uri()), state
    assert "Foto: El Correo" in state["caption"]
    assert elsewhere == []
    with loopback.serve_directory(built) as url:
        state, elsewhere = lead_image_state(browser, url + "/articles/lluvia/")
    assert state["width"] == 1200 and state["src"].startswith(url + "/media/"), state
    assert elsewhere == []
