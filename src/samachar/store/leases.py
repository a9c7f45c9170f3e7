"""Leases: a claim on a row (a source being polled, an entry being worked on) that lapses unless renewed.

A lease names its owner, ``host:pid:random``, and ends a short interval ahead
(``LEASE_SECONDS``). The owner renews it from a background thread while it
works, so a process that is killed, or cut off from the database, lets go
within that interval; one that died on this host (its pid is gone) is
reclaimed at once. Rows a live owner holds come back to the caller as
``held``, so that what was skipped can be reported.

A table's lease is two of its columns, the owner and the end:
``sources.lease_owner`` / ``sources.locked_until`` and ``entries.lease_owner``
/ ``entries.lease_until``. Claiming is one conditional UPDATE per batch, which
both SQLite and PostgreSQL make atomic per row: two claimants never both win.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Select, Table, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # how long a lease outlives its owner at most
BATCH = 500  # ids per statement: far below SQLite's and PostgreSQL's parameter limits

_owner: tuple[int, str] | None = None


def lease_owner() -> str:
    """This process's owner id, ``host:pid:random``; a forked child gets its own."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _owner[1]


def _host_and_pid(owner: str) -> tuple[str, int] | None:
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` was a process of this host that no longer runs, so its leases can be taken now.

    Another host's process is never known dead from here: its leases lapse by time.
    """
    parsed = _host_and_pid(owner)
    if parsed is None or parsed[0] != socket.gethostname() or parsed[1] <= 0:
        return False
    if parsed[1] == os.getpid():
        return owner != lease_owner()  # an earlier process that had our pid
    try:
        os.kill(parsed[1], 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process (EPERM) is alive; a nonsense pid is not ours to judge
        return False
    return False


@dataclass(frozen=True)
class Held:
    """A row someone else holds: who, and until when unless they renew."""

    id: int
    owner: str | None
    until: datetime | None

    @property
    def holder(self) -> str:
        """``host:pid`` of the owner (the random part says nothing to a reader)."""
        parsed = _host_and_pid(self.owner or "")
        return f"{parsed[0]}:{parsed[1]}" if parsed else (self.owner or "an older samachar")

    def describe(self) -> str:
        until = f" until {self.until.astimezone(UTC):%H:%M:%S} UTC" if self.until else ""
        return self.holder + until


@dataclass
class Claim:
    claimed: list[int]  # leased to us now, in the order asked
    held: list[Held]  # leased to a live owner (ourselves included, in another task): skipped


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


class LeaseTable:
    """Leases on the rows of one table, kept in its ``owner`` and ``until`` columns.

    ``owner_id`` stands for another process in tests; by default it is this
    process (:func:`lease_owner`).
    """

    def __init__(self, engine: Engine, table: Table, *, owner: Column, until: Column, owner_id: str | None = None,
                 seconds: float = LEASE_SECONDS, renew_every: float | None = None):
        self.engine = engine
        self.table = table
        self.owner = owner
        self.until = until
        self.key = table.c.id
        self.seconds = seconds
        self._owner_id = owner_id
        self._renewer = _Renewer(self, renew_every or seconds / 3)

    @property
    def owner_id(self) -> str:
        return self._owner_id or lease_owner()

    def claim(self, ids: Iterable[int], now: datetime | None = None, *, renew: bool = True) -> Claim:
        """Lease every free row of ``ids`` (free: never leased, lapsed, or its owner died on this host).

        With ``renew`` the leases are renewed in the background until :meth:`release`.
        """
        wanted = list(dict.fromkeys(ids))
        now = now or datetime.now(UTC)
        me, ends = self.owner_id, now + timedelta(seconds=self.seconds)
        claimed: set[int] = set()
        held: list[Held] = []
        with self.engine.begin() as conn:
            for chunk in _chunks(wanted):
                # An end without an owner was written by a version without owners, whose lock outlived it.
                free = or_(self.until.is_(None), self.until < now, self.owner.is_(None))
                claimed.update(conn.execute(update(self.table).where(self.key.in_(chunk)).where(free)
                                            .values({self.owner: me, self.until: ends})
                                            .returning(self.key)).scalars())
            for chunk in _chunks([i for i in wanted if i not in claimed]):
                for row in conn.execute(select(self.key, self.owner, self.until).where(self.key.in_(chunk))):
                    row_id, owner, until = row
                    if owner and owner != me and owner_is_dead(owner):
                        taken = conn.execute(update(self.table).where(self.key == row_id)
                                             .where(self.owner == owner).values({self.owner: me, self.until: ends})
                                             .returning(self.key)).scalar()
                        if taken is not None:
                            log.info("took over the lease on %s %d from %s, which is no longer running",
                                     self.table.name, row_id, owner)
                            claimed.add(taken)
                            continue
                    held.append(Held(row_id, owner, until))
        ordered = [i for i in wanted if i in claimed]
        if renew and ordered:
            self._renewer.add(ordered)
        return Claim(ordered, held)

    def renew(self, ids: Iterable[int], now: datetime | None = None) -> list[int]:
        """Extend our leases on ``ids``; returns those still ours (a lapsed lease someone took is not)."""
        wanted = list(dict.fromkeys(ids))
        ends = (now or datetime.now(UTC)) + timedelta(seconds=self.seconds)
        kept: list[int] = []
        with self.engine.begin() as conn:
            for chunk in _chunks(wanted):
                kept.extend(conn.execute(update(self.table).where(self.key.in_(chunk))
                                         .where(self.owner == self.owner_id).values({self.until: ends})
                                         .returning(self.key)).scalars())
        return kept

    def release(self, ids: Iterable[int]) -> None:
        """Give our leases on ``ids`` back (another owner's are left alone)."""
        wanted = list(dict.fromkeys(ids))
        self._renewer.discard(wanted)
        with self.engine.begin() as conn:
            for chunk in _chunks(wanted):
                conn.execute(update(self.table).where(self.key.in_(chunk)).where(self.owner == self.owner_id)
                             .values({self.owner: None, self.until: None}))

    def held(self, ids: Iterable[int], now: datetime | None = None) -> list[Held]:
        """Which of ``ids`` are leased now, and to whom."""
        wanted = list(dict.fromkeys(ids))
        now = now or datetime.now(UTC)
        found: list[Held] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(select(self.key, self.owner, self.until).where(self.key.in_(chunk))
                                    .where(self.owner.is_not(None)).where(self.until >= now))
                found.extend(Held(*row) for row in rows)
        return found

    def claim_skip_locked(self, candidates: Select[Any], limit: int, now: datetime | None = None) -> list[int]:
        """Lease up to ``limit`` free rows of ``candidates`` (a SELECT of ids) in one transaction.

        On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so concurrent
        workers pass over each other's rows instead of queueing on them; the lease is
        written before the row locks are let go. Renewed in the background until released.
        """
        now = now or datetime.now(UTC)
        self.reap_dead(now)
        me, ends = self.owner_id, now + timedelta(seconds=self.seconds)
        free = or_(self.until.is_(None), self.until < now, self.owner.is_(None))
        query = candidates.where(free).limit(limit)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=self.table)
            ids = list(conn.execute(query).scalars())
            if ids:
                conn.execute(update(self.table).where(self.key.in_(ids)).values({self.owner: me, self.until: ends}))
        if ids:
            self._renewer.add(ids)
        return ids

    def reap_dead(self, now: datetime | None = None) -> int:
        """Free the live-looking leases of owners that died on this host; returns how many rows were freed."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            owners = list(conn.execute(select(self.owner).where(self.owner.is_not(None))
                                       .where(self.until >= now).distinct()).scalars())
        freed = 0
        for owner in owners:
            if owner != self.owner_id and owner_is_dead(owner):
                with self.engine.begin() as conn:
                    freed += conn.execute(update(self.table).where(self.owner == owner)
                                          .values({self.owner: None, self.until: None})).rowcount
                log.info("freed the leases of %s on %s: it is no longer running", owner, self.table.name)
        return freed

    def renewing(self) -> set[int]:
        """The ids this table's background renewal keeps leased."""
        return self._renewer.ids()


class _Renewer:
    """Renews one table's leases from a daemon thread, every ``every`` seconds, until they are released.

    The thread holds the table only weakly and ends when nothing is left to
    renew, so a forgotten lease costs a thread for as long as its table lives.
    """

    def __init__(self, table: LeaseTable, every: float):
        self._table = weakref.ref(table)
        self.every = every
        self.seconds = table.seconds
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._ids)

    def add(self, ids: list[int]) -> None:
        with self._lock:
            self._ids.update(ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="samachar-lease-renewal", daemon=True)
                self._thread.start()

    def discard(self, ids: list[int]) -> None:
        with self._lock:
            self._ids.difference_update(ids)
            if not self._ids:
                self._wake.set()

    def _run(self) -> None:
        renewed_at = time.monotonic()
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            with self._lock:
                ids = set(self._ids)
                if not ids:
                    self._thread = None
                    return
            table = self._table()
            if table is None:
                return
            name = table.table.name
            try:
                kept = set(table.renew(ids))
            except SQLAlchemyError as exc:  # a busy or unreachable database: again, until the leases are lost anyway
                log.warning("could not renew %d leases on %s: %s", len(ids), name, exc)
                if time.monotonic() - renewed_at > self.seconds:
                    self.discard(list(ids))
                continue
            finally:
                del table  # only weakly held between rounds
            renewed_at = time.monotonic()
            with self._lock:
                lost = (ids - kept) & self._ids  # released meanwhile is not lost
            if lost:
                log.warning("lost the lease on %d %s (it lapsed and was taken): %s", len(lost), name,
                            ", ".join(map(str, sorted(lost)[:10])))
                self.discard(list(lost))
