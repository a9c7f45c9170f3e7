"""Stored images: one row per image URL, the bytes in the database so every worker (PostgreSQL too) serves them.

A failed fetch is a row too, with its error and no bytes: the article is
published without that image, and the URL is tried again only when a later
article uses it and the failure is older than :data:`RETRY_FAILED_AFTER`.
Files are named by content (:func:`samachar.images.media_name`), so two
URLs with the same bytes are one file on the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from samachar.images import EXTENSIONS, ImageFile, media_name
from samachar.store.schema import images
from samachar.store.sources import utcnow

RETRY_FAILED_AFTER = timedelta(days=1)
_CHUNK = 500
_NAME = re.compile(r"^([0-9a-f]{16})\.([a-z]{3,4})$")
_TYPE_BY_EXTENSION = {ext: content_type for content_type, ext in EXTENSIONS.items()}


@dataclass(frozen=True)
class StoredImage:
    """A kept image as the site links it: its source URL, file name, type and size."""

    url: str
    name: str
    content_type: str
    width: int | None = None
    height: int | None = None


class ImageRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def wanted(self, urls: Iterable[str], now: datetime | None = None) -> list[str]:
        """Of ``urls``, those to fetch: never tried, or failed more than a day ago (in the given order)."""
        urls = list(dict.fromkeys(urls))
        cutoff = (now or utcnow()) - RETRY_FAILED_AFTER
        settled: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(urls):
                rows = conn.execute(select(images.c.url, images.c.data.is_(None).label("failed"), images.c.fetched_at)
                                    .where(images.c.url.in_(chunk)))
                settled.update(r.url for r in rows if not r.failed or r.fetched_at > cutoff)
        return [u for u in urls if u not in settled]

    def save(self, url: str, image: ImageFile, now: datetime | None = None) -> StoredImage:
        """Keep the image fetched from ``url`` (replacing an earlier failure)."""
        self._put(url, {"sha256": image.sha256, "content_type": image.content_type, "width": image.width,
                        "height": image.height, "size": len(image.data), "data": image.data, "error": None}, now)
        return StoredImage(url, image.name, image.content_type, image.width, image.height)

    def save_error(self, url: str, error: str, now: datetime | None = None) -> None:
        """Remember why ``url`` could not be kept; an image kept before stays as it was."""
        with self.engine.connect() as conn:
            kept = conn.execute(select(images.c.id).where(images.c.url == url)
                                .where(images.c.data.is_not(None))).first()
        if kept is None:
            self._put(url, {"sha256": None, "content_type": None, "width": None, "height": None, "size": None,
                            "data": None, "error": error[:1000]}, now)

    def _put(self, url: str, values: dict, now: datetime | None) -> None:
        values = {**values, "fetched_at": now or utcnow()}
        try:
            with self.engine.begin() as conn:
                conn.execute(images.insert().values(url=url, **values))
        except IntegrityError:  # fetched before (or by another worker just now)
            with self.engine.begin() as conn:
                conn.execute(update(images).where(images.c.url == url).values(**values))

    def error(self, url: str) -> str | None:
        """The recorded failure for ``url``, None when it was kept or never tried."""
        with self.engine.connect() as conn:
            return conn.execute(select(images.c.error).where(images.c.url == url)).scalar()

    def files_for(self, urls: Iterable[str]) -> dict[str, StoredImage]:
        """Source URL → kept image, for those of ``urls`` that were kept."""
        found: dict[str, StoredImage] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(urls))):
                rows = conn.execute(select(images.c.url, images.c.sha256, images.c.content_type, images.c.width,
                                           images.c.height)
                                    .where(images.c.url.in_(chunk)).where(images.c.data.is_not(None)))
                for r in rows:
                    if r.content_type in EXTENSIONS and r.sha256:
                        found[r.url] = StoredImage(r.url, media_name(r.sha256, r.content_type), r.content_type,
                                                   r.width, r.height)
        return found

    def read(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and Content-Type of the file called ``name``; None for any other name."""
        match = _NAME.match(name)
        if not match or match.group(2) not in _TYPE_BY_EXTENSION:
            return None
        content_type = _TYPE_BY_EXTENSION[match.group(2)]
        with self.engine.connect() as conn:
            data = conn.execute(select(images.c.data).where(images.c.sha256.like(match.group(1) + "%"))
                                .where(images.c.content_type == content_type)
                                .where(images.c.data.is_not(None)).limit(1)).scalar()
        return (bytes(data), content_type) if data is not None else None

    def revision(self) -> tuple[int, datetime | None]:
        """Changes whenever an image is kept or fails: how many rows, and the latest fetch time."""
        with self.engine.connect() as conn:
            row = conn.execute(select(func.count(images.c.id), func.max(images.c.fetched_at))).one()
        return int(row[0]), row[1]


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]
