"""Sessions on record: logout ends the session for every copy of its cookie; the table keeps no id."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from publisher.models import utcnow
from publisher.store.engine import read, write
from publisher.store.schema import web_sessions
from publisher.web.sessions import COOKIE

from .webtools import add_user, login_as, web_client


def _rows(app) -> list:
    with read(app.engine) as conn:
        return list(conn.execute(select(web_sessions)))


def test_logout_ends_a_copied_cookie_too(app):
    add_user(app)
    client, token = login_as(app, "bien-tap")
    thief = web_client(app)
    thief.cookies.set(COOKIE, client.cookies[COOKIE])
    assert thief.get("/", follow_redirects=False).status_code == 200  # the copy works while the session lives
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    stale = thief.get("/", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")
    assert thief.get("/api/v1/me").status_code == 401
    [row] = _rows(app)
    assert row.ended_at is not None


def test_each_login_is_its_own_session_and_one_logout_ends_only_its_own(app):
    add_user(app)
    office, office_token = login_as(app, "bien-tap")
    home, _ = login_as(app, "bien-tap")
    assert office.post("/logout", data={"csrf_token": office_token}, follow_redirects=False).status_code == 303
    assert home.get("/", follow_redirects=False).status_code == 200
    assert office.get("/", follow_redirects=False).status_code == 303
    rows = _rows(app)
    assert len(rows) == 2 and sorted(r.ended_at is None for r in rows) == [False, True]
    cookie_values = {office.cookies.get(COOKIE), home.cookies.get(COOKIE)} - {None}
    for row in rows:  # only a digest is kept: nothing in the table opens a session
        assert len(row.sid_sha256) == 64 and not any(row.sid_sha256 in value for value in cookie_values)


def test_an_expired_or_forgotten_record_ends_the_session(app):
    add_user(app)
    client, _ = login_as(app, "bien-tap")
    with write(app.engine) as conn:
        conn.execute(update(web_sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/", follow_redirects=False).status_code == 303
    again, _ = login_as(app, "bien-tap")  # a login sweeps records expired for over a day, not the fresh ones
    with write(app.engine) as conn:
        conn.execute(web_sessions.delete())
    assert again.get("/", follow_redirects=False).status_code == 303


def test_an_unexpected_error_gets_a_500_page_with_every_security_header(app):
    from fastapi.testclient import TestClient

    from publisher.web import create_app
    from publisher.web.security import HEADERS

    from .webtools import SECRET

    web = create_app(app, secret=SECRET)

    @web.get("/hong")
    def broken() -> None:
        raise RuntimeError("a bug, not a user's mistake")

    @web.get("/api/v1/hong")
    def broken_api() -> None:
        raise RuntimeError("a bug in the API")

    client = TestClient(web, raise_server_exceptions=False)
    page = client.get("/hong")
    assert page.status_code == 500 and "Lỗi máy chủ" in page.text and "báo quản trị viên" in page.text
    assert "a bug" not in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/hong")
    assert api.status_code == 500 and "a bug" not in api.text and api.json()["detail"].startswith("Đã có lỗi")
    for answer in (page, api):
        for name, value in HEADERS.items():
            assert answer.headers[name] == value, name
        assert answer.headers["cache-control"] == "no-store"
