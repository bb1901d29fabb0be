"""The calendar page and API (issue 8): deliveries by local day and channel, coloured and named by state.

Real data through the library: posts approved with ``tests/helpers`` at known
times, published or failed by the real :class:`Dispatcher` on a clock the test
sets (a failing channel is the outbox channel with scripted errors in front of
it, as in ``test_web_deliveries.py``).  display.timezone is Asia/Ho_Chi_Minh
(UTC+7): 16:30 UTC is 23:30 the same local day, 17:30 UTC is 00:30 the next.
Every case with a database runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from publisher import i18n
from publisher.channels import registry
from publisher.channels.outbox import OutboxChannel
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ContentRejected
from publisher.models import DeliveryState, utcnow
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import BASE_CONFIG, web_server
from .helpers import Clock, add_policy, approved_post, delivery
from .webtools import XSS, add_user, add_users, browser_login, login_as, shot, watched, web_client

S = DeliveryState
CODE2 = "15/2026/NQ-HĐND"
XA_CODE = "7/2026/QĐ-UBND"
SCRIPT: list[BaseException] = []


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class ScriptedChannel(OutboxChannel):
    """The real outbox channel, with scripted errors in front of it (our interface, not a remote fake)."""

    type = "scripted"

    def publish(self, delivery):
        if SCRIPT:
            raise SCRIPT.pop(0)
        return super().publish(delivery)


@pytest.fixture
def app(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The test config plus channel 'thu' (agency tinh) that fails when told to; the policies exist."""
    monkeypatch.setitem(registry.CHANNEL_TYPES, "scripted", ScriptedChannel)
    config = BASE_CONFIG + '\n[channels.thu]\ntype = "scripted"\nagency = "tinh"\nformat = "facebook"\n'
    (project / "config.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    SCRIPT.clear()
    opened = App.open(project / "config.toml")
    add_policy(opened)
    add_policy(opened, CODE2)
    add_policy(opened, XA_CODE, agency="xa")
    add_users(opened, (("bien-tap", "editor", "tinh"), ("kiem-tra", "auditor", None), ("xa-bien-tap", "editor", "xa")))
    yield opened
    opened.close()


def _data(app: App) -> dict[str, int]:
    """Deliveries at known times around the new year 2027 (local times in the comments)."""
    clock = Clock()
    # due Mon 04/01 09:00, published by the dispatcher Tue 05/01 10:15: it sits on the 5th
    [published] = approved_post(app, channels=("portal",), at=utc(2027, 1, 4, 2, 0), template="ban-hanh")
    clock.now = utc(2027, 1, 5, 3, 15)
    assert Dispatcher(app, "may-1", clock=clock).run_once() == {"published": 1}
    # due Wed 06/01 08:00 on 'thu', refused by the peer
    [failed] = approved_post(app, channels=("thu",), code=CODE2, at=utc(2027, 1, 6, 1, 0), template="thong-qua")
    SCRIPT.append(ContentRejected("nội dung bị từ chối"))
    clock.now = utc(2027, 1, 6, 1, 5)
    assert Dispatcher(app, "may-1", clock=clock).run_once() == {"failed": 1}
    SCRIPT.clear()
    # still queued: Thu 31/12/2026 23:30 local (16:30 UTC) and Fri 01/01/2027 00:30 local (17:30 UTC on the 31st)
    [late] = approved_post(app, channels=("portal",), at=utc(2026, 12, 31, 16, 30))
    [early] = approved_post(app, channels=("fanpage",), at=utc(2026, 12, 31, 17, 30), template="thong-qua")
    [xa] = approved_post(app, channels=("xa-fanpage",), code=XA_CODE, agency="xa", at=utc(2027, 1, 7, 3, 0),
                         template="thong-qua")
    return {"published": published, "failed": failed, "late": late, "early": early, "xa": xa}


def _cells(html: str) -> dict[str, list[int]]:
    """Day (YYYY-MM-DD) -> the delivery ids linked from its cell, in order."""
    cells = re.findall(r'<td class="cal-day[^"]*" data-date="([\d-]+)">(.*?)</td>', html, re.S)
    return {day: [int(n) for n in re.findall(r'href="/deliveries/(\d+)"', body)] for day, body in cells}


def _item(html: str, did: int) -> str:
    found = re.search(r'<a class="cal-item [^"]*" href="/deliveries/%d"(.*?)</a>' % did, html, re.S)
    assert found, f"delivery {did} not on the page"
    return re.sub(r"\s+", " ", found.group(0))


def _shown(cells: dict[str, list[int]]) -> set[int]:
    return {did for ids in cells.values() for did in ids}


# --- the days ---------------------------------------------------------------------------------------

def test_each_delivery_sits_on_its_local_day(app):
    ids = _data(app)
    client, _ = login_as(app, "bien-tap")
    december = client.get("/calendar", params={"date": "2026-12-15"})
    assert december.status_code == 200 and "Lịch đăng bài" in december.text and "Tháng 12 năm 2026" in december.text
    cells = _cells(december.text)
    assert cells["2026-12-31"] == [ids["late"]]  # 16:30 UTC is 23:30 local: still the 31st
    assert _shown(cells) == {ids["late"]}  # the 00:30 one is in January, though its UTC day is the 31st
    assert "23:30" in _item(december.text, ids["late"])
    january = client.get("/calendar", params={"date": "2027-01-20"}).text
    cells = _cells(january)
    assert "Tháng 1 năm 2027" in january
    assert cells["2027-01-01"] == [ids["early"]] and "00:30" in _item(january, ids["early"])
    assert cells["2027-01-04"] == [] and cells["2027-01-05"] == [ids["published"]]  # at its published time
    assert cells["2027-01-06"] == [ids["failed"]] and _shown(cells) == {ids["early"], ids["published"], ids["failed"]}
    published = _item(january, ids["published"])
    assert "10:15" in published and "12/2026/NQ-HĐND" in published and "ban-hanh" in published
    assert 'class="cal-item state-published"' in published and '<span class="cal-state">đã đăng</span>' in published
    failed = _item(january, ids["failed"])
    assert "08:00" in failed and CODE2 in failed and "thong-qua" in failed and "thất bại" in failed
    assert "state-failed" in failed and "chờ đăng" in _item(january, ids["early"])  # the state in words too
    for day in ("2027-01-05", "2027-01-06"):  # grouped by channel: the channel's name heads its items
        body = re.search(r'data-date="%s">(.*?)</td>' % day, january, re.S).group(1)
        assert '<div class="cal-channel-name">%s</div>' % ("portal" if day.endswith("5") else "thu") in body
    assert "3 lượt đăng trong khoảng này" in january and "Asia/Ho_Chi_Minh" in january


def test_the_week_starts_on_monday_and_shows_seven_days(app):
    ids = _data(app)
    client, _ = login_as(app, "bien-tap")
    page = client.get("/calendar", params={"view": "week", "date": "2027-01-01"})
    assert page.status_code == 200 and "Tuần từ 28/12/2026 đến 03/01/2027" in page.text
    cells = _cells(page.text)
    assert list(cells) == [f"2026-12-{d}" for d in range(28, 32)] + [f"2027-01-0{d}" for d in range(1, 4)]
    assert cells["2026-12-31"] == [ids["late"]] and cells["2027-01-01"] == [ids["early"]]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', page.text)
    assert headers == ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
    assert "Thứ Năm 31/12" in page.text
    month = _cells(client.get("/calendar", params={"date": "2027-01-01"}).text)
    assert list(month)[0] == "2026-12-28" and len(month) % 7 == 0  # whole weeks, Monday first
    assert month["2026-12-31"] == []  # a neighbouring month's day is shown empty
    sunday = _cells(client.get("/calendar", params={"view": "week", "date": "2027-01-10"}).text)
    assert list(sunday)[0] == "2027-01-04" and _shown(sunday) == {ids["published"], ids["failed"]}
    english = client.get("/lang/en?next=/calendar")
    assert english.status_code == 200 and "Monday" in english.text
    assert "January" in client.get("/calendar", params={"date": "2027-01-01"}).text


def test_previous_and_next_cross_the_year_and_keep_the_filters(app):
    client, _ = login_as(app, "bien-tap")
    december = client.get("/calendar", params={"date": "2026-12-10", "channel": "portal", "state": "queued"}).text
    following = re.search(r'rel="next" href="([^"]+)"', december).group(1).replace("&amp;", "&")
    assert following == "/calendar?view=month&date=2027-01-01&channel=portal&state=queued"
    january = client.get(following).text
    assert "Tháng 1 năm 2027" in january and '<option value="portal" selected>' in january
    back = re.search(r'rel="prev" href="([^"]+)"', january).group(1).replace("&amp;", "&")
    assert back.startswith("/calendar?view=month&date=2026-12-01") and "Tháng 12 năm 2026" in client.get(back).text
    week = client.get("/calendar", params={"view": "week", "date": "2026-12-31"}).text
    assert 'rel="next" href="/calendar?view=week&amp;date=2027-01-04"' in week
    assert 'rel="prev" href="/calendar?view=week&amp;date=2026-12-21"' in week
    assert 'href="/calendar?view=week">hôm nay</a>' in week
    today = utcnow().astimezone(app.config.timezone).date()
    now = client.get("/calendar").text  # this month, in display.timezone
    assert f"Tháng {today.month} năm {today.year}" in now
    assert f'class="cal-day cal-today" data-date="{today.isoformat()}"' in now


def test_the_filters_by_channel_and_state(app):
    ids = _data(app)
    client, _ = login_as(app, "bien-tap")
    jan = {"date": "2027-01-01"}
    assert _shown(_cells(client.get("/calendar", params={**jan, "channel": "portal"}).text)) == {ids["published"]}
    only_failed = client.get("/calendar", params={**jan, "state": "failed"}).text
    assert _shown(_cells(only_failed)) == {ids["failed"]} and '<option value="failed" selected>' in only_failed
    week = {"view": "week", "date": "2026-12-31"}
    assert _shown(_cells(client.get("/calendar", params={**week, "state": "queued"}).text)) == {
        ids["late"], ids["early"]}
    assert _shown(_cells(client.get("/calendar", params={**week, "channel": "fanpage"}).text)) == {ids["early"]}
    none = client.get("/calendar", params={**jan, "channel": "khong-co"}).text
    assert _shown(_cells(none)) == set() and "Không có lượt đăng nào trong khoảng này" in none
    refused = client.get("/calendar", params={"state": "bogus"})
    assert refused.status_code == 400 and "bogus" in refused.text


def test_a_crowded_day_shows_the_first_items_and_counts_the_rest(app):
    start = utc(2027, 2, 10, 1, 0)
    made = []
    for n in range(6):
        made += approved_post(app, channels=("portal",), at=start + timedelta(minutes=10 * n), template="thong-qua")
    client, _ = login_as(app, "kiem-tra")
    month = client.get("/calendar", params={"date": "2027-02-01"}).text
    assert _cells(month)["2027-02-10"] == made[:4] and "+2 nữa" in month
    week = client.get("/calendar", params={"view": "week", "date": "2027-02-10"}).text
    assert _cells(week)["2027-02-10"] == made and "nữa" not in week


def test_the_whole_range_is_read_with_one_query(app):
    _data(app)
    for day in range(1, 28, 3):
        approved_post(app, channels=("portal",), at=utc(2027, 3, day, 2, 0), template="thong-qua")
    client, _ = login_as(app, "kiem-tra")
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if "deliveries" in statement:
            seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        page = client.get("/calendar", params={"date": "2027-03-01"})
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    assert page.status_code == 200 and len(_shown(_cells(page.text))) == 9
    assert len(seen) == 1, seen


# --- walls ---------------------------------------------------------------------------------------------

def test_an_agency_bound_user_sees_only_their_agencys_deliveries(app):
    ids = _data(app)
    xa, _ = login_as(app, "xa-bien-tap")
    page = xa.get("/calendar", params={"date": "2027-01-01"}).text
    assert _shown(_cells(page)) == {ids["xa"]} and '<option value="portal">' not in page
    assert '<option value="xa-fanpage">' in page
    assert _shown(_cells(xa.get("/calendar", params={"date": "2027-01-01", "channel": "portal"}).text)) == set()
    api = xa.get("/api/v1/calendar", params={"from": "2026-12-01", "to": "2027-01-31"}).json()
    assert [i["id"] for i in api["items"]] == [ids["xa"]]
    everyone, _ = login_as(app, "kiem-tra")  # an account of every agency sees all of them
    assert _shown(_cells(everyone.get("/calendar", params={"date": "2027-01-01"}).text)) == {
        ids["early"], ids["published"], ids["failed"], ids["xa"]}
    anonymous = web_client(app)
    assert anonymous.get("/calendar", follow_redirects=False).headers["location"].startswith("/login")
    assert anonymous.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-01-02"}).status_code == 401


def test_a_policy_code_with_script_comes_back_inert(app):
    add_policy(app, XSS, title=f"Chính sách {XSS}")
    [did] = approved_post(app, channels=("portal",), code=XSS, at=utc(2027, 1, 8, 2, 0), template="thong-qua")
    client, _ = login_as(app, "bien-tap")
    html = client.get("/calendar", params={"date": "2027-01-08"}).text
    assert _cells(html)["2027-01-08"] == [did]
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
    api = client.get("/api/v1/calendar", params={"from": "2027-01-08", "to": "2027-01-08"}).json()
    assert api["items"][0]["policy"] == XSS  # JSON is data, not markup


@pytest.mark.parametrize("value", ["2027-13-01", "2027-02-30", "abc", "2027-1-1", "20270101", "0001-01-01",
                                   "9999-12-31", "<script>x</script>"])
def test_a_bad_date_is_a_400_page_that_says_why(app, value):
    client, _ = login_as(app, "bien-tap")
    page = client.get("/calendar", params={"date": value})
    assert page.status_code == 400 and "Ngày không hợp lệ" in page.text and "NNNN-TT-NN" in page.text
    assert "<script>x" not in page.text
    view = client.get("/calendar", params={"view": "year"})
    assert view.status_code == 400 and "year" in view.text


# --- the API ---------------------------------------------------------------------------------------------

def test_the_api_gives_local_days_and_times_and_checks_the_range(app):
    ids = _data(app)
    client, _ = login_as(app, "bien-tap")
    answer = client.get("/api/v1/calendar", params={"from": "2026-12-31", "to": "2027-01-06"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["start"], body["end"], body["timezone"]) == ("2026-12-31", "2027-01-06", "Asia/Ho_Chi_Minh")
    rows = [(i["id"], i["date"], i["time"], i["channel"], i["state"]) for i in body["items"]]
    assert rows == [(ids["late"], "2026-12-31", "23:30", "portal", "queued"),
                    (ids["early"], "2027-01-01", "00:30", "fanpage", "queued"),
                    (ids["published"], "2027-01-05", "10:15", "portal", "published"),
                    (ids["failed"], "2027-01-06", "08:00", "thu", "failed")]
    first = body["items"][2]
    assert first["policy"] == "12/2026/NQ-HĐND" and first["template"] == "ban-hanh" and first["state_name"] == "đã đăng"
    assert first["post_id"] == delivery(app, ids["published"]).post_id
    assert datetime.fromisoformat(first["at"]) == utc(2027, 1, 5, 3, 15)
    filtered = client.get("/api/v1/calendar", params={"from": "2026-12-31", "to": "2027-01-06", "state": "queued",
                                                      "channel": "fanpage"}).json()
    assert [i["id"] for i in filtered["items"]] == [ids["early"]]
    assert len(client.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-03-03"}).json()["items"]) == 3
    too_long = client.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-03-04"})
    assert too_long.status_code == 400 and "63 ngày" in too_long.json()["detail"] and "62" in too_long.json()["detail"]
    backwards = client.get("/api/v1/calendar", params={"from": "2027-01-02", "to": "2027-01-01"})
    assert backwards.status_code == 400 and "2027-01-01" in backwards.json()["detail"]
    assert client.get("/api/v1/calendar", params={"from": "0001-01-01", "to": "0001-01-02"}).status_code == 400
    assert client.get("/api/v1/calendar", params={"from": "2027-13-01", "to": "2027-01-02"}).status_code == 422
    assert client.get("/api/v1/calendar", params={"from": "2027-01-01"}).status_code == 422
    assert client.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-01-02",
                                                  "state": "bogus"}).status_code == 422
    client.get("/lang/en", follow_redirects=False)
    english = client.get("/api/v1/calendar", params={"from": "2027-01-01", "to": "2027-03-04"}).json()
    assert english["detail"].startswith("A range of 63 days is too long")


def test_the_openapi_document_describes_the_calendar_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    operation = spec["paths"]["/api/v1/calendar"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "channel", "state"}
    assert {"200", "400", "401", "403", "422"} <= set(operation["responses"])
    assert "/calendar" not in spec["paths"]  # the page stays out of it
    schemas = spec["components"]["schemas"]
    assert {"CalendarRange", "CalendarItem"} <= set(schemas)
    assert {"date", "time", "channel", "state", "policy", "post_id"} <= set(schemas["CalendarItem"]["properties"])


def test_every_word_the_calendar_uses_is_in_both_languages():
    used = set()
    html = ""
    for path in (PACKAGE_TEMPLATES / "calendar").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        html += text
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", text))
    prefixes = {key for key in used if key.endswith(".") or key.endswith("_")}
    assert prefixes == {"state.", "web.calendar.month.", "web.calendar.weekday.", "web.calendar.previous_",
                        "web.calendar.next_"}, "teach this test how the new prefix is completed"
    used = (used - prefixes) | {f"state.{s.value}" for s in S} | {f"web.calendar.month.{n}" for n in range(1, 13)}
    used |= {f"web.calendar.weekday.{n}" for n in range(1, 8)}
    used |= {f"web.calendar.{way}_{view}" for way in ("previous", "next") for view in ("month", "week")}
    raw = i18n.raw_catalogue()
    assert sorted(k for k in used if set(raw.get(k, {})) != set(i18n.LANGUAGES)) == []
    assert [raw[f"web.calendar.weekday.{n}"]["vi"] for n in (1, 7)] == ["Thứ Hai", "Chủ Nhật"]
    assert raw["web.calendar.month.1"]["vi"] == "Tháng 1"
    assert "<script" not in html and " style=" not in html and "<style" not in html


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App]]:
    """``publisher web`` on a free loopback port over this month's published and queued deliveries."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    add_policy(sqlite_app)
    approved_post(sqlite_app)
    Dispatcher(sqlite_app, "may-1").run_once()
    for minutes in (10, 20, 30, 40, 50, 60):
        approved_post(sqlite_app, channels=("portal",), at=utcnow() + timedelta(minutes=minutes),
                      template="thong-qua")
    with web_server(project) as url:
        yield url, sqlite_app


def test_an_editor_reads_the_calendar_by_month_and_week_in_a_browser(site: tuple[str, App], browser: Any) -> None:
    url, opened = site
    with watched(browser, viewport={"width": 1400, "height": 900}) as (page, _):  # the CSP blocks nothing needed
        browser_login(page, url, "bien-tap")
        page.goto(f"{url}/calendar")
        month_items = page.locator("a.cal-item").count()
        shot(page, "web-calendar-month")
        colour = page.evaluate("getComputedStyle(document.querySelector('a.cal-item.state-published')).backgroundColor")
        page.click("nav.calendar-views >> text=Tuần")
        page.wait_for_load_state()
        assert "view=week" in page.url
        week_headers = page.locator("table.calendar th").all_inner_texts()
        week_days = page.locator("td.cal-day").count()
        shot(page, "web-calendar-week")
        page.select_option("#state", "queued")
        page.click("form.calendar-filters button[type=submit]")
        page.wait_for_load_state()
        assert "state=queued" in page.url and page.locator("a.cal-item.state-published").count() == 0
        page.locator("a.cal-item").first.click()
        page.wait_for_load_state()
        detail = page.url
    assert month_items >= 1 and week_headers[0] == "Thứ Hai" and week_days == 7
    assert re.search(r"/deliveries/\d+$", detail)
    assert colour not in ("", "rgba(0, 0, 0, 0)")  # web.css gave the state its colour
