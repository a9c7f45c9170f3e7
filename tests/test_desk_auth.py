"""Signing in to the editorial desk: sessions, cookies, CSRF, roles, limits, and the pages of users and accounts."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from conftest import database_url
from desk import PASSWORDS, USERS, csrf_of, login_form_token, open_desk, session_of, sign_in, signed_in
from sqlalchemy import inspect, select, update

from samachar.store import Store, schema
from samachar.store.users import utcnow
from samachar.web.admin import accounts as accounts_module
from samachar.web.admin import auth
from samachar.web.admin.accounts import secret_hash


@pytest.fixture
def desk(tmp_path):
    with open_desk(tmp_path) as desk:
        yield desk


def test_anonymous_desk_is_sent_to_login_or_told_401_in_json(desk):
    client = desk.client()
    response = client.get("/admin/")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    response = client.get("/admin/", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json() == {"error": "sign in first"}


def test_login_form_has_the_pinned_fields_and_the_site_csp(desk):
    page = desk.client().get("/admin/login")
    assert page.status_code == 200
    for name in ("username", "password", "csrf_token"):
        assert f'name="{name}"' in page.text
    assert re.search(r'<form method="post" action="/admin/login"', page.text)
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in page.text and "style=" not in page.text


def test_signing_in_sets_a_fresh_http_only_lax_session_and_signing_out_kills_it(desk):
    client = desk.client()
    token = login_form_token(client)
    fixed = desk.accounts.new_session(desk.users["editor"], "203.0.113.9")  # an id planted before login
    client.cookies.set(auth.SESSION_COOKIE, fixed, domain="127.0.0.1", path="/admin")
    response = client.post("/admin/login", data={"username": USERS["editor"], "password": PASSWORDS["editor"],
                                                 "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/admin/"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(auth.SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Path=/admin" in session_cookie
    assert "Secure" not in session_cookie  # plain http on loopback
    new = session_of(client)
    assert new and new != fixed
    assert desk.accounts.session_user(fixed) is None  # the planted id is dead, never kept
    assert client.get("/admin/account").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": csrf_of(client)}).status_code == 303
    assert desk.accounts.session_user(new) is None
    stale = desk.client()
    stale.cookies.set(auth.SESSION_COOKIE, new, domain="127.0.0.1", path="/admin")
    assert stale.get("/admin/account").status_code == 303


def test_cookies_are_secure_unless_plain_http_on_loopback(desk):
    client = desk.client(base_url="https://desk.example.org")
    response = sign_in(client, USERS["editor"], PASSWORDS["editor"])
    assert response.status_code == 303
    session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(auth.SESSION_COOKIE))
    assert "Secure" in session_cookie
    plain = desk.client(base_url="http://desk.example.org")
    page = plain.get("/admin/login")
    assert "Secure" in page.headers["set-cookie"]


def test_login_needs_the_form_token_of_its_own_cookie(desk):
    client = desk.client()
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": USERS["editor"], "password": PASSWORDS["editor"],
                                                 "csrf_token": "forged"})
    assert response.status_code == 403 and session_of(client) is None
    response = client.post("/admin/login", data={"username": USERS["editor"], "password": PASSWORDS["editor"]})
    assert response.status_code == 403 and session_of(client) is None


def test_wrong_password_and_unknown_user_read_the_same(desk):
    client = desk.client()
    wrong = sign_in(client, USERS["editor"], "not-the-password")
    unknown = sign_in(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401

    def error_of(page):
        return re.search(r'<p class="error" role="alert">([^<]+)</p>', page.text).group(1)

    assert error_of(wrong) == error_of(unknown) == "उपयोगकर्ता नाम या पासवर्ड गलत है।"  # the site's Hindi


def test_unknown_user_costs_a_hash_too(desk, monkeypatch):
    calls = []
    hasher = desk.accounts.hasher
    original = type(hasher).verify
    monkeypatch.setattr(type(hasher), "verify", lambda self, h, p: calls.append(h) or original(self, h, p))
    sign_in(desk.client(), "nobody-here", "whatever-password")
    assert len(calls) == 1


def test_state_changes_need_the_session_csrf_token(desk):
    client = signed_in(desk.client(), "admin")
    form = {"name": "newcomer", "role": "editor", "password": "a-long-password"}
    assert client.post("/admin/users", data=form).status_code == 403
    assert client.post("/admin/users", data={**form, "csrf_token": "x" * 43}).status_code == 403
    assert desk.store.users.find("newcomer") is None
    assert client.post("/admin/users", data=form, headers={"X-CSRF-Token": csrf_of(client)}).status_code == 303
    assert desk.store.users.find("newcomer") is not None


def test_an_editor_cannot_reach_admin_pages(desk):
    client = signed_in(desk.client(), "editor")
    assert client.get("/admin/users").status_code == 403
    response = client.post("/admin/users", data={"name": "x-user", "role": "admin", "password": "a-long-password",
                                                 "csrf_token": csrf_of(client)})
    assert response.status_code == 403 and desk.store.users.find("x-user") is None


def test_login_limit_per_account_refuses_without_checking(desk, monkeypatch):
    client = desk.client()
    for _ in range(accounts_module.ACCOUNT_FAILURES):
        assert sign_in(client, USERS["editor"], "wrong-password").status_code == 401
    checked = []
    monkeypatch.setattr(type(desk.accounts.hasher), "verify", lambda *a: checked.append(a))
    limited = sign_in(client, USERS["editor"], PASSWORDS["editor"])
    assert limited.status_code == 429 and len(limited.text.strip().splitlines()) == 1
    assert checked == []
    monkeypatch.undo()
    assert sign_in(desk.client(), USERS["admin"], PASSWORDS["admin"]).status_code == 303  # other accounts go on


def test_login_limit_per_address(desk, monkeypatch):
    monkeypatch.setattr(accounts_module, "ADDRESS_FAILURES", 3)
    client = desk.client()
    for n in range(3):
        assert sign_in(client, f"guess{n}", "wrong-password").status_code == 401
    assert sign_in(client, USERS["admin"], PASSWORDS["admin"]).status_code == 429


def test_success_clears_the_account_failures(desk):
    client = desk.client()
    for _ in range(accounts_module.ACCOUNT_FAILURES - 1):
        sign_in(client, USERS["editor"], "wrong-password")
    assert sign_in(client, USERS["editor"], PASSWORDS["editor"]).status_code == 303
    for _ in range(accounts_module.ACCOUNT_FAILURES - 1):
        sign_in(desk.client(), USERS["editor"], "wrong-password")
    assert sign_in(desk.client(), USERS["editor"], PASSWORDS["editor"]).status_code == 303


def test_idle_and_absolute_expiry(desk):
    def age(client, **columns):
        with desk.store.engine.begin() as conn:
            conn.execute(update(schema.sessions).where(schema.sessions.c.id_hash == secret_hash(session_of(client)))
                         .values(**columns))

    client = signed_in(desk.client(), "editor")
    age(client, last_seen_at=utcnow() - timedelta(hours=11))
    assert client.get("/admin/account").status_code == 200  # 11 h idle: still alive (12 h allowed)
    age(client, last_seen_at=utcnow() - timedelta(hours=12, minutes=1))
    assert client.get("/admin/account").status_code == 303
    client = signed_in(desk.client(), "editor")
    age(client, expires_at=utcnow() - timedelta(seconds=1))  # used a moment ago, but past its absolute end
    assert client.get("/admin/account").status_code == 303


def test_changing_or_removing_a_user_ends_their_sessions(desk):
    editor = signed_in(desk.client(), "editor")
    admin = signed_in(desk.client(), "admin")
    editor_id = desk.users["editor"].id
    response = admin.post(f"/admin/users/{editor_id}/password",
                          data={"password": "another-password", "csrf_token": csrf_of(admin)})
    assert response.status_code == 303
    assert editor.get("/admin/account").status_code == 303
    editor = desk.client()
    assert sign_in(editor, USERS["editor"], "another-password").status_code == 303
    assert admin.post(f"/admin/users/{editor_id}/remove", data={"csrf_token": csrf_of(admin)}).status_code == 303
    assert editor.get("/admin/account").status_code == 303
    assert desk.store.users.get(editor_id) is None


def test_the_last_admin_cannot_be_removed(desk):
    admin = signed_in(desk.client(), "admin")
    response = admin.post(f"/admin/users/{desk.users['admin'].id}/remove", data={"csrf_token": csrf_of(admin)})
    assert response.status_code == 400 and "only admin" in response.text
    assert desk.store.users.get(desk.users["admin"].id) is not None


def test_own_password_change_keeps_this_browser_and_ends_the_others(desk):
    here = signed_in(desk.client(), "editor")
    elsewhere = signed_in(desk.client(), "editor")
    wrong = here.post("/admin/account", data={"action": "password", "current": "nope-nope-nope",
                                              "password": "brand-new-password", "csrf_token": csrf_of(here)})
    assert wrong.status_code == 400
    response = here.post("/admin/account", data={"action": "password", "current": PASSWORDS["editor"],
                                                 "password": "brand-new-password", "csrf_token": csrf_of(here)})
    assert response.status_code == 303
    assert here.get("/admin/account").status_code == 200
    assert elsewhere.get("/admin/account").status_code == 303
    assert sign_in(desk.client(), USERS["editor"], "brand-new-password").status_code == 303


def test_language_from_the_user_else_accept_language(desk):
    client = signed_in(desk.client(), "editor")
    english = client.get("/admin/account", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Sign out" in english.text
    hindi = client.get("/admin/account", headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"})
    assert '<html lang="hi">' in hindi.text and "Sign out" not in hindi.text
    saved = client.post("/admin/account", data={"action": "language", "language": "hi",
                                                "csrf_token": csrf_of(client)})
    assert saved.status_code == 303
    page = client.get(saved.headers["location"], headers={"Accept-Language": "en"})
    assert '<html lang="hi">' in page.text
    assert 'class="flash"' in page.text  # the flash message travelled through the redirect, once
    assert 'class="flash"' not in client.get("/admin/account").text


def test_forged_flash_cookie_is_ignored(desk):
    client = signed_in(desk.client(), "editor")
    client.cookies.set("samachar_flash", "aGk.0000", domain="127.0.0.1", path="/admin")
    assert 'class="flash"' not in client.get("/admin/account").text


def test_rehash_on_login_when_parameters_change(desk):
    from argon2 import PasswordHasher

    before = desk.store.users.credentials(USERS["editor"])[1]
    desk.accounts.hasher = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    signed_in(desk.client(), "editor")
    after = desk.store.users.credentials(USERS["editor"])[1]
    assert after != before and "t=2" in after and after.startswith("$argon2id$")


def test_no_admin_app_has_no_desk(tmp_path):
    with open_desk(tmp_path, admin=False) as desk:
        client = desk.client()
        assert client.get("/admin/login").status_code == 404
        assert not any(getattr(r, "path", "").startswith(("/admin", "/api")) for r in desk.app.routes)


def _http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None):
    """One request over real HTTP (through uvicorn's logging), redirects not followed."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_no_secret_is_logged_or_stored_in_clear(desk, caplog):
    import socket
    import threading
    from urllib.parse import urlencode

    import uvicorn

    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "starlette", "samachar", "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test: later tests see no SQL records
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(desk.app, log_level="debug", access_log=True, lifespan="off",
                                           log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            threading.Event().wait(0.02)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        status, headers, page = _http(base + "/admin/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        cookie = next(v for k, v in headers if k.lower() == "set-cookie").split(";")[0]
        form = urlencode({"username": USERS["admin"], "password": PASSWORDS["admin"], "csrf_token": login_csrf})
        status, headers, _ = _http(base + "/admin/login", "POST", form.encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        assert status == 303
        session_id = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith(auth.SESSION_COOKIE))
        session_id = session_id.split(";")[0].split("=", 1)[1]
        csrf = auth.csrf_for_session(session_id)
        added = urlencode({"name": "newcomer", "role": "editor", "password": "newcomer-secret-1", "csrf_token": csrf})
        status, _, _ = _http(base + "/admin/users", "POST", added.encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{auth.SESSION_COOKIE}={session_id}"})
        assert status == 303
        token = desk.accounts.create_token(desk.users["admin"], "ci")[1]
        status, _, _ = _http(base + "/api/v1/entries", headers={"Authorization": f"Bearer {token}"})
        assert status == 200
        status, _, _ = _http(base + "/api/v1/entries", headers={"Authorization": "Bearer sam_wrong-token-x"})
        assert status == 401
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert any(r.name == "uvicorn.access" for r in caplog.records)  # the access log was captured
    secrets = [PASSWORDS["admin"], "newcomer-secret-1", session_id, csrf, login_csrf, token, "sam_wrong-token-x"]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
    with desk.store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table not in schema.metadata.tables:
                continue
            for row in conn.execute(select(schema.metadata.tables[table])):
                text = " ".join(str(value) for value in row)
                for secret in secrets:
                    assert secret not in text, (table, secret)


# -- samachar user / samachar token -----------------------------------------------------------------

def _cli(tmp_path, monkeypatch, capsys, *argv, stdin: str | None = None):
    import io

    from samachar.cli import main

    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--home", str(tmp_path / "cli-home"), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_user_commands(tmp_path, monkeypatch, capsys):
    code, out, _ = _cli(tmp_path, monkeypatch, capsys, "user", "add", "asha", "--role", "admin", "--password-stdin",
                        stdin="asha-password-1\n")
    assert code == 0 and "asha" in out
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "add", "asha", "--role", "editor", "--password-stdin",
                        stdin="another-password\n")
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "add", "ravi", "--role", "editor", "--password-stdin",
                        stdin="short\n")
    assert code == 2 and "too short" in err
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "add", "bad name", "--role", "editor",
                        "--password-stdin", stdin="long-enough-pass\n")
    assert code == 2 and "user name" in err
    _cli(tmp_path, monkeypatch, capsys, "user", "add", "ravi", "--role", "editor", "--password-stdin",
         stdin="ravi-password-1\n")
    code, out, _ = _cli(tmp_path, monkeypatch, capsys, "user", "list", "--json")
    import json

    assert code == 0 and [(u["name"], u["role"]) for u in json.loads(out)] == [("asha", "admin"), ("ravi", "editor")]
    code, out, _ = _cli(tmp_path, monkeypatch, capsys, "user", "passwd", "ravi", "--password-stdin",
                        stdin="ravi-password-2\n")
    assert code == 0
    store = Store(database_url(tmp_path))
    try:
        accounts = accounts_module.Accounts(store)
        user, _session = accounts.sign_in("ravi", "ravi-password-2", "127.0.0.1")
        assert user.name == "ravi"
    finally:
        store.close()
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "remove", "asha")
    assert code == 2 and "only admin" in err
    assert _cli(tmp_path, monkeypatch, capsys, "user", "remove", "ravi")[0] == 0
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "remove", "ravi")
    assert code == 2 and "no user" in err


