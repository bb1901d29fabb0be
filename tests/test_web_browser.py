"""The web UI in a real browser: Debian's Chromium, driven by Playwright, against a real ``publisher web``.

The server is the command staff run (a process of its own listening on a
loopback port); the accounts are made with the library first.  Screenshots
of each page go to ``test-output/`` (not committed).  The whole issue-8
scenario (compose, approve, publish, audit) grows here with the pages.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from publisher import accounts
from publisher.context import App

from .conftest import ROOT, screenshot_path

SECRET = "khóa-bí-mật-chỉ-dùng-cho-thử-nghiệm-trình-duyệt-0123456789"
PASSWORD = "Mật-khẩu rất bí mật 2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[str]:
    """``publisher web`` on a free loopback port, with an editor and an auditor account."""
    accounts.add_user(sqlite_app, "quan-tri", "bien-tap", "editor", PASSWORD, display_name="Trần Thị Bình")
    accounts.add_user(sqlite_app, "quan-tri", "kiem-tra", "auditor", PASSWORD, display_name="Lê Văn Kiểm")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(PUBLISHER_WEB_SECRET=SECRET, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "publisher", "web", "--port", str(port)], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"publisher web stopped: {proc.stderr.read() if proc.stderr else ''}")
        try:
            requests.get(f"{url}/login", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("publisher web did not start within 30 s")


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
