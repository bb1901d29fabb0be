"""Who is asking: the session's user, looked up again on every request, and what they may do.

The account is read from the database on each request rather than trusted
from the cookie, so that disabling an account, or changing its password,
logs it out at its next click, not when the cookie expires.  Permissions are
``access.can``: the routes name an action, never a role.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from .. import accounts
from ..access import ACTIONS, User, can
from ..errors import NotFound
from .errors import Forbidden, LoginRequired
from .sessions import Session


def current_session(request: Request) -> Session | None:
    """The request's valid session (read once, kept on the request for the pages)."""
    if not hasattr(request.state, "session"):
        request.state.session = request.app.state.site.sessions.read(request)
    found = request.state.session
    return found if isinstance(found, Session) else None


def current_user(request: Request) -> User | None:
    """The logged-in, still active user; None for a visitor; LoginRequired(clear) for a stale session."""
    session = current_session(request)
    if session is None or session.user_id is None or session.username is None:
        return None
    user = _load(request, session.username)
    if user is None or user.id != session.user_id or user.disabled_at is not None:
        raise LoginRequired(clear=True)  # disabled, or a different account under that name now
    if user.password_changed_at.isoformat() != session.password_changed:
        raise LoginRequired(clear=True)  # a new password ends every older session
    request.state.user = user
    return user


def _load(request: Request, username: str) -> User | None:
    try:
        return accounts.get_user(request.app.state.site.app, username)
    except NotFound:
        return None


def require(action: str) -> Callable[[Request], User]:
    """A dependency: the logged-in user, who must be allowed *action* (else 403)."""
    if action not in ACTIONS:  # a typo is a bug: fail when the route is declared, not at the first click
        raise ValueError(f"unknown action {action!r}; declared: {', '.join(sorted(ACTIONS))}")

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if not can(user, action):
            raise Forbidden("role")
        return user

    dependency.__name__ = f"require_{action.replace('.', '_')}"  # readable in tracebacks
    return dependency
