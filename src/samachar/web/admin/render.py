"""The desk's pages: one Jinja environment, its gettext catalogs, flash messages and redirects.

Templates live in ``templates/admin/`` and extend ``admin/base.html``;
autoescape is on everywhere. The context of every page has ``user``,
``csrf_token``, ``csrf_field()``, ``_`` (gettext in the reader's language),
``ngettext``, ``lang``, ``flash`` and ``local_time(value)`` (a date as the reader's locale writes it). The language is the user's setting,
else the best of ``Accept-Language`` among the shipped ones (Hindi, English).

Each owner keeps its strings in its own catalog,
``locale/<lang>/LC_MESSAGES/<owner>.po``; every ``.po`` of a language is
read and merged in memory (re-read when one changes), so there is nothing to
compile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from samachar.web.admin import auth
from samachar.web.admin.auth import page_headers

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent / "locale"
STATIC_DIR = Path(__file__).parent / "static"
DESK_LANGUAGES = ("hi", "en")
FLASH_COOKIE = "samachar_flash"
FLASH_SECONDS = 60
MAX_FLASH_CHARS = 500


# -- the environment ----------------------------------------------------------------------------

_DICT_ATTRIBUTES = frozenset(dir(dict))


@lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    class DeskEnvironment(jinja2.Environment):
        """Jinja's lookups, with a plain dict's key read straight away.

        Jinja tries ``getattr`` first, which for every key of a view's dicts
        raises and drops an AttributeError: about a tenth of a 300-segment page. A
        name that is an attribute of dict still gives the attribute, as before.
        """

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

    return DeskEnvironment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                           trim_blocks=True, lstrip_blocks=True, auto_reload=True)


# -- translations -------------------------------------------------------------------------------

class Catalog:
    """The desk's messages in one language: every owner's ``.po`` merged."""

    def __init__(self, messages: dict[str, str], plurals: dict[str, tuple[str, ...]], plural_rule: Callable[[int], int]):
        self.messages = messages
        self.plurals = plurals
        self.plural_rule = plural_rule

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.plurals.get(singular)
        if forms:
            index = self.plural_rule(n)
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if n == 1 else plural


def _po_files(lang: str) -> tuple[tuple[str, float], ...]:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    if not folder.is_dir():
        return ()
    return tuple((str(p), p.stat().st_mtime) for p in sorted(folder.glob("*.po")))


@lru_cache(maxsize=8)
def _load_catalog(lang: str, files: tuple[tuple[str, float], ...]) -> Catalog:
    from babel.messages.plurals import get_plural
    from babel.messages.pofile import read_po

    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for path, _mtime in files:
        with open(path, "rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                plurals[message.id[0]] = tuple(message.string)
            elif message.string:
                messages[message.id] = message.string
    import gettext

    return Catalog(messages, plurals, gettext.c2py(get_plural(lang).plural_expr))


def catalog(lang: str) -> Catalog:
    return _load_catalog(lang, _po_files(lang))


def accept_language(header: str) -> str | None:
    """The best shipped language in an ``Accept-Language`` header, or None."""
    best: tuple[float, str] | None = None
    for part in header.split(","):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = code.strip().split("-")[0].lower()
        if base in DESK_LANGUAGES and quality > 0 and (best is None or quality > best[0]):
            best = (quality, base)
    return best[1] if best else None


def desk_language(request: Request) -> str:
    user = getattr(request.state, "user", None)
    if user is not None and user.language in DESK_LANGUAGES:
        return str(user.language)
    chosen = accept_language(request.headers.get("accept-language", ""))
    if chosen:
        return chosen
    site_language = auth.desk_of(request).config.site.language
    return site_language if site_language in DESK_LANGUAGES else "en"


def gettext_for(request: Request) -> Callable[[str], str]:
    return catalog(desk_language(request)).gettext


# -- dates --------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang)


def local_time(value: datetime | str | None, lang: str) -> str:
    """A moment as the reader's locale writes it (day, month's name, year, hours and minutes), in UTC.

    ``value`` is a datetime or its ISO text (as the entry's history holds it); nothing gives "".
    """
    if not value:
        return ""
    from babel.dates import format_date, format_time

    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    locale = _locale(lang)
    pattern = str(locale.datetime_formats["medium"])
    return pattern.format(format_time(moment, "short", tzinfo=timezone.utc, locale=locale),
                          format_date(moment, "medium", locale=locale)) + " UTC"


# -- flash messages -----------------------------------------------------------------------------

def _flash_signature(request: Request, payload: str) -> str:
    key = auth.desk_of(request).flash_key
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def _flash_value(request: Request, message: str) -> str:
    payload = base64.urlsafe_b64encode(message[:MAX_FLASH_CHARS].encode("utf-8")).decode("ascii")
    return f"{payload}.{_flash_signature(request, payload)}"


def read_flash(request: Request) -> str | None:
    """The message the last redirect carried, if this desk signed it."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _flash_signature(request, payload)):
        return None
    try:
        return base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


# -- responses ----------------------------------------------------------------------------------

def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A desk page from ``template`` with the shared context; the flash message it shows is used up."""
    lang = desk_language(request)
    messages = catalog(lang)
    token = auth.csrf_token(request)
    flash = read_flash(request)

    field = Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)  # once, not per form

    def csrf_field() -> Markup:
        return field

    values = {"request": request, "user": getattr(request.state, "user", None), "csrf_token": token,
              "csrf_field": csrf_field, "_": messages.gettext, "gettext": messages.gettext,
              "ngettext": messages.ngettext, "lang": lang, "flash": flash,
              "local_time": lambda value: local_time(value, lang), **context}
    body = environment().get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code, headers=page_headers())
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/admin", httponly=True, samesite="lax",
                               secure=auth.secure_cookies(request))
    auth.set_login_csrf_cookie(response, request)
    return response


def safe_target(url: str) -> str:
    """A path on this site to go to (never another host): ``/admin/`` for anything else."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url or any(ord(c) < 32 for c in url):
        return "/admin/"
    return url


def redirect(request: Request, url: str, flash: str | None = None) -> Response:
    """A 303 to ``url`` (a path on this site), carrying one flash message to the next page."""
    response = RedirectResponse(safe_target(url), status_code=303, headers=page_headers())
    if flash:
        response.set_cookie(FLASH_COOKIE, _flash_value(request, flash), max_age=FLASH_SECONDS, path="/admin",
                            httponly=True, samesite="lax", secure=auth.secure_cookies(request))
    return response
