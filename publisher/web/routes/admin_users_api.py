"""The accounts API (admins only, ``users.manage``): the same operations as the ``/users`` pages, for scripts.

Passwords travel only in request bodies and are never sent back (an account
as answered has no field for one).  A refused input is a 400 naming its
field; a change refused in the account's state (already disabled, your own
account, the last active admin) is a 409; changes are journalled with the
calling account as the actor.  Making a token stays in the CLI and the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from ... import accounts, tokens
from ...access import User
from ...errors import InputError, NotFound, PublisherError, StateError
from .. import users_data as data
from ..auth import require
from ..language import speaker
from ..policy_forms import InvalidInput
from .api import REFUSALS, Problem

api = APIRouter(prefix="/api/v1", tags=["v1"])
Admin = Annotated[User, Depends(require("users.manage"))]
Username = Annotated[str, Path(max_length=200, description="The account's username (any case).")]
TokenId = Annotated[int, Path(ge=1, le=tokens.MAX_ID)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such account or token."}}
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": InvalidInput, "description": "Input refused."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Refused in this state: already so, your own account, or the last "
                                           "active admin. Nothing changed."}}


@api.get("/users", response_model=list[data.UserOut], responses=REFUSALS, summary="Accounts")
def api_list(request: Request, user: Admin) -> list[data.UserOut]:
    """Every account, disabled ones too, by username."""
    words = speaker(request)
    return [data.UserOut.of(u, words) for u in accounts.list_users(request.app.state.site.app)]


@api.post("/users", status_code=201, response_model=data.UserOut, responses={**REFUSALS, **INVALID},
          summary="Add an account")
def api_create(request: Request, body: data.UserNew, user: Admin) -> Any:
    """The password follows the CLI's rules (at least 10 characters, not the username)."""
    try:
        created = accounts.add_user(request.app.state.site.app, user.username, body.username, body.role,
                                    body.password, agency=body.agency, display_name=body.display_name)
    except InputError as exc:
        return _refused(request, exc, "username")
    return data.UserOut.of(created, speaker(request))


@api.patch("/users/{username}", response_model=data.UserOut,
           responses={**REFUSALS, **NOT_FOUND, **INVALID, **REFUSED}, summary="Change an account")
def api_update(request: Request, username: Username, body: data.UserEdit, user: Admin) -> Any:
    """Role, agency or full name; a field left out keeps its value."""
    app = request.app.state.site.app
    target = data.account(app, username)
    given = body.model_fields_set
    try:
        changed = accounts.update(
            app, user.username, target.username, role=body.role if "role" in given else None,
            agency=body.agency if "agency" in given else accounts.KEEP,
            display_name=body.display_name if "display_name" in given else accounts.KEEP)
    except (InputError, StateError) as exc:
        return _refused(request, exc, "role")
    return data.UserOut.of(changed, speaker(request))


@api.post("/users/{username}/password", response_model=data.UserOut, responses={**REFUSALS, **NOT_FOUND, **INVALID},
          summary="Set a new password")
def api_password(request: Request, username: Username, body: data.NewPassword, user: Admin) -> Any:
    """Every session of the account ends (its API tokens keep working)."""
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        changed = accounts.set_password(app, user.username, target.username, body.password)
    except InputError as exc:
        return _refused(request, exc, "password")
    return data.UserOut.of(changed, speaker(request))


@api.post("/users/{username}/disable", response_model=data.UserOut, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Disable an account")
def api_disable(request: Request, username: Username, user: Admin) -> Any:
    """It can no longer log in, its sessions and tokens stop at once; nothing of its history goes."""
    return _switch(request, user, username, disable=True)


@api.post("/users/{username}/enable", response_model=data.UserOut, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Enable a disabled account")
def api_enable(request: Request, username: Username, user: Admin) -> Any:
    return _switch(request, user, username, disable=False)


@api.get("/users/{username}/tokens", response_model=list[data.TokenOut], responses={**REFUSALS, **NOT_FOUND},
         summary="An account's API tokens")
def api_tokens(request: Request, username: Username, user: Admin) -> list[data.TokenOut]:
    """Revoked and expired ones too, oldest first; never a token itself (only its sha256 is stored)."""
    app = request.app.state.site.app
    return [data.TokenOut.of(k) for k in tokens.list_tokens(app, data.account(app, username).username)]


@api.post("/tokens/{token_id}/revoke", response_model=data.TokenOut, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Revoke an API token")
def api_revoke(request: Request, token_id: TokenId, user: Admin) -> Any:
    """For good: a revoked token cannot be brought back (make a new one)."""
    try:
        return data.TokenOut.of(tokens.revoke(request.app.state.site.app, user.username, token_id))
    except (NotFound, StateError) as exc:
        return _refused(request, exc, "")


def _switch(request: Request, user: User, username: str, *, disable: bool) -> Any:
    app = request.app.state.site.app
    target = data.account(app, username)
    try:
        done = (accounts.disable if disable else accounts.enable)(app, user.username, target.username)
    except StateError as exc:
        return _refused(request, exc, "")
    return data.UserOut.of(done, speaker(request))


def _refused(request: Request, exc: PublisherError, default: str) -> JSONResponse:
    """400 with the field for an input, 404 for what does not exist, 409 for a state that forbids it."""
    text = speaker(request).error(exc)
    if isinstance(exc, InputError):
        return JSONResponse(InvalidInput(detail=text, field=data.error_field(exc, default)).model_dump(), 400)
    return JSONResponse({"detail": text}, 404 if isinstance(exc, NotFound) else 409)
