"""The append-only, hash-chained journal of every event.

Each entry stores ``hash = sha256(prev_hash + canonical JSON of the entry)``,
so editing, deleting, inserting or reordering any entry breaks the chain from
that point on, and ``verify()`` names the first bad entry.  Appends happen in
the caller's transaction (the event and the change it records commit
together) and are serialised: SQLite's ``BEGIN IMMEDIATE`` already holds the
write lock; on PostgreSQL a transaction-scoped advisory lock does, so several
daemons keep one chain.  Nothing in publisher updates or deletes journal rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from .models import canonical_json, nfc, sha256_text, utcnow
from .store.schema import journal

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x7075626C  # "publ": one advisory lock for the journal head
_BATCH = 5000  # rows per executemany call (the driver builds one statement per batch)


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    event: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, event: str, subject: str, payload: str) -> str:
    body = canonical_json({"seq": seq, "at": at.isoformat(), "actor": actor, "event": event,
                           "subject": subject, "payload": payload})
    return sha256_text(prev_hash + body)


@dataclass(frozen=True)
class Event:
    """One event to append: what happened to which subject, with its details."""

    event: str
    subject: str
    payload: dict[str, Any]


def append(conn: Connection, actor: str, event: str, subject: str, payload: dict[str, Any] | None = None,
           at: datetime | None = None) -> str:
    """Append one event in the caller's transaction; returns its hash."""
    return append_many(conn, actor, [Event(event, subject, payload or {})], at)


def append_many(conn: Connection, actor: str, events: Iterable[Event], at: datetime | None = None) -> str:
    """Append events in order, in the caller's transaction, with one lock and one multi-row insert.

    Returns the new head hash.  Chaining is inherently sequential, so a bulk
    append costs one sha256 per event but only one round trip per batch.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    head = conn.execute(select(journal.c.seq, journal.c.hash).order_by(journal.c.seq.desc()).limit(1)).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    at = at or utcnow()
    rows = []
    for e in events:
        seq += 1
        body = nfc(canonical_json(e.payload))
        digest = entry_hash(prev, seq, at, actor, e.event, e.subject, body)
        rows.append({"seq": seq, "at": at, "actor": actor, "event": e.event, "subject": e.subject,
                     "payload": body, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(journal), rows[start:start + _BATCH])
    return prev


def entries(conn: Connection, subject_prefix: str | None = None, since: datetime | None = None,
            until: datetime | None = None, actor: str | None = None) -> list[Entry]:
    query = select(journal).order_by(journal.c.seq)
    if subject_prefix:
        query = query.where(journal.c.subject.like(f"{subject_prefix}%"))
    if since:
        query = query.where(journal.c.at >= since)
    if until:
        query = query.where(journal.c.at < until)
    if actor:
        query = query.where(journal.c.actor == actor)
    return [Entry(r.seq, r.at, r.actor, r.event, r.subject, json.loads(r.payload), r.prev_hash, r.hash)
            for r in conn.execute(query)]


def verify(conn: Connection) -> tuple[int, int | None]:
    """Re-compute the chain: (entries checked, seq of the first bad entry or None)."""
    prev, expected_seq, count = GENESIS, 1, 0
    for r in conn.execute(select(journal).order_by(journal.c.seq)):
        count += 1
        ok = r.seq == expected_seq and r.prev_hash == prev
        if not ok or entry_hash(prev, r.seq, r.at, r.actor, r.event, r.subject, r.payload) != r.hash:
            return count, r.seq
        prev, expected_seq = r.hash, r.seq + 1
    return count, None


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(func.max(journal.c.seq))).scalar()
    if not row:
        return 0, GENESIS
    return row, conn.execute(select(journal.c.hash).where(journal.c.seq == row)).scalar_one()
