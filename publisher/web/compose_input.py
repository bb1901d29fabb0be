"""What the compose form's input is checked against before anything renders or is saved.

The channels each user may post to (their agencies' enabled ones), the
policy they name (only one they see: another agency's is "not found", never
"forbidden"), the default publication time, and what the database would
refuse or the date arithmetic overflow on (a NUL character, a year far off),
refused first with the field's message rather than a 500.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import inputs
from ..access import User, sees_agency
from ..context import App
from ..errors import InputError
from ..models import Policy
from .policy_forms import YEARS
from .policy_lookup import MAX_ID, visible


def channels_by_agency(app: App, user: User) -> dict[str, list[str]]:
    """The enabled channels of each agency *user* sees."""
    out: dict[str, list[str]] = {}
    for name, spec in app.config.channels.items():
        if spec.enabled and sees_agency(user, spec.agency):
            out.setdefault(spec.agency, []).append(name)
    return out


def find_policy(app: App, user: User, value: Any, source: str) -> Policy:
    """The visible policy of id *value*; else an InputError naming the field (never telling it exists)."""
    text = str(value or "").strip()
    if not text:
        raise InputError("input.required", source=source, field="policy")
    wanted = int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None
    for policy in visible(app, user):
        if policy.id == wanted:
            return policy
    raise InputError("policy.not_found", code=text[:40])


def default_time(app: App) -> str:
    """Tomorrow 08:00 in the display zone, as the form writes it."""
    day = datetime.now(app.config.timezone).date() + timedelta(days=1)
    return f"{day:%d/%m/%Y} 08:00"


def check_text(data: dict[str, Any], source: str, zone: Any) -> None:
    """What the database would refuse (a NUL character) or the date arithmetic overflow on, refused first."""
    for key, value in data.items():
        values = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise InputError("input.bad_field", source=source, field=key, detail="text")
    for key in ("at", "deadline"):
        moment = inputs.a_time(data, key, source, zone)
        if moment is not None and moment.year not in YEARS:
            raise InputError("input.bad_time", source=source, field=key, value=data[key])
