"""The policy form: its fields, what was typed turned into the library's input, errors back to their field.

No rule of what a policy is lives here: the values go to ``service.add_policy``
and ``service.update_policy`` (``inputs.py`` checks them), exactly as the CLI
sends them.  This module only turns a form or a JSON body into that input,
refuses first what the database itself would refuse (with the field's
message, never a 500), and turns an :class:`~publisher.errors.InputError`
back into the field it names.

Who sees which policy and the search are in ``policy_lookup.py``; the API's
models in ``policy_models.py``.  Their names stay importable from here.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import inputs
from ..access import User
from ..campaign import Step
from ..context import App
from ..errors import InputError
from ..models import Policy
from .policy_lookup import MAX_ID, agency_choices, agency_for, get_visible, search, visible
from .policy_models import CampaignStep, InvalidInput, PolicyChanged, PolicyEdit, PolicyNew, PolicyOut

__all__ = ["CODE_LENGTH", "DATE_FIELDS", "EDITABLE", "FIELDS", "MAX_ID", "YEARS", "CampaignStep", "InvalidInput",
           "PolicyChanged", "PolicyEdit", "PolicyNew", "PolicyOut", "agency_choices", "agency_for", "blank_form",
           "check_input", "data_from_form", "dmy", "error_field", "form_of", "get_visible", "local_time", "search",
           "steps_view", "visible"]

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
