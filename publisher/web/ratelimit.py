"""Failed logins, counted per username and per client address, in a sliding window.

Counted in the database (``login_failures``), so every worker process of
``publisher web --workers N`` and every restart sees the same count: a
guesser gains nothing by landing on another worker or waiting for a deploy.
Only the sha256 of each key is stored (no usernames typed by strangers, no
addresses).  Rows older than the window are deleted as new failures come, so
the table holds at most the last window's failures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select

from ..access import canonical
from ..models import utcnow
from ..store.engine import read, write
from ..store.schema import login_failures as failures


class LoginLimiter:
    """At most *limit* failures per key in *window* seconds; then the key is refused until they age out."""

    def __init__(self, engine: Engine, limit: int, window: float,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.limit = limit
        self.window = timedelta(seconds=window)
        self._clock = clock

    def retry_after(self, *keys: str) -> int:
        """Seconds until every key may try again; 0 if none is over the limit."""
        now = self._clock()
        with read(self.engine) as conn:
            waits = [self._wait(conn, key, now) for key in keys]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        """Count one failed login against every key (and forget failures older than the window)."""
        now = self._clock()
        with write(self.engine) as conn:
            conn.execute(delete(failures).where(failures.c.at <= now - self.window))
            conn.execute(insert(failures), [{"key_sha256": _digest(key), "at": now} for key in keys])

    def forget(self, key: str) -> None:
        """A successful login clears its username's failures (not its address's)."""
        with write(self.engine) as conn:
            conn.execute(delete(failures).where(failures.c.key_sha256 == _digest(key)))

    def _wait(self, conn: Connection, key: str, now: datetime) -> int:
        """Seconds until *key*'s limit-th latest failure leaves the window; 0 below the limit."""
        query = (select(failures.c.at).where(failures.c.key_sha256 == _digest(key), failures.c.at > now - self.window)
                 .order_by(failures.c.at.desc()).limit(self.limit))
        stamps = list(conn.execute(query).scalars())
        if len(stamps) < self.limit:
            return 0
        return max(1, int((stamps[-1] + self.window - now).total_seconds()) + 1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_key(username: str) -> str:
    """One key per account, however its name is typed (case, Unicode form)."""
    return f"user:{canonical(username)}"


def address_key(address: str) -> str:
    """One key per client address (behind a proxy: the address the proxy forwarded, if trusted)."""
    return f"addr:{address}"
