"""The policies pages and API (issue 8): list, search, create/edit, campaign, and who may do what.

Every case with a database runs on SQLite and PostgreSQL (the ``app`` fixture),
through FastAPI's TestClient (the whole ASGI stack, the CSRF wall included).
The last test drives a real Chromium against ``publisher web``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from publisher import i18n, posts, service
from publisher.campaign import ACTIONS, MOMENTS
from publisher.context import App
from publisher.models import Impact, utcnow
from publisher.web import create_app
from publisher.web.policy_forms import FIELDS
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import POLICY, web_server
from .webtools import SECRET, XSS, TestClient, add_user, browser_login, login_as, shot, watched, web_client

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = utcnow().astimezone(VN).date()


def _logged_in(app: App, name: str = "bien-tap", role: str = "editor", **extra: object) -> tuple[TestClient, str]:
    """A client logged in as a new account *name*, and its session's CSRF token."""
    add_user(app, name, role, **extra)
    return login_as(app, name)


def _day(offset: int, iso: bool = False) -> str:
    day = TODAY + timedelta(days=offset)
    return day.isoformat() if iso else day.strftime("%d/%m/%Y")


def _form(token: str, **fields: str) -> dict[str, str]:
    """A complete form for a new policy of agency tinh (Vietnamese, DD/MM/YYYY dates)."""
    form = {"csrf_token": token, "agency": "tinh", "code": "12/2026/NQ-HĐND",
            "title": "Nghị quyết quy định mức hỗ trợ học phí", "summary": "Hỗ trợ học phí cho học sinh vùng khó khăn.",
            "impact": "high", "consultation_opens": _day(10), "consultation_closes": _day(40), "passed_on": "",
            "issued_on": "", "draft_url": "https://tinh.example.gov.vn/du-thao/12",
            "key_points": "Miễn 100% học phí\nHỗ trợ tiền ăn trưa\n", "affected": "Học sinh, phụ huynh",
            "comment_how": "Gửi ý kiến qua Cổng thông tin điện tử tỉnh"}
    return {**form, **fields}


def _policy(app: App, code: str = POLICY["code"], agency: str = "tinh", **extra: Any) -> Any:
    data = {**POLICY, "code": code, "agency": agency, "consultation_opens": _day(10, iso=True),
            "consultation_closes": _day(40, iso=True), **extra}
    return service.add_policy(app, "bien-tap", data)


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error" role="alert">([^<]*)<', html)
    assert found, f"no error at {field}"
    return found.group(1)


# --- list, search, create, edit ----------------------------------------------------------------

