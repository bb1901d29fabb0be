"""Walls every request passes: security headers on every response, CSRF on every unsafe method.

The headers are added by a plain ASGI middleware, so they are on every
response: pages, static files, redirects, errors and the API alike, and the
500 of an unexpected error too (the middleware answers it itself).  The
Content-Security-Policy allows only our own scripts, styles and images
(no inline script: an injected ``<script>`` would not run even if escaping
failed), no framing, and forms that post only to us.

CSRF: every POST, PUT, PATCH and DELETE must carry the session's token, in
the ``csrf_token`` form field or the ``X-CSRF-Token`` header.  The check is
one dependency on the whole application (see ``app.py``), not on each
route, so a new route cannot forget it.  One exemption: an API request
authenticated by its ``Authorization: Bearer`` token and carrying no session
cookie.  No browser sends such a header on its own (another site cannot set
it without a CORS preflight, which we never allow), and on ``/api/`` the
header decides alone who is asking (``auth.bearer_token``), so a forged
request would act as nobody.  A request that carries a session cookie is
checked as always; an API request with neither a token nor a cookie is
nobody, and gets the API's 401 rather than a word about forms.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import bearer_token
from .errors import Forbidden, LoginRequired, is_api, server_error
from .sessions import COOKIE, Session

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",  # for browsers older than frame-ancestors
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (an app's own value wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = _headers_for(scope["path"])
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in wanted.items() if k.encode() not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette answers an unexpected error outside every middleware, so its 500 would
            # lack these headers: answer here, then let the error go on to be logged.
            if not started:
                await server_error(scope["path"])(scope, receive, send_with_headers)
            raise


def _headers_for(path: str) -> dict[str, str]:
    """The headers above, plus no-store except for static files (pages name people and posts)."""
    return HEADERS if path.startswith("/static/") else {**HEADERS, "cache-control": "no-store"}


async def csrf_guard(request: Request) -> None:
    """Refuse (403) an unsafe request whose token is missing or is not its session's."""
    if request.method not in UNSAFE_METHODS:
        return
    if _by_token(request):
        return
    if is_api(request) and COOKIE not in request.cookies:
        raise LoginRequired()  # no token, no session: a script that forgot its token, told so (401)
    session: Session | None = request.app.state.site.sessions.read(request)
    sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if session is None or not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise Forbidden("csrf")


def _by_token(request: Request) -> bool:
    """Authenticated by a bearer token alone: an API request with the header and no session cookie."""
    return bearer_token(request) is not None and COOKIE not in request.cookies


async def _form_token(request: Request) -> str:
    """The token of a submitted form (FastAPI parses the body once and caches it on the request)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return ""
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after login: a path on this site only (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):  # a newline would split the Location header
        return default
    return target
