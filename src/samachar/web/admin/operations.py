"""The desk's operator pages: the dashboard, sources, glossary and targets.

Handlers only translate between forms and what the CLI calls too: the numbers
come from :mod:`samachar.dashboard`, source administration from
:mod:`samachar.sources.manage`, targets from :mod:`samachar.publish.target_cli`.
Every POST answers with a 303 and a flash message; nothing needs JavaScript.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from samachar.errors import SamacharError, one_line
from samachar.model import POLICIES
from samachar.publish.site import SEO_CHOICES
from samachar.web.admin.auth import admin_page, desk_of, editor_page, form_of, form_text
from samachar.web.admin.render import gettext_for, page_headers, redirect, render

MAX_OPML_BYTES = 2 * 1024 * 1024
STATE_CHART_KEYS = ("new", "fetched", "extracted", "translated", "held", "published", "filtered", "merged", "failed")


def _field(form: Any, name: str) -> str:
    """A text field, trimmed: what an operator typed into a one-line box."""
    return form_text(form, name).strip()


def _target_names(request: Request) -> list[str]:
    from samachar.publish.targets import SITE

    return [SITE, *(str(t.get("name")) for t in desk_of(request).config.targets)]


def _not_found(request: Request, message: str) -> Response:
    return render(request, "admin/error.html", status_code=404, message=message)


# -- the dashboard ------------------------------------------------------------------------------

@editor_page
async def dashboard_page(request: Request) -> Response:
    from samachar.dashboard import dashboard
    from samachar.web.admin import charts

    _ = gettext_for(request)
    board = await run_in_threadpool(dashboard, desk_of(request).store, _target_names(request))
    states = [(_(state), {"entries": float(n)}) for state, n in board.states.items()]
    source_rows = [(s.name, {k: float(v) for k, v in s.states.items()}) for s in board.sources[:30]]
    pictures = {
        "states": Markup(charts.stacked_bars(states, ["entries"], title=_("Entries per state"), label_width=200)),
        "sources": Markup(charts.stacked_bars(source_rows, STATE_CHART_KEYS, title=_("Entries per source and state"))),
        "segments": Markup(charts.bar_chart([(d, float(s)) for d, s, _c, _t in board.daily],
                                            title=_("Segments translated per day"))),
        "seconds": Markup(charts.sparkline([t for _d, _s, _c, t in board.daily],
                                           title=_("Engine time per day, in seconds"))),
    }
    return render(request, "admin/dashboard.html", board=board, charts=pictures, state_keys=STATE_CHART_KEYS)


# -- sources ------------------------------------------------------------------------------------

def _choice(value: str, choices: tuple[str, ...]) -> str | None:
    """A form's choice: one of ``choices``, or None for the site default (an empty field)."""
    if not value:
        return None
    if value not in choices:
        raise SamacharError(f"{value!r} is not one of {', '.join(choices)}")
    return value


