"""The admin pages (issue 8): /users and /channels and their API, admins only; ``publisher user role``.

Accounts are changed through the forms and the API exactly as an admin does,
and checked in the database and the journal (the acting admin is the actor).
The channels include a Facebook Page whose token comes from an environment
variable set to a known value, and a webhook whose key is in a file: neither
value may ever reach a page or an answer.  Every case with a database runs
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from publisher import account_changes, accounts, holds, journal, tokens
from publisher.access import Role
from publisher.context import App
from publisher.errors import StateError
from publisher.store.engine import read
from publisher.store.schema import metadata
from publisher.web.routes.home import PAGES

from .conftest import BASE_CONFIG, ROOT, run_cli, web_server
from .webtools import PASSWORD, RAW_XSS, XSS, add_user, browser_login, login_as, post_login, shot, watched, web_client

HERE = {"PYTHONPATH": str(ROOT)}
NEW_PASSWORD = "một mật khẩu mới dài"
FB_TOKEN = "EAAB-gia-tri-bi-mat-cua-trang-0001"
HOOK_KEY = "khoa-hmac-bi-mat-cua-webhook-0002"
CHANNELS = """
[channels.fb-thu]
type = "facebook"
agency = "tinh"
format = "facebook"
page_id = "111111"
token_env = "FB_THU_TOKEN"
base_url = "http://127.0.0.1:9"
connect_timeout = 0.5
read_timeout = 0.5
max_per_hour = 6

[channels.wh-thu]
type = "webhook"
agency = "xa"
format = "facebook"
url = "http://127.0.0.1:9/hook"
secret_file = "hook.key"
"""
ROLES = (("bien-tap", "editor"), ("truong-phong", "approver"), ("kiem-tra", "auditor"))


@pytest.fixture
def app(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The test config plus a Facebook channel and a webhook with secrets; an admin and one account per role."""
    (project / "config.toml").write_text(BASE_CONFIG + CHANNELS, encoding="utf-8")
    (project / "hook.key").write_text(HOOK_KEY + "\n", encoding="utf-8")
    monkeypatch.setenv("FB_THU_TOKEN", FB_TOKEN)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    opened = App.open(project / "config.toml")
    add_user(opened, "quan-tri", "admin")
    for name, role in ROLES:
        add_user(opened, name, role, agency="tinh")
    yield opened
    opened.close()


def _events(app: App, subject: str) -> list[tuple[str, str, dict[str, Any]]]:
    with read(app.engine) as conn:
        return [(e.actor, e.event, e.payload) for e in journal.entries(conn, subject)]


def _api(client: Any, token: str, method: str, path: str, **kwargs: Any) -> Any:
    """An API call from a logged-in browser session (the CSRF token in its header)."""
    return client.request(method, path, headers={"X-CSRF-Token": token}, **kwargs)


# --- who may -----------------------------------------------------------------------------------------

PAGE_POSTS = ("/users", "/users/bien-tap/edit", "/users/bien-tap/password", "/users/bien-tap/disable",
              "/users/bien-tap/enable", "/users/bien-tap/tokens", "/users/bien-tap/tokens/1/revoke",
              "/channels/portal/check", "/channels/portal/hold", "/channels/portal/release")
API_CALLS = (("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/bien-tap"),
             ("POST", "/api/v1/users/bien-tap/password"), ("POST", "/api/v1/users/bien-tap/disable"),
             ("POST", "/api/v1/users/bien-tap/enable"), ("GET", "/api/v1/users/bien-tap/tokens"),
             ("POST", "/api/v1/tokens/1/revoke"), ("GET", "/api/v1/channels"),
             ("POST", "/api/v1/channels/portal/check"), ("POST", "/api/v1/channels/portal/hold"),
             ("POST", "/api/v1/channels/portal/release"))


