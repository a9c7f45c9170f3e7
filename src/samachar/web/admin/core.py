"""The desk's own pages: sign in and out, the users (admins), one's account, the stylesheet.

Signing in always makes a new session (an id sent before is ended, never
kept); signing out deletes it. The handlers only translate between forms and
:class:`samachar.web.admin.accounts.Accounts`.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from samachar.errors import SamacharError
from samachar.web.admin import auth
from samachar.web.admin.accounts import MIN_PASSWORD_CHARS, SignInLimited, SignInRefused
from samachar.web.admin.auth import admin_page, desk_of, editor_page, form_of, form_text
from samachar.web.admin.render import (
    DESK_LANGUAGES,
    STATIC_DIR,
    catalog,
    gettext_for,
    page_headers,
    redirect,
    render,
    safe_target,
)

STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(css|svg|png|woff2)$")
STATIC_TYPES = {"css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png", "woff2": "font/woff2"}



def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- signing in and out -------------------------------------------------------------------------

async def login(request: Request) -> Response:
    _ = gettext_for(request)
    if request.method == "GET":
        if await auth.session_user(request) is not None:
            return redirect(request, "/admin/")
        return render(request, "admin/login.html")
    if refused := auth.form_refusal(request):
        status, message = refused
        return render(request, "admin/login.html", status_code=status, error=message)
    if not await auth.login_csrf_ok(request):
        return render(request, "admin/login.html", status_code=403,
                      error=_("The form was stale or not sent from this desk; open the page again and retry."))
    form = await form_of(request)
    name, password = form_text(form, "username").strip(), form_text(form, "password")
    accounts = desk_of(request).accounts
    try:
        user, session_id = await run_in_threadpool(accounts.sign_in, name, password, client_address(request))
    except SignInLimited:
        return PlainTextResponse(_("Too many failed sign-ins; wait 15 minutes and try again.") + "\n",
                                 status_code=429, headers={**page_headers(), "Retry-After": "900"})
    except SignInRefused:
        return render(request, "admin/login.html", status_code=401, username=name,
                      error=_("Wrong user name or password."))
    old = auth.session_id_of(request)
    if old:  # whatever id came with the form is ended: the new session is the only one
        await run_in_threadpool(accounts.end_session, old)
    response = redirect(request, safe_target(request.query_params.get("next", "/admin/")))
    auth.set_session_cookies(response, request, session_id)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=auth.LOGIN_PATH, httponly=True, samesite="strict",
                           secure=auth.secure_cookies(request))
    request.state.user = user
    return response


@editor_page
async def logout(request: Request) -> Response:
    await run_in_threadpool(desk_of(request).accounts.end_session, request.state.session_id)
    response = redirect(request, auth.LOGIN_PATH, flash=gettext_for(request)("You are signed out."))
    auth.clear_session_cookies(response, request)
    return response


# -- users (admins) -----------------------------------------------------------------------------

async def _users_page(request: Request, status_code: int = 200, **context) -> Response:
    people = await run_in_threadpool(desk_of(request).store.users.list)
    return render(request, "admin/users.html", status_code=status_code, users=people,
                  min_password=MIN_PASSWORD_CHARS, **context)


@admin_page
async def users(request: Request) -> Response:
    if request.method == "GET":
        return await _users_page(request)
    form = await form_of(request)
    name, role = form_text(form, "name").strip(), form_text(form, "role")
    try:
        added = await run_in_threadpool(desk_of(request).accounts.add_user, name, role, form_text(form, "password"))
    except SamacharError as exc:
        return await _users_page(request, status_code=400, error=str(exc), name=name)
    return redirect(request, "/admin/users", flash=gettext_for(request)("Added %(name)s.") % {"name": added.name})


async def _person(request: Request):
    return await run_in_threadpool(desk_of(request).store.users.get, request.path_params["id"])


@admin_page
async def user_remove(request: Request) -> Response:
    person = await _person(request)
    if person is None:
        return render(request, "admin/error.html", status_code=404, message=gettext_for(request)("No such user."))
    try:
        await run_in_threadpool(desk_of(request).accounts.remove_user, person)
    except SamacharError as exc:
        return await _users_page(request, status_code=400, error=str(exc))
    if person.id == request.state.user.id:  # removed oneself: the session went with the user
        response = redirect(request, auth.LOGIN_PATH)
        auth.clear_session_cookies(response, request)
        return response
    return redirect(request, "/admin/users", flash=gettext_for(request)("Removed %(name)s.") % {"name": person.name})


@admin_page
async def user_password(request: Request) -> Response:
    person = await _person(request)
    if person is None:
        return render(request, "admin/error.html", status_code=404, message=gettext_for(request)("No such user."))
    accounts = desk_of(request).accounts
    try:
        await run_in_threadpool(accounts.set_password, person, form_text(await form_of(request), "password"))
    except SamacharError as exc:
        return await _users_page(request, status_code=400, error=str(exc))
    response = redirect(request, "/admin/users", flash=gettext_for(request)(
        "New password set for %(name)s; their sessions have ended.") % {"name": person.name})
    if person.id == request.state.user.id:  # one's own sessions ended too: keep this browser signed in
        auth.set_session_cookies(response, request, await run_in_threadpool(
            accounts.new_session, person, client_address(request)))
    return response


# -- one's own account --------------------------------------------------------------------------

@editor_page
async def account(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "admin/account.html", min_password=MIN_PASSWORD_CHARS)
    form = await form_of(request)
    user = request.state.user
    desk = desk_of(request)
    _ = gettext_for(request)
    if form_text(form, "action") == "language":
        language = form_text(form, "language") or None
        if language is not None and language not in DESK_LANGUAGES:
            return render(request, "admin/account.html", status_code=400, min_password=MIN_PASSWORD_CHARS,
                          error=_("Choose Hindi, English or the browser's language."))
        await run_in_threadpool(desk.store.users.set_language, user.id, language)
        shown = catalog(language).gettext if language else _
        return redirect(request, "/admin/account", flash=shown("The desk's language is saved."))
    if form_text(form, "action") != "password":
        return render(request, "admin/account.html", status_code=400, min_password=MIN_PASSWORD_CHARS,
                      error=_("Nothing to change."))
    try:
        await run_in_threadpool(desk.accounts.check_current_password, user, form_text(form, "current"))
        await run_in_threadpool(desk.accounts.set_password, user, form_text(form, "password"))
    except SignInRefused:
        return render(request, "admin/account.html", status_code=400, min_password=MIN_PASSWORD_CHARS,
                      error=_("The current password is wrong."))
    except SamacharError as exc:
        return render(request, "admin/account.html", status_code=400, min_password=MIN_PASSWORD_CHARS,
                      error=str(exc))
    response = redirect(request, "/admin/account",
                        flash=_("Your password is changed; your other sessions have ended."))
    auth.set_session_cookies(response, request,
                             await run_in_threadpool(desk.accounts.new_session, user, client_address(request)))
    return response


# -- the stylesheet, and paths the desk does not have -------------------------------------------

async def static(request: Request) -> Response:
    """A file of ``static/`` by its plain name (no folders), with the site's security headers."""
    name = request.path_params["name"]
    match = STATIC_NAME.match(name)
    path = STATIC_DIR / name
    if not match or not path.is_file():
        return PlainTextResponse("not found\n", status_code=404, headers=page_headers())
    headers = {**page_headers(), "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=STATIC_TYPES[match.group(1)], headers=headers)


@editor_page
async def desk_root(request: Request) -> Response:
    return redirect(request, "/admin/")


@editor_page
async def not_found(request: Request) -> Response:
    return render(request, "admin/error.html", status_code=404,
                  message=gettext_for(request)("The desk has no such page."))


ROUTES: list[BaseRoute] = [
    Route("/admin/login", login, methods=["GET", "POST"]),
    Route("/admin/logout", logout, methods=["POST"]),
    Route("/admin/users", users, methods=["GET", "POST"]),
    Route("/admin/users/{id:int}/remove", user_remove, methods=["POST"]),
    Route("/admin/users/{id:int}/password", user_password, methods=["POST"]),
    Route("/admin/account", account, methods=["GET", "POST"]),
    Route("/admin/static/{name}", static, methods=["GET"]),
]
LAST_ROUTES: list[BaseRoute] = [  # after every owner's routes: an unknown desk path is the desk's 404
    Route("/admin", desk_root, methods=["GET"]),
    Route("/admin/{path:path}", not_found, methods=["GET"]),
]
