"""The compose preview: what the post would publish, channel by channel and layout by layout, or why not.

Nothing here writes: saving is ``posts.new_post`` (the CLI's path).  The
preview renders what ``posts.new_post`` would store, channel by channel
(``content.text``) and layout by layout (``preview_images.draw``: the same
pixels as ``content.draw``, drawn once per policy while staff type), and keeps going
after an error so that each one comes back with the field it is about
(:func:`error_field`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import content, deadlines, inputs
from ..access import User
from ..context import App
from ..errors import InputError, PublisherError
from ..models import Policy, nfc
from ..render import text as render_text
from . import preview_images
from .compose_input import channels_by_agency, check_text, find_policy
from .compose_templates import layouts

_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")


@dataclass
class Preview:
    """Text per channel, PNG per layout, and every error as (field, exception)."""

    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    images: list[tuple[str, str, bytes]] = field(default_factory=list)  # (layout, file name, PNG)
    errors: list[tuple[str, PublisherError]] = field(default_factory=list)

    def data_url(self, png: bytes) -> str:
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    def refuse(self, exc: PublisherError, where: str | None = None) -> None:
        """Record *exc* at field *where* (default: the field it names itself)."""
        self.errors.append((where or error_field(exc), exc))


def preview(app: App, user: User, data: dict[str, Any], source: str) -> Preview:
    """Everything the post would publish, or why not, field by field."""
    out = Preview()
    readable = _readable(out, data, source, app.config.timezone)
    if readable is None:
        return out
    try:
        policy = find_policy(app, user, readable.get("policy"), source)
    except PublisherError as exc:
        out.refuse(exc)
        return out
    template = _template(app, out, readable)
    if template is None:
        return out
    publish_at = _publish_at(app, out, policy, template, readable, source)
    chosen = _channels(app, user, out, policy, readable, source)
    variables = {k: nfc(v) for k, v in (readable.get("variables") or {}).items()}
    draft = content.Draft(template=template, variables=variables, channels=tuple(chosen), publish_at=publish_at)
    _texts(app, out, policy, draft, source)
    _images(app, out, policy, readable.get("infographics") or [])
    return out


def _readable(out: Preview, data: dict[str, Any], source: str, zone: Any) -> dict[str, Any] | None:
    """*data* if it can be previewed at all; a bad time is reported and blanked (the rest is previewed)."""
    try:
        check_text(data, source, zone)
    except InputError as exc:
        out.refuse(exc)
        if error_field(exc) not in ("at", "deadline"):
            return None
        return {**data, "at": "", "deadline": ""}
    return data


def _template(app: App, out: Preview, data: dict[str, Any]) -> str | None:
    """The template asked for (default: templates.default), or None when there is no such template."""
    template = str(data.get("template") or app.config.default_template)
    names = render_text.available(app.config.template_dirs)
    if template not in names:
        out.refuse(InputError("render.no_template", name=template[:60], format="-", available=", ".join(names)),
                   "template")
        return None
    return template


def _publish_at(app: App, out: Preview, policy: Policy, template: str, data: dict[str, Any],
                source: str) -> datetime | None:
    """When the post goes out, if its time and deadline make sense together; else None (and why)."""
    zone = app.config.timezone
    try:
        publish_at = inputs.a_time(data, "at", source, zone)
        deadline = inputs.a_time(data, "deadline", source, zone)
        if publish_at and deadline and deadline <= publish_at:
            raise InputError("input.dates_order", source=source, first="at", second="deadline")
        if publish_at and not deadline and deadlines.default(app, policy, publish_at, template) <= publish_at:
            closes = policy.consultation_closes.strftime("%d/%m/%Y") if policy.consultation_closes else "?"
            raise InputError("post.consultation_over", source=source, template=template, closes=closes)
    except PublisherError as exc:
        out.refuse(exc)
        return None
    return publish_at


def _channels(app: App, user: User, out: Preview, policy: Policy, data: dict[str, Any], source: str) -> list[str]:
    """The channels chosen (none given: every enabled channel of the policy's agency the user sees)."""
    given = data.get("channels")
    chosen = list(given) if given is not None else list(channels_by_agency(app, user).get(policy.agency, []))
    if not chosen:
        out.refuse(InputError("input.required", source=source, field="channels"), "channels")
    return chosen


def _texts(app: App, out: Preview, policy: Policy, draft: content.Draft, source: str) -> None:
    """Each chosen channel's (title, body), or why it cannot have one."""
    for channel in draft.channels:
        spec = app.config.channels.get(channel)
        try:
            if spec is None or not spec.enabled or spec.agency != policy.agency:
                raise InputError("input.channel_agency", source=source, value=channel,
                                 agency=spec.agency if spec else "-", policy_agency=policy.agency)
            out.texts[channel] = content.text(app, policy, draft, channel)
        except PublisherError as exc:
            out.refuse(exc)


def _images(app: App, out: Preview, policy: Policy, wanted: list[str]) -> None:
    """Each infographic layout asked for, drawn, or why it cannot be."""
    known = layouts(app)
    for layout in wanted:
        try:
            if layout not in known:
                raise InputError("layout.not_found", name=str(layout)[:60], available=", ".join(known) or "-")
            name, png = preview_images.draw(app, policy, layout)  # drawn once while staff type
            out.images.append((layout, name, png))
        except PublisherError as exc:
            out.refuse(exc, "infographics")


def error_field(exc: PublisherError) -> str:
    """The form field an error is about: policy, template, channels, infographics, at, deadline or var_<name>."""
    key, params = exc.key, exc.params
    if key in ("render.undefined", "render.undefined_at"):
        found = _UNDEFINED.search(str(params.get("detail", "")))
        return f"var_{found.group(1)}" if found else "variables"
    if key == "input.dates_order":
        return str(params.get("second"))
    if key == "post.consultation_over":
        return "deadline"
    if key.startswith(("policy.", "input.policy")):
        return "policy"
    if key in ("input.unknown_channel", "input.channel_agency"):
        return "channels"
    if key.startswith(("layout.", "render.cannot_fit", "render.too_long_field", "render.qr", "render.empty")):
        return "infographics"
    if key.startswith("render."):
        return "template"
    named = str(params.get("field", ""))
    return named if named in ("policy", "template", "channels", "infographics", "at", "deadline") else "variables"