def test_only_admins_get_the_pages_and_the_api(app):
    tokens.create(app, "quan-tri", "bien-tap")
    for name, _ in ROLES:
        client, token = login_as(app, name)
        for path in ("/users", "/users/bien-tap", "/channels"):
            assert client.get(path).status_code == 403, (name, path)
        for path in PAGE_POSTS:
            answer = client.post(path, data={"csrf_token": token, "reason": "x", "role": "admin"})
            assert answer.status_code == 403 and "Vai trò của bạn" in answer.text, (name, path)
        for method, path in API_CALLS:
            assert _api(client, token, method, path, json={"reason": "x"}).status_code == 403, (name, path)
        dashboard = client.get("/").text
        assert 'href="/users"' not in dashboard and 'href="/channels"' not in dashboard
    nobody = web_client(app)
    for path in ("/users", "/users/bien-tap", "/channels"):
        answer = nobody.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=%2F"), path
    for method, path in API_CALLS:
        assert nobody.request(method, path, json={}).status_code in (401, 403), path  # 403: no CSRF token
        if method == "GET":
            assert nobody.get(path).status_code == 401, path
    assert holds.current(app) == {} and accounts.get_user(app, "bien-tap").role is Role.EDITOR
    assert tokens.list_tokens(app, "bien-tap")[0].revoked_at is None  # nothing changed
    admin, _ = login_as(app, "quan-tri")
    links = admin.get("/").text
    assert 'href="/users"' in links and 'href="/channels"' in links and "Kênh đăng" in links
    for href in ('href="/users"', 'href="/channels"'):
        assert 'class="soon"' not in links.split(href, 1)[1].split("</li>")[0]  # ready, not announced
    assert {p.key: p.action for p in PAGES}["channels"] == "channels.manage"


# --- accounts through the forms --------------------------------------------------------------------

def test_an_admin_adds_edits_resets_disables_and_enables_an_account_through_the_forms(app):
    client, token = login_as(app, "quan-tri")
    added = client.post("/users", data={"csrf_token": token, "username": "Le.Thu", "display_name": "Lê Thị Thu",
                                        "role": "approver", "agency": "xa", "password": PASSWORD,
                                        "password2": PASSWORD}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/users/le.thu?done=created"
    page = client.get(added.headers["location"]).text
    assert "Đã tạo tài khoản." in page and "người duyệt bài" in page and "Ủy ban nhân dân xã Thử Nghiệm" in page
    listing = client.get("/users").text
    created = accounts.get_user(app, "le.thu")
    local = created.created_at.astimezone(app.config.timezone).strftime("%d/%m/%Y %H:%M")
    assert 'href="/users/le.thu"' in listing and "Lê Thị Thu" in listing and local in listing
    assert listing.count("Đang hoạt động") == 5
    assert "Mọi cơ quan" in listing.split('href="/users/quan-tri"', 1)[1].split("</tr>")[0]  # every agency
    edited = client.post("/users/le.thu/edit", data={"csrf_token": token, "display_name": "Lê Thu",
                                                     "role": "editor", "agency": ""}, follow_redirects=False)
    assert edited.headers["location"] == "/users/le.thu?done=saved"
    changed = accounts.get_user(app, "le.thu")
    assert (changed.display_name, changed.role, changed.agency) == ("Lê Thu", Role.EDITOR, None)
    them, _ = login_as(app, "le.thu")
    reset = client.post("/users/le.thu/password", data={"csrf_token": token, "password": NEW_PASSWORD,
                                                        "password2": NEW_PASSWORD}, follow_redirects=False)
    assert reset.headers["location"] == "/users/le.thu?done=password"
    assert them.get("/", follow_redirects=False).headers["location"] == "/login"  # the new password ended it
    assert accounts.authenticate(app, "le.thu", NEW_PASSWORD) is not None
    again, _ = login_as(app, "bien-tap")
    assert client.post("/users/bien-tap/disable", data={"csrf_token": token},
                       follow_redirects=False).headers["location"] == "/users/bien-tap?done=disabled"
    ended = again.get("/", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/login"  # a disabled user's session ends
    assert post_login(again, "bien-tap").status_code == 400
    assert "Đã khóa từ" in client.get("/users").text
    assert client.post("/users/bien-tap/enable", data={"csrf_token": token},
                       follow_redirects=False).headers["location"] == "/users/bien-tap?done=enabled"
    assert post_login(again, "bien-tap").status_code == 303
    events = _events(app, "user:le.thu")
    assert [(actor, event) for actor, event, _ in events] == [
        ("quan-tri", "user.created"), ("quan-tri", "user.updated"), ("quan-tri", "user.password_changed")]
    assert events[1][2] == {"display_name": {"from": "Lê Thị Thu", "to": "Lê Thu"},
                            "role": {"from": "approver", "to": "editor"}, "agency": {"from": "xa", "to": None}}
    assert [(a, e) for a, e, _ in _events(app, "user:bien-tap")][-2:] == [("quan-tri", "user.disabled"),
                                                                         ("quan-tri", "user.enabled")]
    assert PASSWORD not in str(_events(app, "user:")) and NEW_PASSWORD not in str(_events(app, "user:"))


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"username": "a b"}, "username", "không hợp lệ"),
    ({"username": "BIEN-TAP"}, "username", "đã có"),
    ({"password": "ngắn"}, "password", "quá ngắn"),
    ({"password2": PASSWORD + "!"}, "password2", "không khớp"),
    ({"password": "moi.nguoi.2026", "password2": "moi.nguoi.2026"}, "password", "trùng với tên đăng nhập"),
    ({"display_name": "Tên\x07lạ"}, "display_name", "không hợp lệ"),
    ({"agency": "khong-co"}, "agency", "không có trong config.toml"),
    ({"role": "sep"}, "role", "không có"),
])
def test_add_form_errors_sit_at_their_field_and_keep_what_was_typed(app, form, field, words):
    client, token = login_as(app, "quan-tri")
    typed = {"csrf_token": token, "username": "moi.nguoi.2026", "display_name": "Nguyễn Văn Mới", "role": "auditor",
             "agency": "tinh", "password": PASSWORD, "password2": PASSWORD, **form}
    answer = client.post("/users", data=typed)
    assert answer.status_code == 400
    html = answer.text
    error = html.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert words in error and f'aria-describedby="{field}-error"' in html
    assert f'value="{typed["username"]}"' in html
    assert field == "role" or 'value="auditor" selected' in html
    assert field == "display_name" or 'value="Nguyễn Văn Mới"' in html
    assert PASSWORD not in html and not re.search(r'<input[^>]*type="password"[^>]*value=', html)  # never echoed
    assert [u.username for u in accounts.list_users(app)] == ["bien-tap", "kiem-tra", "quan-tri", "truong-phong"]