def test_create_list_search_show_and_edit_round_trip(app):
    client, token = _logged_in(app)
    empty = client.get("/policies")
    assert empty.status_code == 200 and "Chưa có chính sách nào" in empty.text and 'href="/policies/new"' in empty.text
    new = client.get("/policies/new")
    assert new.status_code == 200 and 'action="/policies/new"' in new.text
    assert all(f'name="{field}"' in new.text for field in FIELDS)
    created = client.post("/policies/new", data=_form(token), follow_redirects=False)
    assert created.status_code == 303
    pid = int(created.headers["location"].split("/")[2].split("?")[0])
    shown = client.get(created.headers["location"])
    assert shown.status_code == 200 and "Đã thêm chính sách." in shown.text
    assert "Nghị quyết quy định mức hỗ trợ học phí" in shown.text and "Miễn 100% học phí</li>" in shown.text
    assert _day(10) in shown.text and "tác động lớn" in shown.text
    stored = service.get_policy(app, "12/2026/NQ-HĐND", "tinh")
    assert stored.id == pid and stored.created_by == "bien-tap" and stored.consultation_opens == TODAY + timedelta(10)
    assert stored.key_points == ("Miễn 100% học phí", "Hỗ trợ tiền ăn trưa") and stored.impact == Impact.HIGH
    _policy(app, "15/2026/QĐ-UBND", title="Quyết định về phí tham quan")
    listed = client.get("/policies").text
    assert "2 chính sách" in listed and f'href="/policies/{pid}"' in listed
    assert listed.index("12/2026/NQ-HĐND") < listed.index("15/2026/QĐ-UBND")
    assert f"{_day(10)} – {_day(40)}" in listed
    decomposed = unicodedata.normalize("NFD", "HỌC PHÍ")
    for query in (decomposed, "học phí", "hoc phi", "nq-hđnd", "12/2026"):
        found = client.get("/policies", params={"q": query}).text
        assert "1 chính sách" in found and "12/2026/NQ-HĐND" in found and "15/2026/QĐ-UBND" not in found, query
    assert "khớp với “hộc phì”" in client.get("/policies", params={"q": "hộc phì"}).text  # marks typed: exact
    edit = client.get(f"/policies/{pid}/edit")
    assert edit.status_code == 200 and f'value="{_day(10)}"' in edit.text
    assert "Miễn 100% học phí\nHỗ trợ tiền ăn trưa</textarea>" in edit.text
    form = _form(token, title="Nghị quyết sửa đổi mức hỗ trợ học phí", consultation_closes=_day(45, iso=True),
                 passed_on=_day(60), key_points="Ý một\nÝ hai\nÝ ba")
    saved = client.post(f"/policies/{pid}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/policies/{pid}?done=saved"
    assert "Đã lưu các thay đổi." in client.get(saved.headers["location"]).text
    changed = service.get_policy(app, "12/2026/NQ-HĐND", "tinh")
    assert changed.title == "Nghị quyết sửa đổi mức hỗ trợ học phí" and changed.key_points == ("Ý một", "Ý hai", "Ý ba")
    assert changed.consultation_closes == TODAY + timedelta(45) and changed.passed_on == TODAY + timedelta(60)
    assert changed.code == "12/2026/NQ-HĐND" and changed.agency == "tinh"


def test_the_pages_switch_to_english(app):
    client, _ = _logged_in(app)
    policy = _policy(app)
    client.get("/lang/en")
    assert "Search by code or title" in client.get("/policies").text
    assert "Plan the campaign" in client.get(f"/policies/{policy.id}").text
    assert "Edit policy" in client.get(f"/policies/{policy.id}/edit").text


def test_the_campaign_button_shows_what_it_planned_in_local_time(app):
    client, token = _logged_in(app)
    policy = _policy(app)
    page = client.get(f"/policies/{policy.id}")
    assert f'action="/policies/{policy.id}/campaign"' in page.text
    planned = client.post(f"/policies/{policy.id}/campaign", data={"csrf_token": token})
    assert planned.status_code == 200
    rows = re.findall(r'<tr class="step-(\w+)">\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>',
                      planned.text)
    assert [(r[0], r[1]) for r in rows] == [("created", "Mở lấy ý kiến"), ("created", "Nhắc hạn góp ý"),
                                            ("no_date", "Thông qua"), ("no_date", "Ban hành")]
    assert rows[0][2] == "đã tạo bản nháp chờ duyệt" and rows[2][2] == "chưa có ngày"
    assert rows[0][3] == f"{_day(10)} 08:00" and rows[2][3] == "—"  # publish_time in Asia/Ho_Chi_Minh
    drafts = {p.moment: p for p, _ in posts.list_posts(app, policy_code=policy.code)}
    assert set(drafts) == {"opens", "reminder"} and drafts["opens"].author == "bien-tap"
    again = client.post(f"/policies/{policy.id}/campaign", data={"csrf_token": token}).text
    assert again.count('class="step-unchanged"') == 2
    moved = client.post(f"/policies/{policy.id}/edit", data=_form(token, consultation_opens=_day(12)))
    assert moved.status_code == 200 and "Đã lưu các thay đổi." in moved.text  # the re-planned drafts are shown
    assert 'class="step-replanned"' in moved.text and f"{_day(12)} 08:00" in moved.text


def test_a_campaign_without_channels_is_explained(app, project: Path):
    client, token = _logged_in(app)
    config = project / "config.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[agencies.huyen]\nname = "UBND huyện"\n',
                      encoding="utf-8")
    other = App.open(config)  # the same database, one more agency (without channels)
    try:
        policy = _policy(other, agency="huyen")
        client = TestClient(create_app(other, secret=SECRET), cookies=client.cookies)
        refused = client.post(f"/policies/{policy.id}/campaign", data={"csrf_token": token})
    finally:
        other.close()
    assert refused.status_code == 400 and "chưa có kênh nào đang bật" in refused.text


