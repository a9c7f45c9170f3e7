"""What keeps the desk's review pages fast (bench/bench_desk.py measures them): work a page must not do per request.

These count work, not time, so they hold on a busy machine: statements an
entry view runs, exceptions the templates raise, CSRF fields formatted, trips
to the thread pool.
"""

from __future__ import annotations

import re

import jinja2
import pytest
from desk import open_desk, signed_in, spanish_site
from sqlalchemy import event
from test_editorial import held_entry

from samachar import editorial
from samachar.web.admin import render, review


@pytest.fixture
def desk(tmp_path):
    with open_desk(tmp_path, spanish_site(tmp_path / "home")) as opened:
        yield opened


def statements_of(store, work) -> list[str]:
    said: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        said.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    return said


def test_an_entry_view_names_its_source_without_counting_every_entry(desk):
    entry_id = held_entry(desk.service, "Council approves roads", name="Deccan Courier")
    for other in range(3):  # entries of other sources, which the view has no business reading
        held_entry(desk.service, f"Tide report {other}", source="https://tide.example/atom.xml", name="Konkan Tide")
    entry = desk.store.entries.get(entry_id)

    said = statements_of(desk.store, lambda: editorial.entry_view(desk.store, desk.config, entry))
    view = editorial.entry_view(desk.store, desk.config, entry)

    source = desk.store.sources.get(entry.source_id)
    assert view["source"] == {"id": source.id, "name": "Deccan Courier", "url": source.url}
    aggregates = [s for s in said if re.search(r"\bcount\(|\bgroup by\b", s, re.IGNORECASE)]
    assert aggregates == [], aggregates


def test_an_entry_view_without_a_source_name_shows_the_feed_title_or_url(desk):
    entry_id = held_entry(desk.service, "Council approves roads", name="")
    entry = desk.store.entries.get(entry_id)
    view = editorial.entry_view(desk.store, desk.config, entry)
    assert view["source"]["name"] == desk.store.sources.get(entry.source_id).display_name


def test_templates_read_dict_keys_without_trying_an_attribute_first(monkeypatch):
    """A failed ``getattr`` raises and drops an AttributeError: per key of 300 segments, a tenth of the page."""
    tried: list[str] = []
    real = getattr

    def counting(obj, name, *default):
        tried.append(name)
        return real(obj, name, *default)

    monkeypatch.setattr(jinja2.environment, "getattr", counting, raising=False)
    env = render.environment()
    row = {"n": 3, "source": "x", "flags": []}
    assert [env.getattr(row, key) for key in ("n", "source", "flags")] == [3, "x", []]
    assert tried == []
    # what an attribute of dict still gives, and a missing key, are as Jinja has them
    assert env.getattr(row, "items")() == row.items()
    assert isinstance(env.getattr(row, "missing"), jinja2.Undefined)
    assert env.from_string("{{ row.n }} {{ row.items()|list|length }} [{{ row.missing }}]").render(row=row) == "3 3 []"


def test_every_form_of_a_page_carries_one_csrf_field_formatted_once(desk, monkeypatch):
    entry_id = held_entry(desk.service, "Council approves roads")
    client = signed_in(desk.client(), "editor")
    formatted: list[str] = []
    real = render.Markup.format

    def counting(self, *args, **kwargs):
        if "csrf_token" in self:
            formatted.append(str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(render.Markup, "format", counting)
    page = client.get(f"/admin/entries/{entry_id}")
    assert page.status_code == 200
    fields = re.findall(r'<input type="hidden" name="csrf_token" value="([^"]+)">', page.text)
    assert len(fields) > 3 and len(set(fields)) == 1  # a form per segment, the decisions, sign-out
    assert len(formatted) == 1, len(formatted)


def test_the_queue_page_reads_its_rows_and_filters_in_one_trip_to_the_thread_pool(desk, monkeypatch):
    held_entry(desk.service, "Council approves roads")
    client = signed_in(desk.client(), "editor")
    client.get("/admin/review")  # the session is looked up before the handler: not counted below
    trips: list[str] = []
    real = review.run_in_threadpool

    async def counting(func, *args, **kwargs):
        trips.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(review, "run_in_threadpool", counting)
    page = client.get("/admin/review")
    assert page.status_code == 200 and "Council approves roads" in page.text
    assert len(trips) == 1, trips


def test_serve_keeps_the_long_lived_heap_out_of_the_collectors_full_passes(tmp_path, monkeypatch, capsys):
    """A full collection walks every object: tens of milliseconds on a served heap, the desk's p99 before."""
    import gc

    import uvicorn
    from conftest import database_url

    from samachar.cli import main

    frozen_while_serving: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: frozen_while_serving.append(gc.get_freeze_count()))
    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    try:
        assert main(["--home", str(tmp_path / "home"), "serve", "--port", "8123"]) == 0
        assert len(frozen_while_serving) == 1 and frozen_while_serving[0] > 1000
        assert gc.get_freeze_count() == 0  # the server stopped: the heap is the collector's again
    finally:
        gc.unfreeze()
    capsys.readouterr()
