"""The daemon's work: claim due deliveries and publish them, channel by channel.

Each channel with due work gets ``channels.<name>.concurrency`` consumers on
one thread pool per process (``daemon.threads``).  A consumer claims a few
deliveries of its channel in one short transaction (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), publishes them one by
one through :class:`~publisher.attempt.Attempt`, and claims again until the
channel has nothing due.  A slow Page therefore never holds up another, and
several daemons on one PostgreSQL share the work without ever taking the
same delivery.  On stop, claimed deliveries not yet started are released.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import holds, journal, scheduled
from .attempt import Attempt
from .models import Delivery, DeliveryState, utcnow
from .store import deliveries as store
from .store import rates
from .store.engine import read, write

if TYPE_CHECKING:
    from .context import App

S = DeliveryState
log = logging.getLogger(__name__)


class Dispatcher:
    """Publishes due deliveries for one worker (a daemon or ``run --once``)."""

    def __init__(self, app: App, worker: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.app = app
        self.worker = worker
        self.clock = clock
        self.attempt = Attempt(app, worker, clock)
        self.lease = timedelta(seconds=app.config.daemon["lease_seconds"])
        self.batch_size = app.config.daemon["batch_size"]
        self.stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None

    def run_once(self) -> Counter[str]:
        """Recover lost leases, then publish everything due now.

        Returns how many deliveries ended in each state (published, waiting,
        failed), plus ``recovered`` leases and ``released`` claims.
        """
        outcomes: Counter[str] = Counter()
        with self._leases_kept():
            outcomes["recovered"] += self.recover()
            self._drain_all(outcomes)
        return +outcomes

    def _drain_all(self, outcomes: Counter[str]) -> None:
        outcomes.update(scheduled.confirm(self.attempt, self.clock()))
        consumers = [(name, i) for name in self.due_channels() for i in range(self._concurrency(name))]
        if len(consumers) == 1:
            outcomes.update(self._drain(consumers[0][0]))
        elif consumers:
            for result in self._executor().map(lambda c: self._drain(c[0]), consumers):
                outcomes.update(result)

    @contextmanager
    def _leases_kept(self) -> Iterator[None]:
        """Renew this worker's leases every third of a lease while it works.

        A slow peer (a big upload, a throttled API) must not make a live worker
        look dead: only a worker that stopped renewing loses its deliveries.
        """
        done = threading.Event()

        def keep() -> None:
            while not done.wait(self.lease.total_seconds() / 3):
                try:
                    with write(self.app.engine) as conn:
                        store.renew_all(conn, self.worker, self.clock() + self.lease)
                except Exception as exc:  # noqa: BLE001 - a missed renewal is retried a third of a lease later
                    log.warning("could not renew the leases of %s: %s", self.worker, exc)

        keeper = threading.Thread(target=keep, name="lease-keeper", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()

    def _drain(self, channel: str) -> Counter[str]:
        """One consumer: claim a few deliveries of *channel*, publish them, repeat."""
        outcomes: Counter[str] = Counter()
        per_claim = max(1, self.batch_size // self._concurrency(channel))
        while not self.stopping.is_set():
            batch = self.claim(per_claim, [channel])
            if not batch:
                break
            for index, delivery in enumerate(batch):
                if self.stopping.is_set():
                    outcomes["released"] += self.release(batch[index:])
                    break
                outcomes[self.process(delivery)] += 1
        return outcomes

    def process(self, delivery: Delivery) -> str:
        """Take one claimed delivery to its next state; returns that state's name."""
        return self.attempt.process(delivery)

    def claim(self, limit: int | None = None, channels: list[str] | None = None) -> list[Delivery]:
        """Claim due work of *channels* (default: all enabled), within each channel's hourly limit."""
        limit, channels = limit or self.batch_size, channels or self.app.enabled_channels()
        now = self.clock()
        with write(self.app.engine) as conn:
            channels = holds.without_held(conn, channels)  # in this transaction: a new hold is never missed
            free = [c for c in channels if not self._per_hour(c)]
            claimed = store.claim(conn, self.worker, now, self.lease, limit, free, self._early(free)) if free else []
            for channel in (c for c in channels if self._per_hour(c)):
                room = min(limit - len(claimed), rates.allowance(conn, channel, self._per_hour(channel), now))
                if room > 0:
                    claimed += store.claim(conn, self.worker, now, self.lease, room, [channel], self._early([channel]))
            for d in claimed:
                journal.append(conn, self.worker, "delivery.claimed", f"delivery:{d.id}", {"attempt": d.attempts + 1})
        return claimed

    def due_channels(self) -> list[str]:
        """Enabled channels not on hold with work due now (one index probe each)."""
        with read(self.app.engine) as conn:
            enabled = holds.without_held(conn, self.app.enabled_channels())
            return store.due_channels(conn, self.clock(), enabled, self._early(enabled))

    def recover(self) -> int:
        """Requeue deliveries whose worker died; they are reconciled before any new try."""
        now = self.clock()
        with write(self.app.engine) as conn:
            lost = store.expired(conn, now)
            for d in lost:
                store.transition(conn, d.id, S.QUEUED, needs_reconcile=True, lease_owner=None,
                                 lease_expires_at=None, attempts=d.attempts + 1)
                self.attempt.attempt_row(conn, d, d.lease_owner or "?", now, "lease_expired",
                                         "worker stopped mid-attempt")
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
        """The next due work, lease or confirmation; a channel at its hourly limit counts from its next slot."""
        now = self.clock()
        with read(self.app.engine) as conn:
            enabled = holds.without_held(conn, self.app.enabled_channels())  # a release wakes daemons itself
            found = [store.next_wakeup(conn, [c for c in enabled if not self._per_hour(c)])]
            for channel in (c for c in enabled if self._per_hour(c)):
                due = store.next_due(conn, channel)
                slot = rates.next_slot(conn, channel, self._per_hour(channel), now) if due else None
                found.append(max(due, slot) if due and slot else due)  # no slot yet: running claims end first
        return min((t for t in found if t is not None), default=None)

    def close(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait)

    def _early(self, channels: list[str]) -> list[str]:
        """Those of *channels* whose peer schedules posts itself: their work is claimed ahead of time."""
        return [n for n in channels if self.app.config.channels[n].options.get("native_scheduling")]

    def _per_hour(self, channel: str) -> int:
        return self.app.config.channels[channel].max_per_hour

    def _concurrency(self, channel: str) -> int:
        return self.app.config.channels[channel].concurrency

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:  # one pool per process, made on first need
            self._pool = ThreadPoolExecutor(self.app.config.daemon["threads"], thread_name_prefix="publish")
        return self._pool
