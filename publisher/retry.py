"""Retry policy as frozen data, backoff as a pure function.

Short faults are retried inside one attempt (``inline_*``, seconds); longer
waits go back to the queue with ``next_attempt_at`` so no worker sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    inline_attempts: int = 3
    inline_wait_seconds: float = 1.0
    reconcile_delay_seconds: float = 5.0
    auth_wait_seconds: float = 900.0


def backoff(policy: RetryPolicy, attempt: int, rand: float | None = None) -> timedelta:
    """Delay before attempt ``attempt + 1``: exponential with full jitter.

    ``rand`` in [0, 1) makes it deterministic for tests; jitter keeps many
    deliveries that failed together from retrying together.
    """
    if rand is None:
        rand = random.random()
    # 2.0 ** 1000 is finite: a huge attempt number saturates at max_seconds instead of overflowing
    ceiling = min(policy.max_seconds, policy.base_seconds * 2.0 ** min(max(attempt - 1, 0), 1000))
    # never less than half the ceiling: a retry must not hammer a peer that just failed
    return timedelta(seconds=ceiling / 2 + rand * ceiling / 2)
