"""The web UI in a real browser: Debian's Chromium, driven by Playwright, against a real ``publisher web``.

The server is the command staff run (a process of its own listening on a
loopback port); the accounts are made with the library first.  Screenshots
of each page go to ``test-output/`` (not committed).  The whole issue-8
scenario (compose, approve, publish, audit) is ``test_web_e2e.py``; the
helpers every browser test uses (and checks here) are in ``webtools.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher.context import App

from .conftest import web_server
from .webtools import ErrorWatcher, add_user, browser_login, shot, watched


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[str]:
    """``publisher web`` on a free loopback port, with an editor and an auditor account."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    add_user(sqlite_app, "kiem-tra", "auditor", display_name="Lê Văn Kiểm")
    with web_server(project) as url:
        yield url


def test_an_editor_logs_in_sees_the_vietnamese_dashboard_and_logs_out(site: str, browser: Any) -> None:
    with watched(browser) as (page, _):  # the strict CSP blocks nothing the pages need (styles are local)
        page.goto(f"{site}/login")
        assert page.get_attribute("html", "lang") == "vi"
        shot(page, "web-login")
        browser_login(page, site, "bien-tap")
        shown = page.inner_text("body")
        shot(page, "web-dashboard-editor")
        assert "Trần Thị Bình" in shown and page.url.rstrip("/") == site
        page.click("form[action='/logout'] button")
        page.wait_for_load_state()
        assert page.url.endswith("/login")


def test_a_wrong_password_is_refused_in_vietnamese_and_the_page_stays_styled(site: str, browser: Any) -> None:
    page = browser.new_page()
    try:
        browser_login(page, site, "kiem-tra", "sai mật khẩu")
        alert = page.inner_text("[role=alert]")
        styled = page.evaluate("getComputedStyle(document.body).fontFamily")
        shot(page, "web-login-refused")
    finally:
        page.close()
    assert "không đúng" in alert
    assert styled and "Times" not in styled  # web.css loaded from this site, not a browser default


def test_the_watcher_catches_a_missing_page_a_csp_violation_and_an_alert(site: str, browser: Any) -> None:
    """The helper every browser test trusts must fail when something goes wrong, or their 'no error' means nothing."""
    page = browser.new_page()
    watcher = ErrorWatcher(page)
    try:
        page.goto(f"{site}/login")
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
                      " document.body.appendChild(s); }")  # inline code: the CSP must refuse it
        page.evaluate("() => { window.setTimeout(() => alert('hi'), 0); }")  # evaluate is not page code
        page.wait_for_timeout(300)
        page.goto(f"{site}/khong-co-trang-nay")
    finally:
        page.close()
    assert any("CSP violation: script-src" in e for e in watcher.errors), watcher.errors
    assert any(e.startswith("404 ") and e.endswith("/khong-co-trang-nay") for e in watcher.errors), watcher.errors
    assert watcher.dialogs == ["hi"]
    with pytest.raises(AssertionError):
        watcher.assert_clean()
