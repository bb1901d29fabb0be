"""Posts handed to a peer's own scheduler (Facebook native scheduling).

A channel with ``native_scheduling`` gets its deliveries ahead of time and
schedules them on the peer; they wait in state ``scheduled``.  When their
time comes the daemon confirms they went live (``find``): live → published;
still pending 15 minutes late, or gone from the Page → failed, with the
reason, so an auditor never reads "published" for a post nobody saw.
Cancelling a post deletes its scheduled copies on the peer first.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import journal
from .errors import PublishError, StateError
from .models import Delivery, DeliveryState, Receipt
from .store import deliveries as store
from .store.engine import read, write

if TYPE_CHECKING:
    from .attempt import Attempt

log = logging.getLogger(__name__)
S = DeliveryState
LATE = timedelta(minutes=15)


def confirm(attempt: Attempt, now: datetime) -> Counter[str]:
    """Settle scheduled deliveries whose time has come; returns their new states."""
    with read(attempt.app.engine) as conn:
        due = store.scheduled_due(conn, now)
    outcomes: Counter[str] = Counter()
    for d in due:
        try:
            found = attempt.app.channel(d.channel).find(d, d.first_attempt_at)
        except PublishError as exc:  # cannot look now: look again on the next run
            log.warning("delivery %s: cannot confirm its scheduled post yet: %s", d.id, exc)
            continue
        settled = _settle(attempt, d, found, now)
        if settled:
            outcomes[settled] += 1
    return outcomes


def _settle(attempt: Attempt, d: Delivery, found: Receipt | None, now: datetime) -> str | None:
    if found is not None and found.extra.get("scheduled"):
        if now < d.due_at + LATE:
            return None  # the peer publishes a little late sometimes: look again
        return _record(attempt, d, S.FAILED, "not_live", "scheduled post did not go live at its time", None)
    if found is None:
        return _record(attempt, d, S.FAILED, "not_live", "scheduled post is no longer on the page", None)
    return _record(attempt, d, S.PUBLISHED, "went_live", None, found)


def _record(attempt: Attempt, d: Delivery, target: DeliveryState, outcome: str, error: str | None,
            receipt: Receipt | None) -> str | None:
    try:
        with write(attempt.app.engine) as conn:
            fields = {"published_at": d.due_at, "permalink": receipt.permalink} if receipt else {}
            store.transition(conn, d.id, target, last_error=error, **fields)
            attempt.attempt_row(conn, d, attempt.worker, attempt.clock(), outcome, error, receipt)
            journal.append(conn, attempt.worker, f"delivery.{target.value}", f"delivery:{d.id}",
                           {"outcome": outcome, "error": error, "remote_id": d.remote_id})
    except StateError:  # cancelled meanwhile
        return None
    return target.value
