"""What auditors read: the publish log (attempts), the journal and its verification.

Rows are plain dicts with stable keys, so the faces can print them as a
table, CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly) or JSON.
The journal's verification as auditors read it (anchors, the summary, what a
break means) is in ``journal_report.py``; its names stay importable from here.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from . import journal
from .journal_report import anchor, explain, parse_anchor, summary, verification
from .store.engine import read
from .store.rows import delivery, delivery_select
from .store.schema import attempts, deliveries, policies, posts

if TYPE_CHECKING:
    from .context import App
    from .models import Delivery

__all__ = ["LOG_COLUMNS", "QUEUE_COLUMNS", "LogFilter", "anchor", "explain", "journal_rows", "parse_anchor",
           "publish_log", "queue", "queue_row", "summary", "to_csv", "to_json", "verification"]

LOG_COLUMNS = ("time", "agency", "policy", "post", "delivery", "channel", "attempt", "worker", "outcome",
               "state", "error", "remote_id", "permalink", "content_sha256", "author", "approver")


@dataclass(frozen=True)
class LogFilter:
    agency: str | None = None
    policy: str | None = None
    channel: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None  # publish log: the attempt's worker, the post's author or its approver


def publish_log(app: App, f: LogFilter) -> list[dict[str, Any]]:
    """Every attempt, oldest first, with what it published, where (permalink) and who approved it.

    An attempt that did not publish itself (a timeout...) shows where a later one published the delivery.
    """
    query = (
        select(attempts, func.coalesce(attempts.c.permalink, deliveries.c.permalink).label("link"),
               deliveries.c.channel, deliveries.c.state, deliveries.c.content_sha256,
               deliveries.c.post_id, policies.c.agency, policies.c.code, posts.c.author, posts.c.approver)
        .join(deliveries, deliveries.c.id == attempts.c.delivery_id)
        .join(posts, posts.c.id == deliveries.c.post_id)
        .join(policies, policies.c.id == posts.c.policy_id)
        .order_by(attempts.c.finished_at, attempts.c.id)
    )
    with read(app.engine) as conn:
        return [_log_row(r) for r in conn.execute(_of_attempts(_filtered(query, f), f))]


def _of_attempts(query: Any, f: LogFilter) -> Any:
    """The time range (when the attempt finished) and the actor (its worker, the post's author or approver)."""
    if f.since:
        query = query.where(attempts.c.finished_at >= f.since)
    if f.until:
        query = query.where(attempts.c.finished_at < f.until)
    if f.actor:
        query = query.where(or_(attempts.c.worker == f.actor, posts.c.author == f.actor, posts.c.approver == f.actor))
    return query


def _filtered(query: Any, f: LogFilter) -> Any:
    for column, value in ((policies.c.agency, f.agency), (policies.c.code, f.policy),
                          (deliveries.c.channel, f.channel), (deliveries.c.state, f.state)):
        if value:
            query = query.where(column == value)
    return query


def _log_row(r: Any) -> dict[str, Any]:
    return {"time": r.finished_at, "agency": r.agency, "policy": r.code, "post": r.post_id,
            "delivery": r.delivery_id, "channel": r.channel, "attempt": r.number, "worker": r.worker,
            "outcome": r.outcome, "state": r.state, "error": r.error, "remote_id": r.remote_id,
            "permalink": r.link, "content_sha256": r.content_sha256, "author": r.author,
            "approver": r.approver}


def journal_rows(app: App, f: LogFilter, actor: str | None = None) -> list[dict[str, Any]]:
    """Journal entries in order; policy/agency/channel filters keep the entries about them."""
    with read(app.engine) as conn:
        found = journal.entries(conn, since=f.since, until=f.until, actor=actor or f.actor)
        subjects = _subjects(conn, f)
    if subjects is not None:
        found = [e for e in found if e.subject in subjects]
    return [{"seq": e.seq, "time": e.at, "actor": e.actor, "event": e.event, "subject": e.subject,
             "payload": e.payload, "hash": e.hash} for e in found]


def _subjects(conn: Any, f: LogFilter) -> set[str] | None:
    if not (f.agency or f.policy or f.channel or f.state):
        return None
    query = (select(policies.c.id.label("policy"), posts.c.id.label("post"), deliveries.c.id.label("delivery"))
             .select_from(policies).outerjoin(posts, posts.c.policy_id == policies.c.id)
             .outerjoin(deliveries, deliveries.c.post_id == posts.c.id))
    subjects: set[str] = set()
    for row in conn.execute(_filtered(query, f)):
        subjects.update(f"{kind}:{getattr(row, kind)}" for kind in ("policy", "post", "delivery")
                        if getattr(row, kind) is not None)
    return subjects


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2, default=_iso)


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """CSV with a UTF-8 BOM: Excel then reads Vietnamese as UTF-8."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _iso(v) if isinstance(v, datetime) else
                         (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v) for k, v in row.items()})
    return "\ufeff" + out.getvalue()


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


QUEUE_COLUMNS = ("id", "agency", "policy", "channel", "state", "due", "attempts", "next_attempt", "last_error")


def queue(app: App, f: LogFilter) -> list[dict[str, Any]]:
    """Deliveries with their state, due time, attempts and last error."""
    query = _filtered(delivery_select().order_by(deliveries.c.due_at, deliveries.c.id), f)
    with read(app.engine) as conn:
        found = [delivery(r) for r in conn.execute(query)]
    return [queue_row(d) for d in found]


def queue_row(d: Delivery) -> dict[str, Any]:
    """One delivery as ``publisher queue`` shows it (and its ``--json``, and ``queue retry|cancel --json``)."""
    return {"id": d.id, "agency": d.agency, "policy": d.policy_code, "channel": d.channel, "state": d.state.value,
            "due": d.due_at, "attempts": d.attempts, "next_attempt": d.next_attempt_at, "last_error": d.last_error,
            "remote_id": d.remote_id, "permalink": d.permalink, "published_at": d.published_at,
            "content_sha256": d.content_sha256}
