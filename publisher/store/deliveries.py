"""Delivery state changes and claims: the only code that writes ``deliveries.state``.

Every change is one guarded ``UPDATE ... WHERE state IN (legal sources)``; if
no row matched, the transition was illegal (or lost a race) and
:class:`StateError` is raised, so the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func, literal_column, select, update

from ..errors import StateError
from ..models import DUE_STATES, Delivery, DeliveryState, sources_of, utcnow
from . import rows
from .schema import deliveries
from .types import UTCDateTime

S = DeliveryState


def get(conn: Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(rows.delivery_select().where(deliveries.c.id == delivery_id)).first()
    return rows.delivery(row) if row else None


def transition(conn: Connection, delivery_id: int, target: DeliveryState, *, owner: str | None = None,
               **fields: Any) -> None:
    """Move one delivery to *target* if that is legal from its current state.

    With *owner*, the delivery must also still be leased by that worker: a
    worker whose lease was recovered by another must not overwrite its result.
    """
    query = (update(deliveries)
             .where(deliveries.c.id == delivery_id, deliveries.c.state.in_(sources_of(target)))
             .values(state=target, updated_at=utcnow(), **fields))
    if owner is not None:
        query = query.where(deliveries.c.lease_owner == owner)
    if conn.execute(query).rowcount != 1:
        current = conn.execute(select(deliveries.c.state).where(deliveries.c.id == delivery_id)).scalar()
        raise StateError("delivery.bad_transition", id=delivery_id, state=current or "?", target=target.value)


#: A peer's own scheduler takes posts this far ahead (Graph API: 10 minutes .. 30 days; with margins).
EARLY_MIN, EARLY_MAX = timedelta(minutes=15), timedelta(days=29)

#: When a due delivery may next be tried.  Claims order and filter on exactly
#: this expression and on the literal ``state IN (...)`` below, so that both
#: databases use the partial index ``ix_deliveries_ready`` (schema.py): a claim
#: reads the few rows it takes, not the whole queue.  (SQLite matches a partial
#: index only against literal terms, never bound parameters.)
READY = func.coalesce(deliveries.c.next_attempt_at, deliveries.c.due_at, type_=UTCDateTime())
IS_DUE_STATE = deliveries.c.state.in_([literal_column(f"'{s.value}'") for s in DUE_STATES])


def due_condition(now: datetime, channels: Sequence[str], early: Sequence[str] = ()) -> Any:
    """What a claim takes: due work, and for *early* channels queued work within the peer's window."""
    due = IS_DUE_STATE & deliveries.c.channel.in_(channels) & (READY <= now)
    return due | _early_condition(now, early) if early else due


def _early_condition(now: datetime, early: Sequence[str]) -> Any:
    return ((deliveries.c.state == S.QUEUED) & deliveries.c.channel.in_(early)
            & deliveries.c.due_at.between(now + EARLY_MIN, now + EARLY_MAX))


def claim(conn: Connection, worker: str, now: datetime, lease: timedelta, limit: int,
          channels: Sequence[str], early: Sequence[str] = ()) -> list[Delivery]:
    """Claim up to *limit* due deliveries for *worker* until ``now + lease``.

    PostgreSQL skips rows another daemon holds (``FOR UPDATE SKIP LOCKED``);
    SQLite's ``BEGIN IMMEDIATE`` already serialises claimers.  Due work and
    early work are two indexed queries: an ``OR`` of both would scan.
    """
    ids = _lock_ids(conn, claim_query(now, limit, channels))
    if early and len(ids) < limit:
        ids += _lock_ids(conn, select(deliveries.c.id).where(_early_condition(now, early))
                         .order_by(deliveries.c.due_at, deliveries.c.id).limit(limit - len(ids)))
    if not ids:
        return []
    conn.execute(
        update(deliveries).where(deliveries.c.id.in_(ids))
        .values(state=S.PUBLISHING, lease_owner=worker, lease_expires_at=now + lease, updated_at=now,
                first_attempt_at=func.coalesce(deliveries.c.first_attempt_at, now))
    )
    found = conn.execute(rows.delivery_select().where(deliveries.c.id.in_(ids))).all()
    return sorted((rows.delivery(r) for r in found), key=lambda d: ids.index(d.id))


