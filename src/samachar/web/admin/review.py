"""The desk's editorial pages: the review queue, the entry side by side, and what an editor does to an entry.

The handlers only translate between forms and :mod:`samachar.editorial`; every
POST answers 303 back to a page with a one-line flash (what was done, or why
not), so the pages work without JavaScript and a reload never posts twice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from samachar import editorial
from samachar.errors import SamacharError
from samachar.model import EntryState
from samachar.web.admin.auth import desk_of, editor_page, form_of, form_text
from samachar.web.admin.render import gettext_for, redirect, render

QUEUE = "/admin/review"



def _whole(text: str | None) -> int | None:
    """A query's whole number, or None when absent or not one (a filter left empty)."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _entry_url(entry_id: int, anchor: str = "") -> str:
    return f"/admin/entries/{entry_id}" + (f"#{anchor}" if anchor else "")


# -- the queue ------------------------------------------------------------------------------------

@editor_page
async def review_queue(request: Request) -> Response:
    desk = desk_of(request)
    query = request.query_params
    source_id, offset = _whole(query.get("source")), _whole(query.get("offset")) or 0
    reason, lang = query.get("reason", "").strip()[:100], query.get("lang", "").strip()[:16]

    def load() -> tuple[editorial.QueuePage, editorial.QueueFacets]:  # one trip to the thread pool, not two
        return (editorial.held_queue(desk.store, source_id=source_id, reason=reason or None, lang=lang or None,
                                     offset=offset), editorial.queue_facets(desk.store))

    page, facets = await run_in_threadpool(load)
    chosen = {k: v for k, v in (("source", str(source_id) if source_id else ""), ("reason", reason),
                                ("lang", lang)) if v}

    def page_url(at: int) -> str:
        return QUEUE + "?" + urlencode({**chosen, "offset": at})

    return render(request, "admin/review.html", page=page, facets=facets, chosen=chosen, page_url=page_url)


# -- the entry ------------------------------------------------------------------------------------

@editor_page
async def entry_page(request: Request) -> Response:
    desk = desk_of(request)
    entry_id = request.path_params["id"]

    def load() -> dict[str, Any] | None:
        entry = desk.store.entries.get(entry_id)
        return editorial.entry_view(desk.store, desk.config, entry) if entry is not None else None

    view = await run_in_threadpool(load)
    if view is None:
        return render(request, "admin/error.html", status_code=404,
                      message=gettext_for(request)("No such entry."))
    return render(request, "admin/entry.html", view=view, engines=editorial.chain_engines(desk.config),
                  held=view["state"] == EntryState.HELD, published=view["state"] == EntryState.PUBLISHED)


async def _act(request: Request, action: Any, done: str, back: str | None = None) -> Response:
    """Run ``action(form, editor)`` in a thread; 303 to the entry (or ``back``) with ``done`` or the error.

    An entry that is not there is a 404 page, not a redirect to a page that is not there either.
    """
    entry_id = request.path_params["id"]
    if await run_in_threadpool(desk_of(request).store.entries.get, entry_id) is None:
        return render(request, "admin/error.html", status_code=404,
                      message=gettext_for(request)("No such entry."))
    form = await form_of(request)
    editor = request.state.user.name
    try:
        result = await run_in_threadpool(action, form, editor)
    except SamacharError as exc:
        return redirect(request, _entry_url(entry_id), flash=str(exc))
    if result is False:
        return redirect(request, _entry_url(entry_id),
                        flash=gettext_for(request)("Nothing changed: the entry is not in a state for this."))
    live_site = getattr(request.app.state, "live_site", None)
    if live_site is not None:  # the served site shows a corrected or republished text at once
        live_site.invalidate()
    message = done(result) if callable(done) else done
    return redirect(request, back or _entry_url(entry_id), flash=message)


@editor_page
async def edit_segment(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id, n = request.path_params["id"], request.path_params["n"]

    def edit(form: Any, editor: str) -> editorial.Edit:
        return editorial.edit_segment(desk.store, desk.config, entry_id, n, form_text(form, "text"), editor=editor)

    def said(edit: editorial.Edit) -> str:
        if edit.flags:
            return _("Saved; QA still finds: %(flags)s") % {
                "flags": "; ".join(f"{f.check}: {f.message}" for f in edit.flags)}
        return _("Saved; QA finds nothing wrong with the segment.")

    response = await _act(request, edit, said)
    if response.status_code == 303:  # back to the segment just saved
        response.headers["location"] = _entry_url(entry_id, f"segment-{n}")
    return response


@editor_page
async def edit_headline(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]

    def edit(form: Any, editor: str) -> editorial.Edit:
        return editorial.edit_headline(desk.store, desk.config, entry_id, form_text(form, "text"), editor=editor)

    return await _act(request, edit, _("Headline saved."))


@editor_page
async def add_glossary(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]

    def add(form: Any, editor: str) -> str:
        return editorial.add_glossary_term(desk.store, desk.config, entry_id, form_text(form, "source"),
                                           form_text(form, "target"), editor=editor)

    return await _act(request, add, _("Added to the glossary; it applies to translations from now on."))


@editor_page
async def approve(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]
    at_text = form_text(await form_of(request), "publish_at")

    def decide(form: Any, editor: str) -> bool:
        return desk.service.approve(entry_id, at=editorial.parse_publish_at(at_text), by=editor)

    done = (_("Approved; published on the first run after %(at)s (UTC).") % {"at": at_text.replace("T", " ")}
            if at_text.strip() else _("Approved; published on the next run."))
    return await _act(request, decide, done, back=QUEUE)


@editor_page
async def reject(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]

    def decide(form: Any, editor: str) -> bool:
        return editorial.reject(desk.service, entry_id, editor=editor)

    return await _act(request, decide, _("Rejected: the entry is gone and never imported again."), back=QUEUE)


@editor_page
async def retranslate(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]

    def again(form: Any, editor: str) -> Any:
        return editorial.retranslate(desk.store, desk.config, entry_id, form_text(form, "engine"), editor=editor)

    return await _act(request, again, _("Translated again; your corrections were kept."))


@editor_page
async def republish(request: Request) -> Response:
    desk, _ = desk_of(request), gettext_for(request)
    entry_id = request.path_params["id"]

    def push(form: Any, editor: str) -> Any:
        return editorial.republish(desk.service, entry_id, editor=editor)

    def said(report: Any) -> str:
        if report.failed:
            failures = "; ".join(f for lines in report.failed.values() for f in lines)
            return _("Republished, but not everywhere: %(failures)s") % {"failures": failures}
        return _("Republished to the site and every target.")

    return await _act(request, push, said)


ROUTES: list[BaseRoute] = [
    Route(QUEUE, review_queue, methods=["GET"]),
    Route("/admin/entries/{id:int}", entry_page, methods=["GET"]),
    Route("/admin/entries/{id:int}/segments/{n:int}", edit_segment, methods=["POST"]),
    Route("/admin/entries/{id:int}/headline", edit_headline, methods=["POST"]),
    Route("/admin/entries/{id:int}/glossary", add_glossary, methods=["POST"]),
    Route("/admin/entries/{id:int}/approve", approve, methods=["POST"]),
    Route("/admin/entries/{id:int}/reject", reject, methods=["POST"]),
    Route("/admin/entries/{id:int}/retranslate", retranslate, methods=["POST"]),
    Route("/admin/entries/{id:int}/republish", republish, methods=["POST"]),
]
