"""The daemon's work: claim due deliveries, publish them, record the outcome.

One delivery at a time goes through :meth:`Dispatcher.process`:

- past its deadline → failed (a late "comments close tomorrow" is worse than none);
- content or media changed since approval → failed (never publish unapproved bytes);
- lease no longer held (another worker recovered it) → left alone;
- flagged for reconciliation (an ambiguous failure, or its worker died) →
  ``channel.find()`` first; found → published, never posted twice;
- publish, with short transient faults retried in place (tenacity);
- the outcome, the attempt row and the journal entry commit together, guarded
  by the lease: a worker that lost its lease cannot overwrite another's result.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import tenacity
from sqlalchemy import insert

from . import journal, media
from .channels.base import Channel
from .errors import AmbiguousError, PermanentError, PublishError, RateLimited, StateError, TransientError
from .models import Delivery, DeliveryState, Receipt, utcnow
from .retry import backoff
from .store import deliveries as store
from .store.engine import read, write
from .store.schema import attempts

if TYPE_CHECKING:
    from .context import App

log = logging.getLogger(__name__)
S = DeliveryState


class Dispatcher:
    """Publishes due deliveries for one worker (a daemon or ``run --once``)."""

    def __init__(self, app: App, worker: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.app = app
        self.worker = worker
        self.clock = clock
        self.retry = app.config.retry
        self.lease = timedelta(seconds=app.config.daemon["lease_seconds"])
        self.batch_size = app.config.daemon["batch_size"]
        self.stopping = threading.Event()

    def run_once(self) -> Counter[str]:
        """Recover lost leases, then publish everything due now.

        Returns how many deliveries ended in each state (published, waiting,
        failed), plus ``recovered`` leases and ``released`` claims.
        """
        outcomes: Counter[str] = Counter()
        outcomes["recovered"] += self.recover()
        while not self.stopping.is_set():
            batch = self.claim()
            if not batch:
                break
            for index, delivery in enumerate(batch):
                if self.stopping.is_set():
                    outcomes["released"] += self.release(batch[index:])
                    break
                outcomes[self.process(delivery)] += 1
        return +outcomes

    def claim(self) -> list[Delivery]:
        with write(self.app.engine) as conn:
            claimed = store.claim(conn, self.worker, self.clock(), self.lease, self.batch_size,
                                  self.app.enabled_channels())
            for d in claimed:
                journal.append(conn, self.worker, "delivery.claimed", f"delivery:{d.id}", {"attempt": d.attempts + 1})
        return claimed

    def recover(self) -> int:
        """Requeue deliveries whose worker died; they are reconciled before any new try."""
        now = self.clock()
        with write(self.app.engine) as conn:
            lost = store.expired(conn, now)
            for d in lost:
                store.transition(conn, d.id, S.QUEUED, needs_reconcile=True, lease_owner=None,
                                 lease_expires_at=None, attempts=d.attempts + 1)
                self._attempt_row(conn, d, d.lease_owner or "?", now, "lease_expired", "worker stopped mid-attempt")
                journal.append(conn, self.worker, "delivery.lease_expired", f"delivery:{d.id}",
                               {"worker": d.lease_owner, "attempt": d.attempts + 1})
        return len(lost)

    def release(self, unstarted: list[Delivery]) -> int:
        """Give back claimed deliveries this worker will not start (shutdown)."""
        with write(self.app.engine) as conn:
            for d in unstarted:
                store.transition(conn, d.id, S.QUEUED, owner=self.worker, lease_owner=None, lease_expires_at=None)
                journal.append(conn, self.worker, "delivery.released", f"delivery:{d.id}", {})
        return len(unstarted)

    def next_wakeup(self) -> datetime | None:
        with read(self.app.engine) as conn:
            return store.next_wakeup(conn, self.app.enabled_channels())

    def process(self, d: Delivery) -> str:
        """Take one claimed delivery to its next state; returns that state's name."""
        started = self.clock()
        if not self._renew(d, started):
            log.warning("delivery %s: lease lost before the attempt started; left to its new owner", d.id)
            return "lease_lost"
        if d.deadline_at and started > d.deadline_at:
            return self._fail(d, started, "deadline", f"deadline {d.deadline_at.isoformat()} passed")
        problem = self._tampered(d)
        if problem:
            return self._fail(d, started, "tampered", problem)
        channel = self.app.channel(d.channel)
        try:
            if d.needs_reconcile:
                found = channel.find(d, d.first_attempt_at)
                if found:
                    return self._published(d, started, found, "reconciled")
            return self._published(d, started, self._publish(channel, d), "published")
        except PublishError as exc:
            return self._failed_attempt(d, started, exc)
        except Exception as exc:  # a bug in a channel: it may have published, so reconcile
            log.exception("channel %s crashed on delivery %s", d.channel, d.id)
            return self._failed_attempt(d, started, AmbiguousError(f"{type(exc).__name__}: {exc}"))

    def _renew(self, d: Delivery, now: datetime) -> bool:
        # a batch can outlive the lease of its last items: re-check ownership just before
        # talking to the channel, so a worker that was presumed dead never posts a second time
        with write(self.app.engine) as conn:
            return store.renew(conn, d.id, self.worker, now + self.lease)

    def _publish(self, channel: Channel, d: Delivery) -> Receipt:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.inline_attempts),
            wait=tenacity.wait_random_exponential(multiplier=self.retry.inline_wait_seconds,
                                                  max=self.retry.inline_wait_seconds * 8),
            retry=tenacity.retry_if_exception(lambda e: type(e) is TransientError),
            reraise=True,
        )
        return retrying(channel.publish, d)

    def _tampered(self, d: Delivery) -> str | None:
        if d.content.sha256() != d.content_sha256:
            return "content changed after approval (sha256 mismatch)"
        for item in d.content.media:
            if not media.intact(self.app.data_dir, item):
                return f"media {item.name} missing or changed after approval"
        return None

    def _failed_attempt(self, d: Delivery, started: datetime, exc: PublishError) -> str:
        number = d.attempts + 1
        if isinstance(exc, PermanentError) or number >= self.retry.max_attempts:
            return self._fail(d, started, exc.outcome, str(exc))
        now = self.clock()
        if isinstance(exc, RateLimited) and exc.retry_at:
            retry_at = max(exc.retry_at, now)
        elif isinstance(exc, AmbiguousError):
            retry_at = now + timedelta(seconds=self.retry.reconcile_delay_seconds)
        else:
            retry_at = now + backoff(self.retry, number)
        fields = {"next_attempt_at": retry_at, "needs_reconcile": d.needs_reconcile or isinstance(exc, AmbiguousError)}
        return self._finish(d, started, S.WAITING, exc.outcome, str(exc), fields)

    def _fail(self, d: Delivery, started: datetime, outcome: str, error: str) -> str:
        return self._finish(d, started, S.FAILED, outcome, error, {})

    def _published(self, d: Delivery, started: datetime, receipt: Receipt, outcome: str) -> str:
        fields = {"remote_id": receipt.remote_id, "permalink": receipt.permalink, "published_at": self.clock(),
                  "needs_reconcile": False}
        return self._finish(d, started, S.PUBLISHED, outcome, None, fields, receipt)

    def _finish(self, d: Delivery, started: datetime, target: DeliveryState, outcome: str, error: str | None,
                fields: dict[str, Any], receipt: Receipt | None = None) -> str:
        try:
            with write(self.app.engine) as conn:
                store.transition(conn, d.id, target, owner=self.worker, attempts=d.attempts + 1, last_error=error,
                                 lease_owner=None, lease_expires_at=None, **fields)
                self._attempt_row(conn, d, self.worker, started, outcome, error, receipt)
                journal.append(conn, self.worker, f"delivery.{target.value}", f"delivery:{d.id}", {
                    "attempt": d.attempts + 1, "outcome": outcome, "error": error,
                    "remote_id": receipt.remote_id if receipt else None,
                    "permalink": receipt.permalink if receipt else None, "content_sha256": d.content_sha256})
        except StateError:
            log.warning("delivery %s: lease lost before the outcome %s was recorded", d.id, outcome)
            return "lease_lost"
        return target.value

    def _attempt_row(self, conn: Any, d: Delivery, worker: str, started: datetime, outcome: str,
                     error: str | None, receipt: Receipt | None = None) -> None:
        conn.execute(insert(attempts).values(
            delivery_id=d.id, number=d.attempts + 1, worker=worker, started_at=started, finished_at=self.clock(),
            outcome=outcome, error=error, remote_id=receipt.remote_id if receipt else None,
            permalink=receipt.permalink if receipt else None))
