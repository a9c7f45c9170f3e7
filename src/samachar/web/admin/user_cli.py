"""``samachar user`` and ``samachar token``: the desk's people and the API's bearer tokens.

The main CLI calls ``register(subparsers)``; each handler is ``func(args,
config)``. Passwords come from a prompt (asked twice) or, for scripts, one
line of standard input with ``--password-stdin``; they never appear as an
argument, where ``ps`` and shell history would show them. A token is printed
once, at creation: only its hash is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from samachar.errors import SamacharError
from samachar.model import ROLES

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.web.admin.accounts import Accounts


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("user", help="the editorial desk's users: add, list, remove, passwd")
    actions = users.add_subparsers(dest="user_action", required=True)
    p = actions.add_parser("add", help="a new user of /admin/ (the password is asked for)")
    p.add_argument("name", metavar="NAME", help="the user name to sign in with")
    p.add_argument("--role", required=True, choices=ROLES, help="editor: review and glossary; admin: everything")
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    p.set_defaults(func=cmd_user_add)
    p = actions.add_parser("list", help="the users and their roles")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_user_list)
    p = actions.add_parser("remove", help="delete a user with their sessions and API tokens")
    p.add_argument("name", metavar="NAME", help="the user to remove (their sessions and tokens end)")
    p.set_defaults(func=cmd_user_remove)
    p = actions.add_parser("passwd", help="set a user's password (their sessions end)")
    p.add_argument("name", metavar="NAME", help="the user whose password changes (their sessions end)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    p.set_defaults(func=cmd_user_passwd)

    tokens = subparsers.add_parser("token", help="bearer tokens for the /api/v1/ API: create, list, revoke")
    actions = tokens.add_subparsers(dest="token_action", required=True)
    p = actions.add_parser("create", help="a new token for a user (printed once)")
    p.add_argument("--user", required=True, metavar="NAME", help="whose rights the token carries")
    p.add_argument("--name", metavar="LABEL", help="what the token is for (e.g. 'ci')")
    p.set_defaults(func=cmd_token_create)
    p = actions.add_parser("list", help="the tokens (never the tokens themselves): user, label, last use")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_token_list)
    p = actions.add_parser("revoke", help="stop a token from working")
    p.add_argument("id", type=int, metavar="ID", help="the token's id from 'samachar token list'")
    p.set_defaults(func=cmd_token_revoke)


@contextmanager
def _accounts(config: Config) -> Iterator[Accounts]:
    from samachar.store import Store
    from samachar.web.admin.accounts import Accounts

    config.home.mkdir(parents=True, exist_ok=True)
    store = Store(config.db_url)
    try:
        yield Accounts(store)
    finally:
        store.close()


def read_password(from_stdin: bool) -> str:
    """One line of stdin, or a prompt asked twice; a one-line error when they differ or nothing came."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise SamacharError("the two passwords differ; nothing was changed")
    if not password:
        raise SamacharError("no password given" + (" on stdin" if from_stdin else ""))
    return password


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_user_add(args, config: Config) -> int:
    with _accounts(config) as accounts:
        from samachar.web.admin.accounts import check_user_name

        name = check_user_name(args.name)
        if accounts.store.users.find(name) is not None:  # said before the password is asked for
            raise SamacharError(f"user {name!r} exists; see 'samachar user list'")
        user = accounts.add_user(name, args.role, read_password(args.password_stdin))
    print(f"user {user.id}: {user.name} ({user.role})")
    return 0


def cmd_user_list(args, config: Config) -> int:
    with _accounts(config) as accounts:
        users = accounts.store.users.list()
    if args.json:
        _print_json([{"id": u.id, "name": u.name, "role": u.role, "language": u.language} for u in users])
        return 0
    if not users:
        print("no users; add one with 'samachar user add NAME --role admin'")
        return 0
    print(f"{'ID':>4}  {'ROLE':<6}  NAME")
    for u in users:
        print(f"{u.id:>4}  {u.role:<6}  {u.name}")
    return 0


def cmd_user_remove(args, config: Config) -> int:
    with _accounts(config) as accounts:
        user = accounts.user(args.name)
        accounts.remove_user(user)
    print(f"removed user {user.name}, with their sessions and API tokens")
    return 0


def cmd_user_passwd(args, config: Config) -> int:
    with _accounts(config) as accounts:
        user = accounts.user(args.name)
        accounts.set_password(user, read_password(args.password_stdin))
    print(f"new password set for {user.name}; their sessions have ended")
    return 0


def cmd_token_create(args, config: Config) -> int:
    with _accounts(config) as accounts:
        user = accounts.user(args.user)
        token_id, token = accounts.create_token(user, args.name)
    print(f"token {token_id} for {user.name} ({user.role}); it is shown only now:", file=sys.stderr)
    print(token)
    return 0


def cmd_token_list(args, config: Config) -> int:
    with _accounts(config) as accounts:
        tokens = accounts.tokens()
    if args.json:
        _print_json([{"id": t.id, "user": t.user_name, "name": t.name, "created_at": _iso(t.created_at),
                      "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at)} for t in tokens])
        return 0
    if not tokens:
        print("no tokens; create one with 'samachar token create --user NAME'")
        return 0
    print(f"{'ID':>4}  {'USER':<16}  {'LAST USED':<16}  {'STATE':<7}  NAME")
    for t in tokens:
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
        state = "revoked" if t.revoked_at else "live"
        print(f"{t.id:>4}  {t.user_name:<16}  {used:<16}  {state:<7}  {t.name or ''}")
    return 0


def cmd_token_revoke(args, config: Config) -> int:
    with _accounts(config) as accounts:
        accounts.revoke_token(args.id)
    print(f"revoked token {args.id}")
    return 0
