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
updates or deletes journal rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, text

from .models import canonical_json, nfc, sha256_text, utcnow
from .store import bulk
from .store.schema import journal

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x7075626C  # "publ": one advisory lock for the journal head
_FETCH = 2000  # rows per fetch while verifying: a million entries never sit in memory at once


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


@dataclass(frozen=True)
class Anchor:
    """A head written down earlier (``SEQ:HASH``; the seq may be unknown), or the head reached."""
    hash: str
    seq: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Break:
    """The first entry *seq* that fails, and why: edited; deleted (``entry``..``other`` gone);
    inserted (``entry`` added); moved (it followed the entry now at ``other``); renumbered (the
    entry once at ``entry`` deleted, later ones shifted down); unlinked (it follows nothing)."""
    seq: int
    reason: str
    entry: int
    other: int | None = None


@dataclass(frozen=True)
class Check:
    """What a verification saw: rows checked from seq ``first`` on, the head reached, the first break."""
    checked: int
    first: int
    head: Anchor
    broken: Break | None


def check(conn: Connection, start: Entry | None = None) -> Check:
    """Re-compute the chain, streaming rows, from the first entry or from *start* (an anchored entry) on."""
    prev, seq = (start.prev_hash, start.seq) if start else (GENESIS, 1)
    count, last, failed, before = _walk(conn, prev, seq)
    broken = None if failed is None else _diagnose(conn, failed, (last.seq or 0) + 1, last.hash, before)
    return Check(count, seq, last, broken)


def _walk(conn: Connection, prev: str, seq: int) -> tuple[int, Anchor, Row[Any] | None, str | None]:
    """Rows from *seq* on, the first after *prev*: (count, last good, first bad, hash two back)."""
    count, last, before = 0, Anchor(prev, seq - 1), None
    query = select(journal).where(journal.c.seq >= seq).order_by(journal.c.seq)
    with conn.execute(query.execution_options(yield_per=_FETCH)) as rows:
        for r in rows:
            count += 1
            if r.seq != seq or r.prev_hash != last.hash or _digest(r, r.seq) != r.hash:
                return count, last, r, before
            before, last, seq = last.hash, Anchor(r.hash, r.seq, r.at), seq + 1
    return count, last, None, before


def _digest(r: Row[Any], seq: int) -> str:
    """The hash row *r* would have at position *seq* after its stored prev_hash."""
    return entry_hash(r.prev_hash, seq, r.at, r.actor, r.event, r.subject, r.payload)


def _diagnose(conn: Connection, r: Row[Any], seq: int, prev: str, before: str | None) -> Break:
    """Why row *r* breaks the chain where entry *seq*, following *prev*, was expected."""
    if r.seq != seq:
        return Break(r.seq, "deleted", seq, r.seq - 1)
    if r.prev_hash == prev:
        return Break(r.seq, "edited", r.seq)
    if r.prev_hash == before and _digest(r, r.seq - 1) == r.hash:
        return Break(r.seq, "inserted", r.seq - 1)  # it still chains from the entry two back
    moved = conn.execute(select(journal.c.seq).where(journal.c.hash == r.prev_hash)).scalar()
    if moved is not None:
        return Break(r.seq, "moved", r.seq, moved)
    if _digest(r, r.seq + 1) == r.hash:
        return Break(r.seq, "renumbered", r.seq)
    return Break(r.seq, "unlinked", r.seq, r.seq - 1)


def verify(conn: Connection) -> tuple[int, int | None]:
    """Re-compute the chain: (entries checked, seq of the first entry that fails or None)."""
    result = check(conn)
    return result.checked, result.broken.seq if result.broken else None


def head(conn: Connection) -> tuple[int, str]:
    """The last entry's (seq, hash); (0, GENESIS) while the journal is empty."""
    r = conn.execute(select(journal.c.seq, journal.c.hash).order_by(journal.c.seq.desc()).limit(1)).first()
    return (r.seq, r.hash) if r else (0, GENESIS)
