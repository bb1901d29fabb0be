"""Issue 8 end to end, in one real browser: write a policy, compose, approve, publish, audit.

Debian's Chromium (Playwright) against ``publisher web`` and the real
``publisher daemon``, two processes of their own over one SQLite database,
as an agency runs them.  Nothing is made behind the pages' back but the
three accounts.  Every step leaves a screenshot ``test-output/e2e-NN-*.png``,
and no request may fail, nor any console or CSP error show, anywhere.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher import posts
from publisher.context import App

from .conftest import ROOT, web_server
from .webtools import add_user, browser_login, shot, watched

CODE = "31/2026/NQ-HĐND"
TITLE = "Nghị quyết hỗ trợ nhà ở cho hộ nghèo vùng lũ"
WORDS = "Từ ngày 01/01/2027, hộ nghèo vùng lũ được hỗ trợ 40 triệu đồng để dựng lại nhà."
CHANNELS = ("portal", "fanpage")  # both outbox channels of agency tinh (tests/conftest.py BASE_CONFIG)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App]]:
    """``publisher web`` over an empty project; only the accounts exist."""
    add_user(sqlite_app, "bien-tap", "editor", agency="tinh", display_name="Trần Thị Bình")
    add_user(sqlite_app, "truong-phong", "approver", agency="tinh", display_name="Nguyễn Văn Duyệt")
    add_user(sqlite_app, "kiem-tra", "auditor", display_name="Lê Văn Kiểm")
    with web_server(project) as url:
        yield url, sqlite_app


def _local(app: App, days: int = 0) -> datetime:
    return datetime.now(app.config.timezone) + timedelta(days=days)


def _log_out(page: Any) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login$"))


def _create_policy(page: Any, url: str, app: App) -> int:
    """Step a: the editor writes a policy with its consultation dates through the form."""
    page.goto(f"{url}/policies")
    page.click("a[href='/policies/new']")
    page.wait_for_load_state()
    page.fill("#code", CODE)
    page.fill("#title", TITLE)
    page.fill("#summary", "Hỗ trợ hộ nghèo dựng lại nhà ở sau lũ.")
    page.select_option("#impact", "high")
    page.fill("#consultation_opens", f"{_local(app):%d/%m/%Y}")
    page.fill("#consultation_closes", f"{_local(app, 30):%d/%m/%Y}")
    page.fill("#key_points", "Hỗ trợ 40 triệu đồng mỗi hộ\nƯu tiên hộ có người khuyết tật")
    page.fill("#affected", "Hộ nghèo, hộ cận nghèo vùng lũ")
    shot(page, "e2e-02-policy-form")
    page.click(".policy-actions button[type=submit]")
    page.wait_for_url(re.compile(r"/policies/\d+"))
    shown = page.inner_text("main")
    shot(page, "e2e-03-policy-created")
    assert "Đã thêm chính sách." in shown and TITLE in shown and "Ưu tiên hộ có người khuyết tật" in shown
    assert f"{_local(app, 30):%d/%m/%Y}" in shown
    return int(re.search(r"/policies/(\d+)", page.url).group(1))


def _compose(page: Any, url: str, app: App, policy_id: int) -> int:
    """Step b: template, channels, variables; the live preview shows every text and a real PNG; saved."""
    page.goto(f"{url}/compose")
    page.select_option("#policy", str(policy_id))
    page.select_option("#template", "thong-tin")
    for channel in CHANNELS:
        page.check(f"input[name=channels][value={channel}]")
    page.check("input[name=infographics][value=vuong]")
    page.fill("#at", f"{_local(app):%d/%m/%Y %H:%M}")  # now, as the form writes it
    page.fill("#var_noi_dung", WORDS)  # no button: compose.js previews after a pause
    for channel in CHANNELS:
        page.wait_for_selector(f"#compose-preview [data-channel={channel}]")
    page.wait_for_function("(() => { const p = document.querySelector('#compose-preview');"
                           " const i = p.querySelector('img'); return !p.hasAttribute('aria-busy')"
                           f" && p.innerText.includes({json.dumps(WORDS)}) && i && i.complete"
                           " && i.naturalWidth > 0; })()")
    for channel in CHANNELS:
        assert WORDS in page.inner_text(f"#compose-preview [data-channel={channel}]"), channel
    image = page.locator("#compose-preview img").first
    assert image.evaluate("img => img.naturalWidth") == 1080
    src = image.get_attribute("src")
    assert src.startswith("data:image/png;base64,") and base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert page.locator("#compose-preview .compose-error").count() == 0
    shot(page, "e2e-04-compose-preview")
    page.click("#save")
    page.wait_for_url(re.compile(r"/approvals/\d+$"))
    assert WORDS in page.inner_text("main")
    shot(page, "e2e-05-draft-saved")
    return int(page.url.rsplit("/", 1)[1])


def _approve(page: Any, url: str, post_id: int) -> dict[str, tuple[str, str]]:
    """Step c: the approver finds the draft with its preview and approves it; the frozen texts, by channel."""
    page.goto(f"{url}/approvals")
    card = page.locator(f"#post-{post_id}")
    assert WORDS in card.inner_text()
    card.locator(".approval-images img").first.scroll_into_view_if_needed()
    page.wait_for_function(f"(() => {{ const i = document.querySelector('#post-{post_id} .approval-images img');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    shot(page, "e2e-06-approvals")
    card.locator("h2 a").click()
    page.wait_for_url(re.compile(rf"/approvals/{post_id}$"))
    page.click("#approve")
    page.wait_for_url(re.compile(rf"/approvals/{post_id}\?done=approved$"))
    shown = page.inner_text("main")
    shot(page, "e2e-07-approved")
    assert "Đã phê duyệt bài" in shown and page.locator("a[href^='/deliveries/']").count() == len(CHANNELS)
    return {c: (page.locator(f"[data-channel={c}] .frozen-title").text_content(),
                page.locator(f"[data-channel={c}] .frozen-body").text_content()) for c in CHANNELS}


def _publish(project: Path, count: int) -> dict[str, dict[str, Any]]:
    """Step d: the real daemon publishes to the outbox folders; stopped by SIGTERM, it exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout, whatever is installed
    daemon = subprocess.Popen([sys.executable, "-m", "publisher", "daemon"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outbox = project / "data" / "outbox"
    try:
        deadline = time.monotonic() + 30
        while len(list(outbox.glob("*/*.json"))) < count and time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.communicate()[1]
            time.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    records = [json.loads(p.read_text(encoding="utf-8")) for p in outbox.glob("*/*.json")]
    assert len(records) == count, f"the outbox holds {len(records)} of {count} posts after 30 s: {err}"
    return {r["channel"]: r for r in records}


def _audit(page: Any, url: str, delivery_id: int, tmp_path: Path) -> list[dict[str, str]]:
    """Step e: the auditor filters the journal to the publication, sees the chain intact, downloads the CSV."""
    page.goto(f"{url}/audit")
    page.fill("#event", "delivery.published")
    page.fill("#subject", f"delivery:{delivery_id}")
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r"/audit\?.*event=delivery\.published"))
    rows = page.locator("table.audit-journal tbody tr")
    assert rows.count() == 1 and f"delivery:{delivery_id}" in rows.first.inner_text()
    verify = page.locator("#verify")
    assert "audit-ok" in verify.get_attribute("class") and "Chuỗi băm toàn vẹn." in verify.inner_text()
    shot(page, "e2e-08-audit")
    with page.expect_download() as info:
        page.click("#csv")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Vietnamese right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _deliveries(page: Any, url: str, delivery_id: int) -> None:
    """Step f: the deliveries list shows it published, its page shows the one attempt."""
    page.goto(f"{url}/deliveries")
    row = page.locator("table.deliveries tbody tr", has=page.locator(f"a[href='/deliveries/{delivery_id}']"))
    assert "đã đăng" in row.inner_text()
    shot(page, "e2e-09-deliveries")
    row.locator(f"a[href='/deliveries/{delivery_id}']").click()
    page.wait_for_url(re.compile(rf"/deliveries/{delivery_id}$"))
    assert page.inner_text("#state") == "đã đăng"
    attempts = page.locator("table.attempts tbody tr")
    assert attempts.count() == 1 and "published" in attempts.first.inner_text()
    shot(page, "e2e-10-delivery")