def test_nobody_disables_or_demotes_themselves_and_the_last_admin_stays(app, monkeypatch):
    client, token = login_as(app, "quan-tri")
    refused = client.post("/users/quan-tri/disable", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "không thể tự khóa" in refused.text.split('id="state-error"', 1)[1].split("</p>")[0]
    demoted = client.post("/users/quan-tri/edit", data={"csrf_token": token, "display_name": "Quản Trị",
                                                       "role": "auditor", "agency": ""})
    assert demoted.status_code == 409
    assert "không thể tự bỏ quyền quản trị" in demoted.text.split('id="role-error"', 1)[1].split("</p>")[0]
    assert 'value="Quản Trị"' in demoted.text and 'value="auditor" selected' in demoted.text  # as typed
    assert accounts.get_user(app, "quan-tri").role is Role.ADMIN
    assert accounts.get_user(app, "quan-tri").display_name is None and _events(app, "user:quan-tri")[1:] == []
    # a second admin may demote the first; then the second is the last one, whoever asks
    add_user(app, "quan-tri-2", "admin")
    other, other_token = login_as(app, "quan-tri-2")
    done = other.post("/users/quan-tri/edit", data={"csrf_token": other_token, "display_name": "",
                                                    "role": "approver", "agency": "tinh"}, follow_redirects=False)
    assert done.status_code == 303 and accounts.get_user(app, "quan-tri").role is Role.APPROVER
    for change in (lambda: accounts.disable(app, "root", "quan-tri-2"),
                   lambda: accounts.set_role(app, "root", "quan-tri-2", "editor")):
        with pytest.raises(StateError) as last:
            change()
        assert last.value.key == "user.last_admin"
    assert accounts.set_role(app, "root", "quan-tri-2", "admin", "xa").agency == "xa"  # still admin: allowed
    # two admins demoting each other at once: the second finds no other admin left (the count is the truth)
    monkeypatch.setattr(account_changes, "_active_admins", lambda conn: 1)
    add_user(app, "quan-tri-3", "admin")
    raced = other.post("/users/quan-tri-3/disable", data={"csrf_token": other_token})
    assert raced.status_code == 409
    assert "quản trị viên cuối cùng" in raced.text.split('id="state-error"', 1)[1].split("</p>")[0]
    assert accounts.get_user(app, "quan-tri-3").disabled_at is None


def test_tokens_on_the_account_page_shown_once_and_revoked(app):
    client, token = login_as(app, "quan-tri")
    old, _ = tokens.create(app, "quan-tri", "kiem-tra", label="cũ")
    made = client.post("/users/kiem-tra/tokens", data={"csrf_token": token, "label": "báo cáo <b>", "days": "7"})
    assert made.status_code == 200 and "không hiện lại lần nào nữa" in made.text
    secret = made.text.split('<code id="secret">', 1)[1].split("</code>", 1)[0]
    assert secret.startswith("pub_") and len(secret) == 44
    script = web_client(app)
    me = script.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["username"] == "kiem-tra" and me["role"] == "auditor"
    page = client.get("/users/kiem-tra").text
    assert secret not in page and "báo cáo &lt;b&gt;" in page and page.count("Thu hồi</button>") == 2
    bad = client.post("/users/kiem-tra/tokens", data={"csrf_token": token, "label": "x", "days": "9999"})
    assert bad.status_code == 400 and "3650" in bad.text.split('id="days-error"', 1)[1].split("</p>")[0]
    assert 'value="9999"' in bad.text
    assert client.post(f"/users/bien-tap/tokens/{old.id}/revoke", data={"csrf_token": token}).status_code == 404
    done = client.post(f"/users/kiem-tra/tokens/{old.id}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert done.headers["location"] == "/users/kiem-tra?done=revoked"
    again = client.post(f"/users/kiem-tra/tokens/{old.id}/revoke", data={"csrf_token": token})
    assert again.status_code == 409 and "đã bị thu hồi" in again.text
    accounts.disable(app, "quan-tri", "bien-tap")
    refused = client.post("/users/bien-tap/tokens", data={"csrf_token": token, "label": "x"})
    assert refused.status_code == 409 and tokens.list_tokens(app, "bien-tap") == []
    assert "bị khóa" in refused.text.split('id="tokens-error"', 1)[1].split("</p>")[0]
    states = [k.state() for k in tokens.list_tokens(app, "kiem-tra")]
    assert states == ["revoked", "active"]
    assert [(a, e) for a, e, _ in _events(app, "user:kiem-tra")][-2:] == [("quan-tri", "token.created"),
                                                                         ("quan-tri", "token.revoked")]
    with read(app.engine) as conn:  # not in any row of any table (the journal included)
        stored = "\n".join(repr(tuple(r)) for table in metadata.sorted_tables for r in conn.execute(select(table)))
    assert secret not in stored and tokens.digest(secret) in stored


# --- accounts through the API ----------------------------------------------------------------------

def test_the_users_api_round_trip(app):
    client, token = login_as(app, "quan-tri")
    made = _api(client, token, "POST", "/api/v1/users", json={
        "username": "Script.User", "role": "auditor", "display_name": XSS, "password": PASSWORD})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["username"], body["role"], body["agency"], body["display_name"]) == (
        "script.user", "auditor", None, XSS)
    assert PASSWORD not in made.text and "hash" not in made.text
    twice = _api(client, token, "POST", "/api/v1/users", json={"username": "SCRIPT.USER", "role": "editor",
                                                                "password": PASSWORD})
    assert twice.status_code == 400 and twice.json()["field"] == "username"
    short = _api(client, token, "POST", "/api/v1/users/script.user/password", json={"password": "abc-123"})
    assert short.status_code == 400 and short.json()["field"] == "password" and "abc-123" not in short.text
    assert _api(client, token, "POST", "/api/v1/users/script.user/password",
                json={"password": NEW_PASSWORD}).status_code == 200
    changed = _api(client, token, "PATCH", "/api/v1/users/script.user", json={"agency": "tinh"}).json()
    assert (changed["role"], changed["agency"], changed["display_name"]) == ("auditor", "tinh", XSS)  # rest kept
    cleared = _api(client, token, "PATCH", "/api/v1/users/script.user", json={"agency": None, "role": "editor"})
    assert (cleared.json()["agency"], cleared.json()["role"]) == (None, "editor")
    bad = _api(client, token, "PATCH", "/api/v1/users/script.user", json={"agency": "khong-co"})
    assert bad.status_code == 400 and bad.json()["field"] == "agency"
    assert _api(client, token, "PATCH", "/api/v1/users/quan-tri", json={"role": "editor"}).status_code == 409
    assert _api(client, token, "POST", "/api/v1/users/quan-tri/disable").status_code == 409
    assert _api(client, token, "POST", "/api/v1/users/script.user/disable").json()["disabled_at"] is not None
    assert _api(client, token, "POST", "/api/v1/users/script.user/disable").status_code == 409
    assert _api(client, token, "POST", "/api/v1/users/script.user/enable").json()["disabled_at"] is None
    for path in ("/api/v1/users/khong-co/tokens", "/api/v1/users/a%20b/tokens", "/api/v1/tokens/99999/revoke"):
        method = "GET" if path.endswith("tokens") else "POST"
        assert _api(client, token, method, path).status_code == 404, path
    made_token, _ = tokens.create(app, "quan-tri", "script.user", label="đêm")
    listed = _api(client, token, "GET", "/api/v1/users/script.user/tokens").json()
    assert [(k["id"], k["label"], k["state"]) for k in listed] == [(made_token.id, "đêm", "active")]
    revoked = _api(client, token, "POST", f"/api/v1/tokens/{made_token.id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert _api(client, token, "POST", f"/api/v1/tokens/{made_token.id}/revoke").status_code == 409
    listing = _api(client, token, "GET", "/api/v1/users").json()
    assert [u["username"] for u in listing] == ["bien-tap", "kiem-tra", "quan-tri", "script.user", "truong-phong"]
    assert [(a, e) for a, e, _ in _events(app, "user:script.user")] == [
        ("quan-tri", "user.created"), ("quan-tri", "user.password_changed"), ("quan-tri", "user.updated"),
        ("quan-tri", "user.updated"), ("quan-tri", "user.disabled"), ("quan-tri", "user.enabled"),
        ("quan-tri", "token.created"), ("quan-tri", "token.revoked")]
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/users", "/api/v1/users/{username}", "/api/v1/users/{username}/password",
                 "/api/v1/tokens/{token_id}/revoke", "/api/v1/channels", "/api/v1/channels/{name}/hold"):
        assert path in spec["paths"], path
    assert "/users" not in spec["paths"] and "/channels" not in spec["paths"]  # pages are not API
    assert {"UserOut", "UserNew", "UserEdit", "ChannelOut", "CheckOut"} <= set(spec["components"]["schemas"])


def test_a_script_in_a_display_name_is_inert_on_the_pages(app):
    client, token = login_as(app, "quan-tri")
    client.post("/users", data={"csrf_token": token, "username": "xss", "display_name": XSS, "role": "editor",
                                "agency": "", "password": PASSWORD, "password2": PASSWORD})
    for path in ("/users", "/users/xss"):
        html = client.get(path).text
        assert not any(raw in html for raw in RAW_XSS) and "&lt;script&gt;alert" in html, path


# --- channels ------------------------------------------------------------------------------------------

def test_the_channels_page_names_where_secrets_come_from_never_their_values(app, project):
    client, token = login_as(app, "quan-tri")
    html = client.get("/channels").text
    assert "FB_THU_TOKEN" in html and str(project / "hook.key") in html and "111111" in html
    assert "http://127.0.0.1:9/hook" in html and str(project / "data" / "outbox" / "portal") in html
    assert "tối đa 6 bài mỗi giờ" in html and "Kiểm tra ngay" in html
    checked = client.post("/channels/fb-thu/check", data={"csrf_token": token})
    assert checked.status_code == 200
    box = checked.text.split('id="check-fb-thu"', 1)[1].split("</div>", 1)[0]
    assert "Kênh đang có lỗi" in box and "127.0.0.1" in box  # the failing channel's own detail
    hook = client.post("/channels/wh-thu/check", data={"csrf_token": token}).text
    answers = [html, checked.text, hook, client.get("/api/v1/channels").text,
               _api(client, token, "POST", "/api/v1/channels/fb-thu/check").text,
               _api(client, token, "POST", "/api/v1/channels/wh-thu/check").text]
    for text in answers:
        assert FB_TOKEN not in text and HOOK_KEY not in text
    api = {c["name"]: c for c in client.get("/api/v1/channels").json()}
    assert api["fb-thu"]["secrets"] == [{"secret": "token", "env": "FB_THU_TOKEN", "file": None}]
    assert api["wh-thu"]["secrets"] == [{"secret": "secret", "env": None, "file": str(project / "hook.key")}]
    assert (api["fb-thu"]["target_kind"], api["fb-thu"]["target"], api["fb-thu"]["max_per_hour"]) == (
        "page_id", "111111", 6)
    assert api["portal"]["secrets"] == [] and api["portal"]["max_per_hour"] is None
    ok = _api(client, token, "POST", "/api/v1/channels/portal/check").json()
    assert ok["ok"] is True and ok["channel"] == "portal" and "expires_at" in ok
    assert [(a, e) for a, e, _ in _events(app, "channel:fb-thu")][0] == ("quan-tri", "channel.check_failed")
    assert _api(client, token, "POST", "/api/v1/channels/khong-co/check").status_code == 404
    assert client.post("/channels/khong-co/check", data={"csrf_token": token}).status_code == 404


def test_hold_and_release_through_the_page_and_the_api_are_journalled(app):
    client, token = login_as(app, "quan-tri")
    empty = client.post("/channels/fanpage/hold", data={"csrf_token": token, "reason": "   "})
    assert empty.status_code == 400
    assert "Hãy ghi lý do tạm dừng" in empty.text.split('id="error-fanpage"', 1)[1].split("</p>")[0]
    assert 'aria-describedby="error-fanpage"' in empty.text
    held = client.post("/channels/fanpage/hold", data={"csrf_token": token, "reason": XSS}, follow_redirects=False)
    assert held.headers["location"] == "/channels?done=held&channel=fanpage"
    page = client.get(held.headers["location"]).text
    assert "Đã tạm dừng kênh fanpage" in page and "Đang tạm dừng" in page and "quan-tri, từ" in page
    assert not any(raw in page for raw in RAW_XSS) and "&lt;script&gt;alert" in page
    twice = client.post("/channels/fanpage/hold", data={"csrf_token": token, "reason": "lần nữa"})
    assert twice.status_code == 409
    assert "đang tạm dừng rồi" in twice.text.split('id="error-fanpage"', 1)[1].split("</p>")[0]
    assert 'id="release-fanpage"' in twice.text and 'id="hold-fanpage"' not in twice.text
    assert holds.current(app)["fanpage"].reason == XSS
    released = client.post("/channels/fanpage/release", data={"csrf_token": token}, follow_redirects=False)
    assert released.headers["location"] == "/channels?done=released&channel=fanpage"
    assert holds.current(app) == {}
    assert client.post("/channels/fanpage/release", data={"csrf_token": token}).status_code == 409
    by_api = _api(client, token, "POST", "/api/v1/channels/portal/hold", json={"reason": "bảo trì cổng"})
    assert by_api.status_code == 200 and by_api.json()["hold"]["reason"] == "bảo trì cổng"
    assert by_api.json()["hold"]["actor"] == "quan-tri"
    assert _api(client, token, "POST", "/api/v1/channels/portal/hold", json={"reason": "x"}).status_code == 409
    blank = _api(client, token, "POST", "/api/v1/channels/xa-fanpage/hold", json={"reason": ""})
    assert blank.status_code == 400 and blank.json()["field"] == "reason"
    nul = _api(client, token, "POST", "/api/v1/channels/xa-fanpage/hold", json={"reason": "a\x00b"})
    assert nul.status_code == 400 and "xa-fanpage" not in holds.current(app)
    assert _api(client, token, "POST", "/api/v1/channels/portal/release").json()["hold"] is None
    assert _api(client, token, "POST", "/api/v1/channels/portal/release").status_code == 409
    assert [(a, e, p.get("reason")) for a, e, p in _events(app, "channel:fanpage")] == [
        ("quan-tri", "channel.held", XSS), ("quan-tri", "channel.released", XSS)]
    assert [(a, e) for a, e, _ in _events(app, "channel:portal")] == [
        ("quan-tri", "channel.held"), ("quan-tri", "channel.released")]


# --- publisher user role ---------------------------------------------------------------------------------

def test_cli_user_role(app, project, backend):
    env = {**HERE, "PUBLISHER_DATABASE_URL": backend}
    done = run_cli("--as", "root", "user", "role", "BIEN-TAP", "approver", "--agency", "xa", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Tài khoản bien-tap: vai trò approver, cơ quan: xa"
    kept = run_cli("user", "role", "bien-tap", "auditor", cwd=project, env=env)
    assert kept.returncode == 0 and "cơ quan: xa" in kept.stdout  # without a flag the agency stays
    every = run_cli("user", "role", "bien-tap", "auditor", "--all-agencies", cwd=project, env=env)
    assert every.returncode == 0 and "mọi cơ quan" in every.stdout
    assert (accounts.get_user(app, "bien-tap").role, accounts.get_user(app, "bien-tap").agency) == (Role.AUDITOR,
                                                                                                    None)
    for args, code, words in ((("quan-tri", "editor"), 4, "quản trị viên cuối cùng"),
                              (("bien-tap", "sep"), 2, "không có"),
                              (("bien-tap", "editor", "--agency", "xa", "--all-agencies"), 2, "--all-agencies"),
                              (("khong-co", "editor"), 3, "khong-co")):
        refused = run_cli("--as", "root", "user", "role", *args, cwd=project, env=env)
        assert refused.returncode == code, (args, refused.stderr)
        assert refused.stderr.startswith("Lỗi: ") and words in refused.stderr and "Traceback" not in refused.stderr
    assert accounts.get_user(app, "quan-tri").role is Role.ADMIN
    assert [(a, e) for a, e, _ in _events(app, "user:bien-tap")] == [
        ("quan-tri", "user.created"), ("root", "user.updated"), ("root", "user.updated"), ("root", "user.updated")]
    helped = run_cli("user", "role", "--help", cwd=project, env=env)
    assert "--all-agencies" in helped.stdout and "publisher user role" in helped.stdout


# --- a real browser -----------------------------------------------------------------------------------

@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App]]:
    """``publisher web`` on a free loopback port, with an admin account."""
    add_user(sqlite_app, "quan-tri", "admin", display_name="Phạm Quản Trị")
    with web_server(project) as url:
        yield url, sqlite_app


