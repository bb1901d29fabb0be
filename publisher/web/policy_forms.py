"""The policies area's parts that are not routes: who sees which policy, search, the form, the API's models.

No rule of what a policy is lives here: the values go to ``service.add_policy``
and ``service.update_policy`` (``inputs.py`` checks them), exactly as the CLI
sends them.  This module only turns a form or a JSON body into that input,
an :class:`~publisher.errors.InputError` back into the field it names, and
keeps each user to the agencies ``access.sees_agency`` lets them see (another
agency's policy is "not found", never "forbidden": its id tells nothing).
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.exceptions import HTTPException

from .. import inputs, service
from ..access import User, sees_agency
from ..campaign import Step
from ..context import App
from ..errors import InputError
from ..models import Policy, nfc
from ..store import rows
from ..store.engine import read
from ..store.schema import policies
from .errors import Forbidden

#: Ids are 32-bit integers in both databases: a larger one names nothing (and must not reach PostgreSQL).
MAX_ID = 2**31 - 1
#: policies.code is String(100): longer is refused here with the field's message, not by the database.
CODE_LENGTH = 100
#: Dates outside these years are typing mistakes, and the campaign's arithmetic near year 1 or 9999 overflows.
YEARS = range(1900, 3000)
DATE_FIELDS = ("consultation_opens", "consultation_closes", "passed_on", "issued_on")
#: Every field of the form, in its order (the keys service.add_policy accepts).
FIELDS = ("agency", "code", "title", "summary", "impact", *DATE_FIELDS, "draft_url", "key_points", "affected",
          "comment_how")
#: What an edit may change (code and agency identify the policy).
EDITABLE = tuple(f for f in FIELDS if f not in ("agency", "code"))


# --- who sees what -------------------------------------------------------------------------------

def visible(app: App, user: User) -> list[Policy]:
    """The policies *user* may see (an agency-bound account: its agency's only)."""
    return [p for p in service.list_policies(app, user.agency) if sees_agency(user, p.agency)]


def get_visible(app: App, user: User, pid: int) -> Policy:
    """Policy *pid*, or 404 when it does not exist or belongs to an agency *user* does not see."""
    found = None
    if 1 <= pid <= MAX_ID:
        with read(app.engine) as conn:
            row = conn.execute(select(policies).where(policies.c.id == pid)).first()
        found = rows.policy(row) if row else None
    if found is None or not sees_agency(user, found.agency):
        raise HTTPException(404)
    return found


def agency_for(app: App, user: User, given: str | None) -> str | None:
    """The agency a new policy is for: an agency-bound user's own (naming another is refused: 403)."""
    given = (given or "").strip() or None
    if user.agency is None:
        return given
    if given is not None and given != user.agency:
        raise Forbidden("role")
    return user.agency


def agency_choices(app: App, user: User) -> list[tuple[str, str]]:
    """(code, name) of the agencies *user* may create policies for."""
    return [(a.code, a.name) for a in app.config.agencies.values() if sees_agency(user, a.code)]


# --- search --------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return nfc(nfc(text).casefold())


def _bare(text: str) -> str:
    """Without tone marks and with đ as d: "Học phí" and "hoc phi" meet here."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search(found: list[Policy], query: str) -> list[Policy]:
    """Policies whose code or title contains *query* (NFC or not, any case; unaccented matches all)."""
    wanted = _fold(query.strip())
    if not wanted:
        return found
    loose = _bare(wanted) == wanted  # typed without marks: compare without marks

    def hit(policy: Policy) -> bool:
        texts = (policy.code, policy.title)
        if any(wanted in _fold(t) for t in texts):
            return True
        return loose and any(wanted in _bare(t) for t in texts)

    return [p for p in found if hit(p)]


# --- the form ------------------------------------------------------------------------------------

def dmy(value: date | None) -> str:
    """A date as staff write it: 16/01/2024."""
    return value.strftime("%d/%m/%Y") if value else ""


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A UTC moment in the display zone, to the minute: 16/01/2024 08:00."""
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M") if value else ""


def blank_form(app: App, user: User) -> dict[str, str]:
    """A new policy's form: high impact, the user's agency (or the only one) chosen."""
    values = dict.fromkeys(FIELDS, "")
    values["impact"] = "high"
    choices = agency_choices(app, user)
    values["agency"] = user.agency or (choices[0][0] if len(choices) == 1 else "")
    return values


def form_of(policy: Policy) -> dict[str, str]:
    """The edit form of *policy*: every field as text, dates DD/MM/YYYY, one key point per line."""
    values = {key: "" if value is None else str(value) for key, value in asdict(policy).items() if key in FIELDS}
    values.update({key: dmy(getattr(policy, key)) for key in DATE_FIELDS})
    values["impact"] = policy.impact.value
    values["key_points"] = "\n".join(policy.key_points)
    return values


def data_from_form(values: dict[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
    """What the library takes, from what was typed: key points are the non-blank lines."""
    data: dict[str, Any] = {key: values.get(key, "") for key in keys}
    if "key_points" in data:
        data["key_points"] = [line for line in str(data["key_points"]).splitlines() if line.strip()]
    return data


def check_input(data: dict[str, Any], source: str) -> dict[str, Any]:
    """What the database itself would refuse, refused first with the field's message (never a 500)."""
    for key, value in data.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in texts):
            raise InputError("input.bad_field", source=source, field=key, detail="text")
    for key in DATE_FIELDS:
        day = inputs.a_date(data, key, source)  # an unreadable date: the library's own message
        if day is not None and day.year not in YEARS:
            raise InputError("input.bad_date", source=source, field=key, value=data[key])
    code = data.get("code")
    if isinstance(code, str) and len(code.strip()) > CODE_LENGTH:
        raise InputError("input.too_long", source=source, field="code", length=len(code.strip()), limit=CODE_LENGTH)
    return data


def error_field(exc: InputError) -> str | None:
    """The form field an InputError is about (None: the whole form)."""
    params = exc.params
    if exc.key == "input.dates_order":
        return str(params.get("second"))
    if exc.key == "input.policy_exists":
        return "code"
    if exc.key in ("input.unknown_agency", "input.agency_required"):
        return "agency"
    field = params.get("field")
    return str(field) if field in FIELDS else None


def steps_view(steps: list[Step], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The campaign's steps as the page shows them (times in the display zone)."""
    return [{"moment": s.moment, "action": s.action, "post_id": s.post_id, "at": local_time(s.at, zone)}
            for s in steps]


# --- the API's models ----------------------------------------------------------------------------

DATE_HELP = "A date, DD/MM/YYYY or YYYY-MM-DD."


class PolicyOut(BaseModel):
    """A policy as stored."""

    id: int
    agency: str
    code: str
    title: str
    summary: str
    impact: str = Field(description="high or normal")
    consultation_opens: date | None
    consultation_closes: date | None
    passed_on: date | None
    issued_on: date | None
    draft_url: str | None
    key_points: list[str]
    affected: str | None
    comment_how: str | None
    created_by: str
    created_at: datetime | None

    @classmethod
    def of(cls, policy: Policy) -> PolicyOut:
        values = asdict(policy)
        values.update(impact=policy.impact.value, key_points=list(policy.key_points))
        return cls(**values)


class PolicyEdit(BaseModel):
    """The fields a change may give; a field left out keeps its value (null clears an optional one)."""

    title: str | None = None
    summary: str | None = None
    impact: str | None = Field(None, description="high or normal")
    consultation_opens: str | None = Field(None, description=DATE_HELP)
    consultation_closes: str | None = Field(None, description=DATE_HELP)
    passed_on: str | None = Field(None, description=DATE_HELP)
    issued_on: str | None = Field(None, description=DATE_HELP)
    draft_url: str | None = Field(None, description="http:// or https:// address of the draft and comment page.")
    key_points: list[str] | None = Field(None, description="At most 5 short sentences.")
    affected: str | None = None
    comment_how: str | None = None


class PolicyNew(PolicyEdit):
    """A new policy: code, title and summary are required; agency when several are configured."""

    agency: str | None = Field(None, description="Agency code; an agency-bound account may name only its own.")
    code: str = Field(description="Number and symbol of the document, e.g. 12/2026/NQ-HĐND.")
    title: str = Field(description="Title (at most 200 characters).")
    summary: str = Field(description="Summary.")


class InvalidInput(BaseModel):
    """Input the library refused: the message, and the field it names (null: the whole request)."""

    detail: str
    field: str | None


class CampaignStep(BaseModel):
    """One moment of the campaign and what planning did with it."""

    moment: str = Field(description="opens, reminder, passed or issued")
    action: str = Field(description="created, replanned, unchanged, approved, missed or no_date")
    post_id: int | None
    at: datetime | None = Field(description="When the post goes out, in display.timezone.")

    @classmethod
    def of(cls, step: Step, zone: ZoneInfo) -> CampaignStep:
        return cls(moment=step.moment, action=step.action, post_id=step.post_id,
                   at=step.at.astimezone(zone) if step.at else None)


class PolicyChanged(BaseModel):
    """A policy after a change, the fields that changed, and the campaign re-planned because of them."""

    policy: PolicyOut
    changed: list[str]
    campaign: list[CampaignStep]
