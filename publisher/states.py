"""The delivery state machine: post and delivery states and every legal transition.

Dependency-free like :mod:`publisher.models` (which re-exports all of it):
the store refuses any transition not listed in :data:`TRANSITIONS`.
"""

from __future__ import annotations

from enum import StrEnum


class PostState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    PUBLISHING = "publishing"
    WAITING = "waiting"
    SCHEDULED = "scheduled"  # handed to the peer's own scheduler (Facebook), goes live at due_at
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


S = DeliveryState
#: Every legal delivery transition.  Anything else is refused by the store.
TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.QUEUED: frozenset({S.PUBLISHING, S.CANCELLED, S.FAILED}),
    S.WAITING: frozenset({S.PUBLISHING, S.CANCELLED, S.FAILED}),
    # publishing -> queued: released on shutdown or recovered after a lost lease
    S.PUBLISHING: frozenset({S.PUBLISHED, S.SCHEDULED, S.WAITING, S.FAILED, S.QUEUED}),
    # scheduled -> published once live at its time; -> cancelled after the remote post is deleted;
    # -> failed if it is gone from the peer when it should have gone live
    S.SCHEDULED: frozenset({S.PUBLISHED, S.CANCELLED, S.FAILED}),
    S.PUBLISHED: frozenset(),
    # failed -> queued only by a person (publisher.retries.retry, journalled); the daemon never does
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset(),
}
DUE_STATES = (S.QUEUED, S.WAITING)
TERMINAL_STATES = (S.PUBLISHED, S.FAILED, S.CANCELLED)  # nothing the daemon does moves them


def sources_of(target: DeliveryState) -> tuple[DeliveryState, ...]:
    """The states from which *target* may be entered."""
    return tuple(s for s, targets in TRANSITIONS.items() if target in targets)