# --- errors at their field ---------------------------------------------------------------------------

def test_a_bad_date_and_a_duplicate_code_are_shown_at_their_field_with_the_input_kept(app):
    client, token = _logged_in(app)
    bad = client.post("/policies/new", data=_form(token, consultation_opens="31/02/2026", title="Tiêu đề đã gõ"))
    assert bad.status_code == 400 and "31/02/2026" in _field_error(bad.text, "consultation_opens")
    assert 'value="31/02/2026"' in bad.text and 'value="Tiêu đề đã gõ"' in bad.text
    assert 'aria-invalid="true" aria-describedby="consultation_opens-error"' in bad.text
    assert "Chưa lưu được" in bad.text and service.list_policies(app) == []
    order = client.post("/policies/new", data=_form(token, consultation_opens=_day(30), consultation_closes=_day(5)))
    assert order.status_code == 400 and "consultation_closes" in _field_error(order.text, "consultation_closes")
    url = client.post("/policies/new", data=_form(token, draft_url="tinh.example.gov.vn"))
    assert url.status_code == 400 and "http" in _field_error(url.text, "draft_url")
    assert client.post("/policies/new", data=_form(token), follow_redirects=False).status_code == 303
    twice = client.post("/policies/new", data=_form(token, summary="Tóm tắt khác"))
    assert twice.status_code == 400 and "đã có" in _field_error(twice.text, "code")
    assert "Tóm tắt khác</textarea>" in twice.text and 'value="12/2026/NQ-HĐND"' in twice.text
    long_code = client.post("/policies/new", data=_form(token, code="X" * 101))
    assert long_code.status_code == 400 and "100" in _field_error(long_code.text, "code")
    missing = client.post("/policies/new", data=_form(token, title="  "))
    assert missing.status_code == 400 and "title" in _field_error(missing.text, "title")
    pid = service.get_policy(app, "12/2026/NQ-HĐND").id
    edit = client.post(f"/policies/{pid}/edit", data=_form(token, issued_on="2026-13-01", affected="Đã sửa"))
    assert edit.status_code == 400 and "2026-13-01" in _field_error(edit.text, "issued_on")
    assert 'value="Đã sửa"' in edit.text
    assert service.get_policy(app, "12/2026/NQ-HĐND").affected == "Học sinh, phụ huynh"
    five = "\n".join(f"Ý {n}" for n in range(6))
    many = client.post(f"/policies/{pid}/edit", data=_form(token, key_points=five))
    assert many.status_code == 400 and "5" in _field_error(many.text, "key_points") and "Ý 5</textarea>" in many.text


# --- roles and agencies -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["auditor", "approver"])
def test_auditors_and_approvers_read_but_are_refused_every_change(app, role):
    policy = _policy(app)
    client, token = _logged_in(app, "nguoi-doc", role)
    listed = client.get("/policies")
    assert listed.status_code == 200 and policy.code in listed.text and "/policies/new" not in listed.text
    shown = client.get(f"/policies/{policy.id}")
    assert shown.status_code == 200 and "/campaign" not in shown.text and "/edit" not in shown.text
    for path in ("/policies/new", f"/policies/{policy.id}/edit"):
        refused = client.get(path)
        assert refused.status_code == 403 and "Vai trò của bạn không được làm việc này" in refused.text
    for path in ("/policies/new", f"/policies/{policy.id}/edit", f"/policies/{policy.id}/campaign"):
        assert client.post(path, data=_form(token, code="99/2026/NQ")).status_code == 403, path
    api = {"X-CSRF-Token": token}
    assert client.get("/api/v1/policies").status_code == 200
    assert client.post("/api/v1/policies", json={"code": "99/NQ", "title": "x", "summary": "y"},
                       headers=api).status_code == 403
    assert client.patch(f"/api/v1/policies/{policy.id}", json={"title": "x"}, headers=api).status_code == 403
    assert client.post(f"/api/v1/policies/{policy.id}/campaign", headers=api).status_code == 403
    assert [p.code for p in service.list_policies(app)] == [policy.code] and posts.list_posts(app) == []
    assert service.get_policy(app, policy.code).title == policy.title


