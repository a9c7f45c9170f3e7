"""Feed dates in every form they come in, to timezone-aware datetimes.

Order tried: ISO 8601 / RFC 3339 (Atom, JSON Feed, dc:date), RFC 822 (RSS
``pubDate``, also without weekday or with named zones), then feedparser's
collection of odd formats. A date without a zone is taken as UTC. A date that
cannot be read is ``None``, never an error: a missing date must not cost the
entry.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_ISO_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    parsed = _iso(text) or _rfc822(text) or _feedparser(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if not 1970 <= parsed.year <= 2200:
        return None
    return parsed


def _iso(text: str) -> datetime | None:
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if _ISO_DATE_ONLY.match(text):
        return parsed.replace(tzinfo=timezone.utc)
    return parsed


def _rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _feedparser(text: str) -> datetime | None:
    from feedparser.datetimes import _parse_date  # lazy: only odd dates need it

    try:
        parsed = _parse_date(text)
    except Exception:  # feedparser's date handlers raise many things on junk
        return None
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
