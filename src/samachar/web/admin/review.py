"""The desk's editorial pages: the review queue and the entry page (filled in by the editorial work)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