def test_an_agency_bound_editor_never_sees_nor_touches_another_agencys_policy(app):
    theirs = _policy(app, "01/2026/NQ-HĐND", "tinh", title="Chính sách của tỉnh")
    ours = _policy(app, "02/2026/NQ-HĐND", "xa", title="Chính sách của xã")
    client, token = _logged_in(app, "bien-tap-xa", "editor", agency="xa")
    listed = client.get("/policies").text
    assert "Chính sách của xã" in listed and "Chính sách của tỉnh" not in listed and "01/2026" not in listed
    assert "Chính sách của tỉnh" not in client.get("/policies", params={"q": "tỉnh"}).text
    assert client.get(f"/policies/{ours.id}").status_code == 200
    for path in (f"/policies/{theirs.id}", f"/policies/{theirs.id}/edit", "/policies/999999", "/policies/99999999999"):
        missing = client.get(path)
        assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text, path
    for path in (f"/policies/{theirs.id}/edit", f"/policies/{theirs.id}/campaign"):
        assert client.post(path, data=_form(token, title="Đổi trộm")).status_code == 404, path
    api = {"X-CSRF-Token": token}
    assert [p["code"] for p in client.get("/api/v1/policies").json()] == ["02/2026/NQ-HĐND"]
    assert client.get(f"/api/v1/policies/{theirs.id}").status_code == 404
    assert client.patch(f"/api/v1/policies/{theirs.id}", json={"title": "Đổi"}, headers=api).status_code == 404
    assert client.post(f"/api/v1/policies/{theirs.id}/campaign", headers=api).status_code == 404
    assert service.get_policy(app, theirs.code).title == "Chính sách của tỉnh" and posts.list_posts(app) == []
    form = client.get("/policies/new").text
    assert '<option value="xa" selected>' in form and 'value="tinh"' not in form
    assert client.post("/policies/new", data=_form(token, code="03/NQ", agency="tinh")).status_code == 403
    assert client.post("/api/v1/policies", json={"code": "03/NQ", "title": "t", "summary": "s", "agency": "tinh"},
                       headers=api).status_code == 403
    assert not any(p.code == "03/NQ" for p in service.list_policies(app))
    made = client.post("/policies/new", data=_form(token, code="04/NQ", agency=""), follow_redirects=False)
    assert made.status_code == 303 and service.get_policy(app, "04/NQ").agency == "xa"


# --- escaping ------------------------------------------------------------------------------------------

def test_a_script_in_every_text_field_comes_back_inert(app):
    client, token = _logged_in(app)
    text = {field: f"{field} {XSS}" for field in ("code", "title", "summary", "affected", "comment_how")}
    text["code"] = f"1{XSS}"[:100]
    form = _form(token, **text, key_points=f"Ý {XSS}\nÝ hai", draft_url='https://x.example/"><script>a(1)</script>')
    created = client.post("/policies/new", data=form, follow_redirects=False)
    assert created.status_code == 303
    pid = created.headers["location"].split("/")[2].split("?")[0]
    stored = service.get_policy(app, text["code"])
    assert stored.title == text["title"] and stored.key_points[0] == f"Ý {XSS}"  # stored as typed
    pages = [client.get(path) for path in ("/policies", f"/policies/{pid}", f"/policies/{pid}/edit")]
    pages.append(client.get("/policies", params={"q": XSS}))
    pages.append(client.post("/policies/new", data=_form(token, consultation_opens=XSS, title=XSS)))  # error page
    pages.append(client.post("/policies/new", data=form))  # duplicate: the code in the message
    for page in pages:
        assert page.status_code in (200, 400), page.url
        assert "<script" not in page.text and "<img src=x" not in page.text, page.url
        assert "&lt;script&gt;" in page.text, page.url
    api = client.get(f"/api/v1/policies/{pid}")
    assert api.json()["title"] == text["title"] and api.headers["content-type"].startswith("application/json")


