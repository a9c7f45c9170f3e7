"""An editor's whole review job in Debian's headless Chromium, on the desk served by uvicorn on loopback.

The article is translated by a real engine, the tiny random-weight CTranslate2
en→hi model the engine tests build (its output is nonsense by construction), so
the translation loses the article's number and QA holds it. The editor signs
in, fixes the segment, approves, the publish stage runs, and the corrected
text is on the public site and in its feed; a re-translation keeps the fix.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from desk import PASSWORDS, USERS, open_desk
from site_data import loopback
from test_browser import browser  # noqa: F401 (the fixture, shared)

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.model import Article, Block, EntryState, FeedEntry
from samachar.pipeline import Pipeline
from samachar.sources.identity import entry_identity
from samachar.stages import stage

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")
pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SOURCE_SENTENCE = "The council approved 42 roads on Tuesday."
FIXED = "परिषद ने मंगलवार को 42 सड़कों को मंजूरी दी।"


def run_stage(desk, name: str) -> None:
    """One pipeline stage, in a thread of its own: Playwright's sync API holds this thread's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(Pipeline(desk.store, desk.config).run_stages, [stage(name)]).result()


def tiny_model_home(tmp_path: Path) -> Config:
    from samachar.models.registry import import_model
    from samachar.models.tiny import build_tiny_argos_package

    home = tmp_path / "home"
    package = build_tiny_argos_package(tmp_path / "translate-en_hi-tiny.argosmodel")
    config = Config(home=home, site=SiteConfig(language="hi", title="समाचार", base_url="http://127.0.0.1/"),
                    translation=TranslationConfig(source_language="en", engines=["ctranslate2"]),
                    default_policy="full")
    import_model(package, config.models_dir)
    return config


def held_by_the_engine(desk) -> int:
    """An article translated by the tiny model: the number is lost, QA holds it."""
    store = desk.store
    source = store.sources.add("https://courier.example/feed.xml", name="Deccan Courier")
    item = FeedEntry(title="Council approves roads", url="https://courier.example/roads")
    [entry_id] = store.entries.add_many(source.id, [(item, entry_identity(item, source.id))])
    store.articles.save(entry_id, Article(url="https://courier.example/roads", title="Council approves roads",
                                          language="en", blocks=[Block("paragraph", SOURCE_SENTENCE)]))
    run_stage(desk, "translate")
    entry = store.entries.get(entry_id)
    assert entry.state == EntryState.HELD and "numbers" in (entry.error or ""), entry.error
    return entry_id


def test_an_editor_fixes_a_lost_number_approves_and_finds_the_fix_published(tmp_path, browser):  # noqa: F811
    config = tiny_model_home(tmp_path)
    with open_desk(tmp_path, config) as desk:
        entry_id = held_by_the_engine(desk)
        with loopback.serve_app(desk.app) as base:
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url')}")
                    if msg.type == "error" else None)
            try:
                page.goto(f"{base}/admin/login")
                page.get_by_label("User name").fill(USERS["editor"])
                page.get_by_label("Password").fill(PASSWORDS["editor"])
                with page.expect_navigation():
                    page.get_by_role("button", name="Sign in").click()
                assert "/admin/login" not in page.url, page.content()[:2000]
                page.get_by_role("link", name="Review", exact=True).click()
                page.get_by_role("link", name="Council approves roads").click()
                assert page.url.endswith(f"/admin/entries/{entry_id}")

                row = page.locator("tr.segment.flagged", has_text=SOURCE_SENTENCE)
                assert "numbers missing from the translation: 42" in row.inner_text()
                row.locator("textarea").fill(FIXED)
                row.get_by_role("button", name="Save").click()
                assert "QA finds nothing wrong" in page.locator(".flash").inner_text()
                fixed_row = page.locator("tr.segment", has_text=SOURCE_SENTENCE)
                assert "flagged" not in (fixed_row.get_attribute("class") or "")

                page.get_by_role("button", name="Approve").click()
                assert "Approved" in page.locator(".flash").inner_text()
                run_stage(desk, "publish")
                desk.app.state.live_site.invalidate()  # the served site re-reads what is published every 30 s
                assert desk.store.entries.get(entry_id).state == EntryState.PUBLISHED

                public = urlsplit(desk.store.publications.get(entry_id, "hi", "site").remote_url).path
                page.goto(base + public)
                assert FIXED in page.locator("main").inner_text()
                feed = page.request.get(f"{base}/feed.xml")
                assert feed.ok and FIXED in feed.text()

                page.goto(f"{base}/admin/entries/{entry_id}")
                page.get_by_label("Translate again with").select_option("ctranslate2")
                page.get_by_role("button", name="Re-translate").click()
                assert "corrections were kept" in page.locator(".flash").inner_text()
                assert FIXED in page.locator("tr.segment", has_text=SOURCE_SENTENCE).locator("textarea").input_value()
                page.goto(base + public)
                assert FIXED in page.locator("main").inner_text()
                assert [e for e in errors if "/favicon.ico" not in e] == []  # the site has none
            finally:
                context.close()
