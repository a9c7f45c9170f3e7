"""The desk's people: users, their server-side sessions, API tokens and failed sign-ins.

Only hashes of secrets are stored here (argon2id for passwords, sha256 for
session ids and tokens); making and checking them is
:mod:`samachar.web.admin.accounts`' job. Changing a user's password or
removing the user ends their sessions.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, func, select, update

from samachar.model import ROLES
from samachar.store.schema import api_tokens, login_attempts, sessions, users
from samachar.store.sources import MAX_ID


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str  # editor / admin
    language: str | None  # the desk's language; None: from Accept-Language

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may(self, role: str) -> bool:
        """Whether this user holds ``role`` or a larger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    user_name: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_USER_COLUMNS = (users.c.id, users.c.name, users.c.role, users.c.language)


def _user(row: Any) -> User:
    return User(id=row.id, name=row.name, role=row.role, language=row.language)


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT gave its row."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return int(key[0])


class UserRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- users -----------------------------------------------------------------------------------

    def add(self, name: str, role: str, password_hash: str, language: str | None = None) -> User:
        now = utcnow()
        with self.engine.begin() as conn:
            user_id = _new_id(conn.execute(users.insert().values(
                name=name, role=role, password_hash=password_hash, language=language,
                created_at=now, password_changed_at=now)))
        return User(id=user_id, name=name, role=role, language=language)

    def get(self, user_id: int) -> User | None:
        if not 0 < user_id <= MAX_ID:  # an id from a URL that no database integer holds: nobody
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def find(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
        return _user(row) if row else None

    def credentials(self, name: str) -> tuple[User, str] | None:
        """The user called ``name`` and their password hash, for signing in."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS, users.c.password_hash).where(users.c.name == name)).first()
        return (_user(row), row.password_hash) if row else None

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name))]

    def count(self, role: str | None = None) -> int:
        query = select(func.count()).select_from(users)
        if role is not None:
            query = query.where(users.c.role == role)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def remove(self, user_id: int) -> bool:
        """Delete the user with their sessions and tokens (also without ON DELETE CASCADE)."""
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
            conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
            return conn.execute(delete(users).where(users.c.id == user_id)).rowcount > 0

    def set_password(self, user_id: int, password_hash: str, *, end_sessions: bool = True) -> bool:
        """A new password; every session of the user ends, unless this is only a rehash at sign-in."""
        with self.engine.begin() as conn:
            values: dict[str, object] = {"password_hash": password_hash}
            if end_sessions:
                values["password_changed_at"] = utcnow()
                conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
            return conn.execute(update(users).where(users.c.id == user_id).values(**values)).rowcount > 0

    def set_language(self, user_id: int, language: str | None) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(users).where(users.c.id == user_id).values(language=language)).rowcount > 0

    # -- sessions --------------------------------------------------------------------------------

    def create_session(self, user_id: int, id_hash: str, *, expires_at: datetime, address: str | None) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(sessions.insert().values(id_hash=id_hash, user_id=user_id, created_at=now,
                                                  last_seen_at=now, expires_at=expires_at,
                                                  address=(address or "")[:64] or None))

    def session_user(self, id_hash: str, *, idle: timedelta, touch_after: timedelta = timedelta(minutes=1)
                     ) -> User | None:
        """The user of a live session: not past its absolute end, nor idle for longer than ``idle``.

        A dead session is deleted. ``last_seen_at`` is written at most every ``touch_after``, so a busy
        editor does not cost a write per page.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(select(*_USER_COLUMNS, sessions.c.last_seen_at, sessions.c.expires_at)
                               .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
                               .where(sessions.c.id_hash == id_hash)).first()
            if row is None:
                return None
            if row.expires_at <= now or row.last_seen_at + idle <= now:
                conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))
                return None
            if now - row.last_seen_at >= touch_after:
                conn.execute(update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen_at=now))
        return _user(row)

    def delete_session(self, id_hash: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash)).rowcount > 0

    def delete_sessions(self, user_id: int) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount

    def prune_sessions(self) -> int:
        """Forget sessions past their absolute end."""
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.expires_at <= utcnow())).rowcount

    # -- API tokens ------------------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, name: str | None = None) -> int:
        with self.engine.begin() as conn:
            return _new_id(conn.execute(api_tokens.insert().values(
                user_id=user_id, name=name, token_hash=token_hash, created_at=utcnow())))

    def token_user(self, token_hash: str, touch_after: timedelta = timedelta(minutes=1)) -> User | None:
        """The user of an unrevoked token; its ``last_used_at`` is kept (to the minute)."""
        now = utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(select(*_USER_COLUMNS, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
                               .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
                               .where(api_tokens.c.token_hash == token_hash)
                               .where(api_tokens.c.revoked_at.is_(None))).first()
            if row is None:
                return None
            if row.last_used_at is None or now - row.last_used_at >= touch_after:
                conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=now))
        return _user(row)

    def tokens(self) -> builtins.list[ApiToken]:  # builtins: ``list`` here is the method above
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_tokens, users.c.name.label("user_name"))
                                .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
                                .order_by(api_tokens.c.id))
            return [ApiToken(id=r.id, user_id=r.user_id, user_name=r.user_name, name=r.name,
                             created_at=r.created_at, last_used_at=r.last_used_at, revoked_at=r.revoked_at)
                    for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a token (kept, with its date, so the list shows it); False when none is live."""
        with self.engine.begin() as conn:
            return conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                                .where(api_tokens.c.revoked_at.is_(None))
                                .values(revoked_at=utcnow())).rowcount > 0

    # -- failed sign-ins -------------------------------------------------------------------------

    def record_failure(self, username: str, address: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_attempts.insert().values(at=utcnow(), username=username[:100],
                                                        address=address[:64]))

    def failures_since(self, since: datetime, *, username: str | None = None, address: str | None = None) -> int:
        query = select(func.count()).select_from(login_attempts).where(login_attempts.c.at > since)
        if username is not None:
            query = query.where(login_attempts.c.username == username[:100])
        if address is not None:
            query = query.where(login_attempts.c.address == address[:64])
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def clear_failures(self, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_attempts).where(login_attempts.c.username == username[:100]))

    def prune_failures(self, before: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(login_attempts).where(login_attempts.c.at <= before)).rowcount
