"""The editorial desk: /admin/ pages and the /api/v1/ API, served by the site's own ASGI app.

:meth:`samachar.service.SiteService.create_app` adds :func:`admin_routes` to
the site's routes and puts a :class:`DeskContext` at ``app.state.desk``, where
every handler finds the service, the store and the configuration. The pages
are split by owner: accounts and the skeleton (:mod:`.core`), the API
(:mod:`.api`), the review queue (:mod:`.review`) and the operator pages
(:mod:`.operations`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from samachar.config import Config
    from samachar.service import SiteService
    from samachar.store import Store
    from samachar.web.admin.accounts import Accounts  # imported when a desk is made: `samachar user` needs none


@dataclass
class DeskContext:
    """What the desk's handlers reach through ``request.app.state.desk``."""

    service: SiteService
    store: Store
    config: Config
    accounts: Accounts = field(init=False)
    flash_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)  # signs flash cookies

    def __post_init__(self) -> None:
        from samachar.web.admin.accounts import Accounts

        admin = self.config.admin
        self.accounts = Accounts(self.store, idle=timedelta(hours=admin.session_hours),
                                 lifetime=timedelta(days=admin.session_max_days))


def admin_routes() -> list[BaseRoute]:
    """Every route of the desk: the skeleton's, the API's, the review pages' and the operator pages'."""
    from samachar.web.admin import api, core, operations, review

    return [*core.ROUTES, *api.ROUTES, *review.ROUTES, *operations.ROUTES, *core.LAST_ROUTES]
