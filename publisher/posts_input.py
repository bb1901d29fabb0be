"""Checking what staff wrote for a new post: its times, channels and variables.

Every mistake is an :class:`~publisher.errors.InputError` naming the source
(a file or ``--``) and the field, raised before anything is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import deadlines, inputs
from .errors import InputError
from .models import Policy, nfc, utcnow

if TYPE_CHECKING:
    from .context import App


def times(app: App, data: dict[str, Any], source: str, policy: Policy, template: str,
          moment: str | None) -> tuple[datetime, datetime]:
    """When the post is published and its deadline (its own, or its kind's default)."""
    zone = app.config.timezone
    publish_at = inputs.a_time(data, "at", source, zone) or utcnow()
    deadline = inputs.a_time(data, "deadline", source, zone)
    if deadline and deadline <= publish_at:
        raise InputError("input.dates_order", source=source, first="at", second="deadline")
    if deadline:
        return publish_at, deadline
    # no post is news forever: without a deadline of its own it gets its kind's default
    deadline = deadlines.default(app, policy, publish_at, template, moment)
    if deadline <= publish_at:  # e.g. an invitation to comment written after consultation closed
        raise InputError("post.consultation_over", source=source, template=template,
                         closes=policy.consultation_closes.strftime("%d/%m/%Y") if policy.consultation_closes else "?")
    return publish_at, deadline


def channels(app: App, policy: Policy, names: list[str], source: str) -> list[str]:
    """The channels named (default: every enabled one of the policy's agency), each of that agency."""
    if not names:
        names = [n for n, c in app.config.channels.items() if c.agency == policy.agency and c.enabled]
    if not names:
        raise InputError("input.required", source=source, field="channels")
    for name in names:
        spec = app.config.channels.get(name)
        if spec is None:
            raise InputError("input.unknown_channel", source=source, value=name,
                             choices=", ".join(sorted(app.config.channels)))
        if spec.agency != policy.agency:
            raise InputError("input.channel_agency", source=source, value=name, agency=spec.agency,
                             policy_agency=policy.agency)
    return names


def variables(value: Any, source: str) -> dict[str, Any]:
    """The template variables: a table, its texts normalised to NFC."""
    if not isinstance(value, dict):
        raise InputError("input.bad_field", source=source, field="variables", detail="table")
    return {k: nfc(v) if isinstance(v, str) else v for k, v in value.items()}
