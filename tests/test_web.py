"""The web core (issue 8, first slice): login, sessions, CSRF, rate limit, headers, language, escaping, API.

Every case with a database runs on SQLite and PostgreSQL (the ``app`` fixture).
The client is FastAPI's TestClient: the whole ASGI stack, middleware included,
without a socket.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends
from sqlalchemy import select

from publisher import accounts, i18n
from publisher.access import Role, User
from publisher.context import App
from publisher.models import DeliveryState, utcnow
from publisher.store.engine import read
from publisher.store.schema import login_failures
from publisher.web import create_app
from publisher.web.auth import require
from publisher.web.ratelimit import LoginLimiter
from publisher.web.routes.home import PAGES
from publisher.web.security import CSP, safe_next
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import ROOT, run_cli
from .webtools import PASSWORD, SECRET, XSS, TestClient, add_user, csrf, post_login, web_client

# The names other web tests imported from here before tests/webtools.py existed (test_web_admin.py still may).
_client, _token, _login, _add = web_client, csrf, post_login, add_user

HERE = {"PYTHONPATH": str(ROOT)}  # the subprocess imports this checkout


# --- login, logout, sessions ----------------------------------------------------------------

def test_login_right_wrong_and_disabled(app):
    add_user(app, display_name="Trần Thị Bình")
    add_user(app, "da-khoa", "auditor")
    accounts.disable(app, "quan-tri", "da-khoa")
    client = web_client(app)
    for name, password in (("bien-tap", PASSWORD + "x"), ("khong-co", PASSWORD), ("da-khoa", PASSWORD)):
        refused = post_login(client, name, password)
        assert refused.status_code == 400 and "không đúng" in refused.text, name
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    done = post_login(client, "BIEN-TAP", PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "Xin chào, Trần Thị Bình!" in page.text
    assert "cán bộ truyền thông" in page.text and "Soạn bài" in page.text and "Tài khoản" not in page.text


def test_login_goes_back_to_the_page_asked_for_and_never_elsewhere(app):
    add_user(app)
    client = web_client(app)
    redirect = client.get("/?x=1", follow_redirects=False)
    assert redirect.headers["location"] == "/login?next=%2F%3Fx%3D1"
    page = client.get(redirect.headers["location"])
    token = csrf(page.text)
    assert 'name="next" value="/?x=1"' in page.text
    done = client.post("/login", data={"username": "bien-tap", "password": PASSWORD, "csrf_token": token,
                                       "next": "//evil.example/"}, follow_redirects=False)
    assert done.headers["location"] == "/"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "/a\r\nSet-Cookie: x=1", "", None):
        assert safe_next(bad) == "/"
    assert safe_next("/deliveries?state=failed") == "/deliveries?state=failed"


def test_session_cookie_flags(app):
    add_user(app)
    for https in (False, True):
        client = web_client(app, https=https)
        pre = client.get("/login").headers["set-cookie"]
        done = post_login(client, "bien-tap").headers["set-cookie"]
        for cookie in (pre, done):
            assert cookie.startswith("publisher_session=")
            assert "HttpOnly" in cookie and re.search(r"SameSite=strict", cookie, re.I)
            assert ("Secure" in cookie) is https
        assert "Max-Age=28800" in done  # web.session_hours = 8
        assert client.get("/").status_code == 200


def test_logout_is_a_post_and_ends_the_session(app):
    add_user(app)
    client = web_client(app)
    post_login(client, "bien-tap")
    page = client.get("/")
    assert client.get("/logout").status_code == 405  # a link cannot log anyone out
    out = client.post("/logout", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'publisher_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_disabled_account_or_a_new_password_ends_the_session(app):
    add_user(app)
    add_user(app, "truong-phong", "approver")
    first, second = web_client(app), web_client(app)
    post_login(first, "bien-tap")
    post_login(second, "truong-phong")
    accounts.disable(app, "quan-tri", "bien-tap")
    accounts.set_password(app, "quan-tri", "truong-phong", "một mật khẩu khác hẳn")
    for client in (first, second):
        refused = client.get("/", follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == "/login"
        assert "publisher_session" in refused.headers["set-cookie"]  # the cookie is removed
        assert client.get("/api/v1/me").status_code == 401


def test_a_forged_or_foreign_cookie_is_nobody(app):
    add_user(app)
    client = web_client(app)
    post_login(client, "bien-tap")
    cookie = client.cookies["publisher_session"]
    other = TestClient(create_app(app, secret=SECRET.upper()))  # another installation's secret
    other.cookies.set("publisher_session", cookie)
    assert other.get("/", follow_redirects=False).headers["location"] == "/login"
    client.cookies.set("publisher_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


# --- CSRF ------------------------------------------------------------------------------------

def test_every_post_without_a_valid_csrf_token_is_refused(app):
    add_user(app)
    client, stranger = web_client(app), web_client(app)
    login_page = client.get("/login")
    foreign = csrf(stranger.get("/login").text)  # a real token, of another session
    form = {"username": "bien-tap", "password": PASSWORD}
    for token in (None, "", "sai", foreign):
        data = form if token is None else {**form, "csrf_token": token}
        refused = client.post("/login", data=data, follow_redirects=False)
        assert refused.status_code == 403, token
        assert "Không được phép" in refused.text and "chống giả mạo" in refused.text
    assert TestClient(create_app(app, secret=SECRET)).post("/login", data={**form, "csrf_token": csrf(
        login_page.text)}).status_code == 403  # the token without its cookie
    assert client.post("/login", data={**form, "csrf_token": csrf(login_page.text)},
                       follow_redirects=False).status_code == 303
    page = client.get("/")
    for token in (None, "sai", csrf(login_page.text)):  # the pre-session's token is void after login
        data = {} if token is None else {"csrf_token": token}
        assert client.post("/logout", data=data).status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": csrf(page.text)},
                       follow_redirects=False).status_code == 303


def test_a_new_route_is_csrf_protected_without_asking(app):
    add_user(app)
    web = create_app(app, secret=SECRET)

    @web.api_route("/moi", methods=["POST", "PUT", "PATCH", "DELETE"])
    def new_route() -> dict[str, bool]:  # declares nothing about CSRF
        return {"ok": True}

    client = TestClient(web)
    post_login(client, "bien-tap")
    token = csrf(client.get("/").text)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/moi", json={"a": 1}).status_code == 403, method
        assert client.request(method, "/moi", headers={"X-CSRF-Token": token}).json() == {"ok": True}


def test_a_role_without_the_right_gets_the_403_page(app):
    add_user(app)
    web = create_app(app, secret=SECRET)

    @web.get("/chi-quan-tri")
    def admins_only(user: Annotated[User, Depends(require("users.manage"))]) -> dict[str, str]:
        return {"ok": user.username}

    client = TestClient(web)
    post_login(client, "bien-tap")
    refused = client.get("/chi-quan-tri")
    assert refused.status_code == 403 and "Vai trò của bạn không được làm việc này" in refused.text
    assert refused.headers["content-security-policy"] == CSP
    with pytest.raises(ValueError, match="post.delete"):
        require("post.delete")


# --- the rate limit ----------------------------------------------------------------------------

def test_the_sixth_bad_attempt_is_refused_with_429(app):
    add_user(app)
    client = web_client(app)
    for _ in range(5):
        assert post_login(client, "bien-tap", "sai mật khẩu rồi").status_code == 400
    refused = post_login(client, "bien-tap", PASSWORD)  # even the right password: the limit comes first
    assert refused.status_code == 429 and "thử lại sau 15 phút" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 900
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_limit_counts_per_client_address_too(app):
    add_user(app)
    client = web_client(app)
    for n in range(5):
        assert post_login(client, f"khong-co-{n}", PASSWORD).status_code == 400
    assert post_login(client, "bien-tap", PASSWORD).status_code == 429


def test_the_limiter_window_slides_and_success_forgets_the_name(app):
    now = [utcnow()]
    limiter = LoginLimiter(app.engine, 5, 900, clock=lambda: now[0])
    for _ in range(5):
        assert limiter.retry_after("user:a", "addr:1") == 0
        limiter.failed("user:a", "addr:1")
        now[0] += timedelta(seconds=10)
    assert limiter.retry_after("user:a") == 900 - 50 + 1 and limiter.retry_after("addr:2") == 0
    now[0] += timedelta(seconds=860)
    assert limiter.retry_after("user:a", "addr:1") == 0
    limiter.failed("user:b")
    limiter.forget("user:b")
    assert limiter.retry_after("user:b") == 0
    with read(app.engine) as conn:  # only digests, and only the window's failures (+20 s .. +40 s, two keys)
        rows = conn.execute(select(login_failures)).all()
    assert len(rows) == 6 and len({r.key_sha256 for r in rows}) == 2
    assert all(len(r.key_sha256) == 64 and "user" not in r.key_sha256 for r in rows)


def test_every_worker_and_every_restart_counts_the_same_failures(app):
    add_user(app)
    workers = [web_client(app), web_client(app)]  # two server processes over one database
    for n in range(5):
        assert post_login(workers[n % 2], "bien-tap", "sai mật khẩu rồi").status_code == 400
    for client in (*workers, web_client(app)):  # and a third, started after the failures
        assert post_login(client, "bien-tap", PASSWORD).status_code == 429


# --- headers, language, escaping -------------------------------------------------------------------

def test_security_headers_on_every_response(app):
    add_user(app)
    client = web_client(app)
    anonymous = [client.get("/login"), client.get("/", follow_redirects=False), client.get("/khong-co"),
                 client.get("/static/web.css"), client.get("/api/openapi.json"), client.get("/api/v1/me"),
                 client.post("/logout")]
    post_login(client, "bien-tap")
    logged_in = [client.get("/"), client.get("/api/v1/me"), client.get("/lang/en", follow_redirects=False)]
    for response in anonymous + logged_in:
        headers = response.headers
        assert headers["content-security-policy"] == CSP, response.url
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP and "base-uri 'none'" in CSP
    assert anonymous[2].status_code == 404 and "Không tìm thấy trang" in anonymous[2].text
    assert anonymous[0].headers["cache-control"] == "no-store"


def test_no_page_loads_anything_from_elsewhere(app):
    add_user(app)
    client = web_client(app)
    pages = [client.get("/login").text]
    post_login(client, "bien-tap")
    pages.append(client.get("/").text)
    for html in pages:
        assert "<script" not in html and " style=" not in html and "http://" not in html and "https://" not in html
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_the_language_switch_is_per_client(app):
    add_user(app)
    english, vietnamese = web_client(app), web_client(app)
    assert "Đăng nhập" in english.get("/login").text
    switched = english.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert "Log in" in english.get("/login").text and "<html lang=\"en\">" in english.get("/login").text
    assert "Đăng nhập" in vietnamese.get("/login").text and "Log in" not in vietnamese.get("/login").text
    post_login(english, "bien-tap")
    post_login(vietnamese, "bien-tap")
    assert "Hello, bien-tap!" in english.get("/").text and "Xin chào, bien-tap!" in vietnamese.get("/").text
    assert english.get("/api/v1/me").json()["language"] == "en"
    assert i18n.language() == "vi"  # the process-global language was never touched
    english.get("/lang/xx")
    assert "Hello" in english.get("/").text  # an unknown language changes nothing


def test_a_script_in_a_display_name_comes_back_inert(app):
    add_user(app, display_name=XSS)
    client = web_client(app)
    post_login(client, "bien-tap")
    html = client.get("/").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
    assert client.get("/api/v1/me").json()["display_name"] == XSS  # JSON is data, not markup
    assert client.get("/api/v1/me").headers["content-type"].startswith("application/json")


def test_a_page_of_the_users_templates_folder_wins(app, project: Path):
    (project / "templates" / "web").mkdir()
    (project / "templates" / "web" / "login.html").write_text(
        '{% extends "base.html" %}{% block title %}x{% endblock %}{% block content %}Trang riêng {{ csrf_token }}'
        '{% endblock %}', encoding="utf-8")
    page = web_client(app).get("/login")
    assert page.status_code == 200 and "Trang riêng" in page.text


def test_every_word_the_pages_use_is_in_both_languages():
    used = set()
    for path in PACKAGE_TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    prefixes = {key for key in used if key.endswith(".")}  # t("web.role." ~ ...): completed below
    assert prefixes == {"web.role.", "web.page.", "state."}, "teach this test how the new prefix is completed"
    used = ((used - prefixes) | {f"web.role.{role.value}" for role in Role} | {f"web.page.{p.key}" for p in PAGES}
            | {f"state.{s.value}" for s in DeliveryState})
    raw = i18n.raw_catalogue()
    missing = sorted(key for key in used if set(raw.get(key, {})) != set(i18n.LANGUAGES))
    assert len(used) > 20 and missing == []


# --- the API ---------------------------------------------------------------------------------------

def test_api_me_and_the_openapi_document(app):
    add_user(app, agency="tinh")
    client = web_client(app)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").json()["detail"].startswith("Chưa đăng nhập")
    post_login(client, "bien-tap")
    me = client.get("/api/v1/me").json()
    assert (me["username"], me["role"], me["agency"], me["language"]) == ("bien-tap", "editor", "tinh", "vi")
    assert "post.write" in me["actions"] and "users.manage" not in me["actions"]
    assert not any("hash" in key or "password_hash" in str(value) for key, value in me.items())
    document = client.get("/api/openapi.json")
    assert document.headers["content-type"].startswith("application/json")
    spec = document.json()
    assert spec["openapi"].startswith("3.") and "/api/v1/me" in spec["paths"]
    assert all(path.startswith("/api/") for path in spec["paths"])  # the pages are not API
    assert "Me" in spec["components"]["schemas"]


# --- publisher web ---------------------------------------------------------------------------------

def test_publisher_web_without_a_secret_exits_2_naming_both_ways(project):
    result = run_cli("web", cwd=project, env=HERE)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("Lỗi: ")
    assert "PUBLISHER_WEB_SECRET" in result.stderr and "web.secret_file" in result.stderr
    short = run_cli("--lang", "en", "web", cwd=project, env={**HERE, "PUBLISHER_WEB_SECRET": "ngan"})
    assert short.returncode == 2 and "at least 32" in short.stderr and "ngan" not in short.stderr


def test_publisher_web_help(project):
    result = run_cli("web", "--help", cwd=project, env=HERE)
    assert result.returncode == 0 and "--host" in result.stdout and "--port" in result.stdout


def test_publisher_web_with_two_workers_serves_one_site(project):
    import requests

    from .conftest import web_server

    opened = App.open(project / "config.toml")
    try:
        add_user(opened)
    finally:
        opened.close()
    with web_server(project, "--workers", "2") as url:
        session = requests.Session()
        token = csrf(session.get(f"{url}/login").text)
        done = session.post(f"{url}/login", data={"username": "bien-tap", "password": PASSWORD, "csrf_token": token},
                            allow_redirects=False)
        assert done.status_code == 303
        # whichever process answers, the session (signed with the shared secret, on record in the
        # shared database) is good: several requests land on both workers
        assert all(session.get(f"{url}/", allow_redirects=False).status_code == 200 for _ in range(6))
        stranger = requests.Session()
        for _ in range(5):
            token = csrf(stranger.get(f"{url}/login").text)
            stranger.post(f"{url}/login", data={"username": "bien-tap", "password": "sai rồi", "csrf_token": token})
        token = csrf(stranger.get(f"{url}/login").text)
        refused = stranger.post(f"{url}/login", data={"username": "bien-tap", "password": PASSWORD,
                                                      "csrf_token": token})
        assert refused.status_code == 429