# --- the API --------------------------------------------------------------------------------------------

def test_the_api_round_trip(app):
    anonymous = web_client(app)
    assert anonymous.get("/api/v1/policies").status_code == 401
    client, token = _logged_in(app)
    api = {"X-CSRF-Token": token}
    assert client.get("/api/v1/policies").json() == []
    body = {"agency": "tinh", "code": "12/2026/NQ-HĐND", "title": "Nghị quyết hỗ trợ học phí", "summary": "Tóm tắt",
            "consultation_opens": _day(10), "consultation_closes": _day(40, iso=True),
            "key_points": ["Miễn học phí", "Hỗ trợ ăn trưa"]}
    assert client.post("/api/v1/policies", json=body).status_code == 403  # no X-CSRF-Token
    created = client.post("/api/v1/policies", json=body, headers=api)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["consultation_opens"] == _day(10, iso=True) and made["impact"] == "high"
    assert made["created_by"] == "bien-tap" and made["key_points"] == ["Miễn học phí", "Hỗ trợ ăn trưa"]
    assert client.get(f"/api/v1/policies/{made['id']}").json() == made
    assert [p["id"] for p in client.get("/api/v1/policies", params={"q": "HOC PHI"}).json()] == [made["id"]]
    assert client.get("/api/v1/policies", params={"q": "không có"}).json() == []
    twice = client.post("/api/v1/policies", json=body, headers=api)
    assert twice.status_code == 400 and twice.json()["field"] == "code" and "đã có" in twice.json()["detail"]
    bad = client.post("/api/v1/policies", json={**body, "code": "13/NQ", "passed_on": "hôm qua"}, headers=api)
    assert bad.status_code == 400 and bad.json()["field"] == "passed_on"
    assert client.post("/api/v1/policies", json={"code": "13/NQ"}, headers=api).status_code == 422
    ancient = client.post("/api/v1/policies", json={**body, "code": "13/NQ", "issued_on": "0001-01-01"}, headers=api)
    assert ancient.status_code == 400 and ancient.json()["field"] == "issued_on"  # no overflow when planning
    assert client.post("/api/v1/policies", json={**body, "code": "14/NQ", "title": "a\x00b"},
                       headers=api).status_code == 400
    planned = client.post(f"/api/v1/policies/{made['id']}/campaign", headers=api)
    assert planned.status_code == 200
    steps = {s["moment"]: s for s in planned.json()}
    assert list(steps) == list(MOMENTS) and steps["opens"]["action"] == "created"
    assert steps["opens"]["at"] == f"{_day(10, iso=True)}T08:00:00+07:00" and steps["passed"]["at"] is None
    change = {"consultation_opens": _day(11), "affected": "Mọi người"}
    patched = client.patch(f"/api/v1/policies/{made['id']}", json=change, headers=api)
    assert patched.status_code == 200, patched.text
    change = patched.json()
    assert change["changed"] == ["affected", "consultation_opens"] and change["policy"]["title"] == body["title"]
    assert {s["moment"]: s["action"] for s in change["campaign"]}["opens"] == "replanned"
    assert client.patch(f"/api/v1/policies/{made['id']}", json={}, headers=api).json()["changed"] == []
    backwards = {"issued_on": "01/01/2000", "passed_on": "02/01/2000"}
    refused = client.patch(f"/api/v1/policies/{made['id']}", json=backwards, headers=api)
    assert refused.status_code == 400 and refused.json()["field"] == "issued_on"
    assert client.get("/api/v1/policies/999999").status_code == 404
    assert client.get("/api/v1/policies/99999999999").status_code == 422
    assert client.get("/api/v1/policies/0").status_code == 422


