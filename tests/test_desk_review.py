"""The review pages of the desk through its ASGI app: the queue, the entry page and every editor's action."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from desk import csrf_of, open_desk, signed_in, spanish_site
from lxml import html as lxml_html
from test_editorial import APERTIUM, ROADS, held_entry, segment

from samachar.model import EntryState, Flag
from samachar.pipeline import Pipeline
from samachar.stages import stage
from samachar.store.schema import translation_memory
from samachar.translate.memory import HUMAN


@pytest.fixture
def desk(tmp_path):
    with open_desk(tmp_path, spanish_site(tmp_path / "home")) as opened:
        yield opened


@pytest.fixture
def editor(desk):
    return signed_in(desk.client(), "editor")


def flash_after(client, response) -> str:
    """Follow a 303 and return the flash message the next page shows."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    page = client.get(response.headers["location"].split("#")[0])
    found = lxml_html.fromstring(page.text).xpath('//p[@class="flash"]')
    return found[0].text_content() if found else ""


def test_the_queue_page_lists_held_entries_oldest_first_with_reasons_and_filters(desk, editor):
    first = held_entry(desk.service, "Council approves roads")
    quoted = Flag("quotes", "error", "Work starts next week.", "x", "quotation marks differ", block=1)
    second = held_entry(desk.service, "Tide turns in Konkan", flags=[quoted], source="https://tide.example/a.xml",
                        name="Konkan Tide")
    page = editor.get("/admin/review")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.text)
    links = [a.get("href") for a in tree.xpath('//table[contains(@class, "review-queue")]//a')]
    assert links == [f"/admin/entries/{first}", f"/admin/entries/{second}"]
    assert "numbers missing from the translation: 42" in page.text and "Konkan Tide" in page.text
    filtered = editor.get("/admin/review", params={"reason": "quotes"})
    assert [a.get("href") for a in lxml_html.fromstring(filtered.text).xpath(
        '//table[contains(@class, "review-queue")]//a')] == [f"/admin/entries/{second}"]
    tide = desk.store.sources.find("https://tide.example/a.xml")
    by_source = editor.get("/admin/review", params={"source": str(tide.id), "lang": "es"})
    assert f"/admin/entries/{second}" in by_source.text and f"/admin/entries/{first}\"" not in by_source.text
    assert editor.get("/admin/review", params={"source": "x", "offset": "-3"}).status_code == 200


def test_the_entry_page_shows_both_sides_with_the_flag_on_its_segment(desk, editor):
    entry_id = held_entry(desk.service)
    page = editor.get(f"/admin/entries/{entry_id}")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.text)
    n = segment(desk.service, entry_id, ROADS)["n"]
    row = tree.get_element_by_id(f"segment-{n}")
    assert "flagged" in row.get("class")
    assert "numbers missing from the translation: 42" in row.text_content() and ROADS in row.text_content()
    assert row.xpath(".//textarea")[0].text == "El consejo aprobó carreteras."
    assert tree.xpath('//form[@action="/admin/entries/%d/approve"]//input[@name="publish_at"]' % entry_id)
    assert not tree.xpath("//script") and not tree.xpath("//*[@style]")
    for textarea in tree.xpath("//textarea | //input[@type!='hidden'] | //select"):
        assert tree.xpath(f'//label[@for="{textarea.get("id")}"]'), textarea.get("name")
    assert editor.get("/admin/entries/424242").status_code == 404


def test_editing_a_segment_stores_a_human_memory_entry_and_qa_clears_the_flag(desk, editor):
    entry_id = held_entry(desk.service)
    n = segment(desk.service, entry_id, ROADS)["n"]
    response = editor.post(f"/admin/entries/{entry_id}/segments/{n}",
                           data={"text": "El consejo aprobó 42 carreteras.", "csrf_token": csrf_of(editor)})
    assert response.headers["location"] == f"/admin/entries/{entry_id}#segment-{n}"
    assert "QA finds nothing wrong" in flash_after(editor, response)
    assert segment(desk.service, entry_id, ROADS)["flags"] == []
    with desk.store.engine.connect() as conn:
        assert conn.execute(translation_memory.select().where(translation_memory.c.engine == HUMAN)).first()
    assert desk.store.entries.get(entry_id).state == EntryState.HELD
    assert desk.store.entries.history(entry_id)[-1].reason == f"segment {n} corrected by meera"
    still = editor.post(f"/admin/entries/{entry_id}/segments/{n}",
                        data={"text": "El consejo aprobó carreteras.", "csrf_token": csrf_of(editor)})
    assert "numbers" in flash_after(editor, still)
    empty = editor.post(f"/admin/entries/{entry_id}/segments/{n}", data={"text": " ", "csrf_token": csrf_of(editor)})
    assert "cannot be empty" in flash_after(editor, empty)
    assert editor.post(f"/admin/entries/{entry_id}/segments/{n}", data={"text": "x"}).status_code == 403


