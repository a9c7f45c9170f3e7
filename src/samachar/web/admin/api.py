"""The desk's JSON API under /api/v1/, for automation: entries (list, show, approve, reject) and sources.

Callers send ``Authorization: Bearer TOKEN`` (``samachar token create``);
editors' tokens may review, only admins' may add or remove sources. Every
error is ``{"error": "one line"}`` with its status. The work is done by the
functions the desk's pages and the CLI call (:mod:`samachar.editorial`,
:mod:`samachar.sources.manage`); this module only speaks JSON.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from samachar.errors import SamacharError
from samachar.model import POLICIES, EntryState
from samachar.publish.site import SEO_CHOICES
from samachar.store.schema import entries, sources, translations
from samachar.web.admin.auth import admin_api, desk_of, editor_api, json_error, page_headers

MAX_BODY_BYTES = 64 * 1024
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1
SOURCE_CHOICES = {"policy": POLICIES, "seo": SEO_CHOICES}


class BadRequest(SamacharError):
    """The request's parameters or body cannot be used (400)."""


class NotFound(SamacharError):
    """The entry or source named is not there (404)."""


class Conflict(SamacharError):
    """The entry is not in a state that allows this (409)."""


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status, headers=page_headers())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _whole(text: str | None, name: str, default: int, *, floor: int, ceiling: int) -> int:
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(f"{name}={text!r} is not a whole number")
    value = int(text)
    if not floor <= value <= ceiling:
        raise BadRequest(f"{name}={value} is outside {floor}-{ceiling}")
    return value


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent (empty when nothing was); a one-line 400 otherwise."""
    data = await request.body()
    if len(data) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _answering_errors(handler):
    """SamacharErrors as JSON: 400 for bad input, 404 when the thing named is not there."""
    @functools.wraps(handler)
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except NotFound as exc:
            return json_error(404, str(exc))
        except Conflict as exc:
            return json_error(409, str(exc))
        except SamacharError as exc:
            return json_error(400, str(exc))
    return answered


# -- entries ------------------------------------------------------------------------------------

def list_entries(store, *, state: str | None = None, source_id: int | None = None, lang: str | None = None,
                 limit: int = DEFAULT_LIMIT, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of entries, newest first, and how many match; ``lang``: those translated into it."""
    where = [entries.c.deleted_at.is_(None)]
    if state:
        where.append(entries.c.state == state)
    if source_id is not None:
        where.append(entries.c.source_id == source_id)
    if lang:
        where.append(exists().where(translations.c.entry_id == entries.c.id).where(translations.c.lang == lang))
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(entries).where(*where)).scalar() or 0
        rows = conn.execute(
            select(entries.c.id, entries.c.title, entries.c.url, entries.c.state, entries.c.error,
                   entries.c.published, entries.c.updated_at, entries.c.source_id,
                   sources.c.name, sources.c.feed_title, sources.c.url.label("source_url"))
            .select_from(entries.outerjoin(sources, sources.c.id == entries.c.source_id))
            .where(*where).order_by(entries.c.id.desc()).limit(limit).offset(offset)).all()
    return [{"id": r.id, "title": r.title, "url": r.url, "state": r.state, "error": r.error,
             "published": _iso(r.published), "updated_at": _iso(r.updated_at),
             "source": ({"id": r.source_id, "name": r.name or r.feed_title or r.source_url, "url": r.source_url}
                        if r.source_id else None)}
            for r in rows], int(total)


def _entry_filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    unknown = set(params) - {"state", "source", "lang", "limit", "offset"}
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}; use state, source, lang, limit, offset")
    state = params.get("state") or None
    if state is not None and state not in {s.value for s in EntryState}:
        raise BadRequest(f"state={state!r} is unknown; use one of {', '.join(s.value for s in EntryState)}")
    source = params.get("source") or None
    source_id = None
    if source is not None:
        from samachar.sources.manage import find_source

        source_id = find_source(desk_of(request).store, source).id
    return {"state": state, "source_id": source_id, "lang": params.get("lang") or None,
            "limit": _whole(params.get("limit"), "limit", DEFAULT_LIMIT, floor=1, ceiling=MAX_LIMIT),
            "offset": _whole(params.get("offset"), "offset", 0, floor=0, ceiling=MAX_ID)}


@editor_api
@_answering_errors
async def entries_index(request: Request) -> Response:
    filters = await run_in_threadpool(_entry_filters, request)
    found, total = await run_in_threadpool(lambda: list_entries(desk_of(request).store, **filters))
    return _json({"entries": found, "total": total, "limit": filters["limit"], "offset": filters["offset"]})


def _entry_id(request: Request) -> int:
    entry_id = request.path_params["id"]
    if not 0 < entry_id <= MAX_ID:
        raise NotFound(f"no entry {entry_id}")
    return int(entry_id)


def _known_entry(store, entry_id: int):
    entry = store.entries.get(entry_id)
    if entry is None:
        raise NotFound(f"no entry {entry_id}")
    return entry


