"""The web UI's walls, as one matrix generated from the application itself (issue 8).

The routes are read from ``create_app(...)``: a page or API route added
later is covered without editing this file.  The right a route needs is read
from its ``require(...)`` dependency; a route without one must be listed in
:data:`PUBLIC`, and a path parameter that :func:`world` gives no value fails
the test, naming what to add.  The data is real, made through the library on
SQLite and PostgreSQL; the injection pass goes through the forms and ends in
a real Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from publisher import accounts, posts, tokens
from publisher.access import ACTIONS, can
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import utcnow
from publisher.store.engine import read
from publisher.store.schema import deliveries, journal, metadata
from publisher.web import create_app
from publisher.web.security import CSP, HEADERS

from .conftest import web_server
from .helpers import add_policy, approved_post
from .webtools import (
    RAW_XSS,
    SECRET,
    XSS,
    TestClient,
    add_user,
    add_users,
    browser_login,
    login_as,
    watched,
    web_client,
)

try:  # FastAPI >= 0.165 wraps included routers; older versions list the routes themselves
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover
    def iter_route_contexts(routes: Any) -> Any:
        return routes

#: Routes anyone may call: the login form, logging out (a no-op when logged out), the language switch.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/lang/{lang}")}
ROLES = {"editor": "bien-tap", "approver": "truong-phong", "auditor": "kiem-tra", "admin": "quan-tri"}
USERS = (("bien-tap", "editor", "tinh"), ("truong-phong", "approver", "tinh"), ("kiem-tra", "auditor", None),
         ("quan-tri", "admin", None), ("xa-quan-tri", "admin", "xa"))
XA_CODE = "7/2026/QĐ-UBND"
TINH = ("88/2026/NQ-HĐND", "Chính sách riêng của tỉnh", "Nội dung riêng của tỉnh")  # never shown to xa
ITEM_PARAMS = {"pid", "policy_id", "post_id", "delivery_id", "seq"}  # an agency's items, by id
ROLE_REFUSED = "Vai trò của bạn không được làm việc này"
CSRF_REFUSED = "chống giả mạo"
FILLED = {"comment": "Đề nghị sửa.", "reason": "Đổi lịch.", "title": "Tên mới"}  # what the unsafe item routes read


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    actions: frozenset[str]  # what require(...) asks; empty: public

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)


def routes(web: Any) -> list[Route]:
    """Every (method, path) of *web* with the actions its require(...) dependencies ask (static files aside)."""
    names = {f"require_{a.replace('.', '_')}": a for a in ACTIONS}
    found = []
    for context in iter_route_contexts(web.routes):
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue  # /static, and the OpenAPI document (public, tested in test_web.py)
        actions = frozenset(names[n] for n in _dependency_names(route.dependant) if n in names)
        found += [Route(m, context.path, actions) for m in sorted(context.methods - {"HEAD"})]
    return found


def _dependency_names(dependant: Any) -> Iterator[str]:
    for sub in dependant.dependencies:
        yield getattr(sub.call, "__name__", "")
        yield from _dependency_names(sub)


def fill(route: Route, params: dict[str, Any]) -> str:
    """The route's path with real ids in it."""
    missing = [p for p in route.params if p not in params]
    assert not missing, f"{route.path}: add a value for {missing} to world() in this test"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(params[m.group(1)]), route.path)


def snapshot(app: App) -> list[str]:
    """Every row of every table: what a refused request must leave exactly as it was."""
    with read(app.engine) as conn:
        return sorted(f"{t.name}{tuple(r)!r}" for t in metadata.sorted_tables for r in conn.execute(select(t)))


