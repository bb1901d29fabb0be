"""One attempt to publish one claimed delivery, and the outcome it comes to.

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
  by the lease: a worker that lost its lease cannot overwrite another's result
  (written by :class:`publisher.attempt_record.Record`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import tenacity

from . import media
from .attempt_record import Record
from .channels.base import Channel
from .errors import AmbiguousError, AuthError, PermanentError, PublishError, RateLimited, TransientError
from .models import Delivery, DeliveryState, Receipt, utcnow
from .retry import backoff
from .store import deliveries as store
from .store.engine import write

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
        self.record = Record(app, worker, clock)

    @property
    def unhealthy(self) -> dict[str, str]:
        """Channel -> why, while its token is refused (kept by the record of outcomes)."""
        return self.record.unhealthy

    def attempt_row(self, conn: Any, d: Delivery, worker: str, started: datetime, outcome: str,
                    error: str | None, receipt: Receipt | None = None) -> None:
        """The attempt log row (in the caller's transaction)."""
        self.record.attempt_row(conn, d, worker, started, outcome, error, receipt)

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
                self.record.note(d, "delivery.not_found", {"looked_since": str(d.first_attempt_at)})
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
        return self.record.finish(d, started, S.WAITING, exc.outcome, str(exc), fields)

    def _wait_for_token(self, d: Delivery, started: datetime, exc: AuthError) -> str:
        # staff must renew the token: the delivery waits (its deadline still applies), it is
        # neither failed nor spent, and the first such error of an outage goes in the journal
        retry_at = self.clock() + timedelta(seconds=self.retry.auth_wait_seconds)
        fields = {"next_attempt_at": retry_at, "needs_reconcile": d.needs_reconcile}
        return self.record.finish(d, started, S.WAITING, exc.outcome, str(exc), fields, health=(False, str(exc)))

    def _fail(self, d: Delivery, started: datetime, outcome: str, error: str) -> str:
        return self.record.finish(d, started, S.FAILED, outcome, error, {})

    def _published(self, d: Delivery, started: datetime, receipt: Receipt, outcome: str) -> str:
        fields = {"remote_id": receipt.remote_id, "permalink": receipt.permalink, "needs_reconcile": False}
        if receipt.extra.get("scheduled"):  # on the peer's scheduler: published when it goes live
            return self.record.finish(d, started, S.SCHEDULED, "scheduled" if outcome == "published" else outcome,
                                      None, fields, receipt, health=(True, ""))
        fields["published_at"] = self.clock()
        return self.record.finish(d, started, S.PUBLISHED, outcome, None, fields, receipt, health=(True, ""))
