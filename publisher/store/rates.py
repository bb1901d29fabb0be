"""Per-channel rate limits (``channels.<name>.max_per_hour``), shared by every daemon.

The limit is read from the database, not kept in a process: attempts started
in the last hour plus deliveries claimed and not yet finished.  A claim takes
no more than what is left; on PostgreSQL a per-channel advisory lock makes
two daemons' claims for one limited channel take turns, so together they
never exceed it.  When nothing is left, :func:`next_slot` says when the
oldest attempt in the window leaves it, and the daemon sleeps until then.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, text

from ..models import DeliveryState
from .schema import attempts, deliveries

WINDOW = timedelta(hours=1)
_LOCK_SPACE = 0x72617465  # "rate": first key of pg_advisory_xact_lock(int, int)


def allowance(conn: Connection, channel: str, per_hour: int, now: datetime) -> int:
    """How many more deliveries of *channel* may be claimed now (call inside the claim transaction)."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(channel.encode("utf-8")) - 2**31  # a signed int4
        conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_SPACE, "b": key})
    return max(0, per_hour - used(conn, channel, now))


def used(conn: Connection, channel: str, now: datetime) -> int:
    """Attempts of *channel* started in the window, plus its deliveries claimed right now."""
    started = conn.execute(select(func.count()).select_from(attempts.join(deliveries)).where(
        deliveries.c.channel == channel, attempts.c.started_at > now - WINDOW)).scalar_one()
    claimed = conn.execute(select(func.count()).where(
        deliveries.c.channel == channel, deliveries.c.state == DeliveryState.PUBLISHING)).scalar_one()
    return started + claimed


def next_slot(conn: Connection, channel: str, per_hour: int, now: datetime) -> datetime | None:
    """When a claim of *channel* is next allowed: now, or when enough attempts left the window.

    None when the limit is taken by claims still running: their end wakes the daemon anyway.
    """
    over = used(conn, channel, now) - per_hour
    if over < 0:
        return now
    oldest = conn.execute(
        select(attempts.c.started_at).select_from(attempts.join(deliveries))
        .where(deliveries.c.channel == channel, attempts.c.started_at > now - WINDOW)
        .order_by(attempts.c.started_at).offset(over).limit(1)).scalar()
    return oldest + WINDOW if oldest is not None else None
