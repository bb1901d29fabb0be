"""The journal's hash chain: how an entry's hash is made, and re-computing the chain to find the first break.

Each entry stores ``hash = sha256(prev_hash + canonical JSON of the entry)``,
so editing, deleting, inserting or reordering any entry breaks the chain from
that point on, and :func:`check` names the first bad entry and what happened
to it.  A tail rewritten with recomputed hashes verifies on its own: only an
*anchor* (a head hash written down earlier) exposes it, so :func:`check` can
start from one.  Verification streams the rows: a million entries never sit
in memory at once.  ``publisher.journal`` appends and reads; its callers find
these names there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select

from .models import canonical_json, sha256_text
from .store.schema import journal

if TYPE_CHECKING:
    from .journal import Entry

GENESIS = "0" * 64
_FETCH = 2000  # rows per fetch while verifying: a million entries never sit in memory at once


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, event: str, subject: str, payload: str) -> str:
    """The hash of an entry: sha256 of the previous hash and the entry's canonical JSON (*payload* as stored)."""
    body = canonical_json({"seq": seq, "at": at.isoformat(), "actor": actor, "event": event,
                           "subject": subject, "payload": payload})
    return sha256_text(prev_hash + body)


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
