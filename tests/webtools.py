"""What every web test needs: clients logged in as a role, CSRF tokens, accounts, and a watched browser page.

Two ways in, one set of accounts and one password:

* FastAPI's TestClient (the whole ASGI stack, the CSRF wall included):
  :func:`web_client`, :func:`post_login`, :func:`login_as` (a logged-in client
  and its session's CSRF token), :func:`csrf`.
* A real Chromium (the ``browser`` fixture) against ``publisher web``:
  :func:`browser_login`, :func:`watched` (a page whose failed requests,
  console errors and CSP violations fail the test when it closes), :func:`shot`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from publisher import accounts
from publisher.context import App
from publisher.web import create_app

from .conftest import screenshot_path

with warnings.catch_warnings():  # starlette >= 1.x suggests httpx2; the httpx client still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "khóa-bí-mật-chỉ-dùng-cho-thử-nghiệm-0123456789"
PASSWORD = "Mật-khẩu rất bí mật 2026"
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
#: What XSS must never look like in a page: the markup itself, unescaped.
RAW_XSS = ("<script>alert", "<img src=x")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

__all__ = ["PASSWORD", "RAW_XSS", "SECRET", "XSS", "ErrorWatcher", "TestClient", "add_user", "add_users",
           "browser_login", "csrf", "login_as", "post_login", "shot", "watched", "web_client"]


# --- TestClient ------------------------------------------------------------------------------------

def web_client(app: App, *, https: bool = False) -> TestClient:
    """A client of a fresh web application over *app* (nobody logged in)."""
    return TestClient(create_app(app, secret=SECRET), base_url="https://testserver" if https else "http://testserver")


def csrf(html: str) -> str:
    """The CSRF token of a page (every page with a form carries it)."""
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def post_login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Submit the login form as a person does (its token first); the answer, not followed."""
    token = csrf(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def login_as(app: App, username: str, *, client: TestClient | None = None) -> tuple[TestClient, str]:
    """A client logged in as *username* (the login must succeed), and its session's CSRF token."""
    client = client or web_client(app)
    done = post_login(client, username)
    assert done.status_code == 303, (username, done.status_code, done.text[:300])
    return client, csrf(client.get("/policies").text)  # every role may read it; lighter than the dashboard


def add_user(app: App, name: str = "bien-tap", role: str = "editor", **extra: object) -> accounts.User:
    """An account made by the library (as ``quan-tri``), with :data:`PASSWORD`."""
    return accounts.add_user(app, "quan-tri", name, role, PASSWORD, **extra)


def add_users(app: App, rows: Iterable[tuple[str, str, str | None]]) -> None:
    """One account per (name, role, agency) row."""
    for name, role, agency in rows:
        add_user(app, name, role, agency=agency)


# --- a real browser ----------------------------------------------------------------------------------

#: Reports a CSP violation on the console, so :class:`ErrorWatcher` sees it whatever Chromium prints.
_CSP_LISTENER = ("document.addEventListener('securitypolicyviolation', e => console.error("
                 "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


class ErrorWatcher:
    """Collects what went wrong in a page: responses >= 400, failed requests, console errors, CSP violations."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.add_init_script(_CSP_LISTENER)
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"script error: {e}"))
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("requestfailed", self._failed)
        page.on("dialog", self._dialog)

    def _failed(self, request: Any) -> None:
        # ERR_ABORTED: the browser dropped a request because the page navigated on (a favicon
        # still loading when a form is submitted), not a failure of ours; a blocked or refused
        # request fails otherwise (ERR_BLOCKED_BY_CLIENT, CSP, connection errors...)
        if request.failure == "net::ERR_ABORTED" and request.resource_type != "document":
            return
        self.errors.append(f"failed: {request.url} {request.failure}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)  # an injected alert() that ran
        dialog.dismiss()

    def assert_clean(self) -> None:
        """Fail naming everything collected (the strict CSP blocked nothing; no request failed; no alert ran)."""
        assert self.errors == [] and self.dialogs == [], (self.errors, self.dialogs)


@contextmanager
def watched(browser: Any, **options: Any) -> Iterator[tuple[Any, ErrorWatcher]]:
    """A new page and its watcher; closed at the end, then nothing may have gone wrong in it."""
    page = browser.new_page(**options)
    watcher = ErrorWatcher(page)
    try:
        yield page, watcher
    finally:
        page.close()
    watcher.assert_clean()


def browser_login(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    """Fill in and submit the login form of the site at *url*."""
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shot(page: Any, name: str) -> None:
    """A full-page screenshot under test-output/ (``screenshot_path``), not committed."""
    page.screenshot(path=str(screenshot_path(name)), full_page=True)
