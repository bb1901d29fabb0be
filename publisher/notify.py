"""Waking daemons when work is queued: PostgreSQL LISTEN/NOTIFY.

``announce`` runs inside the transaction that queues work (approval, release):
PostgreSQL delivers the notification when it commits, so a daemon never wakes
for work it cannot see yet.  ``Listener`` is a daemon's thread that waits on
its own connection and calls back on each notification.  SQLite has no such
thing: daemons there notice new work at their next ``daemon.poll_seconds``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
CHANNEL = "publisher_queue"


def announce(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {CHANNEL}"))


class Listener:
    """Calls *wake* whenever work is announced (PostgreSQL only; a no-op elsewhere)."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self.engine = engine
        self.wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        self._thread = threading.Thread(target=self._run, name="listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - the database went away: listen again, polling covers the gap
                log.warning("LISTEN connection lost (%s); polling until it is back", str(exc).splitlines()[0])
                self._stop.wait(5)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        try:
            pg = raw.driver_connection
            pg.autocommit = True
            pg.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                for _ in pg.notifies(timeout=1.0, stop_after=1):
                    self.wake()
        finally:
            raw.close()
