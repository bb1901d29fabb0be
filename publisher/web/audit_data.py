"""What the audit pages and API read: journal pages bounded by agency, the chain's check, the coverage view.

Agency separation.  Journal subjects are ``kind:key``; they map to agencies so:

* ``policy:<id>`` -> that policy's agency; ``post:<id>`` -> its policy's agency;
  ``delivery:<id>`` -> its post's policy's agency; ``agency:<code>`` -> that agency;
* everything else (``user:``, ``config:``, ``channel:`` and any future kind) belongs
  to no one agency, and is shown only to accounts of every agency.

So an agency-bound account reads exactly the entries whose subject is in the
set built by :func:`_ours` (one SQL subquery), never a row of another agency.
Words come from the request's :class:`Speaker`, never the process language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException
from sqlalchemy import String, cast, func, literal, or_, select, union_all

from .. import coverage
from ..access import User
from ..context import App
from ..inputs import a_date
from ..models import nfc
from ..store.engine import read
from ..store.schema import deliveries, journal, policies, posts

PER_PAGE = 100
SHORT = 120  # payload characters shown in the list; the entry's page has all of it
MAX_FILTER = 200
COLUMNS = ("seq", "time", "actor", "event", "subject", "payload", "hash")
CSV_COLUMNS = (*coverage.COLUMNS, "reason_text")


@dataclass(frozen=True)
class JournalFilter:
    event: str = ""  # a prefix: "delivery." or "post.approved"
    actor: str = ""
    subject: str = ""  # exact ("post:3"), or every subject of a kind when it ends with ":" ("delivery:")
    since: date | None = None  # local days in display.timezone, both included
    until: date | None = None
    page: int = 1

    @classmethod
    def of(cls, event: str = "", actor: str = "", subject: str = "", since: str = "", until: str = "",
           page: int = 1) -> JournalFilter:
        """Blank is no filter; dates as 2026-12-01 or 01/12/2026 (InputError otherwise)."""
        return cls(*(nfc(v or "").strip()[:MAX_FILTER] for v in (event, actor, subject)),
                   a_date({"since": since}, "since", "since"), a_date({"until": until}, "until", "until"),
                   max(1, min(page, 10**6)))

    def shown(self) -> dict[str, str]:
        """The filters as the form and the links carry them (blank ones left out)."""
        values = {"event": self.event, "actor": self.actor, "subject": self.subject,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in values.items() if v}


def _ours(agency: str) -> Any:
    """Subjects of *agency*'s policies, posts and deliveries, plus the agency itself (see the module doc)."""
    def subject(kind: str, column: Any) -> Any:
        return literal(f"{kind}:", String) + cast(column, String)

    mine = policies.c.agency == agency
    return or_(journal.c.subject == f"agency:{agency}", journal.c.subject.in_(union_all(
        select(subject("policy", policies.c.id)).where(mine),
        select(subject("post", posts.c.id)).join(policies, policies.c.id == posts.c.policy_id).where(mine),
        select(subject("delivery", deliveries.c.id)).join(posts, posts.c.id == deliveries.c.post_id)
        .join(policies, policies.c.id == posts.c.policy_id).where(mine))))


def _where(user: User, f: JournalFilter, zone: ZoneInfo) -> list[Any]:
    where = [] if user.agency is None else [_ours(user.agency)]
    if f.event:
        where.append(journal.c.event.startswith(f.event, autoescape=True))
    if f.actor:
        where.append(journal.c.actor == f.actor)
    if f.subject:
        where.append(journal.c.subject.startswith(f.subject, autoescape=True) if f.subject.endswith(":")
                     else journal.c.subject == f.subject)
    if f.since:
        where.append(journal.c.at >= _start(f.since, zone))
    if f.until:
        where.append(journal.c.at < _start(f.until + timedelta(days=1), zone))
    return where


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)


def _row(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "time": r.at, "actor": r.actor, "event": r.event, "subject": r.subject,
            "payload": r.payload, "hash": r.hash}


def journal_page(app: App, user: User, f: JournalFilter) -> tuple[list[dict[str, Any]], int]:
    """One page of the entries *user* may see that match *f*, newest first, and how many match."""
    where = _where(user, f, app.config.timezone)
    query = (select(journal).where(*where).order_by(journal.c.seq.desc())
             .limit(PER_PAGE).offset((f.page - 1) * PER_PAGE))
    with read(app.engine) as conn:
        total = conn.execute(select(func.count()).select_from(journal).where(*where)).scalar_one()
        return [_row(r) for r in conn.execute(query)], total


def journal_all(app: App, user: User, f: JournalFilter) -> list[dict[str, Any]]:
    """Every matching entry, oldest first (the CSV), payload as data so the CSV shows it unescaped."""
    query = select(journal).where(*_where(user, f, app.config.timezone)).order_by(journal.c.seq)
    with read(app.engine) as conn:
        return [{**_row(r), "payload": json.loads(r.payload)} for r in conn.execute(query)]


def entry(app: App, user: User, seq: int) -> dict[str, Any]:
    """One entry *user* may see; a 404 as for a number that does not exist otherwise."""
    where = [journal.c.seq == seq] + ([] if user.agency is None else [_ours(user.agency)])
    with read(app.engine) as conn:
        found = conn.execute(select(journal).where(*where)).first()
    if found is None:
        raise HTTPException(404)
    return {**_row(found), "prev_hash": found.prev_hash}


def short(payload: str) -> str:
    return payload if len(payload) <= SHORT else payload[:SHORT] + "…"


def policy_of(app: App, user: User, policy_id: int) -> tuple[str, str]:
    """(code, agency) of a policy *user* may see; else 404."""
    with read(app.engine) as conn:
        found = conn.execute(select(policies.c.code, policies.c.agency).where(policies.c.id == policy_id)).first()
    if found is None or (user.agency is not None and found.agency != user.agency):
        raise HTTPException(404)
    return found.code, found.agency


def policy_ids(app: App, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(agency, code) -> id for the rows of a coverage report (their dossier links)."""
    codes = {r["code"] for r in rows}
    if not codes:
        return {}
    with read(app.engine) as conn:
        found = conn.execute(select(policies.c.id, policies.c.agency, policies.c.code)
                             .where(policies.c.code.in_(codes)))
        return {(r.agency, r.code): r.id for r in found}
