"""Interface language: gettext catalogs and Babel formatting for the site chrome.

Catalogs live in ``locale/<lang>/LC_MESSAGES/samachar.po`` with their compiled
``.mo`` beside them. A ``.mo`` older than its ``.po`` (or missing) is compiled
in memory at load time, so an edited catalog never shows stale strings.
Languages without a catalog fall back to the English msgids; languages Babel
does not know fall back to English formatting.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "samachar"
SHIPPED_LANGUAGES = ("hi", "en", "es")


def catalog_path(lang: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compile_catalog(po_path: Path) -> bytes:
    """The ``.mo`` bytes for one ``.po`` file (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


@lru_cache(maxsize=32)
def translations_for(lang: str) -> NullTranslations:
    """The gettext object for a site language (English msgids when none ships)."""
    code = normalize_language(lang)
    po, mo = catalog_path(code), catalog_path(code, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return Translations(fh, domain=DOMAIN)
    if po.exists():
        return Translations(io.BytesIO(compile_catalog(po)), domain=DOMAIN)
    return NullTranslations()


def normalize_language(lang: str | None) -> str:
    """``hi-IN`` / ``hi_IN`` / ``HI`` → ``hi``; empty → ``en``."""
    code = (lang or "en").strip().replace("_", "-").split("-")[0].lower()
    return code or "en"


@lru_cache(maxsize=64)
def babel_locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(normalize_language(lang))
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")


def text_direction(lang: str) -> str:
    """``rtl`` for right-to-left scripts (Arabic, Urdu, Hebrew…), else ``ltr``."""
    return "rtl" if babel_locale(lang).character_order == "right-to-left" else "ltr"


def og_locale(lang: str) -> str:
    """Open Graph wants ``ll_TT``: ``hi`` → ``hi_IN`` through CLDR likely subtags."""
    loc = babel_locale(lang)
    if loc.territory:
        return f"{loc.language}_{loc.territory}"
    likely = get_global("likely_subtags").get(loc.language, "")
    parts = likely.split("_")
    territory = next((p for p in parts[1:] if p.isupper() and len(p) == 2), None)
    return f"{loc.language}_{territory}" if territory else loc.language


def local_date(value: datetime | None, lang: str, fmt: str = "long") -> str:
    """``29 नवंबर 2026`` for ``hi``; empty for a missing date."""
    if value is None:
        return ""
    return format_date(value.date() if isinstance(value, datetime) else value, fmt, locale=babel_locale(lang))


def local_number(value: int | float, lang: str) -> str:
    return format_decimal(value, locale=babel_locale(lang))


def language_name(code: str | None, in_lang: str) -> str:
    """The name of language ``code`` in language ``in_lang`` (``en`` in ``hi`` → ``अंग्रेज़ी``)."""
    if not code:
        return ""
    names = babel_locale(in_lang).languages
    return names.get(normalize_language(code), code)
