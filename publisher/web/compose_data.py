"""What the compose page needs that is not a route: the choices, a template's variables, the preview.

Nothing here writes: saving is ``posts.new_post`` (the CLI's path).  The
preview renders what ``posts.new_post`` would store, channel by channel
(``content.text``) and layout by layout (``content.draw``), and keeps going
after an error so that each one comes back with the field it is about.

A template's variables are read from its source (every format it has):
Jinja2's ``meta.find_undeclared_variables`` minus what ``content.context``
provides itself; a variable only tested with ``is defined`` is optional.
A template's description is the first sentence of its leading ``{# #}`` comment.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jinja2
from jinja2 import meta, nodes
from pydantic import BaseModel, Field

from .. import content, deadlines, inputs
from ..access import User, sees_agency
from ..context import App
from ..errors import InputError, PublisherError
from ..models import Policy, nfc
from ..render import infographic
from ..render import text as render_text
from . import preview_images
from .policy_forms import MAX_ID, YEARS, visible

#: What the renderer gives every template itself (``content.context``), and ``title``, which a template sets
#: (in a branch, Jinja counts it as undeclared): never a form field.
PROVIDED = frozenset({"policy", "agency", "channel", "today", "title"})
_COMMENT = re.compile(r"^\s*\{#-?(.*?)-?#\}", re.S)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    variables: tuple[str, ...]
    optional: frozenset[str]


def _source(env: jinja2.Environment, rel: str) -> str:
    assert env.loader is not None
    return env.loader.get_source(env, rel)[0]


def template_info(app: App, name: str) -> TemplateInfo:
    """The variables template *name* uses (in any format) and its description."""
    dirs = app.config.template_dirs
    env = render_text.environment(tuple(dirs))
    found: set[str] = set()
    tested: set[str] = set()
    description = ""
    for fmt in render_text.FORMAT_EXT:
        rel = render_text.template_name(dirs, name, fmt)
        if rel is None:
            continue
        source = _source(env, rel)
        if not description and (head := _COMMENT.match(source)):
            description = _first_sentence(head.group(1))
        try:
            tree = env.parse(source)
        except jinja2.TemplateSyntaxError:
            continue  # the preview names the error
        found |= meta.find_undeclared_variables(tree) - PROVIDED
        for test in tree.find_all(nodes.Test):
            if test.name == "defined" and isinstance(test.node, nodes.Name):
                tested.add(test.node.name)
    return TemplateInfo(name, description, tuple(sorted(found)), frozenset(tested & found))


def _first_sentence(comment: str) -> str:
    text = " ".join(comment.split())
    for stop in (" — ", ". ", " ("):
        text = text.split(stop)[0]
    return text.rstrip(".")[:140]


def templates(app: App) -> list[TemplateInfo]:
    """Every post template, built-in and the project's own."""
    return [template_info(app, name) for name in render_text.available(app.config.template_dirs)]


def variable_choices(found: list[TemplateInfo]) -> list[tuple[str, list[str], bool]]:
    """Each variable of any template: (name, the templates using it, optional in all of them)."""
    names = sorted({n for info in found for n in info.variables})
    users = {n: [i for i in found if n in i.variables] for n in names}
    return [(n, [i.name for i in users[n]], all(n in i.optional for i in users[n])) for n in names]


def template_names(app: App) -> list[str]:
    return render_text.available(app.config.template_dirs)


def layouts(app: App) -> list[str]:
    return infographic.available(app.config.template_dirs)


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


