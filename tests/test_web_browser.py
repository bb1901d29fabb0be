"""The web UI in a real browser: Debian's Chromium, driven by Playwright, against a real ``publisher web``.

The server is the command staff run (a process of its own listening on a
loopback port); the accounts are made with the library first.  Screenshots
of each page go to ``test-output/`` (not committed).  The whole issue-8
scenario (compose, approve, publish, audit) grows here with the pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher import accounts
from publisher.context import App

from .conftest import screenshot_path, web_server

PASSWORD = "Mật-khẩu rất bí mật 2026"



@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[str]:
    """``publisher web`` on a free loopback port, with an editor and an auditor account."""
    accounts.add_user(sqlite_app, "quan-tri", "bien-tap", "editor", PASSWORD, display_name="Trần Thị Bình")
    accounts.add_user(sqlite_app, "quan-tri", "kiem-tra", "auditor", PASSWORD, display_name="Lê Văn Kiểm")
    with web_server(project) as url:
        yield url



def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_an_editor_logs_in_sees_the_vietnamese_dashboard_and_logs_out(site: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # e.g. a CSP violation
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{site}/login")
        assert page.get_attribute("html", "lang") == "vi"
        page.screenshot(path=str(screenshot_path("web-login")), full_page=True)
        _log_in(page, site, "bien-tap")
        shown = page.inner_text("body")
        page.screenshot(path=str(screenshot_path("web-dashboard-editor")), full_page=True)
        assert "Trần Thị Bình" in shown and page.url.rstrip("/") == site
        page.click("form[action='/logout'] button")
        page.wait_for_load_state()
        assert page.url.endswith("/login")
    finally:
        page.close()
    assert errors == []  # the strict CSP blocked nothing the pages need (styles are local)


def test_a_wrong_password_is_refused_in_vietnamese_and_the_page_stays_styled(site: str, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{site}/login")
        page.fill("#username", "kiem-tra")
        page.fill("#password", "sai mật khẩu")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        alert = page.inner_text("[role=alert]")
        styled = page.evaluate("getComputedStyle(document.body).fontFamily")
        page.screenshot(path=str(screenshot_path("web-login-refused")), full_page=True)
    finally:
        page.close()
    assert "không đúng" in alert
    assert styled and "Times" not in styled  # web.css loaded from this site, not a browser default