def world(app: App) -> dict[str, Any]:
    """Accounts, and per agency a policy, a draft with an infographic, a published and a queued delivery."""
    add_users(app, USERS)
    add_user(app, "nguoi-thu", "editor", agency="tinh", display_name=XSS)
    code, title, text = TINH
    tinh = add_policy(app, code, title=title)
    xa = add_policy(app, XA_CODE, agency="xa", title="Chính sách của xã")
    [published, _] = approved_post(app, code=code, template="thong-tin", variables={"noi_dung": text})
    approved_post(app, channels=("xa-fanpage",), code=XA_CODE, agency="xa", template="thong-tin",
                  variables={"noi_dung": "Nội dung của xã"})
    assert Dispatcher(app, "may-1").run_once() == {"published": 3}
    draft = posts.new_post(app, "bien-tap", {"policy": code, "agency": "tinh", "channels": ["fanpage"],
                                             "template": "thong-tin", "variables": {"noi_dung": text},
                                             "infographics": ["vuong"], "at": "2026-12-20T01:00:00+00:00"})
    [queued] = approved_post(app, channels=("portal",), at=utcnow() + timedelta(days=2), code=code,
                             template="thong-tin", variables={"noi_dung": text})
    token, _ = tokens.create(app, "quan-tri", "nguoi-thu")
    with read(app.engine) as conn:
        seq = conn.execute(select(journal.c.seq).where(journal.c.subject == f"policy:{tinh.id}")).scalar()
    return {"pid": tinh.id, "policy_id": tinh.id, "post_id": draft.id, "n": 0, "delivery_id": published,
            "seq": seq, "lang": "en", "name": "fanpage", "username": "nguoi-thu", "token_id": token.id,
            "queued": queued, "xa": xa.id}


@pytest.fixture
def seeded(app: App) -> tuple[App, dict[str, Any], list[Route]]:
    """The world on each backend, and the application's routes."""
    params = world(app)
    return app, params, routes(create_app(app, secret=SECRET))


def _refusal(response: Any, api: bool) -> str:
    return response.json()["detail"] if api else response.text


# --- the routes themselves ---------------------------------------------------------------------------

def test_every_route_but_the_public_ones_names_the_right_it_needs(seeded):
    _, _, found = seeded
    unguarded = {(r.method, r.path) for r in found if not r.actions}
    assert unguarded == PUBLIC, "a route without require(...) must be listed in PUBLIC, or get one"
    assert len(found) > 40 and any(r.api for r in found) and sum(r.method != "GET" for r in found) > 15


# --- CSRF ------------------------------------------------------------------------------------------------

def test_every_unsafe_route_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing(seeded):
    app, params, found = seeded
    client, _ = login_as(app, "quan-tri")
    _, foreign = login_as(app, "quan-tri")  # a real token, of another session of the same account
    unsafe = [r for r in found if r.method != "GET"]
    for route in unsafe:
        path = fill(route, params)
        before = snapshot(app)
        for attempt in ({"data": {"x": "1"}}, {"json": {}}, {"data": {"csrf_token": ""}},
                        {"data": {"csrf_token": "sai"}}, {"data": {"csrf_token": foreign}},
                        {"json": {}, "headers": {"X-CSRF-Token": foreign}}):
            refused = client.request(route.method, path, follow_redirects=False, **attempt)
            assert refused.status_code == 403, (route, attempt, refused.status_code)
            assert CSRF_REFUSED in _refusal(refused, route.api), (route, attempt)
        assert snapshot(app) == before, route
        fresh, token = login_as(app, "quan-tri")  # the same request with the right token gets past the wall
        sent = {"json": {}, "headers": {"X-CSRF-Token": token}} if route.api else {"data": {"csrf_token": token}}
        assert fresh.request(route.method, path, follow_redirects=False, **sent).status_code != 403, route


# --- roles ------------------------------------------------------------------------------------------------

def test_every_page_answers_each_role_as_publisher_access_says(seeded):
    app, params, found = seeded
    clients = {role: login_as(app, name) for role, name in ROLES.items()}
    visitor = web_client(app)
    for route in (r for r in found if not r.api and r.actions):
        path = fill(route, params)
        for role, (client, token) in clients.items():
            user = accounts.get_user(app, ROLES[role])
            allowed = all(can(user, a) for a in route.actions)
            if route.method == "GET":
                answer = client.get(path, follow_redirects=False)
                assert answer.status_code == (200 if allowed else 403), (role, route, answer.status_code)
            elif not allowed:  # an unsafe route is only tried where it must refuse
                before = snapshot(app)
                answer = client.request(route.method, path, data={"csrf_token": token}, follow_redirects=False)
                assert answer.status_code == 403 and snapshot(app) == before, (role, route)
            if not allowed:
                assert ROLE_REFUSED in answer.text, (role, route)
        if route.method == "GET":
            sent = visitor.get(path, follow_redirects=False)
            assert sent.status_code == 303 and sent.headers["location"] == (
                f"/login?next={quote(path, safe='')}" if path != "/" else "/login"), route


