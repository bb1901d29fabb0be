"""The record of an attempt's outcome: new state, attempt row, journal entry, channel health.

:class:`~publisher.attempt.Attempt` decides what an attempt's outcome is;
:class:`Record` writes it.  The delivery's transition, its attempt row, the
journal entry and any change of the channel's health commit together, guarded
by the lease: a worker that lost its lease cannot overwrite another's result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from . import journal
from .errors import StateError
from .models import Delivery, DeliveryState, Receipt
from .redact import redact
from .store import deliveries as store
from .store.engine import write
from .store.schema import attempts

if TYPE_CHECKING:
    from .context import App

# the logger of the attempt: its lines kept their logger name when this module was split out of it
log = logging.getLogger("publisher.attempt")


class Record:
    """Records the outcomes of one worker's attempts; safe to call from several threads."""

    def __init__(self, app: App, worker: str, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.worker = worker
        self.clock = clock
        self.unhealthy: dict[str, str] = {}  # channel -> why, while its token is refused
        self._health_lock = threading.Lock()

    def note(self, d: Delivery, event: str, payload: dict[str, Any]) -> None:
        """A step of an attempt worth an auditor's eye (e.g. looked for the post, not there)."""
        with write(self.app.engine) as conn:
            journal.append(conn, self.worker, event, f"delivery:{d.id}", payload)

    def finish(self, d: Delivery, started: datetime, target: DeliveryState, outcome: str, error: str | None,
               fields: dict[str, Any], receipt: Receipt | None = None,
               health: tuple[bool, str] | None = None) -> str:
        """Move *d* to *target* with its attempt row and journal entry; returns the state's name or "lease_lost"."""
        error = redact(error) if error else None  # a peer may echo a token back
        try:
            with write(self.app.engine) as conn:
                store.transition(conn, d.id, target, owner=self.worker, attempts=d.attempts + 1, last_error=error,
                                 lease_owner=None, lease_expires_at=None, **fields)
                self.attempt_row(conn, d, self.worker, started, outcome, error, receipt)
                journal.append(conn, self.worker, f"delivery.{target.value}", f"delivery:{d.id}", {
                    "attempt": d.attempts + 1, "outcome": outcome, "error": error,
                    "remote_id": receipt.remote_id if receipt else None,
                    "permalink": receipt.permalink if receipt else None, "content_sha256": d.content_sha256})
                if health is not None:
                    self._health(conn, d.channel, *health)
        except StateError:
            log.warning("delivery %s: lease lost before the outcome %s was recorded", d.id, outcome)
            return "lease_lost"
        return target.value

    def attempt_row(self, conn: Any, d: Delivery, worker: str, started: datetime, outcome: str,
                    error: str | None, receipt: Receipt | None = None) -> None:
        """The attempt log row (in the caller's transaction)."""
        conn.execute(insert(attempts).values(
            delivery_id=d.id, number=d.attempts + 1, worker=worker, started_at=started, finished_at=self.clock(),
            outcome=outcome, error=error, remote_id=receipt.remote_id if receipt else None,
            permalink=receipt.permalink if receipt else None))

    def _health(self, conn: Any, channel: str, ok: bool, detail: str) -> None:
        """Journal a channel going unhealthy (token expired...) or recovering, once per change."""
        with self._health_lock:
            was_ok = self.unhealthy.get(channel) is None
            if ok == was_ok:
                return
            if ok:
                self.unhealthy.pop(channel, None)
            else:
                self.unhealthy[channel] = detail
        event = "channel.healthy" if ok else "channel.unhealthy"
        journal.append(conn, self.worker, event, f"channel:{channel}", {"detail": redact(detail)})
