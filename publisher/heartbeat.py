"""Daemon heartbeats: each daemon keeps one row of ``daemons`` up to date.

The daemon calls :func:`beat` when it starts and every
``daemon.heartbeat_seconds``, and :func:`stopped` when it shuts down cleanly.
``publisher status`` reads the table: a daemon whose last beat is older than
three periods, and that never said it stopped, went silent (killed, host
down, database unreachable from it).

The first beat of a run (``starting=True``) resets the row (host, pid,
``started_at``), so a worker id reused after a restart shows its new run.  A
failed write is logged and skipped: a heartbeat never stops the daemon.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from importlib import metadata
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from . import __version__
from .errors import StorageError
from .models import utcnow
from .store.engine import write
from .store.schema import daemons

if TYPE_CHECKING:
    from .context import App

log = logging.getLogger(__name__)


def version() -> str:
    try:
        return metadata.version("publisher")
    except metadata.PackageNotFoundError:  # run from a source tree
        return __version__


def beat(app: App, worker: str, now: datetime | None = None, *, starting: bool = False) -> bool:
    """Record that *worker* (this process) is alive; False if the database could not be written.

    *starting*: the first beat of a run, which (re)starts the row: this host and
    pid, ``started_at`` now, not stopped.  A later beat only moves
    ``heartbeat_at``, and never brings back a run already marked stopped (a
    beat that raced the shutdown).
    """
    now = now or utcnow()
    try:
        with write(app.engine) as conn:
            if not starting:
                moved = conn.execute(update(daemons).where(daemons.c.worker == worker, daemons.c.stopped_at.is_(None))
                                     .values(heartbeat_at=now)).rowcount
                if moved or conn.execute(select(daemons.c.worker).where(daemons.c.worker == worker)).first():
                    return True
            run = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": now, "heartbeat_at": now,
                   "stopped_at": None, "version": version()}
            if not conn.execute(update(daemons).where(daemons.c.worker == worker).values(**run)).rowcount:
                conn.execute(insert(daemons).values(worker=worker, **run))
    except StorageError as exc:
        log.warning("heartbeat of %s not recorded: %s", worker, exc)
        return False
    return True


def stopped(app: App, worker: str, now: datetime | None = None) -> bool:
    """Record that *worker* stopped cleanly; False if the database could not be written."""
    now = now or utcnow()
    try:
        with write(app.engine) as conn:
            conn.execute(update(daemons)  # only this process's run: never another one sharing the id
                         .where(daemons.c.worker == worker, daemons.c.host == socket.gethostname(),
                                daemons.c.pid == os.getpid())
                         .values(stopped_at=now, heartbeat_at=now))
    except StorageError as exc:
        log.warning("stop of %s not recorded: %s", worker, exc)
        return False
    return True
