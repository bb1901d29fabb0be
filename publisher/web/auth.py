"""Who is asking: the session's user, looked up again on every request, and what they may do.

The account is read from the database on each request rather than trusted
from the cookie, so that disabling an account, or changing its password,
logs it out at its next click, not when the cookie expires; so is the
session's record, so that a logout also ends any copy of the cookie.  Permissions are
``access.can``: the routes name an action, never a role.

Scripts call the API with a token (``publisher user token add``) in the
``Authorization: Bearer <token>`` header.  On ``/api/`` such a header decides
alone who is asking: the cookie is not looked at, and a wrong, revoked or
expired token, or one of a disabled account, is a 401, never a fallback to the
session.  Pages ignore the header (a browser logs in).  The bearer scheme is
declared on every route through :data:`bearer`, so the OpenAPI document
states it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .. import tokens
from ..access import ACTIONS, User, can
from . import session_store
from .errors import Forbidden, LoginRequired, is_api
from .sessions import Session

#: Declares the bearer scheme in the OpenAPI document (reading the header is :func:`bearer_token`'s job).
bearer = HTTPBearer(scheme_name="bearer", bearerFormat="pub_...", auto_error=False,
                    description="A token from `publisher user token add NAME`, as `Authorization: Bearer pub_...`; "
                                "it acts as its account, with its role. (A browser uses its login session.)")


def bearer_token(request: Request) -> str | None:
    """The token of an API request's ``Authorization: Bearer`` header; None on pages or without one."""
    if not is_api(request):
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def current_session(request: Request) -> Session | None:
    """The request's valid session (read once, kept on the request for the pages)."""
    if not hasattr(request.state, "session"):
        request.state.session = request.app.state.site.sessions.read(request)
    found = request.state.session
    return found if isinstance(found, Session) else None


def current_user(request: Request) -> User | None:
    """The logged-in, still active user; None for a visitor; LoginRequired(clear) for a stale session.

    An API request with a bearer token is that token's account, or LoginRequired (401) if the token is not good.
    """
    token = bearer_token(request)
    if token is not None:
        return _token_user(request, token)
    session = current_session(request)
    if session is None or session.user_id is None or session.username is None:
        return None
    user = session_store.user_of(request.app.state.site.app, session.sid) if session.sid else None
    if user is None:
        raise LoginRequired(clear=True)  # logged out (maybe from another copy of this cookie), or expired
    if user.id != session.user_id or user.username != session.username or user.disabled_at is not None:
        raise LoginRequired(clear=True)  # disabled, or not the account this cookie was signed for
    if user.password_changed_at.isoformat() != session.password_changed:
        raise LoginRequired(clear=True)  # a new password ends every older session
    request.state.user = user
    return user


def _token_user(request: Request, token: str) -> User:
    found = getattr(request.state, "token_user", None)
    if isinstance(found, User):
        return found
    user = tokens.authenticate(request.app.state.site.app, token)
    if user is None:
        raise LoginRequired()  # unknown, revoked, expired, or its account disabled: all the same 401
    request.state.user = request.state.token_user = user
    return user


def require(action: str) -> Callable[[Request], User]:
    """A dependency: the logged-in user, who must be allowed *action* (else 403)."""
    if action not in ACTIONS:  # a typo is a bug: fail when the route is declared, not at the first click
        raise ValueError(f"unknown action {action!r}; declared: {', '.join(sorted(ACTIONS))}")

    def dependency(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if not can(user, action):
            raise Forbidden("role")
        return user

    dependency.__name__ = f"require_{action.replace('.', '_')}"  # readable in tracebacks
    return dependency