def claim_query(now: datetime, limit: int, channels: Sequence[str]) -> Select[Any]:
    """The ids of due work, oldest first (tests EXPLAIN it to see the index used)."""
    return (select(deliveries.c.id).where(IS_DUE_STATE, deliveries.c.channel.in_(channels), READY <= now)
            .order_by(READY, deliveries.c.id).limit(limit))


def _lock_ids(conn: Connection, query: Select[Any]) -> list[int]:
    return list(conn.execute(query.with_for_update(skip_locked=True)).scalars())


def due_channels(conn: Connection, now: datetime, channels: Sequence[str], early: Sequence[str] = ()) -> list[str]:
    """The channels with work to claim now: one index probe per channel, whatever the queue's size."""
    return [c for c in channels if conn.execute(
        select(deliveries.c.id).where(due_condition(now, [c], [c] if c in early else ())).limit(1)).first()]


def renew(conn: Connection, delivery_id: int, owner: str, until: datetime) -> bool:
    """Extend *owner*'s lease; False if it no longer holds it (recovered by another)."""
    query = (update(deliveries)
             .where(deliveries.c.id == delivery_id, deliveries.c.state == S.PUBLISHING,
                    deliveries.c.lease_owner == owner)
             .values(lease_expires_at=until))
    return conn.execute(query).rowcount == 1


def renew_all(conn: Connection, owner: str, until: datetime) -> int:
    """Extend every lease *owner* holds (one statement, however many attempts are in flight)."""
    query = (update(deliveries)
             .where(deliveries.c.state == S.PUBLISHING, deliveries.c.lease_owner == owner)
             .values(lease_expires_at=until))
    return conn.execute(query).rowcount


def expired(conn: Connection, now: datetime) -> list[Delivery]:
    """Deliveries whose worker died: still publishing after their lease ended."""
    query = rows.delivery_select().where(deliveries.c.state == S.PUBLISHING, deliveries.c.lease_expires_at < now)
    return [rows.delivery(r) for r in conn.execute(query.with_for_update(skip_locked=True, of=deliveries))]


def next_wakeup(conn: Connection, channels: Sequence[str]) -> datetime | None:
    """When the dispatcher next has something to do (due work or a lease to recover)."""
    due = [next_due(conn, c) for c in channels]
    lease = conn.execute(
        select(func.min(deliveries.c.lease_expires_at, type_=UTCDateTime())).where(deliveries.c.state == S.PUBLISHING)
    ).scalar()
    live = conn.execute(  # a post scheduled on the peer is confirmed when it should have gone live
        select(func.min(deliveries.c.due_at, type_=UTCDateTime())).where(deliveries.c.state == S.SCHEDULED)
    ).scalar()
    found = [t for t in (*due, lease, live) if t is not None]
    return min(found) if found else None


def next_due(conn: Connection, channel: str) -> datetime | None:
    """When *channel*'s next delivery may be tried (the index gives it in one row read)."""
    return conn.execute(select(READY).where(IS_DUE_STATE, deliveries.c.channel == channel)
                        .order_by(READY).limit(1)).scalar()


def scheduled_due(conn: Connection, now: datetime, limit: int = 50) -> list[Delivery]:
    """Deliveries handed to a peer's scheduler whose time has come (to confirm they went live)."""
    query = rows.delivery_select().where(deliveries.c.state == S.SCHEDULED, deliveries.c.due_at <= now)
    return [rows.delivery(r) for r in conn.execute(query.order_by(deliveries.c.due_at).limit(limit))]


def counts(conn: Connection) -> dict[str, int]:
    query = select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
    return {state: n for state, n in conn.execute(query)}