def test_headline_and_glossary_forms(desk, editor):
    entry_id = held_entry(desk.service)
    response = editor.post(f"/admin/entries/{entry_id}/headline",
                           data={"text": "El consejo aprueba 42 carreteras", "csrf_token": csrf_of(editor)})
    assert flash_after(editor, response)
    assert desk.store.translations.get(entry_id, "es").title == "El consejo aprueba 42 carreteras"
    response = editor.post(f"/admin/entries/{entry_id}/glossary",
                           data={"source": "Deccan Courier", "target": "Deccan Courier", "csrf_token": csrf_of(editor)})
    assert "glossary" in flash_after(editor, response)
    assert desk.store.glossary.terms("es") == {"Deccan Courier": "Deccan Courier"}


@pytest.mark.skipif(not APERTIUM, reason="Apertium eng-spa is not installed")
def test_a_retranslation_from_the_page_keeps_the_edit(desk, editor):
    entry_id = held_entry(desk.service)
    n = segment(desk.service, entry_id, ROADS)["n"]
    editor.post(f"/admin/entries/{entry_id}/segments/{n}",
                data={"text": "Se aprobaron 42 carreteras.", "csrf_token": csrf_of(editor)})
    response = editor.post(f"/admin/entries/{entry_id}/retranslate",
                           data={"engine": "apertium", "csrf_token": csrf_of(editor)})
    assert "corrections were kept" in flash_after(editor, response)
    assert segment(desk.service, entry_id, ROADS)["target"] == "Se aprobaron 42 carreteras."
    unknown = editor.post(f"/admin/entries/{entry_id}/retranslate", data={"engine": "nope", "csrf_token": csrf_of(editor)})
    assert "not an engine" in flash_after(editor, unknown)


def test_approve_at_a_time_is_not_published_before_it_and_reject_tombstones(desk, editor):
    later = held_entry(desk.service, "Council approves roads")
    gone = held_entry(desk.service, "Bridge reopens in Solan")
    at = datetime.now(UTC) + timedelta(hours=2)
    response = editor.post(f"/admin/entries/{later}/approve",
                           data={"publish_at": at.strftime("%Y-%m-%dT%H:%M"), "csrf_token": csrf_of(editor)})
    assert response.headers["location"] == "/admin/review" and "Approved" in flash_after(editor, response)
    pipeline = Pipeline(desk.store, desk.config)
    pipeline.run_stages([stage("publish")], now=at - timedelta(minutes=30))
    assert desk.store.entries.get(later).state == EntryState.TRANSLATED
    pipeline.run_stages([stage("publish")], now=at + timedelta(minutes=1))
    assert desk.store.entries.get(later).state == EntryState.PUBLISHED

    bad = editor.post(f"/admin/entries/{gone}/approve", data={"publish_at": "soon", "csrf_token": csrf_of(editor)})
    assert "not a date" in flash_after(editor, bad) and desk.store.entries.get(gone).state == EntryState.HELD
    response = editor.post(f"/admin/entries/{gone}/reject", data={"csrf_token": csrf_of(editor)})
    assert "Rejected" in flash_after(editor, response)
    assert desk.store.entries.get(gone) is None
    again = editor.post(f"/admin/entries/{later}/approve", data={"csrf_token": csrf_of(editor)})
    assert "Nothing changed" in flash_after(editor, again)


def test_a_published_entry_edited_and_republished(desk, editor):
    entry_id = held_entry(desk.service)
    desk.service.approve(entry_id)
    Pipeline(desk.store, desk.config).run_stages([stage("publish")])
    page = editor.get(f"/admin/entries/{entry_id}")
    assert f'action="/admin/entries/{entry_id}/republish"' in page.text
    n = segment(desk.service, entry_id, ROADS)["n"]
    editor.post(f"/admin/entries/{entry_id}/segments/{n}",
                data={"text": "Se aprobaron 42 carreteras.", "csrf_token": csrf_of(editor)})
    before = desk.store.publications.get(entry_id, "es", "site").revision
    response = editor.post(f"/admin/entries/{entry_id}/republish", data={"csrf_token": csrf_of(editor)})
    assert "Republished" in flash_after(editor, response)
    assert desk.store.publications.get(entry_id, "es", "site").revision != before
    public = desk.client().get("/articles/" + desk.service.published_articles()[0].slug + "/")
    assert re.search("Se aprobaron 42 carreteras", public.text), public.status_code


def test_the_review_pages_are_in_hindi_for_a_hindi_reader(desk):
    client = signed_in(desk.client(headers={"Accept-Language": "hi"}), "editor")
    entry_id = held_entry(desk.service)
    assert "समीक्षा" in client.get("/admin/review").text
    assert "स्वीकृत करें" in client.get(f"/admin/entries/{entry_id}").text
