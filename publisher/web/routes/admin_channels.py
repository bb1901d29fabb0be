"""The channels page and its API (admins only, ``channels.manage``): look, check now, hold and release.

``/channels`` shows every configured channel (its type, agency, target,
where its secrets come from — never their values — and its rate limit),
whether it is on hold and why.  "Kiểm tra ngay" runs that channel's health
check and shows its answer; Hold (with a reason) stops its publishing until
Release: its deliveries stay queued.  Holds are ``publisher.holds``,
journalled with the acting admin; the reads are ``web.channels_data``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from ... import holds
from ...access import User
from ...errors import InputError, PublisherError, StateError
from .. import channels_data as data
from ..auth import require
from ..language import speaker
from ..policy_forms import InvalidInput
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/channels", tags=["v1"])
Admin = Annotated[User, Depends(require("channels.manage"))]
Name = Annotated[str, Path(max_length=200, description="The channel's name in config.toml.")]


# --- the page --------------------------------------------------------------------------------------

@pages.get("/channels")
def channels_page(request: Request, user: Admin, done: str = "", channel: str = "") -> Response:
    words = speaker(request)
    notices = {"held": words.t("web.channels.done_held", channel=channel),
               "released": words.t("web.channels.done_released", channel=channel)}
    return _page(request, notice=notices.get(done) if channel in request.app.state.site.app.config.channels else None)


@pages.post("/channels/{name}/check")
def check_form(request: Request, name: str, user: Admin) -> Response:
    result = data.check(request.app.state.site.app, user.username, name)
    return _page(request, checked={name: result})


@pages.post("/channels/{name}/hold")
def hold_form(request: Request, name: str, user: Admin, reason: Annotated[str, Form()] = "") -> Response:
    app = request.app.state.site.app
    data.spec_of(app, name)
    try:
        holds.hold(app, user.username, name, reason)
    except (InputError, StateError) as exc:
        return _page(request, failed=(name, exc), typed={name: reason})
    return RedirectResponse(f"/channels?done=held&channel={quote(name)}", status_code=303)


@pages.post("/channels/{name}/release")
def release_form(request: Request, name: str, user: Admin) -> Response:
    app = request.app.state.site.app
    data.spec_of(app, name)
    try:
        holds.release(app, user.username, name)
    except StateError as exc:
        return _page(request, failed=(name, exc))
    return RedirectResponse(f"/channels?done=released&channel={quote(name)}", status_code=303)


def _page(request: Request, *, notice: str | None = None, checked: dict[str, data.CheckOut] | None = None,
          failed: tuple[str, PublisherError] | None = None, typed: dict[str, str] | None = None) -> Response:
    """The page; after a refusal, its message at that channel's hold form with the reason as typed."""
    app, words = request.app.state.site.app, speaker(request)
    zone = app.config.timezone
    context = {"channels": data.every_channel(app), "notice": notice, "checked": checked or {},
               "typed": typed or {}, "failed_channel": failed[0] if failed else None,
               "error": words.error(failed[1]) if failed else None,
               "label": lambda kind: data.target_label(words, kind),
               "when": lambda v: "" if v is None else v.astimezone(zone).strftime("%d/%m/%Y %H:%M")}
    status = 200 if failed is None else 409 if isinstance(failed[1], StateError) else 400
    return render(request, "channels.html", context, status_code=status)


# --- the API ---------------------------------------------------------------------------------------

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such channel."}}
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": InvalidInput, "description": "Input refused."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Already on hold, or not on hold. Nothing changed."}}


@api.get("", response_model=list[data.ChannelOut], responses=REFUSALS, summary="Channels")
def api_list(request: Request, user: Admin) -> list[data.ChannelOut]:
    """Every configured channel with its hold; secrets by where they come from, never their values."""
    return data.every_channel(request.app.state.site.app)


@api.post("/{name}/check", response_model=data.CheckOut, responses={**REFUSALS, **NOT_FOUND},
          summary="Check a channel now")
def api_check(request: Request, name: Name, user: Admin) -> data.CheckOut:
    """Runs the channel's health check (a failure is journalled)."""
    return data.check(request.app.state.site.app, user.username, name)


@api.post("/{name}/hold", response_model=data.ChannelOut, responses={**REFUSALS, **NOT_FOUND, **INVALID, **REFUSED},
          summary="Put a channel on hold")
def api_hold(request: Request, name: Name, body: data.HoldIn, user: Admin) -> Any:
    """Its deliveries stay queued and the daemon publishes none of them until the hold is released."""
    app = request.app.state.site.app
    data.spec_of(app, name)
    try:
        holds.hold(app, user.username, name, body.reason)
    except (InputError, StateError) as exc:
        return _refused(request, exc)
    return data.one_channel(app, name)


@api.post("/{name}/release", response_model=data.ChannelOut, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Release a channel's hold")
def api_release(request: Request, name: Name, user: Admin) -> Any:
    """The daemon publishes its due deliveries at once, late ones too (their deadlines still apply)."""
    app = request.app.state.site.app
    data.spec_of(app, name)
    try:
        holds.release(app, user.username, name)
    except StateError as exc:
        return _refused(request, exc)
    return data.one_channel(app, name)


def _refused(request: Request, exc: PublisherError) -> JSONResponse:
    text = speaker(request).error(exc)
    if isinstance(exc, InputError):
        return JSONResponse(InvalidInput(detail=text, field="reason").model_dump(), 400)
    return JSONResponse({"detail": text}, 409)


router.include_router(pages)
router.include_router(api)