def test_every_api_route_wants_a_token_and_the_right_role(seeded):
    app, params, found = seeded
    secrets = {role: tokens.create(app, "quan-tri", name)[1] for role, name in ROLES.items()}
    nobody, answered = web_client(app), 0
    for route in (r for r in found if r.api):
        path = fill(route, params)
        for headers in ({}, {"Authorization": "Bearer pub_" + "A" * 40}):  # none, or not a token of ours
            answer = nobody.request(route.method, path, json={}, headers=headers)
            assert answer.status_code == 401 and answer.json()["detail"].startswith("Chưa đăng nhập"), route
        for role, secret in secrets.items():
            allowed = all(can(accounts.get_user(app, ROLES[role]), a) for a in route.actions)
            if allowed and route.method != "GET":
                continue  # a right that is there is tested by each area's own tests
            before = snapshot(app)
            answer = nobody.request(route.method, path, json={}, headers={"Authorization": f"Bearer {secret}"})
            if allowed:  # past the wall (a 422 is a query this matrix did not fill in, e.g. the calendar's range)
                assert answer.status_code in (200, 422), (role, route, answer.status_code)
                answered += answer.status_code == 200
            else:
                assert answer.status_code == 403 and "Vai trò" in answer.json()["detail"], (role, route)
                assert snapshot(app) == before, (role, route)
    assert answered > 20 and "publisher_session" not in nobody.cookies


# --- agencies ------------------------------------------------------------------------------------------------

def test_another_agencys_items_are_not_found_and_absent_from_every_list(seeded):
    app, params, found = seeded
    xa, token = login_as(app, "xa-quan-tri")  # an admin: only the agency can stop it
    everyone, _ = login_as(app, "quan-tri")
    items = [r for r in found if set(r.params) & ITEM_PARAMS and set(r.params) <= ITEM_PARAMS | {"n"}]
    assert {"/policies/{pid:int}", "/approvals/{post_id}", "/deliveries/{delivery_id}", "/audit/dossier/{policy_id}",
            "/api/v1/policies/{pid}", "/api/v1/approvals/{post_id}", "/api/v1/deliveries/{delivery_id}"} <= {
                r.path for r in items}
    for route in items:
        path = fill(route, params)
        before = snapshot(app)
        sent = ({"headers": {"X-CSRF-Token": token}, "json": FILLED} if route.api
                else {"data": {"csrf_token": token, **FILLED}})  # a valid request, but for another agency's item
        answer = xa.request(route.method, path, follow_redirects=False, **({} if route.method == "GET" else sent))
        assert answer.status_code == 404 and snapshot(app) == before, (route, answer.status_code)
    lists = [r.path for r in found if r.method == "GET" and not r.params and r.actions]
    shown = {p for p in lists if any(m in _text(everyone.get(p, params=_query(p))) for m in TINH)}
    assert {"/policies", "/approvals", "/deliveries", "/calendar", "/audit", "/audit/journal.csv",
            "/audit/coverage.csv", "/api/v1/policies", "/api/v1/approvals", "/api/v1/journal",
            "/api/v1/calendar"} <= shown
    for path in lists:
        page = xa.get(path, params=_query(path))
        assert page.status_code == 200 and not [m for m in TINH if m in _text(page)], path
    assert "Chính sách của xã" in xa.get("/policies").text  # the wall hides the other agency, not everything


def _query(path: str) -> dict[str, str]:
    """The query a list needs to answer at all (the calendar's API wants its range)."""
    today = utcnow().date()
    wanted = {"/api/v1/calendar": {"from": str(today - timedelta(days=30)), "to": str(today + timedelta(days=30))}}
    return wanted.get(path, {})


def _text(response: Any) -> str:
    return response.content.decode("utf-8-sig", errors="replace")


# --- injection -----------------------------------------------------------------------------------------------

