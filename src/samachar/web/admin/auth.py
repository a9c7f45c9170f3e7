"""Who may call a desk endpoint: sessions, bearer tokens, roles and CSRF, as decorators.

``editor_page`` / ``admin_page`` wrap HTML handlers: anonymous → 303 to the
login page (401 JSON when the client asks for JSON), too small a role → 403,
and for every method but GET/HEAD a CSRF token (form field ``csrf_token`` or
header ``X-CSRF-Token``) checked before the handler runs. ``editor_api`` /
``admin_api`` wrap JSON handlers under /api/v1/: a bearer token, or a
session (then with CSRF for changes). On success ``request.state.user`` is the
:class:`samachar.store.users.User`.

The session cookie holds 32 random bytes; the database only their sha256. Its
CSRF token is an HMAC of the session id, so nothing more is stored; the
login form, before any session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from samachar.store.users import User

if TYPE_CHECKING:
    from samachar.web.admin import DeskContext

Handler = Callable[[Request], Awaitable[Response]]

SESSION_COOKIE = "samachar_session"  # Path=/admin
API_SESSION_COOKIE = "samachar_api_session"  # the same session for the API's paths (Path=/api)
LOGIN_CSRF_COOKIE = "samachar_login_csrf"  # Path=/admin/login: the login form's double-submit token
COOKIE_PATHS = ((SESSION_COOKIE, "/admin"), (API_SESSION_COOKIE, "/api"))
LOGIN_PATH = "/admin/login"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})
MAX_FORM_FIELDS = 2000  # a 300-segment article's form fits; a flood of fields does not
MAX_FORM_FILES = 2
MAX_FORM_BYTES = 4 * 1024 * 1024  # the largest desk form: an OPML file of up to 2 MB, with room to spare
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_CSRF_CONTEXT = b"samachar desk csrf v1"


def desk_of(request: Request) -> DeskContext:
    return request.app.state.desk  # type: ignore[no-any-return]


def page_headers() -> dict[str, str]:
    """The public site's CSP and companions, and no caching: every desk answer shows one user's view."""
    from samachar.web.app import SECURITY_HEADERS

    return {**SECURITY_HEADERS, "Cache-Control": "no-store"}


# -- cookies ------------------------------------------------------------------------------------

def secure_cookies(request: Request) -> bool:
    """Cookies are ``Secure`` except over plain http to a loopback host (behind a TLS proxy: https)."""
    return not (request.url.scheme == "http" and (request.url.hostname or "") in LOOPBACK_HOSTS)


def set_session_cookies(response: Response, request: Request, session_id: str) -> None:
    for name, path in COOKIE_PATHS:
        response.set_cookie(name, session_id, path=path, httponly=True, samesite="lax",
                            secure=secure_cookies(request))


def clear_session_cookies(response: Response, request: Request) -> None:
    for name, path in COOKIE_PATHS:
        response.delete_cookie(name, path=path, httponly=True, samesite="lax", secure=secure_cookies(request))


def session_id_of(request: Request) -> str | None:
    name = API_SESSION_COOKIE if request.url.path.startswith("/api/") else SESSION_COOKIE
    return request.cookies.get(name) or None


# -- CSRF ---------------------------------------------------------------------------------------

def csrf_for_session(session_id: str) -> str:
    """The session's CSRF token: derived from its id, which it does not reveal."""
    digest = hmac.new(session_id.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def tokens_match(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def csrf_token(request: Request) -> str:
    """The token this request's forms carry: the session's, else the login form's (a new one if none yet).

    A new login token is remembered on ``request.state`` so that :func:`samachar.web.admin.render.render`
    sets its cookie on the page.
    """
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        return csrf_for_session(session_id)
    token = getattr(request.state, "login_csrf", None) or request.cookies.get(LOGIN_CSRF_COOKIE)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
        request.state.new_login_csrf = token
    request.state.login_csrf = token
    return token


def set_login_csrf_cookie(response: Response, request: Request) -> None:
    token = getattr(request.state, "new_login_csrf", None)
    if token:
        response.set_cookie(LOGIN_CSRF_COOKIE, token, path=LOGIN_PATH, httponly=True, samesite="strict",
                            secure=secure_cookies(request))


def form_refusal(request: Request) -> tuple[int, str] | None:
    """Why this request's form is not read at all (411 or 413), else None.

    The form is parsed (its files spooled to disk) to find the CSRF token before anything
    else, on the login page even before anyone is signed in, so its size is bounded first,
    from the declared length (which the server holds the body to).
    """
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    from samachar.web.admin.render import gettext_for

    _ = gettext_for(request)
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        return 411, _("Send the form with its length (a Content-Length header).")
    if int(length) > MAX_FORM_BYTES:
        return 413, _("The form is larger than %(mb)d MB.") % {"mb": MAX_FORM_BYTES // (1024 * 1024)}
    return None


async def parse_form(request: Request) -> FormData:
    """The request's form, parsed once (bounded) and kept for the handler."""
    form = getattr(request.state, "form", None)
    if form is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(FORM_TYPES) and form_refusal(request) is None:
            form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=MAX_FORM_FILES)
        else:
            form = FormData()
        request.state.form = form
    return form


async def form_of(request: Request) -> FormData:
    """The form the decorator already parsed (for CSRF): handlers read this, not ``request.form()`` again."""
    return await parse_form(request)


def form_text(form: FormData, name: str) -> str:
    """A text field of the form; "" when it is missing or is a file (any name may hold either)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _csrf_given(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    value = (await parse_form(request)).get("csrf_token")
    return value if isinstance(value, str) else None


async def login_csrf_ok(request: Request) -> bool:
    """The login form's double-submit check: the field equals the cookie set with the form."""
    return tokens_match(await _csrf_given(request), request.cookies.get(LOGIN_CSRF_COOKIE))


# -- answers ------------------------------------------------------------------------------------

def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**page_headers(), **(headers or {})})


