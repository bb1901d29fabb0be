"""The append-only, hash-chained journal of every event.

Each entry stores ``hash = sha256(prev_hash + canonical JSON of the entry)``,
so editing, deleting, inserting or reordering any entry breaks the chain from
that point on, and :func:`check` names the first bad entry and what happened
to it.  A tail rewritten with recomputed hashes verifies on its own: only an
*anchor* (a head hash written down earlier) exposes it, so :func:`check` can
start from one.  Appends happen in the caller's transaction (the event and
the change it records commit together) and are serialised: SQLite's ``BEGIN
IMMEDIATE`` already holds the write lock; on PostgreSQL a transaction-scoped
advisory lock does, so several daemons keep one chain.  Nothing in publisher
updates or deletes journal rows.  The hashing and the verification are in
``journal_chain.py`` (their names stay importable from here).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, text

from .journal_chain import GENESIS, Anchor, Break, Check, check, entry_hash, verify
from .models import canonical_json, nfc, utcnow
from .store import bulk
from .store.schema import journal

__all__ = ["GENESIS", "Anchor", "Break", "Check", "Entry", "Event", "append", "append_many", "check", "entries",
           "entry_hash", "find", "head", "lock", "verify"]

_PG_LOCK_KEY = 0x7075626C  # "publ": one advisory lock for the journal head


@dataclass(frozen=True)
class Entry:
    """One journal entry as stored (its payload decoded)."""

    seq: int
    at: datetime
    actor: str
    event: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


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


def lock(conn: Connection) -> None:
    """Hold the journal head until the transaction ends (SQLite: BEGIN IMMEDIATE already does); re-entrant."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def append_many(conn: Connection, actor: str, events: Iterable[Event], at: datetime | None = None) -> str:
    """Append events in order, in the caller's transaction, with one lock and one multi-row insert.

    Returns the new head hash.  Chaining is inherently sequential, so a bulk
    append costs one sha256 per event but only one round trip per batch.
    """
    lock(conn)
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
    bulk.insert_rows(conn, journal, rows)
    return prev


def entries(conn: Connection, subject_prefix: str | None = None, since: datetime | None = None,
            until: datetime | None = None, actor: str | None = None) -> list[Entry]:
    """The entries in order, filtered by subject prefix, time range (*until* excluded) and actor."""
    query = select(journal).order_by(journal.c.seq)
    if subject_prefix:
        query = query.where(journal.c.subject.like(f"{subject_prefix}%"))
    if since:
        query = query.where(journal.c.at >= since)
    if until:
        query = query.where(journal.c.at < until)
    if actor:
        query = query.where(journal.c.actor == actor)
    return [_entry(r) for r in conn.execute(query)]


def find(conn: Connection, *, seq: int | None = None, hash: str | None = None,
         event: str | None = None) -> Entry | None:
    """The entry at *seq*, the one with *hash* (unique), or the newest of kind *event*.

    To append after what was found atomically (``config.seen``), call :func:`lock` first.
    """
    column, value = ((journal.c.seq, seq) if seq is not None else (journal.c.hash, hash) if hash is not None
                     else (journal.c.event, event))
    r = conn.execute(select(journal).where(column == value).order_by(journal.c.seq.desc()).limit(1)).first()
    return None if r is None else _entry(r)


def _entry(r: Row[Any]) -> Entry:
    return Entry(r.seq, r.at, r.actor, r.event, r.subject, json.loads(r.payload), r.prev_hash, r.hash)


def head(conn: Connection) -> tuple[int, str]:
    """The last entry's (seq, hash); (0, GENESIS) while the journal is empty."""
    r = conn.execute(select(journal.c.seq, journal.c.hash).order_by(journal.c.seq.desc()).limit(1)).first()
    return (r.seq, r.hash) if r else (0, GENESIS)
