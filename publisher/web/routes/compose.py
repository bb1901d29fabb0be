"""Compose: pick a policy, template, channels and layouts, fill the variables, see the live preview, save a draft.

Pages (``post.write``: editors, admins): ``GET /compose``, ``POST /compose``
(``do=preview`` re-renders the page with the preview, the way without
JavaScript; else the draft is saved through ``posts.new_post`` and the
browser goes to its page), ``POST /compose/preview`` (the preview fragment
that ``static/compose.js`` swaps in).  The API does the same for scripts:
``POST /api/v1/compose/preview`` and ``POST /api/v1/posts``.  The parts that
are not routes are in ``publisher/web/compose_data.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import FormData

from ... import posts
from ...access import User
from ...errors import InputError, PublisherError
from .. import compose_data as data
from ..auth import require
from ..language import speaker
from ..policy_forms import visible
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["v1"])
Writer = Annotated[User, Depends(require("post.write"))]
SOURCE_API = "API"


async def _form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart, as fetch sends FormData)."""
    return await request.form()


Typed = Annotated[FormData, Depends(_form)]


def _values(request: Request, form: FormData | None, user: User) -> dict[str, Any]:
    """What the form shows: as typed, else the defaults (first policy, default template, tomorrow 08:00)."""
    app = request.app.state.site.app
    if form is None:
        first = visible(app, user)
        wanted = request.query_params.get("policy", "")
        return {"policy": wanted or (str(first[0].id) if first else ""), "template": app.config.default_template,
                "channels": [c for cs in data.channels_by_agency(app, user).values() for c in cs],
                "infographics": [], "at": data.default_time(app), "deadline": "", "vars": {}}
    text = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return {"policy": text.get("policy", ""), "template": text.get("template", ""),
            "channels": [v for v in form.getlist("channels") if isinstance(v, str)],
            "infographics": [v for v in form.getlist("infographics") if isinstance(v, str)],
            "at": text.get("at", ""), "deadline": text.get("deadline", ""),
            "vars": {k[4:]: v for k, v in text.items() if k.startswith("var_")}}


def _input(request: Request, user: User, values: dict[str, Any]) -> dict[str, Any]:
    """The library's input from the form: the chosen policy's channels, the template's non-blank variables."""
    app = request.app.state.site.app
    policy = next((p for p in visible(app, user) if str(p.id) == values["policy"]), None)
    ours = data.channels_by_agency(app, user).get(policy.agency, []) if policy else []
    known = values["template"] in data.template_names(app)
    info = data.template_info(app, values["template"]) if known else None
    names = info.variables if info else ()
    return {"policy": values["policy"], "template": values["template"],
            "channels": [c for c in values["channels"] if c in ours] if policy else values["channels"],
            "infographics": values["infographics"], "at": values["at"], "deadline": values["deadline"],
            "variables": {n: values["vars"][n] for n in names if values["vars"].get(n, "").strip()}}


def _shown(request: Request, found: data.Preview) -> dict[str, Any]:
    words = speaker(request)
    return {"texts": [(c, app_format(request, c), title, body) for c, (title, body) in found.texts.items()],
            "images": [(layout, name, found.data_url(png)) for layout, name, png in found.images],
            "errors": [(where, words.error(exc)) for where, exc in found.errors]}


def app_format(request: Request, channel: str) -> str:
    return request.app.state.site.app.config.channels[channel].format


def _source(request: Request) -> str:
    return speaker(request).t("web.compose.source_form")


def _page(request: Request, user: User, values: dict[str, Any], *, preview: data.Preview | None = None,
          exc: PublisherError | None = None, status_code: int = 200) -> Response:
    app = request.app.state.site.app
    by_agency = data.channels_by_agency(app, user)
    templates = data.templates(app)
    return render(request, "compose/form.html", {
        "values": values, "policies": visible(app, user), "templates": templates,
        "channels": [(name, agency, app.config.channels[name].format) for agency, names in by_agency.items()
                     for name in names],
        "variables": data.variable_choices(templates), "layouts": data.layouts(app), "zone": app.config.timezone.key,
        "preview": _shown(request, preview) if preview else None,
        "error": speaker(request).error(exc) if exc else None,
        "error_field": data.error_field(exc) if exc else None}, status_code=status_code)


