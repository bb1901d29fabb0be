"""The dossier (hồ sơ) of one policy: the evidence an inspection asks for, in one ZIP.

Everything is read in one snapshot, so the journal head, the slice up to it
and the posts, deliveries and attempts agree with each other.  The records are
plain dicts with stable keys and aware UTC times; :mod:`publisher.dossier_files`
turns them into the files of the ZIP.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, text

from . import dossier_files, journal
from .models import MediaFile, Policy, Post, utcnow
from .service import find_policy
from .store import rows
from .store.engine import read
from .store.schema import attempts, deliveries, posts
from .store.schema import journal as journal_table

if TYPE_CHECKING:
    from .context import App


@dataclass(frozen=True)
class Evidence:
    """What one policy's dossier holds, read in one snapshot (times aware UTC)."""

    policy: Policy
    posts: list[dict[str, Any]]  # each with "approved": its frozen text per channel
    receipts: list[dict[str, Any]]  # one per delivery, with its attempts
    approvals: list[dict[str, Any]]
    journal: list[dict[str, Any]]  # entries exactly as stored, in seq order
    head: dict[str, Any]  # the journal head (seq, hash) when the snapshot was taken
    exported_at: datetime
    exported_by: str


def export(app: App, actor: str, code: str, agency: str | None = None,
           output: Path | None = None) -> dossier_files.Written:
    """Write the dossier of policy *code* to *output* (default: ``ho-so-<code>-<date>.zip`` here)."""
    evidence = collect(app, actor, code, agency)
    target = output if output is not None else Path.cwd()
    if target.is_dir():  # a folder given: the default name inside it
        target = target / default_name(evidence.policy.code, evidence.exported_at, app)
    return dossier_files.write(app, evidence, target)


def default_name(code: str, at: datetime, app: App) -> str:
    """``ho-so-12-2026-NQ-HDND-20261201.zip``: a policy code made safe for any file system."""
    plain = unicodedata.normalize("NFKD", code.replace("Đ", "D").replace("đ", "d"))
    ascii_code = "".join(c for c in plain if not unicodedata.combining(c))
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_code).strip("-.") or "chinh-sach"
    return f"ho-so-{safe}-{at.astimezone(app.config.timezone):%Y%m%d}.zip"


def collect(app: App, actor: str, code: str, agency: str | None = None) -> Evidence:
    """Read the policy, its posts, deliveries, attempts and journal slice (NotFound if unknown)."""
    with read(app.engine) as conn:
        _one_snapshot(conn)
        policy = find_policy(conn, code, agency)
        seq, head_hash = journal.head(conn)
        found = [rows.post(r) for r in conn.execute(
            select(posts).where(posts.c.policy_id == policy.id).order_by(posts.c.id))]
        receipts = _receipts(conn, policy.id)
        subjects = ([f"policy:{policy.id}"] + [f"post:{p.id}" for p in found]
                    + [f"delivery:{d['id']}" for d in receipts])
        entries = _slice(conn, subjects, seq)
    return Evidence(policy=policy, posts=[_post(p, receipts) for p in found], receipts=receipts,
                    approvals=[_approval(p, entries) for p in found], journal=entries,
                    head={"seq": seq, "hash": head_hash}, exported_at=utcnow(), exported_by=actor)


def _one_snapshot(conn: Connection) -> None:
    # PostgreSQL's default (read committed) gives each statement its own snapshot: a daemon
    # publishing meanwhile could put a receipt in the dossier without its journal entry.
    # SQLite's read transaction is already one snapshot (WAL).
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def _receipts(conn: Connection, policy_id: int) -> list[dict[str, Any]]:
    ours = select(deliveries.c.id).join(posts, posts.c.id == deliveries.c.post_id).where(
        posts.c.policy_id == policy_id)
    tries: dict[int, list[dict[str, Any]]] = {}
    for a in conn.execute(select(attempts).where(attempts.c.delivery_id.in_(ours))
                          .order_by(attempts.c.delivery_id, attempts.c.number, attempts.c.id)):
        tries.setdefault(a.delivery_id, []).append({
            "number": a.number, "worker": a.worker, "started_at": a.started_at, "finished_at": a.finished_at,
            "outcome": a.outcome, "error": a.error, "remote_id": a.remote_id, "permalink": a.permalink})
    found = conn.execute(select(deliveries).where(deliveries.c.id.in_(ours)).order_by(deliveries.c.id))
    return [_receipt(d, tries.get(d.id, [])) for d in found]


def _receipt(d: Any, tries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": d.id, "post": d.post_id, "channel": d.channel, "state": d.state, "due_at": d.due_at,
            "deadline_at": d.deadline_at, "published_at": d.published_at, "remote_id": d.remote_id,
            "permalink": d.permalink, "content_sha256": d.content_sha256, "last_error": d.last_error,
            "title": d.title, "body": d.body, "media": [media_record(m) for m in rows.media_files(d.media)],
            "attempts": tries}


def media_record(m: MediaFile) -> dict[str, str]:
    """A frozen file as the dossier names it: ``media/<sha256>.<ext>`` inside the ZIP."""
    return {"name": m.name, "sha256": m.sha256, "stored_as": m.path, "file": f"media/{Path(m.path).name}"}


def _post(p: Post, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    approved = [{k: r[k] for k in ("id", "channel", "title", "body", "content_sha256", "media")}
                for r in receipts if r["post"] == p.id]
    return {"id": p.id, "template": p.template, "variables": p.variables, "channels": list(p.channels),
            "moment": p.moment, "state": p.state.value, "author": p.author, "created_at": p.created_at,
            "approver": p.approver, "approved_at": p.approved_at, "publish_at": p.publish_at,
            "deadline_at": p.deadline_at, "media": [media_record(m) for m in p.media],
            "infographics": list(p.infographics), "approved": approved}


def _approval(p: Post, entries: list[dict[str, Any]]) -> dict[str, Any]:
    # the reason for a cancellation lives only in the journal entry that recorded it
    cancelled = [{"at": e["at"], "actor": e["actor"], "reason": _payload(e).get("reason", "")}
                 for e in entries if e["subject"] == f"post:{p.id}" and e["event"] == "post.cancelled"]
    return {"post": p.id, "author": p.author, "written_at": p.created_at, "approver": p.approver,
            "approved_at": p.approved_at, "state": p.state.value, "cancellations": cancelled}


def _payload(entry: dict[str, Any]) -> dict[str, Any]:
    """The payload of a slice entry as data (it is kept as the stored text, which is what is hashed)."""
    value = json.loads(entry["payload"])
    return value if isinstance(value, dict) else {}


def _slice(conn: Connection, subjects: list[str], head_seq: int) -> list[dict[str, Any]]:
    query = (select(journal_table).where(journal_table.c.subject.in_(subjects), journal_table.c.seq <= head_seq)
             .order_by(journal_table.c.seq))
    return [{"seq": r.seq, "at": r.at, "actor": r.actor, "event": r.event, "subject": r.subject,
             "payload": r.payload, "prev_hash": r.prev_hash, "hash": r.hash} for r in conn.execute(query)]
