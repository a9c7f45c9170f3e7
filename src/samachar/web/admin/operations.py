"""The desk's operator pages: the dashboard, sources, glossary and targets (filled in by the operations work)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