def test_an_admin_adds_an_account_and_holds_a_channel_in_a_browser(site: tuple[str, App], browser: Any) -> None:
    url, app = site
    with watched(browser) as (page, _):
        browser_login(page, url, "quan-tri")
        page.click("a[href='/users']")
        page.wait_for_load_state()
        page.fill("#username", "truong-phong")
        page.fill("#display_name", "Nguyễn Văn An")
        page.select_option("#role", "approver")
        page.select_option("#agency", "tinh")
        page.fill("#password", PASSWORD)
        page.fill("#password2", PASSWORD)
        shot(page, "web-users-add")
        page.click("#add-account")
        page.wait_for_load_state()
        assert "Đã tạo tài khoản." in page.inner_text("[role=status]")
        assert page.inner_text("#shown-role") == "người duyệt bài"
        shot(page, "web-users-detail")
        page.goto(f"{url}/users")
        assert "Nguyễn Văn An" in page.inner_text("#accounts")
        shot(page, "web-users-list")
        page.goto(f"{url}/channels")
        page.fill("#reason-fanpage", "Trang bị chiếm quyền, đang lấy lại")
        page.click("#hold-fanpage")
        page.wait_for_load_state()
        assert "Đã tạm dừng kênh fanpage" in page.inner_text("[role=status]")
        assert "Trang bị chiếm quyền" in page.inner_text("#channel-fanpage")
        page.click("#check-now-portal")
        page.wait_for_load_state()
        assert "Kênh hoạt động tốt" in page.inner_text("#check-portal")
        shot(page, "web-channels-held")
    added = accounts.get_user(app, "truong-phong")
    assert (added.role, added.agency, added.display_name) == (Role.APPROVER, "tinh", "Nguyễn Văn An")
    assert holds.current(app)["fanpage"].actor == "quan-tri"