# --- pages ---------------------------------------------------------------------------------------

@pages.get("/compose")
def compose_page(request: Request, user: Writer) -> Response:
    return _page(request, user, _values(request, None, user))


@pages.post("/compose")
def compose_submit(request: Request, user: Writer, form: Typed) -> Response:
    """Save the draft (or, with ``do=preview``, show the page again with the preview)."""
    app = request.app.state.site.app
    values = _values(request, form, user)
    given = _input(request, user, values)
    if form.get("do") == "preview":
        return _page(request, user, values, preview=data.preview(app, user, given, _source(request)))
    try:
        post = _save(request, user, given, _source(request), form=True)
    except PublisherError as exc:
        return _page(request, user, values, exc=exc, status_code=400)
    return RedirectResponse(f"/approvals/{post.id}", status_code=303)


@pages.post("/compose/preview")
def preview_fragment(request: Request, user: Writer, form: Typed) -> Response:
    """The preview alone, for compose.js (errors come back inside it)."""
    given = _input(request, user, _values(request, form, user))
    found = data.preview(request.app.state.site.app, user, given, _source(request))
    return render(request, "compose/_preview.html", {"preview": _shown(request, found)})


def _save(request: Request, user: User, given: dict[str, Any], source: str, *, form: bool) -> Any:
    app = request.app.state.site.app
    data.check_text(given, source, app.config.timezone)
    policy = data.find_policy(app, user, given["policy"], source)
    if form and not given["channels"]:  # every box unticked: refuse, never "all channels"
        raise InputError("input.required", source=source, field="channels")
    return posts.new_post(app, user.username, {
        "policy": policy.code, "agency": policy.agency, "template": given["template"] or None,
        "channels": given["channels"], "infographics": given["infographics"],
        "at": given["at"] or None, "deadline": given["deadline"] or None, "variables": given["variables"],
    }, source=source)


# --- API -----------------------------------------------------------------------------------------

INVALID: dict[int | str, dict[str, Any]] = {400: {"model": data.Refused, "description": "Input refused."}}
UNREADABLE: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "A body that is not JSON."}}


def _api_input(body: data.ComposeRequest) -> dict[str, Any]:
    return {"policy": str(body.policy), "template": body.template or "", "channels": body.channels or None,
            "infographics": body.infographics, "at": body.at or "", "deadline": body.deadline or "",
            "variables": body.variables}


@api.post("/compose/preview", response_model=data.ComposePreview, responses={**REFUSALS, **UNREADABLE},
          summary="Preview a post")
def api_preview(request: Request, body: data.ComposeRequest, user: Writer) -> data.ComposePreview:
    """Each channel's text and each infographic (PNG, base64) as they would be published; errors name their field."""
    words = speaker(request)
    found = data.preview(request.app.state.site.app, user, _api_input(body), SOURCE_API)
    return data.ComposePreview(
        texts=[data.ChannelPreview(channel=c, title=t, body=b) for c, (t, b) in found.texts.items()],
        images=[data.ImagePreview(layout=la, name=n, png_base64=found.data_url(p).split(",", 1)[1])
                for la, n, p in found.images],
        errors=[data.FieldError(field=f, detail=words.error(e)) for f, e in found.errors])


@api.post("/posts", status_code=201, response_model=data.PostCreated, responses={**REFUSALS, **INVALID},
          summary="Write a draft post")
def api_create(request: Request, body: data.ComposeRequest, user: Writer) -> Any:
    """Validate, render once and store a draft awaiting approval (as ``publisher post add``)."""
    given = _api_input(body)
    given["channels"] = body.channels
    try:
        post = _save(request, user, given, SOURCE_API, form=False)
    except PublisherError as exc:
        shown = data.Refused(detail=speaker(request).error(exc), field=data.error_field(exc))
        return JSONResponse(shown.model_dump(), status_code=400)
    return data.PostCreated(id=post.id, state=post.state.value, policy=body.policy, template=post.template,
                            channels=list(post.channels), infographics=list(post.infographics),
                            publish_at=post.publish_at, deadline_at=post.deadline_at, author=post.author,
                            url=f"/approvals/{post.id}")


router.include_router(pages)
router.include_router(api)
