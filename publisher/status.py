"""``publisher status``: is the queue moving, and who is moving it.

One read transaction gathers, per channel, how many deliveries are in each
state, how many are due now and the last error an attempt met; the oldest due
delivery and the lag (now − its due time: how late the queue is running); and
the daemons from their heartbeats (``daemons`` table, see
:mod:`publisher.heartbeat`): *alive* if one beat within 3 ×
``daemon.heartbeat_seconds``, *stopped* if it said so on its way out,
*silent* otherwise (killed, host down).  Stopped and silent daemons are listed
for :data:`RECENT` after their last beat.

``healthy`` is False when work is due on an enabled channel and no daemon is
alive to publish it: the CLI then exits 1, for monitoring.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from . import holds
from .models import DeliveryState, utcnow
from .store.deliveries import due_condition
from .store.engine import read
from .store.schema import attempts, daemons, deliveries
from .store.types import UTCDateTime

if TYPE_CHECKING:
    from .context import App

#: A daemon is alive if its last beat is within this many heartbeat periods.
MISSED_BEATS = 3
#: Stopped and silent daemons are shown this long after their last beat.
RECENT = timedelta(days=7)
STATES = tuple(s.value for s in DeliveryState)


def collect(app: App, now: datetime | None = None) -> dict[str, Any]:
    """The whole status as plain data (aware UTC datetimes; the CLI prints or dumps it)."""
    now = now or utcnow()
    beat = float(app.config.daemon["heartbeat_seconds"])
    enabled = app.enabled_channels()
    due_at = func.coalesce(deliveries.c.next_attempt_at, deliveries.c.due_at, type_=UTCDateTime())
    with read(app.engine) as conn:
        depth = conn.execute(select(deliveries.c.channel, deliveries.c.state, func.count())
                             .group_by(deliveries.c.channel, deliveries.c.state)).all()
        due = dict(conn.execute(select(deliveries.c.channel, func.count())
                                .where(due_condition(now, enabled)).group_by(deliveries.c.channel)).all())
        oldest = conn.execute(select(deliveries.c.id, deliveries.c.channel, due_at.label("due_at"))
                              .where(due_condition(now, enabled)).order_by(due_at, deliveries.c.id).limit(1)).first()
        errors = _last_errors(conn)
        held = holds.held(conn)
        workers = conn.execute(select(daemons).where(or_(daemons.c.stopped_at.is_(None),
                                                         daemons.c.heartbeat_at >= now - RECENT))
                               .order_by(daemons.c.heartbeat_at.desc(), daemons.c.worker)).all()

    names = list(app.config.channels) + sorted({c for c, _, _ in depth} - set(app.config.channels))
    channels = []
    for name in names:
        spec = app.config.channels.get(name)
        states = {state: 0 for state in STATES}
        states.update({state: n for c, state, n in depth if c == name})
        hold = held.get(name)
        channels.append({"channel": name, "configured": spec is not None, "enabled": bool(spec and spec.enabled),
                         "held": None if hold is None else {"reason": hold.reason, "actor": hold.actor,
                                                            "since": hold.since},
                         "states": states, "due": due.get(name, 0), "last_error": errors.get(name)})
    totals = {state: sum(c["states"][state] for c in channels) for state in STATES}

    found = [_daemon(row, now, beat) for row in workers]
    found = [d for d in found if d["state"] == "alive" or d["heartbeat_at"] >= now - RECENT]
    alive = sum(1 for d in found if d["state"] == "alive")
    due_total = sum(due.values())
    return {
        "now": now,
        "heartbeat_seconds": beat,
        "totals": totals,
        "channels": channels,
        "due": due_total,
        "oldest_due": None if oldest is None else {"delivery": oldest.id, "channel": oldest.channel,
                                                   "due_at": oldest.due_at},
        "lag_seconds": None if oldest is None else max(0.0, (now - oldest.due_at).total_seconds()),
        "daemons": found,
        "alive": alive,
        "healthy": not (due_total and not alive),
    }


def _last_errors(conn: Any) -> dict[str, dict[str, Any]]:
    """Per channel, the latest attempt that met an error (the delivery then waited or failed)."""
    latest = (select(deliveries.c.channel, func.max(attempts.c.id).label("id"))
              .join(deliveries, deliveries.c.id == attempts.c.delivery_id)
              .where(attempts.c.error.is_not(None)).group_by(deliveries.c.channel).subquery())
    rows = conn.execute(select(latest.c.channel, attempts.c.finished_at, attempts.c.delivery_id, attempts.c.number,
                               attempts.c.outcome, attempts.c.error, attempts.c.worker)
                        .join(attempts, attempts.c.id == latest.c.id))
    return {r.channel: {"at": r.finished_at, "delivery": r.delivery_id, "attempt": r.number, "outcome": r.outcome,
                        "error": r.error, "worker": r.worker} for r in rows}


def _daemon(row: Any, now: datetime, beat: float) -> dict[str, Any]:
    if row.stopped_at is not None:
        state = "stopped"
    elif row.heartbeat_at >= now - timedelta(seconds=MISSED_BEATS * beat):
        state = "alive"
    else:
        state = "silent"
    return {"worker": row.worker, "host": row.host, "pid": row.pid, "version": row.version, "state": state,
            "started_at": row.started_at, "heartbeat_at": row.heartbeat_at, "stopped_at": row.stopped_at,
            "seconds_since_heartbeat": max(0.0, (now - row.heartbeat_at).total_seconds())}