@editor_api
@_answering_errors
async def entry_show(request: Request) -> Response:
    from samachar.editorial import entry_view

    desk = desk_of(request)
    entry_id = _entry_id(request)

    def view() -> dict[str, Any]:
        return entry_view(desk.store, desk.config, _known_entry(desk.store, entry_id))

    return _json(await run_in_threadpool(view))


@editor_api
@_answering_errors
async def entry_approve(request: Request) -> Response:
    from samachar import editorial

    desk = desk_of(request)
    entry_id = _entry_id(request)
    body = await _body(request)
    at = editorial.parse_publish_at(body.get("publish_at")) if body.get("publish_at") else None
    editor = request.state.user.name

    def approve() -> dict[str, Any]:
        entry = _known_entry(desk.store, entry_id)
        if not editorial.approve(desk.store, entry_id, at=at, editor=editor):
            raise Conflict(f"entry {entry_id} is {entry.state}, not held for review")
        return {"id": entry_id, "state": EntryState.TRANSLATED.value, "publish_after": _iso(at)}

    return _json(await run_in_threadpool(approve))


@editor_api
@_answering_errors
async def entry_reject(request: Request) -> Response:
    from samachar import editorial

    desk = desk_of(request)
    entry_id = _entry_id(request)
    editor = request.state.user.name

    def reject() -> dict[str, Any]:
        _known_entry(desk.store, entry_id)
        editorial.reject(desk.service, entry_id, editor=editor)
        return {"id": entry_id, "state": "rejected"}

    return _json(await run_in_threadpool(reject))


# -- sources ------------------------------------------------------------------------------------

def source_json(source) -> dict[str, Any]:
    return {"id": source.id, "url": source.url, "name": source.display_name, "site_url": source.site_url,
            "state": source.status, "error": source.error, "entries": source.entries, "paused": source.paused,
            "policy": source.policy, "seo": source.seo, "language": source.language,
            "interval_minutes": source.interval_minutes, "last_polled_at": _iso(source.last_polled_at),
            "next_poll_at": _iso(source.next_poll_at)}


def _source_fields(body: dict[str, Any]) -> dict[str, Any]:
    from samachar.config import check_language

    allowed = {"url", "name", "policy", "seo", "language", "interval_minutes", "discover"}
    unknown = set(body) - allowed
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}; use {', '.join(sorted(allowed))}")
    fields: dict[str, Any] = {}
    for name in ("name", "policy", "seo", "language"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{name} must be a non-empty string")
        if name in SOURCE_CHOICES and value not in SOURCE_CHOICES[name]:
            raise BadRequest(f"{name}={value!r}; use {', '.join(SOURCE_CHOICES[name])}")
        fields[name] = check_language(value) if name == "language" else value.strip()
    interval = body.get("interval_minutes")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise BadRequest("interval_minutes must be a whole number of minutes, at least 1")
        fields["interval_minutes"] = interval
    return fields


@editor_api
async def sources_index(request: Request) -> Response:
    found = await run_in_threadpool(desk_of(request).store.sources.list)
    return _json({"sources": [source_json(s) for s in found]})


@admin_api
@_answering_errors
async def source_add(request: Request) -> Response:
    from samachar.sources.manage import add_source

    body = await _body(request)
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise BadRequest('send {"url": "https://…"}: the feed\'s or the site\'s address')
    discover = body.get("discover", True)
    if not isinstance(discover, bool):
        raise BadRequest("discover must be true or false")
    fields = _source_fields(body)
    desk = desk_of(request)
    added = await run_in_threadpool(lambda: add_source(desk.store, desk.config, url, discover=discover, **fields))
    return _json({**source_json(added.source), "created": added.created, "message": added.message()},
                 status=201 if added.created else 200)


@admin_api
@_answering_errors
async def source_remove(request: Request) -> Response:
    from samachar.sources.manage import remove_source

    source_id = request.path_params["id"]
    store = desk_of(request).store
    if not 0 < source_id <= MAX_ID or await run_in_threadpool(store.sources.get, source_id) is None:
        raise NotFound(f"no source {source_id}")
    removed = await run_in_threadpool(remove_source, store, str(source_id))
    return _json({"id": removed.id, "removed": True})


@editor_api
async def not_found(request: Request) -> Response:
    return json_error(404, f"no such API path or method: {request.method} {request.url.path}")


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ROUTES: list[BaseRoute] = [
    Route("/api/v1/entries", entries_index, methods=["GET"]),
    Route("/api/v1/entries/{id:int}", entry_show, methods=["GET"]),
    Route("/api/v1/entries/{id:int}/approve", entry_approve, methods=["POST"]),
    Route("/api/v1/entries/{id:int}/reject", entry_reject, methods=["POST"]),
    Route("/api/v1/sources", sources_index, methods=["GET"]),
    Route("/api/v1/sources", source_add, methods=["POST"]),  # the same path: Starlette picks it by method
    Route("/api/v1/sources/{id:int}", source_remove, methods=["DELETE"]),
    Route("/api/v1/{path:path}", not_found, methods=ALL_METHODS),
]
