"""The accounts pages (admins only, ``users.manage``): every account, add one, change one, its API tokens.

``/users`` lists every account with the add form; ``/users/{username}``
shows one account with its forms (role, agency and full name; a new
password; disable or enable) and its API tokens (revoke one, or make one:
its secret is shown once, on the answer to that form, and never again).
Every change goes through the library with the acting admin as the
journal's actor; a refusal comes back at its field with what was typed
(never a password).  The JSON API is ``admin_users_api.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, Response
from fastapi.responses import RedirectResponse

from ... import accounts, tokens
from ...access import ROLES, User
from ...errors import InputError, PublisherError, StateError
from .. import users_data as data
from ..auth import require
from ..language import Speaker, speaker
from ..templating import render
from .admin_users_api import api

router = APIRouter()
pages = APIRouter(include_in_schema=False)
Admin = Annotated[User, Depends(require("users.manage"))]
TokenId = Annotated[int, Path(ge=1, le=tokens.MAX_ID)]


def _when(request: Request) -> Callable[[datetime | None], str]:
    zone = request.app.state.site.app.config.timezone
    return lambda value: "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def _common(request: Request) -> dict[str, Any]:
    """What both pages show: times in the display zone, roles, agencies."""
    app = request.app.state.site.app
    words = speaker(request)
    return {"when": _when(request), "roles": ROLES,
            "agencies": [(a.code, a.name) for a in app.config.agencies.values()],
            "agency_name": lambda code: data.agency_name(app, code, words)}


def _failure(exc: PublisherError, words: Speaker, default: str) -> dict[str, Any]:
    return {"error": words.error(exc), "error_field": data.error_field(exc, default)}


def _status(exc: PublisherError | None) -> int:
    return 200 if exc is None else 409 if isinstance(exc, StateError) else 400


def _done(username: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"/users/{quote(username)}?done={what}", status_code=303)


# --- the list and the add form ---------------------------------------------------------------------

@pages.get("/users")
def list_page(request: Request, user: Admin) -> Response:
    return _list(request, data.NewForm().model_dump())


@pages.post("/users")
def create(request: Request, user: Admin, form: Annotated[data.NewForm, Form()]) -> Response:
    app = request.app.state.site.app
    agency = data.agency_choice(form.agency)
    try:
        new = accounts.validate(app, form.username, form.role, agency, form.display_name)  # fields, then password
        password = data.typed_twice(new.username, form.password, form.password2)
        created = accounts.add_user(app, user.username, form.username, form.role, password, agency=agency,
                                    display_name=form.display_name)
    except InputError as exc:
        return _list(request, {**form.model_dump(), "password": "", "password2": ""}, exc)
    return _done(created.username, "created")


def _list(request: Request, values: dict[str, str], exc: InputError | None = None) -> Response:
    words = speaker(request)
    context = {**_common(request), "accounts": accounts.list_users(request.app.state.site.app), "values": values,
               "error": None, "error_field": None, **(_failure(exc, words, "username") if exc else {})}
    return render(request, "users.html", context, status_code=_status(exc))


# --- one account -----------------------------------------------------------------------------------

@pages.get("/users/{username}")
def detail_page(request: Request, username: str, user: Admin, done: str = "") -> Response:
    target = data.account(request.app.state.site.app, username)
    return _detail(request, user, target, notice=_notice(speaker(request), done))


@pages.post("/users/{username}/edit")
def edit(request: Request, username: str, user: Admin, form: Annotated[data.ProfileForm, Form()]) -> Response:
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        accounts.update(app, user.username, target.username, role=form.role,
                        agency=data.agency_choice(form.agency), display_name=form.display_name)
    except (InputError, StateError) as exc:
        return _detail(request, user, target, values=form.model_dump(), exc=exc, default="role")
    return _done(target.username, "saved")


@pages.post("/users/{username}/password")
def password(request: Request, username: str, user: Admin, form: Annotated[data.PasswordForm, Form()]) -> Response:
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        accounts.set_password(app, user.username, target.username,
                              data.typed_twice(target.username, form.password, form.password2))
    except InputError as exc:
        return _detail(request, user, target, exc=exc, default="password")
    return _done(target.username, "password")


@pages.post("/users/{username}/disable")
def disable(request: Request, username: str, user: Admin) -> Response:
    return _switch(request, user, username, accounts.disable, "disabled")


@pages.post("/users/{username}/enable")
def enable(request: Request, username: str, user: Admin) -> Response:
    return _switch(request, user, username, accounts.enable, "enabled")


def _switch(request: Request, user: User, username: str, operation: Callable[[Any, str, str], User],
            done: str) -> Response:
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        operation(app, user.username, target.username)
    except StateError as exc:  # already so, yourself, or the last admin: said at the button
        return _detail(request, user, target, exc=exc, default="state")
    return _done(target.username, done)


@pages.post("/users/{username}/tokens")
def create_token(request: Request, username: str, user: Admin, form: Annotated[data.TokenForm, Form()]) -> Response:
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        made, secret = tokens.create(app, user.username, target.username, label=form.label,
                                     days=data.days_of(form.days))
    except (InputError, StateError) as exc:
        return _detail(request, user, target, token_values=form.model_dump(), exc=exc, default="label")
    # the secret's only appearance: this answer (no-store, like every page); it is never stored or logged
    return render(request, "users_token.html", {**_common(request), "account": target, "made": made,
                                                "secret": secret})


@pages.post("/users/{username}/tokens/{token_id}/revoke")
def revoke_token(request: Request, username: str, token_id: TokenId, user: Admin) -> Response:
    app = request.app.state.site.app
    target = data.account(app, username)
    if token_id not in {k.id for k in tokens.list_tokens(app, target.username)}:
        raise HTTPException(404)  # another account's token: not this page's
    try:
        tokens.revoke(app, user.username, token_id)
    except StateError as exc:
        return _detail(request, user, target, exc=exc, default="tokens")
    return _done(target.username, "revoked")


def _notice(words: Speaker, done: str) -> str | None:
    notices = {"created": words.t("web.users.done_created"), "saved": words.t("web.users.done_saved"),
               "password": words.t("web.users.done_password"), "disabled": words.t("web.users.done_disabled"),
               "enabled": words.t("web.users.done_enabled"), "revoked": words.t("web.users.done_revoked")}
    return notices.get(done)


def _detail(request: Request, user: User, target: User, *, values: dict[str, str] | None = None,
            token_values: dict[str, str] | None = None, exc: PublisherError | None = None, default: str = "",
            notice: str | None = None) -> Response:
    """One account's page; after a refusal, its message at its field and the form as typed."""
    app, words = request.app.state.site.app, speaker(request)
    current = accounts.get_user(app, target.username)  # as it is now, whatever was refused
    profile = {"display_name": current.display_name or "", "role": current.role.value, "agency": current.agency or ""}
    found = [(k, data.token_state(words, k)) for k in tokens.list_tokens(app, current.username)]
    context = {**_common(request), "account": current, "is_self": current.id == user.id, "notice": notice,
               "values": values or profile, "token_values": token_values or {"label": "", "days": ""},
               "tokens": found, "default_days": tokens.DEFAULT_DAYS, "max_days": tokens.MAX_DAYS,
               "error": None, "error_field": None, **(_failure(exc, words, default) if exc else {})}
    return render(request, "users_detail.html", context, status_code=_status(exc))


router.include_router(pages)
router.include_router(api)