def test_the_openapi_document_describes_the_policies_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/policies"]) == {"get", "post"}
    assert set(paths["/api/v1/policies/{pid}"]) == {"get", "patch"}
    assert set(paths["/api/v1/policies/{pid}/campaign"]) == {"post"}
    assert all(path.startswith("/api/") for path in paths)  # the pages stay out
    schemas = spec["components"]["schemas"]
    assert {"PolicyOut", "PolicyNew", "PolicyEdit", "PolicyChanged", "CampaignStep", "InvalidInput"} <= set(schemas)
    assert set(schemas["PolicyNew"]["required"]) == {"code", "title", "summary"}
    assert "400" in paths["/api/v1/policies"]["post"]["responses"]


def test_every_word_of_the_policies_pages_is_in_both_languages():
    folder = PACKAGE_TEMPLATES / "policies"
    used: set[str] = {"web.policies.created", "web.policies.saved"}  # notices named by the routes
    for path in folder.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    prefixes = {key for key in used if key.endswith(".")}
    assert prefixes == {"impact.", "col.", "moment.", "campaign."}
    completions = {"impact.": [i.value for i in Impact], "col.": ["consultation_opens", "consultation_closes",
                   "passed_on", "issued_on"], "moment.": list(MOMENTS), "campaign.": list(ACTIONS)}
    used = (used - prefixes) | {prefix + end for prefix, ends in completions.items() for end in ends}
    raw = i18n.raw_catalogue()
    missing = sorted(key for key in used if set(raw.get(key, {})) != set(i18n.LANGUAGES))
    assert len(used) > 40 and missing == []


# --- in a real browser -----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[str]:
    """``publisher web`` on a free loopback port, with an editor account (as in test_web_browser.py)."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    with web_server(project) as url:
        yield url


def test_an_editor_creates_a_vietnamese_policy_in_the_browser(site: str, browser: Any) -> None:
    with watched(browser) as (page, _):  # the strict CSP blocks nothing, no request fails
        browser_login(page, site, "bien-tap")
        page.goto(f"{site}/policies")
        page.click("a[href='/policies/new']")
        page.wait_for_load_state()
        page.select_option("#agency", "tinh")
        page.fill("#code", "25/2026/NQ-HĐND")
        page.fill("#title", "Nghị quyết về hỗ trợ đào tạo nghề cho lao động nông thôn")
        page.fill("#summary", "Hỗ trợ chi phí học nghề cho người lao động ở xã đặc biệt khó khăn.")
        page.fill("#consultation_opens", _day(7))
        page.fill("#consultation_closes", _day(37))
        page.fill("#key_points", "Hỗ trợ 100% học phí\nHỗ trợ tiền ăn 30.000 đồng/ngày\nƯu tiên người dân tộc thiểu số")
        page.fill("#affected", "Lao động nông thôn, người dân tộc thiểu số")
        shot(page, "web-policy-form")
        page.click(".policy-actions button[type=submit]")
        page.wait_for_load_state()
        details = page.inner_text("main")
        assert "Đã thêm chính sách." in details and "Ưu tiên người dân tộc thiểu số" in details
        page.click("a[href='/policies']")
        page.wait_for_load_state()
        listed = page.inner_text("table")
        shot(page, "web-policies-list")
        assert "25/2026/NQ-HĐND" in listed and "Nghị quyết về hỗ trợ đào tạo nghề" in listed
        assert f"{_day(7)} – {_day(37)}" in listed
        styled = page.evaluate("getComputedStyle(document.querySelector('.policy-table th')).whiteSpace")
    assert styled == "nowrap"  # web.css's policies rules are loaded
