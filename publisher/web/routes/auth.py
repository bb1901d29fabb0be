"""Login and logout.

The login form is protected like every form: a visitor first gets a
pre-session (a CSRF token, nobody logged in), and a successful login
replaces it by a new session with a new token, so a token seen before login
is worth nothing after it.  A wrong password, an unknown name and a disabled
account get the same answer, so the page does not tell which names exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from ... import accounts
from .. import session_store, sessions
from ..auth import current_session, current_user
from ..errors import LoginRequired, TooManyAttempts
from ..language import speaker
from ..ratelimit import address_key, user_key
from ..security import safe_next
from ..templating import render

router = APIRouter(include_in_schema=False)
#: Longer input is no username: cut it before it reaches the limiter's table or the database.
MAX_USERNAME_INPUT = 256


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    """The login form; someone already logged in goes on to *next*."""
    try:
        if current_user(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
    except LoginRequired:
        pass  # a stale session (account disabled...): show the form, with a fresh pre-session
    return _form(request, next=next)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "") -> Response:
    """Check the password (the CSRF token was checked app-wide); on success, a new session."""
    site = request.app.state.site
    username = username[:MAX_USERNAME_INPUT]
    keys = (user_key(username), address_key(request.client.host if request.client else "unknown"))
    wait = site.limiter.retry_after(*keys)
    if wait:
        raise TooManyAttempts(wait)  # checked before the password: a right guess is refused too
    user = accounts.authenticate(site.app, username, password)  # argon2: slow on purpose, in a worker thread
    if user is None:
        site.limiter.failed(*keys)
        return _form(request, next=next, username=username, status_code=400,
                     error=speaker(request).t("web.login.failed"))
    site.limiter.forget(keys[0])
    response = RedirectResponse(safe_next(next), status_code=303)
    session = sessions.for_user(user)
    session_store.open_session(site.app, session.sid or "", user.id, site.sessions.max_age)
    site.sessions.write(response, request, session)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session for good (a POST with the CSRF token: a link elsewhere cannot log anyone out)."""
    session = current_session(request)
    if session is not None and session.sid is not None:
        session_store.end(request.app.state.site.app, session.sid)
    response = RedirectResponse("/login", status_code=303)
    request.app.state.site.sessions.clear(response, request)
    return response


def _form(request: Request, *, next: str, username: str = "", error: str | None = None,
          status_code: int = 200) -> Response:
    """The login page; a visitor without a pre-session gets one (its cookie set on this response)."""
    session = current_session(request)
    fresh = session is None or session.user_id is not None
    if fresh:
        session = sessions.anonymous()
        request.state.session = session
    context = {"next": safe_next(next, ""), "username": username, "error": error}
    response = render(request, "login.html", context, status_code=status_code)
    if fresh and session is not None:
        request.app.state.site.sessions.write(response, request, session)
    return response
