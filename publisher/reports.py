"""What auditors read: the publish log (attempts), the journal and its verification.

Rows are plain dicts with stable keys, so the faces can print them as a
table, CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly) or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from . import journal
from .config_checks import shown
from .errors import InputError, PublisherError
from .i18n import t
from .store.engine import read
from .store.rows import delivery, delivery_select
from .store.schema import attempts, deliveries, policies, posts

if TYPE_CHECKING:
    from .context import App

_ANCHOR = re.compile(r"(?:(\d+):)?([0-9a-f]{64})")  # SEQ:HASH as `audit verify --anchor` prints it, or HASH
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
    return [{"id": d.id, "agency": d.agency, "policy": d.policy_code, "channel": d.channel, "state": d.state.value,
             "due": d.due_at, "attempts": d.attempts, "next_attempt": d.next_attempt_at, "last_error": d.last_error,
             "remote_id": d.remote_id, "permalink": d.permalink, "published_at": d.published_at,
             "content_sha256": d.content_sha256} for d in found]


def verification(app: App, anchor: journal.Anchor | None = None) -> journal.Check:
    """Re-compute the journal's chain (from *anchor* on, if given) in one read snapshot; an anchor no
    longer there means what it covers was rewritten or removed: a FAILED error saying which."""
    with read(app.engine) as conn:
        start = None if anchor is None or anchor.hash == journal.GENESIS else _anchored(conn, anchor)
        return journal.check(conn, start)


def _anchored(conn: Any, anchor: journal.Anchor) -> journal.Entry:
    """The anchored entry, or the error saying whether it moved, changed or is gone."""
    found = journal.find(conn, hash=anchor.hash)
    if found is not None and anchor.seq in (None, found.seq):
        return found
    if found is not None:
        raise PublisherError("audit.anchor_moved", seq=anchor.seq, now=found.seq)
    if anchor.seq is None:
        raise PublisherError("audit.anchor_unknown", hash=anchor.hash)
    now = journal.find(conn, seq=anchor.seq)
    if now is None:
        raise PublisherError("audit.anchor_removed", seq=anchor.seq)
    raise PublisherError("audit.anchor_altered", seq=anchor.seq, hash=anchor.hash, now=now.hash)


def parse_anchor(text: str) -> journal.Anchor:
    """``SEQ:HASH`` or ``HASH`` (case and spaces forgiven: an anchor may be typed from paper)."""
    found = _ANCHOR.fullmatch(text.strip().lower())
    if found is None:
        raise InputError("audit.bad_anchor", value=shown(text))
    return journal.Anchor(found[2], int(found[1]) if found[1] else None)


def anchor(head: journal.Anchor) -> dict[str, Any]:
    return {"seq": head.seq, "at": head.at, "hash": head.hash, "anchor": f"{head.seq}:{head.hash}"}


def summary(result: journal.Check, anchored: bool = False) -> dict[str, Any]:
    """The verification as JSON data, with its message for people."""
    b, head = result.broken, result.head
    message = (f"{t('audit.broken', seq=b.seq, count=result.checked)}. {explain(b)}" if b else
               t("audit.ok_since", seq=result.first, count=result.checked, last=head.seq, head=head.hash)
               if anchored else t("audit.ok", count=result.checked, head=head.hash))
    return {"ok": b is None, "checked": result.checked, "from_seq": result.first, "head": None if b else anchor(head),
            "broken": b and {"seq": b.seq, "reason": b.reason, "entry": b.entry, "other": b.other},
            "message": message}


def explain(b: journal.Break) -> str:
    """What the evidence says happened (literal keys, so the catalogue check sees each one)."""
    if b.reason == "deleted" and b.entry == b.other:
        return t("audit.why_deleted_one", entry=b.entry)
    e, o = b.entry, b.other
    return {"edited": t("audit.why_edited", entry=e), "deleted": t("audit.why_deleted", entry=e, other=o),
            "inserted": t("audit.why_inserted", entry=e), "moved": t("audit.why_moved", entry=e, other=o),
            "renumbered": t("audit.why_renumbered", entry=e),
            "unlinked": t("audit.why_unlinked", entry=e, other=o)}[b.reason]