def _interval(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 5 <= int(value) <= 7 * 24 * 60:
        raise SamacharError(f"interval {value!r}: give whole minutes between 5 and 10080")
    return int(value)


async def _sources_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    from samachar.dashboard import source_health

    health = await run_in_threadpool(source_health, desk_of(request).store)
    return render(request, "admin/sources.html", status_code=status_code, sources=health, policies=POLICIES,
                  seo_choices=SEO_CHOICES, **context)


@admin_page
async def sources_page(request: Request) -> Response:
    if request.method == "GET":
        return await _sources_page(request)
    from samachar.sources.manage import add_source

    form = await form_of(request)
    desk = desk_of(request)
    url = _field(form, "url")
    try:
        changes = {"name": _field(form, "name") or None, "policy": _choice(_field(form, "policy"), POLICIES),
                   "seo": _choice(_field(form, "seo"), SEO_CHOICES)}
        added = await run_in_threadpool(lambda: add_source(desk.store, desk.config, url,
                                                           discover=not _field(form, "no_discover"), **changes))
    except SamacharError as exc:
        return await _sources_page(request, status_code=400, error=one_line(exc), url=url)
    return redirect(request, f"/admin/sources/{added.source.id}", flash=added.message())


async def _source(request: Request) -> Any:
    return await run_in_threadpool(desk_of(request).store.sources.get, request.path_params["id"])


def _source_view(source: Any) -> dict[str, Any]:
    from samachar.filters import FilterRules, describe

    try:
        filters = describe(FilterRules.from_json(source.filters))
        filters_error = None
    except SamacharError as exc:
        filters, filters_error = [], one_line(exc)
    return {"filters": filters, "filters_error": filters_error}


@admin_page
async def source_page(request: Request) -> Response:
    _ = gettext_for(request)
    source = await _source(request)
    if source is None:
        return _not_found(request, _("No such source."))
    desk = desk_of(request)
    targets = list(_target_names(request))[1:]  # the site takes every source

    def page(status_code: int = 200, **extra: Any) -> Response:
        return render(request, "admin/source.html", status_code=status_code, source=source, policies=POLICIES,
                      seo_choices=SEO_CHOICES, targets=targets, **_source_view(source), **extra)

    if request.method == "GET":
        return page()
    form = await form_of(request)
    try:
        changes = {"name": _field(form, "name") or None, "policy": _choice(_field(form, "policy"), POLICIES),
                   "seo": _choice(_field(form, "seo"), SEO_CHOICES),
                   "interval_minutes": _interval(_field(form, "interval"))}
    except SamacharError as exc:
        return page(400, error=one_line(exc))
    routes: dict[str, dict[str, str]] | None = None
    if _field(form, "targets_mode") == "listed":
        routes = {}
        for name in targets:
            if _field(form, f"target-{name}"):
                category = _field(form, f"category-{name}")[:200]
                routes[name] = {"category": category} if category else {}

    def save() -> None:
        desk.store.sources.update(source.id, **changes)
        desk.store.sources.set_targets(source.id, routes)

    await run_in_threadpool(save)
    return redirect(request, f"/admin/sources/{source.id}", flash=_("Saved the settings of %(name)s.")
                    % {"name": changes["name"] or source.display_name})


def _source_action(action: str) -> Any:
    @admin_page
    async def act(request: Request) -> Response:
        _ = gettext_for(request)
        source = await _source(request)
        if source is None:
            return _not_found(request, _("No such source."))
        store = desk_of(request).store
        name = source.display_name
        if action == "remove":
            from samachar.sources.manage import remove_source

            await run_in_threadpool(remove_source, store, str(source.id))
            return redirect(request, "/admin/sources",
                            flash=_("Removed %(name)s; its entries are kept.") % {"name": name})
        await run_in_threadpool(store.sources.set_paused, source.id, action == "pause")
        message = _("Paused %(name)s: it is not polled until resumed.") if action == "pause" else _(
            "Resumed %(name)s: it is polled when next due.")
        return redirect(request, request.query_params.get("back") or "/admin/sources",
                        flash=message % {"name": name})

    act.__name__ = f"source_{action}"
    return act


@admin_page
async def import_opml_page(request: Request) -> Response:
    from samachar.sources.manage import import_opml

    _ = gettext_for(request)
    upload = (await form_of(request)).get("file")
    if not isinstance(upload, UploadFile):
        return await _sources_page(request, status_code=400, error=_("Choose an OPML file to import."))
    try:
        data = await upload.read(MAX_OPML_BYTES + 1)
    finally:
        await upload.close()
    if len(data) > MAX_OPML_BYTES:
        return await _sources_page(request, status_code=400, error=_("The OPML file is larger than 2 MB."))
    try:
        count = await run_in_threadpool(import_opml, desk_of(request).store, data)
    except SamacharError as exc:
        return await _sources_page(request, status_code=400, error=one_line(exc))
    return redirect(request, "/admin/sources", flash=_("Imported %(count)d sources.") % {"count": count})


@admin_page
async def export_opml_page(request: Request) -> Response:
    from samachar.sources.manage import export_opml

    text = await run_in_threadpool(export_opml, desk_of(request).store)
    headers = {**page_headers(), "Content-Disposition": 'attachment; filename="samachar-sources.opml"'}
    return Response(text, media_type="text/x-opml; charset=utf-8", headers=headers)


# -- glossary -----------------------------------------------------------------------------------

async def _glossary_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    desk = desk_of(request)
    lang = desk.config.site.language
    terms = await run_in_threadpool(desk.store.glossary.terms, lang)
    return render(request, "admin/glossary.html", status_code=status_code, terms=terms, glossary_lang=lang,
                  **context)


@editor_page
async def glossary_page(request: Request) -> Response:
    if request.method == "GET":
        return await _glossary_page(request)
    _ = gettext_for(request)
    form = await form_of(request)
    source, target = _field(form, "source"), _field(form, "target")
    if not source or not target or len(source) > 300 or len(target) > 300:
        return await _glossary_page(request, status_code=400, source=source, target=target,
                                    error=_("Give the term and its rendering, each at most 300 characters."))
    desk = desk_of(request)
    await run_in_threadpool(desk.store.glossary.add, source, target, desk.config.site.language)
    return redirect(request, "/admin/glossary", flash=_("%(source)s is now always rendered as %(target)s.")
                    % {"source": source, "target": target})


@editor_page
async def glossary_remove(request: Request) -> Response:
    _ = gettext_for(request)
    source = _field(await form_of(request), "source")
    desk = desk_of(request)
    removed = await run_in_threadpool(desk.store.glossary.remove, source, desk.config.site.language)
    message = _("Removed %(source)s from the glossary.") if removed else _("%(source)s is not in the glossary.")
    return redirect(request, "/admin/glossary", flash=message % {"source": source})


# -- targets ------------------------------------------------------------------------------------

@admin_page
async def targets_page(request: Request) -> Response:
    from samachar.dashboard import target_status
    from samachar.publish.target_cli import target_rows

    desk = desk_of(request)

    def read() -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
        try:
            rows, problem = target_rows(desk.store, desk.config), None
        except SamacharError as exc:  # a table that does not load: said, the rest still shown
            rows, problem = [], one_line(exc)
        status = {t.name: t for t in target_status(desk.store, _target_names(request))}
        return rows, problem, status

    rows, problem, status = await run_in_threadpool(read)
    return render(request, "admin/targets.html", targets=rows, status=status, error=problem)


@admin_page
async def target_check(request: Request) -> Response:
    from samachar.publish.target_cli import check_target

    _ = gettext_for(request)
    desk = desk_of(request)
    name = request.path_params["name"]
    try:
        said = await run_in_threadpool(check_target, desk.store, desk.config, name)
    except SamacharError as exc:
        said = _("Check failed: %(reason)s") % {"reason": one_line(exc)}
    return redirect(request, "/admin/targets", flash=said)


ROUTES: list[BaseRoute] = [
    Route("/admin/", dashboard_page, methods=["GET"]),
    Route("/admin/sources", sources_page, methods=["GET", "POST"]),
    Route("/admin/sources/import-opml", import_opml_page, methods=["POST"]),
    Route("/admin/sources/export.opml", export_opml_page, methods=["GET"]),
    Route("/admin/sources/{id:int}", source_page, methods=["GET", "POST"]),
    Route("/admin/sources/{id:int}/pause", _source_action("pause"), methods=["POST"]),
    Route("/admin/sources/{id:int}/resume", _source_action("resume"), methods=["POST"]),
    Route("/admin/sources/{id:int}/remove", _source_action("remove"), methods=["POST"]),
    Route("/admin/glossary", glossary_page, methods=["GET", "POST"]),
    Route("/admin/glossary/remove", glossary_remove, methods=["POST"]),
    Route("/admin/targets", targets_page, methods=["GET"]),
    Route("/admin/targets/{name}/check", target_check, methods=["POST"]),
]
