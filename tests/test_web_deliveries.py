"""The deliveries pages and API (issue 8): filter, see every attempt, retry a failed one, cancel a queued one.

Real data through the library: posts approved with ``tests/helpers``, published
or failed by the real :class:`Dispatcher` (a failing channel is the outbox
channel with scripted errors in front of it, as in ``test_dispatch.py``).
Every case with a database runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from publisher import i18n
from publisher.channels import registry
from publisher.channels.outbox import OutboxChannel
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ContentRejected, TransientError
from publisher.models import DeliveryState, utcnow
from publisher.store.engine import read
from publisher.store.schema import journal as journal_table
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import BASE_CONFIG, web_server
from .helpers import Clock, add_policy, approved_post, delivery, outcomes
from .webtools import XSS, add_user, add_users, browser_login, login_as, shot, watched, web_client

S = DeliveryState
CODE2 = "15/2026/NQ-HĐND"
SCRIPT: list[BaseException] = []
CALLS: list[str] = []


class ScriptedChannel(OutboxChannel):
    """The real outbox channel, with scripted errors in front of it (our interface, not a remote fake)."""

    type = "scripted"

    def publish(self, delivery):
        CALLS.append("publish")
        if SCRIPT:
            raise SCRIPT.pop(0)
        return super().publish(delivery)

    def find(self, delivery, since):
        CALLS.append("find")
        return super().find(delivery, since)


@pytest.fixture
def app(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The test config plus channel 'thu' (agency tinh) that fails when told to; both policies exist."""
    monkeypatch.setitem(registry.CHANNEL_TYPES, "scripted", ScriptedChannel)
    config = BASE_CONFIG + '\n[channels.thu]\ntype = "scripted"\nagency = "tinh"\nformat = "facebook"\n'
    (project / "config.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    SCRIPT.clear()
    CALLS.clear()
    opened = App.open(project / "config.toml")
    add_policy(opened)
    add_policy(opened, CODE2)
    add_policy(opened, "7/2026/QĐ-UBND", agency="xa")
    add_users(opened, (("bien-tap", "editor", "tinh"), ("kiem-tra", "auditor", None), ("quan-tri", "admin", None),
                       ("xa-bien-tap", "editor", "xa")))
    yield opened
    opened.close()


def _failed(app: App, error: str = "nội dung bị từ chối", code: str = CODE2, **extra: Any) -> int:
    """A delivery on 'thu' that the real dispatcher failed (the peer refused it)."""
    [did] = approved_post(app, channels=("thu",), code=code, **extra)
    SCRIPT.append(ContentRejected(error))
    assert Dispatcher(app, "may-1").run_once() == {"failed": 1}
    SCRIPT.clear()
    CALLS.clear()
    return did


def _published(app: App) -> list[int]:
    dids = approved_post(app)
    assert Dispatcher(app, "may-1").run_once() == {"published": 2}
    return dids


def _queued(app: App, **extra: Any) -> int:
    [did] = approved_post(app, channels=("portal",), at=utcnow() + timedelta(days=2), **extra)
    return did


def _events(app: App, event: str) -> list[tuple[str, str, dict[str, Any]]]:
    with read(app.engine) as conn:
        found = conn.execute(select(journal_table.c.actor, journal_table.c.subject, journal_table.c.payload)
                             .where(journal_table.c.event == event).order_by(journal_table.c.seq)).all()
    return [(r.actor, r.subject, json.loads(r.payload)) for r in found]  # stored as canonical JSON text


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/deliveries/(\d+)">', html)]


# --- the list --------------------------------------------------------------------------------------

def test_the_list_filters_by_state_channel_and_policy(app):
    published = _published(app)
    failed = _failed(app, "trang đã bị khóa")
    queued = _queued(app)
    client, _ = login_as(app, "bien-tap")
    page = client.get("/deliveries")
    assert page.status_code == 200 and "Lượt đăng" in page.text
    assert sorted(_ids(page.text)) == sorted([*published, failed, queued])
    only_failed = client.get("/deliveries", params={"state": "failed"}).text
    assert _ids(only_failed) == [failed]
    assert 'class="state state-failed">thất bại<' in only_failed and "trang đã bị khóa" in only_failed
    assert '<option value="failed" selected>' in only_failed
    assert sorted(_ids(client.get("/deliveries", params={"channel": "portal"}).text)) == sorted(
        [published[0], queued])
    assert _ids(client.get("/deliveries", params={"policy": CODE2}).text) == [failed]
    both = client.get("/deliveries", params={"policy": CODE2, "state": "published"}).text
    assert _ids(both) == [] and "Không có lượt đăng nào" in both
    assert 'class="state state-published">đã đăng<' in page.text and 'class="state state-queued">chờ đăng<' in page.text
    due = delivery(app, queued).due_at.astimezone(app.config.timezone).strftime("%d/%m/%Y %H:%M")
    assert due in page.text  # in display.timezone
    assert _ids(page.text)[0] == queued  # newest due first
    refused = client.get("/deliveries", params={"state": "bogus"})
    assert refused.status_code == 400 and "bogus" in refused.text
    api = client.get("/api/v1/deliveries", params={"state": "failed"}).json()
    assert [d["id"] for d in api["items"]] == [failed] and api["items"][0]["state_name"] == "thất bại"
    assert api["items"][0]["last_error"] == "trang đã bị khóa" and api["items"][0]["can_retry"] is True
    assert client.get("/api/v1/deliveries", params={"state": "bogus"}).status_code == 422


def test_the_list_is_paginated_fifty_a_page_newest_due_first(app):
    start = utcnow() + timedelta(days=1)
    made = []
    for n in range(28):
        made += approved_post(app, at=start + timedelta(hours=n))
    client, _ = login_as(app, "kiem-tra")
    first = client.get("/deliveries").text
    second = client.get("/deliveries", params={"page": "2"}).text
    assert len(_ids(first)) == 50 and len(_ids(second)) == 6
    assert set(_ids(first)) | set(_ids(second)) == set(made)
    dues = [delivery(app, did).due_at for did in _ids(first) + _ids(second)]
    assert dues == sorted(dues, reverse=True)
    assert "56 lượt đăng · trang 1/2" in first and 'rel="next" href="/deliveries?page=2"' in first
    assert 'rel="prev" href="/deliveries?page=1"' in second and 'rel="next"' not in second
    filtered = client.get("/deliveries", params={"channel": "portal", "page": "1"}).text
    assert "28 lượt đăng · trang 1/1" in filtered and 'rel="next"' not in filtered
    api = client.get("/api/v1/deliveries", params={"page": 2}).json()
    assert (api["total"], api["page"], api["pages"], api["per_page"], len(api["items"])) == (56, 2, 2, 50, 6)
    assert [d["id"] for d in api["items"]] == _ids(second)
    assert client.get("/api/v1/deliveries", params={"page": 0}).status_code == 422


# --- one delivery ------------------------------------------------------------------------------------

def test_the_detail_shows_the_frozen_content_and_every_attempt(app):
    [did] = approved_post(app, channels=("thu",), code=CODE2)
    clock = Clock()
    dispatcher = Dispatcher(app, "may-1", clock=clock)
    SCRIPT.extend([TransientError("mạng chập chờn"), TransientError("mạng chập chờn")])  # both inline tries
    assert dispatcher.run_once() == {"waiting": 1}
    SCRIPT.append(ContentRejected("Facebook từ chối nội dung"))
    clock.now += timedelta(seconds=10)
    assert dispatcher.run_once() == {"failed": 1}
    d = delivery(app, did)
    client, _ = login_as(app, "bien-tap")
    page = client.get(f"/deliveries/{did}")
    assert page.status_code == 200 and f"Lượt đăng số {did}" in page.text
    assert "mạng chập chờn" in page.text and "Facebook từ chối nội dung" in page.text
    assert page.text.count("<td>may-1</td>") == 2 and "transient" in page.text and "rejected" in page.text
    assert d.content.body.splitlines()[0] in page.text
    assert 'action="/deliveries/%d/retry"' % did in page.text and "/cancel" not in page.text
    api = client.get(f"/api/v1/deliveries/{did}").json()
    assert [a["number"] for a in api["history"]] == [1, 2] and api["attempts"] == 2
    assert [a["outcome"] for a in api["history"]] == outcomes(app, did)
    assert api["title"] == d.content.title and api["body"] == d.content.body and api["media"] == []
    for missing in ("/deliveries/999999", "/deliveries/abc", f"/deliveries/{2**40}"):
        assert client.get(missing).status_code == 404
    assert client.get("/api/v1/deliveries/999999").status_code == 404


# --- retry and cancel ---------------------------------------------------------------------------------

def test_a_retried_failed_delivery_is_republished_exactly_once(app):
    did = _failed(app)
    client, token = login_as(app, "bien-tap")
    done = client.post(f"/deliveries/{did}/retry", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/deliveries/{did}?done=retried"
    assert "trở lại hàng đợi" in client.get(done.headers["location"]).text
    d = delivery(app, did)
    assert d.state == S.QUEUED and d.attempts == 1 and d.needs_reconcile  # attempts kept
    assert _events(app, "delivery.retried") == [("bien-tap", f"delivery:{did}",
                                                 {"attempts": 1, "last_error": "nội dung bị từ chối"})]
    assert Dispatcher(app, "may-2").run_once() == {"published": 1}
    assert CALLS == ["find", "publish"]  # asked the channel first, then published once
    assert Dispatcher(app, "may-2").run_once() == {}
    assert delivery(app, did).state == S.PUBLISHED and outcomes(app, did) == ["rejected", "published"]
    assert sorted(p.name for p in (app.data_dir / "outbox" / "thu").glob("*.json")) == [f"{did}.json"]
    second = _failed(app)
    answer = client.post(f"/api/v1/deliveries/{second}/retry", headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["state"] == "queued"
    assert Dispatcher(app, "may-2").run_once() == {"published": 1}


def test_a_queued_delivery_is_cancelled_with_its_reason(app):
    did = _queued(app)
    client, token = login_as(app, "bien-tap")
    page = client.get(f"/deliveries/{did}").text
    assert f'action="/deliveries/{did}/cancel"' in page and "/retry" not in page
    done = client.post(f"/deliveries/{did}/cancel", data={"csrf_token": token, "reason": "trùng bài"},
                       follow_redirects=False)
    assert done.status_code == 303 and "Đã hủy lượt đăng" in client.get(done.headers["location"]).text
    d = delivery(app, did)
    assert d.state == S.CANCELLED and d.last_error == "trùng bài"
    assert _events(app, "delivery.cancelled") == [("bien-tap", f"delivery:{did}", {"reason": "trùng bài"})]
    other = _queued(app)
    answer = client.post(f"/api/v1/deliveries/{other}/cancel", json={"reason": "đổi lịch"},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["state"] == "cancelled"
    assert answer.json()["state_name"] == "đã hủy" and delivery(app, other).last_error == "đổi lịch"
    assert Dispatcher(app, "may-1").run_once() == {}  # nothing left to publish


def test_retrying_or_cancelling_a_published_delivery_is_refused_and_changes_nothing(app):
    did = _published(app)[0]
    before = delivery(app, did)
    client, token = login_as(app, "quan-tri")
    retry = client.post(f"/deliveries/{did}/retry", data={"csrf_token": token})
    assert retry.status_code == 409
    assert f"Không thể đăng lại lượt đăng số {did}" in retry.text and "“đã đăng”" in retry.text
    cancel = client.post(f"/deliveries/{did}/cancel", data={"csrf_token": token})
    assert cancel.status_code == 409 and f"Không thể hủy lượt đăng số {did}" in cancel.text
    for action in ("retry", "cancel"):
        answer = client.post(f"/api/v1/deliveries/{did}/{action}", headers={"X-CSRF-Token": token})
        assert answer.status_code == 409 and "Không có gì thay đổi" in answer.json()["detail"]
    assert delivery(app, did) == before
    assert _events(app, "delivery.retried") == [] and _events(app, "delivery.cancelled") == []
    queued = _queued(app)
    assert client.post(f"/api/v1/deliveries/{queued}/retry",
                       headers={"X-CSRF-Token": token}).json()["detail"].endswith("Không có gì thay đổi.")


def test_a_delivery_failed_past_its_deadline_is_not_retried(app):
    now = utcnow()
    [did] = approved_post(app, channels=("thu",), code=CODE2, at=now - timedelta(hours=2),
                          deadline=(now - timedelta(hours=1)).isoformat())
    assert Dispatcher(app, "may-1").run_once() == {"failed": 1} and outcomes(app, did) == ["deadline"]
    client, token = login_as(app, "bien-tap")
    refused = client.post(f"/deliveries/{did}/retry", data={"csrf_token": token})
    assert refused.status_code == 409 and "hạn chót" in refused.text and "đã qua" in refused.text
    assert delivery(app, did).state == S.FAILED and _events(app, "delivery.retried") == []


# --- walls ---------------------------------------------------------------------------------------------

def test_an_auditor_reads_but_may_not_retry_or_cancel(app):
    failed, queued = _failed(app), _queued(app)
    client, token = login_as(app, "kiem-tra")
    page = client.get(f"/deliveries/{failed}")
    assert page.status_code == 200 and "/retry" not in page.text and "/cancel" not in client.get(
        f"/deliveries/{queued}").text
    for did, action in ((failed, "retry"), (queued, "cancel")):
        ui = client.post(f"/deliveries/{did}/{action}", data={"csrf_token": token})
        assert ui.status_code == 403 and "Vai trò của bạn không được làm việc này" in ui.text
        api = client.post(f"/api/v1/deliveries/{did}/{action}", headers={"X-CSRF-Token": token})
        assert api.status_code == 403 and "Vai trò" in api.json()["detail"]
    assert (delivery(app, failed).state, delivery(app, queued).state) == (S.FAILED, S.QUEUED)


def test_an_agency_bound_user_never_sees_another_agencys_delivery(app):
    tinh = _failed(app)
    [xa] = approved_post(app, channels=("xa-fanpage",), code="7/2026/QĐ-UBND", agency="xa")
    client, token = login_as(app, "xa-bien-tap")
    page = client.get("/deliveries").text
    assert _ids(page) == [xa] and '<option value="thu">' not in page and '<option value="xa-fanpage">' in page
    assert _ids(client.get("/deliveries", params={"channel": "thu"}).text) == []
    assert [d["id"] for d in client.get("/api/v1/deliveries").json()["items"]] == [xa]
    assert client.get(f"/deliveries/{tinh}").status_code == 404
    assert client.get(f"/api/v1/deliveries/{tinh}").status_code == 404
    assert client.post(f"/deliveries/{tinh}/retry", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/api/v1/deliveries/{tinh}/cancel", headers={"X-CSRF-Token": token}).status_code == 404
    assert delivery(app, tinh).state == S.FAILED
    everyone, _ = login_as(app, "kiem-tra")  # an account of every agency sees both
    assert sorted(_ids(everyone.get("/deliveries").text)) == sorted([tinh, xa])


def test_script_in_an_error_or_a_body_comes_back_inert(app):
    add_policy(app, "99/2026/NQ-HĐND", title=f"Chính sách {XSS}", summary=f"Tóm tắt {XSS}")
    did = _failed(app, f"peer said {XSS}", code="99/2026/NQ-HĐND")
    client, _ = login_as(app, "bien-tap")
    for html in (client.get("/deliveries").text, client.get(f"/deliveries/{did}").text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
    assert XSS in client.get(f"/api/v1/deliveries/{did}").json()["last_error"]  # JSON is data, not markup


def test_the_openapi_document_describes_the_deliveries_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/deliveries", "/api/v1/deliveries/{delivery_id}", "/api/v1/deliveries/{delivery_id}/retry",
            "/api/v1/deliveries/{delivery_id}/cancel"} <= set(paths)
    assert all(path.startswith("/api/") for path in paths)  # the pages stay out of it
    assert set(paths["/api/v1/deliveries/{delivery_id}/retry"]) == {"post"}
    assert "409" in paths["/api/v1/deliveries/{delivery_id}/cancel"]["post"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"DeliveryPage", "DeliveryOut", "DeliveryDetail", "AttemptOut", "CancelRequest"} <= set(schemas)


def test_every_word_the_deliveries_pages_use_is_in_both_languages():
    used = set()
    for path in (PACKAGE_TEMPLATES / "deliveries").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    assert {key for key in used if key.endswith(".")} == {"state."}
    used = {key for key in used if not key.endswith(".")} | {f"state.{s.value}" for s in S}
    raw = i18n.raw_catalogue()
    assert len(used) > 30 and sorted(k for k in used if set(raw.get(k, {})) != set(i18n.LANGUAGES)) == []
    html = "".join(p.read_text(encoding="utf-8") for p in (PACKAGE_TEMPLATES / "deliveries").glob("*.html"))
    assert "<script" not in html and " style=" not in html and "<style" not in html


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App]]:
    """``publisher web`` on a free loopback port over a queue with published, failed and queued deliveries."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    add_policy(sqlite_app)
    approved_post(sqlite_app)
    Dispatcher(sqlite_app, "may-1").run_once()
    approved_post(sqlite_app, channels=("portal",), at=utcnow() + timedelta(days=1))
    with web_server(project) as url:
        yield url, sqlite_app


def test_an_editor_filters_the_deliveries_and_opens_one_in_a_browser(site: tuple[str, App], browser: Any) -> None:
    url, opened = site
    with watched(browser) as (page, _):  # the strict CSP blocks nothing the pages need, no request fails
        browser_login(page, url, "bien-tap")
        page.goto(f"{url}/deliveries")
        assert page.locator("table.deliveries tbody tr").count() == 3
        shot(page, "web-deliveries")
        page.select_option("#state", "queued")
        page.click("form.deliveries-filters button[type=submit]")
        page.wait_for_load_state()
        assert "state=queued" in page.url and page.locator("table.deliveries tbody tr").count() == 1
        colour = page.evaluate("getComputedStyle(document.querySelector('.state-queued')).backgroundColor")
        shot(page, "web-deliveries-queued")
        page.click("table.deliveries tbody a")
        page.wait_for_load_state()
        assert "chờ đăng" in page.inner_text("#state") and page.locator("#cancel").count() == 1
        shot(page, "web-delivery-detail")
        page.fill("#reason", "đổi lịch đăng")
        page.click("#cancel")
        page.wait_for_load_state()
        shown = page.inner_text("body")
        shot(page, "web-delivery-cancelled")
    assert "Đã hủy lượt đăng" in shown and "đã hủy" in shown
    assert colour not in ("", "rgba(0, 0, 0, 0)")  # web.css gave the state its colour
