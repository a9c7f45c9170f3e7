"""One pipeline run at a time per home.

Sources have their own lock in the database, but the later stages (fetch,
extract, translate) would otherwise do the same work twice — twice the cost on
a paid translation API — when cron starts a run before the last one ended.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from samachar.errors import SamacharError

LOCK_NAME = "run.lock"


class RunInProgress(SamacharError):
    pass


@contextmanager
def run_lock(home: Path) -> Iterator[None]:
    """Hold the home's run lock, or fail at once with a one-line error naming the holder."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(f"another samachar run is in progress in {home} (pid {holder}); "
                                "wait for it, or run less often") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock, also when the process dies