def _to_login(request: Request) -> Response:
    if wants_json(request):
        return json_error(401, "sign in first")
    response = RedirectResponse(LOGIN_PATH, status_code=303, headers=page_headers())
    if session_id_of(request):  # a dead session: forget its cookie
        clear_session_cookies(response, request)
    return response


async def _error_page(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return json_error(status, message)
    from samachar.web.admin.render import render

    return render(request, "admin/error.html", status_code=status, message=message)


# -- who is calling -----------------------------------------------------------------------------

async def session_user(request: Request) -> User | None:
    """The signed-in user of this request's session cookie; notes the session on ``request.state``."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    session_id = session_id_of(request)
    user = await run_in_threadpool(desk_of(request).accounts.session_user, session_id) if session_id else None
    request.state.session_id = session_id if user else None
    request.state.user = user
    return user


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _page(role: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            user = await session_user(request)
            if user is None:
                return _to_login(request)
            if not user.may(role):
                return await _error_page(request, 403, _forbidden(request))
            if request.method not in SAFE_METHODS:
                if refused := form_refusal(request):
                    return await _error_page(request, *refused)
                if not tokens_match(await _csrf_given(request), csrf_for_session(request.state.session_id)):
                    return await _error_page(request, 403, _stale_form(request))
            return await handler(request)
        guarded.desk_role = role  # type: ignore[attr-defined]  # read by the route tests
        return guarded
    return decorate


def _api(role: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            token = _bearer(request)
            if token is not None:
                user = await run_in_threadpool(desk_of(request).accounts.token_user, token)
                if user is None:
                    return json_error(401, "the API token is unknown or revoked",
                                      {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                request.state.user = user
                request.state.session_id = None
            else:
                user = await session_user(request)
                if user is None:
                    return json_error(401, "send an API token: Authorization: Bearer TOKEN",
                                      {"WWW-Authenticate": "Bearer"})
                if request.method not in SAFE_METHODS and (refused := form_refusal(request)):
                    return json_error(*refused)
                if request.method not in SAFE_METHODS and not tokens_match(
                        await _csrf_given(request), csrf_for_session(request.state.session_id)):
                    return json_error(403, "a signed-in change needs the X-CSRF-Token header")
            if not user.may(role):
                return json_error(403, f"this needs the {role} role")
            return await handler(request)
        guarded.desk_role = role  # type: ignore[attr-defined]
        return guarded
    return decorate


def _forbidden(request: Request) -> str:
    from samachar.web.admin.render import gettext_for

    return gettext_for(request)("This page is for admins only.")


def _stale_form(request: Request) -> str:
    from samachar.web.admin.render import gettext_for

    return gettext_for(request)("The form was stale or not sent from this desk; open the page again and retry.")


editor_page = _page("editor")
admin_page = _page("admin")
editor_api = _api("editor")
admin_api = _api("admin")
