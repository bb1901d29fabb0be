"""What staff do with one delivery: retry it after it failed, or cancel it before it goes out.

``posts.cancel`` cancels a whole post; these act on a single delivery (one
channel of a post), for the deliveries pages and ``publisher queue retry|cancel``.

- :func:`retry`: failed → queued, attempts kept (a retry does not get a fresh
  budget of ``retry.max_attempts``), flagged ``needs_reconcile`` so the
  channel is asked first whether the post is already there (a failure may
  have been ambiguous), journalled ``delivery.retried`` with the actor.  It
  is the only way out of ``failed`` (``models.TRANSITIONS``): a person's
  decision, never the daemon's.  A reason, when given, is journalled too.
- :func:`cancel`: queued, waiting or scheduled → cancelled (a delivery on a
  peer's own scheduler is deleted there first), journalled
  ``delivery.cancelled`` with the actor and the reason, as ``posts.cancel``
  does for each of a post's deliveries.

Both refuse with a :class:`StateError` naming the delivery and its state when
the delivery is not in a state they act on, and with :class:`NotFound` for an
unknown id.  Their messages are in ``locale/deliveries.toml`` (``delivery.*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from . import journal, notify
from .errors import NotFound, PublishError, StateError
from .i18n import t
from .models import Delivery, DeliveryState, nfc, utcnow
from .redact import redact
from .store import deliveries as store
from .store.engine import read, write

if TYPE_CHECKING:
    from .context import App

S = DeliveryState
#: The states a delivery may be cancelled from (what ``posts.cancel`` cancels too).
CANCELLABLE = (S.QUEUED, S.WAITING, S.SCHEDULED)
#: The only state a delivery may be retried from.
RETRYABLE = (S.FAILED,)
#: A reason longer than this is cut (it is journalled and shown as the delivery's last error).
MAX_REASON = 500
MAX_ID = 2**31 - 1


def can_retry(d: Delivery) -> bool:
    return d.state in RETRYABLE


def can_cancel(d: Delivery) -> bool:
    return d.state in CANCELLABLE


def get(app: App, delivery_id: int) -> Delivery:
    """One delivery, or NotFound."""
    with read(app.engine) as conn:
        return _get(conn, delivery_id)


def retry(app: App, actor: str, delivery_id: int, reason: str = "") -> Delivery:
    """Put a failed delivery back in the queue; the next dispatcher run asks the channel, then publishes."""
    reason = nfc(reason).strip()[:MAX_REASON]
    with write(app.engine) as conn:
        d = _get(conn, delivery_id)
        if not can_retry(d):
            raise StateError("delivery.retry_refused", id=d.id, state=t(f"state.{d.state.value}"))
        if d.deadline_at is not None and d.deadline_at <= utcnow():  # it would only fail again at once
            raise StateError("delivery.retry_deadline_passed", id=d.id, deadline=d.deadline_at.isoformat())
        store.transition(conn, d.id, S.QUEUED, needs_reconcile=True, next_attempt_at=None, lease_owner=None,
                         lease_expires_at=None)
        payload = {"attempts": d.attempts, "last_error": d.last_error} | ({"reason": reason} if reason else {})
        journal.append(conn, actor, "delivery.retried", f"delivery:{d.id}", payload)
        notify.announce(conn)  # daemons on PostgreSQL wake at commit
        return _get(conn, d.id)


def cancel(app: App, actor: str, delivery_id: int, reason: str = "") -> Delivery:
    """Cancel one delivery that has not gone out; on a peer's scheduler, it is deleted there first.

    If deleting it on the peer fails, nothing is cancelled and the error says why (try again).
    """
    reason = nfc(reason).strip()[:MAX_REASON]
    d = get(app, delivery_id)
    if not can_cancel(d):
        raise StateError("delivery.cancel_refused", id=d.id, state=t(f"state.{d.state.value}"))
    if d.state == S.SCHEDULED:  # a network call: outside any transaction
        try:
            app.channel(d.channel).unschedule(d)
        except PublishError as exc:
            raise StateError("post.unschedule_failed", id=d.post_id, channel=d.channel,
                             detail=redact(str(exc))) from None
    with write(app.engine) as conn:
        current = _get(conn, delivery_id)
        if not can_cancel(current) or (current.state == S.SCHEDULED) != (d.state == S.SCHEDULED):
            # it moved meanwhile (claimed, published, handed to the peer): look again
            raise StateError("delivery.cancel_refused", id=d.id, state=t(f"state.{current.state.value}"))
        store.transition(conn, d.id, S.CANCELLED, last_error=reason or None, next_attempt_at=None)
        journal.append(conn, actor, "delivery.cancelled", f"delivery:{d.id}", {"reason": reason})
        return _get(conn, d.id)


def _get(conn: Connection, delivery_id: int) -> Delivery:
    # ids are 32-bit in both databases: a larger one names nothing (and must not reach PostgreSQL)
    found = store.get(conn, delivery_id) if 0 < delivery_id <= MAX_ID else None
    if found is None:
        raise NotFound("delivery.not_found", id=delivery_id)
    return found