@dataclass
class Preview:
    """Text per channel, PNG per layout, and every error as (field, exception)."""

    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    images: list[tuple[str, str, bytes]] = field(default_factory=list)  # (layout, file name, PNG)
    errors: list[tuple[str, PublisherError]] = field(default_factory=list)

    def data_url(self, png: bytes) -> str:
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def preview(app: App, user: User, data: dict[str, Any], source: str) -> Preview:
    """Everything the post would publish, or why not, field by field."""
    out = Preview()
    try:
        check_text(data, source, app.config.timezone)
    except InputError as exc:
        out.errors.append((error_field(exc), exc))
        if error_field(exc) not in ("at", "deadline"):
            return out
        data = {**data, "at": "", "deadline": ""}  # reported: preview the rest
    try:
        policy = find_policy(app, user, data.get("policy"), source)
    except PublisherError as exc:
        out.errors.append((error_field(exc), exc))
        return out
    template = str(data.get("template") or app.config.default_template)
    names = render_text.available(app.config.template_dirs)
    if template not in names:
        out.errors.append(("template", InputError("render.no_template", name=template[:60], format="-",
                                                  available=", ".join(names))))
        return out
    try:
        publish_at = inputs.a_time(data, "at", source, app.config.timezone)
        deadline = inputs.a_time(data, "deadline", source, app.config.timezone)
        if publish_at and deadline and deadline <= publish_at:
            raise InputError("input.dates_order", source=source, first="at", second="deadline")
        if publish_at and not deadline and deadlines.default(app, policy, publish_at, template) <= publish_at:
            closes = policy.consultation_closes.strftime("%d/%m/%Y") if policy.consultation_closes else "?"
            raise InputError("post.consultation_over", source=source, template=template, closes=closes)
    except PublisherError as exc:
        out.errors.append((error_field(exc), exc))
        publish_at = None
    given = data.get("channels")
    chosen = list(given) if given is not None else [n for n in channels_by_agency(app, user).get(policy.agency, [])]
    if not chosen:
        out.errors.append(("channels", InputError("input.required", source=source, field="channels")))
    variables = {k: nfc(v) for k, v in (data.get("variables") or {}).items()}
    draft = content.Draft(template=template, variables=variables, channels=tuple(chosen), publish_at=publish_at)
    for channel in chosen:
        spec = app.config.channels.get(channel)
        try:
            if spec is None or not spec.enabled or spec.agency != policy.agency:
                raise InputError("input.channel_agency", source=source, value=channel,
                                 agency=spec.agency if spec else "-", policy_agency=policy.agency)
            out.texts[channel] = content.text(app, policy, draft, channel)
        except PublisherError as exc:
            out.errors.append((error_field(exc), exc))
    known = layouts(app)
    for layout in data.get("infographics") or []:
        try:
            if layout not in known:
                raise InputError("layout.not_found", name=str(layout)[:60], available=", ".join(known) or "-")
            name, png = preview_images.draw(app, policy, layout)  # drawn once while staff type
            out.images.append((layout, name, png))
        except PublisherError as exc:
            out.errors.append(("infographics", exc))
    return out


_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")


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


# --- the API's models ----------------------------------------------------------------------------

TIME_HELP = "In display.timezone: DD/MM/YYYY HH:MM, YYYY-MM-DD HH:MM, ISO 8601, or 'now'."


class ComposeRequest(BaseModel):
    """A post to preview or to save as a draft."""

    policy: int = Field(ge=1, le=MAX_ID, description="The policy's id (see /api/v1/policies).")
    template: str | None = Field(None, max_length=100, description="A post template; default: templates.default.")
    channels: list[str] = Field(default_factory=list, max_length=50,
                                description="Channels of the policy's agency; empty: all its enabled channels.")
    infographics: list[str] = Field(default_factory=list, max_length=10, description="Infographic layouts.")
    at: str | None = Field(None, max_length=40, description="When it goes out. " + TIME_HELP)
    deadline: str | None = Field(None, max_length=40, description="Not published after this. " + TIME_HELP)
    variables: dict[str, str] = Field(default_factory=dict, description="The template's variables.")


class ChannelPreview(BaseModel):
    channel: str
    title: str
    body: str


class ImagePreview(BaseModel):
    layout: str
    name: str
    png_base64: str = Field(description="The PNG image, base64-encoded.")


class FieldError(BaseModel):
    field: str = Field(description="policy, template, channels, infographics, at, deadline or var_<name>.")
    detail: str


class ComposePreview(BaseModel):
    """What each channel would publish and each infographic; errors name their field."""

    texts: list[ChannelPreview]
    images: list[ImagePreview]
    errors: list[FieldError]


class Refused(BaseModel):
    """Input refused: the message, and the field it names (null: the whole request)."""

    detail: str
    field: str | None = None


class PostCreated(BaseModel):
    """The draft created, awaiting approval."""

    id: int
    state: str
    policy: int
    template: str
    channels: list[str]
    infographics: list[str]
    publish_at: datetime
    deadline_at: datetime | None
    author: str
    url: str = Field(description="The draft's page.")
