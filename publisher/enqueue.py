"""Queueing deliveries: rows in the database, never one scheduler job per post.

Approving a post queues one delivery per channel; a province's campaign
planner may queue tens of thousands at once.  Both go through :func:`enqueue`,
which writes multi-row inserts and appends the ``delivery.queued`` journal
events with one lock, in the caller's transaction: what was queued and its
record commit together.  ``bench/scale.py`` measures it at a million rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, select, text

from . import journal
from .models import Content, DeliveryState, Post
from .store import bulk
from .store.schema import deliveries


@dataclass(frozen=True)
class Item:
    """One delivery to queue: a post's frozen content for one channel."""

    post: Post
    policy_code: str
    channel: str
    content: Content


def enqueue(conn: Connection, actor: str, items: Sequence[Item], now: datetime) -> list[int]:
    """Insert one queued delivery per item and journal each; returns their ids, in order."""
    ids = _allocate_ids(conn, len(items))
    hashes = [i.content.sha256() for i in items]
    media: dict[int, list[dict[str, Any]]] = {}  # per Content object: one JSON list for all its channels
    rows = [_row(did, item, sha, now, media) for did, item, sha in zip(ids, items, hashes, strict=True)]
    bulk.insert_rows(conn, deliveries, rows)
    journal.append_many(conn, actor, (
        journal.Event("delivery.queued", f"delivery:{did}", _payload(item, sha))
        for did, item, sha in zip(ids, items, hashes, strict=True)), now)
    return ids


def _allocate_ids(conn: Connection, count: int) -> list[int]:
    """Ids chosen before inserting, so a batch needs no RETURNING round trip per row.

    PostgreSQL hands out a block from the table's own sequence (safe beside
    other daemons' inserts); SQLite's ``BEGIN IMMEDIATE`` already gives this
    transaction the database alone, so the next ids are simply those after the largest.
    """
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) FROM generate_series(1, :n)")
        return list(conn.execute(query, {"n": count}).scalars())
    top = conn.execute(select(func.max(deliveries.c.id))).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def _row(did: int, item: Item, sha: str, now: datetime, media: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    post, frozen = item.post, item.content
    files = media.get(id(frozen))
    if files is None:
        files = media[id(frozen)] = [asdict(m) for m in frozen.media]
    return {"id": did, "post_id": post.id, "channel": item.channel, "state": DeliveryState.QUEUED,
            "due_at": post.publish_at, "deadline_at": post.deadline_at, "title": frozen.title,
            "body": frozen.body, "media": files, "content_sha256": sha,
            "attempts": 0, "needs_reconcile": False, "created_at": now, "updated_at": now}


def _payload(item: Item, sha: str) -> dict[str, Any]:
    return {"post": item.post.id, "policy": item.policy_code, "channel": item.channel,
            "due_at": _iso(item.post.publish_at), "content_sha256": sha,
            "media": [m.sha256 for m in item.content.media]}


@lru_cache(maxsize=1024)
def _iso(at: datetime) -> str:  # a batch's deliveries share their post's time
    return at.isoformat()
