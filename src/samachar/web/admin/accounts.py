"""Signing in to the desk: passwords, sessions, API tokens and the limits on guessing.

The one place that makes and checks the desk's secrets, for the web pages and
the ``samachar user`` / ``samachar token`` commands alike. Passwords are
argon2id (rehashed at sign-in when the parameters change); session ids and
tokens are random and stored as their sha256, so a copy of the database opens
nothing. An unknown name costs one hash like a known one, so timing does not
tell which names exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from samachar.errors import SamacharError
from samachar.model import ROLES
from samachar.store.users import ApiToken, User, utcnow

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from samachar.store import Store

USER_NAME = re.compile(r"^\w[\w.@-]{0,99}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # hashing a megabyte per guess is a cheap way to burn the server's CPU
LIMIT_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5  # failed sign-ins per account in the window before it is refused unchecked
ADDRESS_FAILURES = 20  # and per client address
TOKEN_PREFIX = "sam_"  # so a leaked token is recognizable in a scanner's report


class AccountError(SamacharError):
    """A user or token that cannot be made or found as asked."""


class SignInRefused(SamacharError):
    """Wrong name or password (the message never says which)."""


class SignInLimited(SamacharError):
    """Too many failed sign-ins for this account or address: try later."""


def secret_hash(secret: str) -> str:
    """What the database keeps of a session id or a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def default_hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def canonical_user_name(name: str) -> str:
    """The one spelling of a name that is stored, looked up and counted by the login limit.

    Without it, "Meera" and "meera" could be two accounts, and guesses spread over spellings
    would each get their own limit.
    """
    return unicodedata.normalize("NFKC", name).strip().lower()


def limit_address(address: str) -> str:
    """What the per-address limit counts: an IPv4 address, or an IPv6 address's /64 network.

    One IPv6 subscriber holds a whole /64, so counting single addresses would give them
    billions of fresh limits.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def check_user_name(name: str) -> str:
    """The canonical form of a usable new user name; a one-line error otherwise."""
    canonical = canonical_user_name(name) if isinstance(name, str) else ""
    if not USER_NAME.match(canonical):
        raise AccountError(f"{name!r} is not a usable user name; use letters, digits, '.', '@', '-' or '_' "
                           "(up to 100, no spaces)")
    return canonical


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is unknown; use {' or '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password is too short; use at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password is too long; use at most {MAX_PASSWORD_CHARS} characters")
    return password


@dataclass
class Accounts:
    """Users, sessions and tokens over ``store.users``, with the desk's rules."""

    store: Store
    idle: timedelta = timedelta(hours=12)
    lifetime: timedelta = timedelta(days=7)
    hasher: PasswordHasher = field(default_factory=default_hasher)
    _decoy_hash: str | None = field(default=None, repr=False)

    # -- users -----------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        name = check_user_name(name)
        check_role(role)
        check_password(password)
        if self.store.users.find(name) is not None:
            raise AccountError(f"user {name!r} exists; see 'samachar user list'")
        return self.store.users.add(name, role, self.hasher.hash(password))

    def user(self, name: str) -> User:
        found = self.store.users.find(canonical_user_name(name))
        if found is None:
            raise AccountError(f"no user {name!r}; see 'samachar user list'")
        return found

    def set_password(self, user: User, password: str) -> None:
        """A new password; the user's sessions end (sign in again with it)."""
        check_password(password)
        self.store.users.set_password(user.id, self.hasher.hash(password))

    def remove_user(self, user: User) -> None:
        """Delete the user, their sessions and tokens; the last admin stays."""
        if user.is_admin and self.store.users.count("admin") <= 1:
            raise AccountError(f"{user.name!r} is the only admin; add another admin first")
        self.store.users.remove(user.id)

    # -- signing in ------------------------------------------------------------------------------

    def limited(self, name: str, address: str, *, including_this: bool = False) -> bool:
        """Whether this account or address has failed too often lately (``including_this``: the
        attempt in progress is already recorded, so one more is allowed)."""
        since = utcnow() - LIMIT_WINDOW
        users = self.store.users
        extra = 1 if including_this else 0
        return (users.failures_since(since, username=name) >= ACCOUNT_FAILURES + extra
                or users.failures_since(since, address=address) >= ADDRESS_FAILURES + extra)

    def sign_in(self, name: str, password: str, address: str) -> tuple[User, str]:
        """The user and a new session id for a right name and password; raises otherwise.

        A limited account or address is refused before its password is looked at. The attempt is
        recorded as failed before the (slow) check and cleared on success, so guesses sent in
        parallel see each other: the k-th one written counts k, and those past the limit are
        refused unchecked.
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        name, counted = canonical_user_name(name), limit_address(address)
        if self.limited(name, counted):
            raise SignInLimited("too many failed sign-ins; wait 15 minutes and try again")
        self.store.users.record_failure(name, counted)
        if self.limited(name, counted, including_this=True):
            raise SignInLimited("too many failed sign-ins; wait 15 minutes and try again")
        found = self.store.users.credentials(name) if len(password) <= MAX_PASSWORD_CHARS else None
        try:
            if found is None:  # the same work as for a real user: no telling names apart by time
                self.hasher.verify(self._decoy(), password[:MAX_PASSWORD_CHARS] + "\x00")
                raise VerificationError("unknown user")
            user, stored = found
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            self.store.users.prune_failures(utcnow() - LIMIT_WINDOW)  # only the window's failures count
            raise SignInRefused("wrong user name or password") from None
        self.store.users.prune_sessions()
        if self.hasher.check_needs_rehash(stored):
            self.store.users.set_password(user.id, self.hasher.hash(password), end_sessions=False)
        self.store.users.clear_failures(name)
        return user, self.new_session(user, address)

    def check_current_password(self, user: User, password: str) -> None:
        """Raises :class:`SignInRefused` unless ``password`` is the user's (before they change it)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        found = self.store.users.credentials(user.name)
        try:
            if found is None or len(password) > MAX_PASSWORD_CHARS:
                raise VerificationError("no such user")
            self.hasher.verify(found[1], password)
        except (VerificationError, InvalidHashError):
            raise SignInRefused("the current password is wrong") from None

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    # -- sessions --------------------------------------------------------------------------------

    def new_session(self, user: User, address: str | None) -> str:
        """A fresh random session id; the database keeps only its hash."""
        session_id = secrets.token_urlsafe(32)
        self.store.users.create_session(user.id, secret_hash(session_id), expires_at=utcnow() + self.lifetime,
                                        address=address)
        return session_id

    def session_user(self, session_id: str) -> User | None:
        if not session_id or len(session_id) > 200:
            return None
        return self.store.users.session_user(secret_hash(session_id), idle=self.idle)

    def end_session(self, session_id: str) -> None:
        self.store.users.delete_session(secret_hash(session_id))

    # -- API tokens ------------------------------------------------------------------------------

    def create_token(self, user: User, label: str | None = None) -> tuple[int, str]:
        """A new bearer token for ``user``: its id and the token itself, which is shown only now."""
        if label is not None and len(label) > 100:
            raise AccountError("the token's name is too long; use at most 100 characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return self.store.users.add_token(user.id, secret_hash(token), label), token

    def token_user(self, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        return self.store.users.token_user(secret_hash(token))

    def tokens(self) -> list[ApiToken]:
        return self.store.users.tokens()

    def revoke_token(self, token_id: int) -> None:
        if not self.store.users.revoke_token(token_id):
            raise AccountError(f"no live token {token_id}; see 'samachar token list'")