def test_a_policy_goes_from_the_editor_to_the_outbox_and_into_the_audit(site: tuple[str, App], browser: Any,
                                                                          project: Path, tmp_path: Path) -> None:
    url, app = site
    with watched(browser, accept_downloads=True, locale="vi-VN") as (page, _):  # a Vietnamese browser
        page.goto(f"{url}/login")
        assert page.get_attribute("html", "lang") == "vi" and "Đăng nhập" in page.inner_text("body")
        shot(page, "e2e-01-login")
        browser_login(page, url, "bien-tap")
        assert "Xin chào, Trần Thị Bình!" in page.inner_text("body")
        post_id = _compose(page, url, app, _create_policy(page, url, app))
        _log_out(page)
        browser_login(page, url, "truong-phong")
        approved = _approve(page, url, post_id)
        outbox = _publish(project, len(CHANNELS))
        for channel in CHANNELS:  # what was published is what the approver saw and approved
            assert (outbox[channel]["title"], outbox[channel]["body"]) == approved[channel], channel
            assert WORDS in outbox[channel]["body"]
        assert {c: (x.title, x.body) for c, x in posts.frozen(app, post_id).items()} == approved
        delivery_id = outbox["fanpage"]["delivery_id"]
        _log_out(page)
        browser_login(page, url, "kiem-tra")
        rows = _audit(page, url, delivery_id, tmp_path)
        assert [(r["event"], r["subject"]) for r in rows] == [("delivery.published", f"delivery:{delivery_id}")]
        assert json.loads(rows[0]["payload"])["remote_id"] == f"outbox:fanpage:{delivery_id}"
        _deliveries(page, url, delivery_id)
