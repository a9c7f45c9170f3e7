"""The editorial desk for tests: an app over a tmp home and store, its users, signed-in clients.

::

    with open_desk(tmp_path) as desk:
        client = signed_in(desk.client(), "editor")
        page = client.get("/admin/review")
        client.post("/admin/entries/1/approve", data={"csrf_token": csrf_of(client)})

Every user's password is ``PASSWORDS[role]``; hashing is cheap here (the
real parameters are argon2's defaults) so that a test can sign in often.
Clients talk to ``http://127.0.0.1`` (loopback: cookies without ``Secure``).
``open_desk`` closes the clients and the store it opened.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import database_url

from samachar.config import Config
from samachar.service import SiteService
from samachar.store import Store
from samachar.store.users import User
from samachar.web.admin import auth

BASE_URL = "http://127.0.0.1"
PASSWORDS = {"editor": "editor-password-1", "admin": "admin-password-1"}
USERS = {"editor": "meera", "admin": "arjun"}  # the user of each role that open_desk creates


def cheap_hasher():
    """argon2id with tiny costs: the same code paths, a thousandth of the time."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class Desk:
    config: Config
    store: Store
    service: SiteService
    app: Any
    users: dict[str, User]
    _clients: list[Any] = field(default_factory=list)

    def client(self, **kwargs: Any):
        """A new TestClient on the app (closed with the desk); ``follow_redirects`` is off."""
        from starlette.testclient import TestClient

        kwargs.setdefault("base_url", BASE_URL)
        kwargs.setdefault("follow_redirects", False)
        client = TestClient(self.app, **kwargs)
        self._clients.append(client)
        return client

    @property
    def accounts(self):
        return self.app.state.desk.accounts

    def add_user(self, name: str, role: str, password: str | None = None) -> User:
        return self.accounts.add_user(name, role, password or PASSWORDS[role])

    def token(self, role: str = "editor", label: str | None = None) -> str:
        """A new API token of the role's user."""
        return self.accounts.create_token(self.users[role], label)[1]


def spanish_site(home: Path) -> Config:
    """An English→Spanish site translated by Apertium (installed here): what the desk's page tests review."""
    from samachar.config import SiteConfig, TranslationConfig

    return Config(home=home, site=SiteConfig(language="es", title="Noticias", base_url="https://n.example/"),
                  translation=TranslationConfig(source_language="en", engines=["apertium"]), default_policy="full")


@contextlib.contextmanager
def open_desk(tmp_path: Path, config: Config | None = None, *, admin: bool = True) -> Iterator[Desk]:
    """A desk over a home in ``tmp_path`` (its own store from ``database_url``), with an editor and an admin."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    config = config or Config(home=home)
    store = Store(database_url(tmp_path))
    service = SiteService(store, config)
    desk = None
    try:
        app = service.create_app(admin=admin)
        users: dict[str, User] = {}
        if admin:
            app.state.desk.accounts.hasher = cheap_hasher()
            for role, name in USERS.items():
                users[role] = app.state.desk.accounts.add_user(name, role, PASSWORDS[role])
        desk = Desk(config=config, store=store, service=service, app=app, users=users)
        yield desk
    finally:
        if desk is not None:
            for client in desk._clients:
                client.close()
        store.close()


def login_form_token(client) -> str:
    """The login form's CSRF token, read from the page as a browser would."""
    page = client.get(auth.LOGIN_PATH)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the login form has no csrf_token"
    return found.group(1)


def sign_in(client, name: str, password: str):
    """Post the login form (fetching it first for its token); returns the response (303 on success)."""
    token = login_form_token(client)
    return client.post(auth.LOGIN_PATH, data={"username": name, "password": password, "csrf_token": token})


def signed_in(client, role: str = "editor"):
    """The client, signed in as the desk's user of ``role`` (through the real login form)."""
    response = sign_in(client, USERS[role], PASSWORDS[role])
    assert response.status_code == 303, (response.status_code, response.text)
    return client


def session_of(client) -> str | None:
    return client.cookies.get(auth.SESSION_COOKIE)


def csrf_of(client) -> str:
    """The CSRF token of the client's current session (what every desk form carries)."""
    session_id = session_of(client)
    assert session_id, "the client is not signed in"
    return auth.csrf_for_session(session_id)