def _inject(app: App) -> dict[str, Any]:
    """Script typed into every text field of every form, as the people who may type it."""
    editor, token = login_as(app, "bien-tap")
    form = {"csrf_token": token, "agency": "tinh", "code": "66/2026/NQ-HĐND", "title": f"Tên {XSS}",
            "summary": f"Tóm tắt {XSS}", "impact": "high", "consultation_opens": "01/12/2026",
            "consultation_closes": "31/12/2026", "key_points": f"Ý {XSS}\nÝ hai", "affected": f"Đối tượng {XSS}",
            "comment_how": f"Góp ý {XSS}", "draft_url": "", "passed_on": "", "issued_on": ""}
    made = editor.post("/policies/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    pid = int(re.search(r"/policies/(\d+)", made.headers["location"]).group(1))
    ids = [_compose(editor, token, pid) for _ in range(2)]
    approver, approver_token = login_as(app, "truong-phong")
    assert approver.post(f"/approvals/{ids[0]}/return", data={"csrf_token": approver_token, "comment": f"Sửa {XSS}"},
                         follow_redirects=False).status_code == 303
    assert approver.post(f"/approvals/{ids[1]}/approve", data={"csrf_token": approver_token},
                         follow_redirects=False).status_code == 303
    did = _delivery_of(app, ids[1])
    assert editor.post(f"/deliveries/{did}/cancel", data={"csrf_token": token, "reason": f"Hủy {XSS}"},
                       follow_redirects=False).status_code == 303
    with read(app.engine) as conn:
        seq = conn.execute(select(journal.c.seq).where(journal.c.event == "delivery.cancelled")).scalar()
    return {"pid": pid, "policy_id": pid, "post_id": ids[0], "delivery_id": did, "seq": seq}


def _compose(client: TestClient, token: str, pid: int) -> int:
    saved = client.post("/compose", follow_redirects=False, data={
        "csrf_token": token, "do": "save", "policy": str(pid), "template": "thong-tin", "channels": ["fanpage"],
        "infographics": ["vuong"], "at": "20/12/2026 08:00", "deadline": "", "var_noi_dung": f"Nội dung {XSS}"})
    assert saved.status_code == 303, saved.text
    return int(saved.headers["location"].rsplit("/", 1)[1])


def _delivery_of(app: App, post_id: int) -> int:
    with read(app.engine) as conn:
        return conn.execute(select(deliveries.c.id).where(deliveries.c.post_id == post_id)).scalar()


@pytest.fixture
def injected(project: Path, sqlite_app: App) -> tuple[App, dict[str, Any], list[Route]]:
    """The world on SQLite (a ``publisher web`` process reads it too), and the injected items' ids."""
    params = world(sqlite_app)
    params.update(_inject(sqlite_app))
    return sqlite_app, params, routes(create_app(sqlite_app, secret=SECRET))


def test_script_typed_in_any_form_comes_back_inert_on_every_page_and_runs_in_no_browser(injected, project, browser):
    app, params, found = injected
    admin, _ = login_as(app, "quan-tri")
    pages, escaped = [], set()
    for route in (r for r in found if r.method == "GET" and not r.api and r.actions):
        path = fill(route, params)
        answer = admin.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        if answer.headers["content-type"].startswith("text/html"):
            assert not [raw for raw in RAW_XSS if raw in answer.text], path
            pages.append(path)
            escaped |= {route.path} if "&lt;script&gt;alert(" in answer.text else set()
    assert {"/policies", "/policies/{pid:int}", "/approvals", "/approvals/{post_id}", "/deliveries/{delivery_id}",
            "/audit", "/audit/entry/{seq}", "/users", "/users/{username}"} <= escaped  # shown, as text
    with web_server(project) as url, watched(browser) as (page, watcher):
        browser_login(page, url, "quan-tri")
        for path in pages:  # an alert() that ran, a blocked inline script or image: the watcher fails the test
            page.goto(f"{url}{path}")
            page.wait_for_load_state("networkidle")
        assert watcher.dialogs == []


# --- a 500 ----------------------------------------------------------------------------------------------------

def test_a_server_error_page_carries_the_same_security_headers(sqlite_app):
    add_user(sqlite_app)
    web = create_app(sqlite_app, secret=SECRET)

    @web.get("/hong")
    def broken() -> None:
        raise RuntimeError("bí mật nội bộ: postgresql://user:pw@db/x")

    client = TestClient(web, raise_server_exceptions=False)
    login_as(sqlite_app, "bien-tap", client=client)
    for path in ("/hong", "/login"):
        answer = client.get(path)
        headers = {k: answer.headers.get(k) for k in HEADERS}
        assert headers == HEADERS and answer.headers["content-security-policy"] == CSP, (path, dict(answer.headers))
        assert answer.headers["cache-control"] == "no-store"
    failed = client.get("/hong")
    assert failed.status_code == 500 and "bí mật nội bộ" not in failed.text and "Traceback" not in failed.text
