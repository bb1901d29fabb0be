"""What the web face refuses, and how each refusal looks: a page for a browser, JSON for the API.

Routes and dependencies raise these; the handlers registered by
:func:`install` turn them into responses, so no route builds an error
response of its own and every refusal carries the same headers and words.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .language import speaker
from .templating import render


class WebRefusal(Exception):
    """Base of the web's refusals."""


class LoginRequired(WebRefusal):
    """Nobody is logged in (or the session ended): go to the login page."""

    def __init__(self, clear: bool = False) -> None:
        super().__init__("login required")
        self.clear = clear  # the cookie names someone who may no longer be in: remove it


class Forbidden(WebRefusal):
    """Logged in (or not), but not allowed: a missing role, or a form without a valid CSRF token."""

    def __init__(self, reason: str = "role") -> None:
        super().__init__(reason)
        self.reason = reason  # "role" or "csrf"


class TooManyAttempts(WebRefusal):
    """Too many failed logins for this username or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many attempts")
        self.retry_after = retry_after


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if is_api(request):
        response: Response = JSONResponse({"detail": speaker(request).t("web.api.login_required")}, 401)
    else:  # back to the page asked for once logged in (a GET only: a form's data is not replayed)
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(back, safe='')}" if request.method == "GET" and back != "/" else "/login"
        response = RedirectResponse(target, status_code=303)
    if exc.clear:
        request.app.state.site.sessions.clear(response, request)
    return response


def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    words = speaker(request)
    text = words.t("web.forbidden.csrf") if exc.reason == "csrf" else words.t("web.forbidden.role")
    if is_api(request):
        return JSONResponse({"detail": text}, 403)
    return render(request, "error.html", {"title": words.t("web.forbidden.title"), "message": text},
                  status_code=403)


def _too_many(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyAttempts)
    words = speaker(request)
    minutes = max(1, (exc.retry_after + 59) // 60)
    text = words.t("web.login.too_many", minutes=minutes)
    headers = {"Retry-After": str(exc.retry_after)}
    if is_api(request):
        return JSONResponse({"detail": text}, 429, headers=headers)
    return render(request, "error.html", {"title": words.t("web.login.too_many_title"), "message": text},
                  status_code=429, headers=headers)


#: Starlette's detail when a request body cannot be decoded at all.
_UNPARSABLE_BODY = "There was an error parsing the body"


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (404, 405...) in our page and our language, not bare text."""
    assert isinstance(exc, StarletteHTTPException)
    words = speaker(request)
    text = words.t("web.not_found") if exc.status_code == 404 else words.t("web.http_error", status=exc.status_code)
    if is_api(request) and exc.detail == _UNPARSABLE_BODY:
        # a body that is not even text (e.g. not UTF-8): as unusable as invalid JSON, so it gets the
        # same 422 and shape every operation's OpenAPI description already promises (found by the fuzzer)
        return JSONResponse({"detail": [{"loc": ["body"], "msg": text, "type": "json_invalid"}]}, 422)
    if is_api(request):
        return JSONResponse({"detail": text}, exc.status_code, headers=exc.headers)
    return render(request, "error.html", {"title": text, "message": text}, status_code=exc.status_code,
                  headers=exc.headers)


#: The 500 page: plain, in both languages (an unexpected error may come from the templates or the
#: language machinery themselves, so it uses neither); it says what a person can do.
_SERVER_ERROR_VI = "Đã có lỗi ở máy chủ. Lỗi đã được ghi lại; hãy thử lại sau ít phút hoặc báo quản trị viên."
_SERVER_ERROR_EN = ("Something went wrong on the server. It has been logged; try again in a few minutes "
                    "or tell the administrator.")
_SERVER_ERROR_PAGE = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Lỗi máy chủ / Server error</title>
<link rel="stylesheet" href="/static/web.css"></head>
<body><main><section class="card narrow"><h1>Lỗi máy chủ</h1><p class="error" role="alert">{_SERVER_ERROR_VI}</p>
<p lang="en">{_SERVER_ERROR_EN}</p><p><a href="/">Về trang chủ / Home</a></p></section></main></body></html>"""


def server_error(path: str) -> Response:
    """The answer to an unexpected error: JSON on the API, the plain page elsewhere (status 500)."""
    if path.startswith("/api/"):
        return JSONResponse({"detail": _SERVER_ERROR_VI, "detail_en": _SERVER_ERROR_EN}, 500)
    return HTMLResponse(_SERVER_ERROR_PAGE, 500)


def install(app: FastAPI) -> None:
    """Register every handler above on *app*."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(TooManyAttempts, _too_many)
    app.add_exception_handler(StarletteHTTPException, _http_error)