def test_prompted_password_must_be_typed_twice_alike(tmp_path, monkeypatch, capsys):
    answers = iter(["first-password-1", "second-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "user", "add", "asha", "--role", "admin")
    assert code == 2 and "differ" in err
    answers = iter(["same-password-1", "same-password-1"])
    assert _cli(tmp_path, monkeypatch, capsys, "user", "add", "asha", "--role", "admin")[0] == 0


def test_token_commands_print_the_token_once_and_revoke(tmp_path, monkeypatch, capsys):
    import json

    _cli(tmp_path, monkeypatch, capsys, "user", "add", "asha", "--role", "admin", "--password-stdin",
         stdin="asha-password-1\n")
    code, out, _ = _cli(tmp_path, monkeypatch, capsys, "token", "create", "--user", "asha", "--name", "ci")
    token = out.strip()
    assert code == 0 and token.startswith(accounts_module.TOKEN_PREFIX) and len(token) > 40
    code, out, _ = _cli(tmp_path, monkeypatch, capsys, "token", "list", "--json")
    [listed] = json.loads(out)
    assert listed["user"] == "asha" and listed["name"] == "ci" and token not in out
    store = Store(database_url(tmp_path))
    try:
        assert accounts_module.Accounts(store).token_user(token).name == "asha"
        assert _cli(tmp_path, monkeypatch, capsys, "token", "revoke", str(listed["id"]))[0] == 0
        assert accounts_module.Accounts(store).token_user(token) is None
    finally:
        store.close()
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "token", "revoke", str(listed["id"]))
    assert code == 2 and err.startswith("error: ")
    code, _, err = _cli(tmp_path, monkeypatch, capsys, "token", "create", "--user", "nobody")
    assert code == 2 and "no user" in err


def test_readme_lists_every_user_and_token_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for command in ("user add", "user list", "user remove", "user passwd", "token create", "token list",
                    "token revoke"):
        assert f"samachar {command}" in readme, command
    assert "--no-admin" in readme and "--forwarded-allow-ips" in readme


def test_login_goes_only_to_paths_of_this_site(desk):
    client = desk.client()
    token = login_form_token(client)
    response = client.post("/admin/login?next=//evil.example/x", data={
        "username": USERS["editor"], "password": PASSWORDS["editor"], "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/admin/"


def test_serve_no_admin_leaves_the_desk_out(tmp_path, monkeypatch, capsys):
    import uvicorn

    from samachar.cli import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    for flags, has_desk in (([], True), (["--no-admin"], False)):
        assert main(["--home", str(tmp_path / "home"), "serve", "--port", "8123", *flags]) == 0
        paths = [getattr(route, "path", "") for route in served["app"].routes]
        assert any(p.startswith("/admin/login") for p in paths) is has_desk
        assert any(p.startswith("/api/v1") for p in paths) is has_desk
        assert served["proxy_headers"] is True
        assert served["app"].state.live_site is not None  # the site is there either way
    capsys.readouterr()
    assert main(["--home", str(tmp_path / "home"), "serve", "--forwarded-allow-ips", "10.0.0.5"]) == 0
    assert served["forwarded_allow_ips"] == "10.0.0.5"
