"""One attempt to publish one claimed delivery, and the record of its outcome.

:meth:`Attempt.process` takes a delivery the worker holds a lease on:

- lease no longer held (another worker recovered it) → left alone;
- past its deadline → failed (a late "comments close tomorrow" is worse than none);
- content or media changed since approval → failed (never publish unapproved bytes);
- flagged for reconciliation (an ambiguous failure, or its worker died) →
  ``channel.find()`` first; found → published, never posted twice;
- publish, with short transient faults retried in place (tenacity);
- rate limited → waits until the time the peer gave; token rejected → waits
  for staff to renew it (journalled once), never failed for it;
- the outcome, the attempt row and the journal entry commit together, guarded
  by the lease: a worker that lost its lease cannot overwrite another's result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import tenacity
from sqlalchemy import insert

from . import journal, media
from .channels.base import Channel
from .errors import (
    AmbiguousError,
    AuthError,
    PermanentError,
    PublishError,
    RateLimited,
    StateError,
    TransientError,
)
from .models import Delivery, DeliveryState, Receipt, utcnow
from .redact import redact
from .retry import backoff
from .store import deliveries as store
from .store.engine import write
from .store.schema import attempts

if TYPE_CHECKING:
    from .context import App

log = logging.getLogger(__name__)
S = DeliveryState


class _Renewed:
    """When this attempt last renewed its lease (monotonic: wall-clock jumps do not count)."""

    def __init__(self) -> None:
        self.at = time.monotonic()

    def now(self) -> None:
        self.at = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.at


class _LeaseLost(Exception):
    """This worker's lease was taken over: it must not talk to the channel any more."""


class Attempt:
    """Publishes claimed deliveries for one worker; safe to call from several threads."""

    def __init__(self, app: App, worker: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.app = app
        self.worker = worker
        self.clock = clock
        self.retry = app.config.retry
        self.lease = timedelta(seconds=app.config.daemon["lease_seconds"])
        self.unhealthy: dict[str, str] = {}  # channel -> why, while its token is refused
        self._health_lock = threading.Lock()

    def process(self, d: Delivery) -> str:
        """Take one claimed delivery to its next state; returns that state's name."""
        started, renewed = self.clock(), _Renewed()
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
                self._note(d, "delivery.not_found", {"looked_since": str(d.first_attempt_at)})
            return self._published(d, started, self._publish(channel, d, renewed), "published")
        except _LeaseLost:
            log.warning("delivery %s: lease lost before publishing; left to its new owner", d.id)
            return "lease_lost"
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

    def _publish(self, channel: Channel, d: Delivery, renewed: _Renewed) -> Receipt:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.inline_attempts),
            wait=tenacity.wait_random_exponential(multiplier=self.retry.inline_wait_seconds,
                                                  max=self.retry.inline_wait_seconds * 8),
            retry=tenacity.retry_if_exception(lambda e: type(e) is TransientError),
            reraise=True,
        )
        return retrying(self._publish_if_still_ours, channel, d, renewed)

    def _publish_if_still_ours(self, channel: Channel, d: Delivery, renewed: _Renewed) -> Receipt:
        # checked again right before every request: a worker frozen while it looked for the
        # post (or between quick retries) may have been presumed dead and replaced meanwhile.
        # Only a lease renewed a moment ago (a tenth of it, by this process's monotonic clock)
        # is trusted without asking: that saves a transaction per delivery and loses nothing,
        # since a freeze after this check is possible whether or not the database was asked.
        if renewed.age() > self.lease.total_seconds() / 10:
            if not self._renew(d, self.clock()):
                raise _LeaseLost
            renewed.now()
        return channel.publish(d)

    def _note(self, d: Delivery, event: str, payload: dict[str, Any]) -> None:
        """A step of an attempt worth an auditor's eye (e.g. looked for the post, not there)."""
        with write(self.app.engine) as conn:
            journal.append(conn, self.worker, event, f"delivery:{d.id}", payload)

    def _tampered(self, d: Delivery) -> str | None:
        if d.content.sha256() != d.content_sha256:
            return "content changed after approval (sha256 mismatch)"
        for item in d.content.media:
            if not media.intact(self.app.data_dir, item):
                return f"media {item.name} missing or changed after approval"
        return None

    def _failed_attempt(self, d: Delivery, started: datetime, exc: PublishError) -> str:
        number = d.attempts + 1
        if isinstance(exc, AuthError):
            return self._wait_for_token(d, started, exc)
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

    def _wait_for_token(self, d: Delivery, started: datetime, exc: AuthError) -> str:
        # staff must renew the token: the delivery waits (its deadline still applies), it is
        # neither failed nor spent, and the first such error of an outage goes in the journal
        retry_at = self.clock() + timedelta(seconds=self.retry.auth_wait_seconds)
        fields = {"next_attempt_at": retry_at, "needs_reconcile": d.needs_reconcile}
        return self._finish(d, started, S.WAITING, exc.outcome, str(exc), fields, health=(False, str(exc)))

    def _fail(self, d: Delivery, started: datetime, outcome: str, error: str) -> str:
        return self._finish(d, started, S.FAILED, outcome, error, {})

    def _published(self, d: Delivery, started: datetime, receipt: Receipt, outcome: str) -> str:
        fields = {"remote_id": receipt.remote_id, "permalink": receipt.permalink, "needs_reconcile": False}
        if receipt.extra.get("scheduled"):  # on the peer's scheduler: published when it goes live
            return self._finish(d, started, S.SCHEDULED, "scheduled" if outcome == "published" else outcome,
                                None, fields, receipt, health=(True, ""))
        fields["published_at"] = self.clock()
        return self._finish(d, started, S.PUBLISHED, outcome, None, fields, receipt, health=(True, ""))

    def _finish(self, d: Delivery, started: datetime, target: DeliveryState, outcome: str, error: str | None,
                fields: dict[str, Any], receipt: Receipt | None = None,
                health: tuple[bool, str] | None = None) -> str:
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
