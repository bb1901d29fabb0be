"""Failed logins, counted per username and per client address, in a sliding window.

Kept in the memory of one process: enough for ``publisher web`` (one
process), but several server processes each count on their own, and a
restart forgets.  Moving the counts to the database (or a shared cache) is
the step when the web UI runs as several workers.  Memory is bounded: old
failures are dropped as the window slides and the table never holds more
than :data:`MAX_KEYS` keys.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..access import canonical

#: An attacker spraying random usernames must not grow the table without end.
MAX_KEYS = 10_000


class LoginLimiter:
    """At most *limit* failures per key in *window* seconds; then the key is refused."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def retry_after(self, *keys: str) -> int:
        """Seconds until every key may try again; 0 if none is over the limit."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        """Count one failed login against every key."""
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._prune(now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def forget(self, key: str) -> None:
        """A successful login clears its username's failures (not its address's)."""
        with self._lock:
            self._failures.pop(key, None)

    def _wait(self, key: str, now: float) -> int:
        stamps = self._failures.get(key)
        if not stamps:
            return 0
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) < self.limit:
            return 0
        return max(1, int(stamps[-self.limit] + self.window - now) + 1)

    def _prune(self, now: float) -> None:
        """Drop keys with no recent failure; if still full, the oldest half."""
        for key in [k for k, s in self._failures.items() if not s or s[-1] <= now - self.window]:
            del self._failures[key]
        if len(self._failures) >= MAX_KEYS:
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest[: len(oldest) // 2]:
                del self._failures[key]


def user_key(username: str) -> str:
    """One key per account, however its name is typed (case, Unicode form)."""
    return f"user:{canonical(username)}"


def address_key(address: str) -> str:
    """One key per client address (behind a proxy: the address the proxy forwarded, if trusted)."""
    return f"addr:{address}"
