"""API tokens for scripts: the CLI, storage (only a sha256), and ``Authorization: Bearer`` on the API.

Every case runs on SQLite and PostgreSQL (the ``app`` fixture).  The token is
searched for everywhere it must never be: every row of every table, the
journal, the SQLite files themselves.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from publisher import accounts, journal, tokens
from publisher.errors import InputError, NotFound, StateError
from publisher.models import utcnow
from publisher.store.engine import read, write
from publisher.store.schema import api_tokens, metadata

from .conftest import POLICY, ROOT, run_cli
from .webtools import add_user, login_as, web_client

HERE = {"PYTHONPATH": str(ROOT)}
SHAPE = re.compile(r"pub_[A-Za-z0-9_-]{40}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _raw_rows(app) -> str:
    with read(app.engine) as conn:
        return "\n".join(repr(tuple(r)) for table in metadata.sorted_tables for r in conn.execute(select(table)))


def _on_disk(app) -> bytes:
    files = Path(app.engine.url.database).parent.glob("publisher.db*")
    return b"".join(p.read_bytes() for p in files)


# --- the command line ----------------------------------------------------------------------

def test_cli_add_list_revoke_round_trip(app, project, backend):
    add_user(app, "bao-cao", "admin")
    env = {**HERE, "PUBLISHER_DATABASE_URL": backend}
    added = run_cli("--as", "quan-tri", "user", "token", "add", "BAO-CAO", "--label", "báo cáo hằng đêm",
                    "--days", "7", cwd=project, env=env)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert SHAPE.fullmatch(secret), added.stdout  # alone on stdout: a script can capture it
    assert "MỘT LẦN" in added.stderr and "Authorization: Bearer" in added.stderr

    listed = run_cli("user", "token", "list", "bao-cao", "--json", cwd=project, env=env)
    assert listed.returncode == 0, listed.stderr
    [shown] = json.loads(listed.stdout)
    assert (shown["id"], shown["username"], shown["label"], shown["state"]) == (1, "bao-cao", "báo cáo hằng đêm",
                                                                                 "active")
    expires = shown["expires_at"]
    assert shown["last_used_at"] is None and shown["revoked_at"] is None
    table = run_cli("--lang", "en", "user", "token", "list", "bao-cao", cwd=project, env=env)
    assert table.returncode == 0 and "Last used" in table.stdout and "active" in table.stdout

    client = web_client(app)
    me = client.get("/api/v1/me", headers=_bearer(secret))
    assert me.status_code == 200 and me.json()["username"] == "bao-cao" and me.json()["role"] == "admin"
    used = json.loads(run_cli("user", "token", "list", "bao-cao", "--json", cwd=project, env=env).stdout)[0]
    assert used["last_used_at"] is not None and used["expires_at"] == expires

    revoked = run_cli("--as", "quan-tri", "user", "token", "revoke", "1", cwd=project, env=env)
    assert revoked.returncode == 0 and "bao-cao" in revoked.stdout, revoked.stderr
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 401
    again = run_cli("user", "token", "revoke", "1", cwd=project, env=env)
    assert again.returncode == 4 and again.stderr.startswith("Lỗi: ") and "Traceback" not in again.stderr
    missing = run_cli("user", "token", "revoke", "99999999999", cwd=project, env=env)
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    state = json.loads(run_cli("user", "token", "list", "bao-cao", "--json", cwd=project, env=env).stdout)[0]
    assert state["state"] == "revoked" and state["revoked_at"] is not None

    # printed once, stored never: not in a row, not in the journal, not in any later output, not on disk
    outputs = listed.stdout + table.stdout + revoked.stdout + revoked.stderr + again.stderr
    assert secret not in outputs
    raw = _raw_rows(app)
    assert secret not in raw and secret[4:] not in raw
    assert tokens.digest(secret) in raw  # the sha256 is what is kept
    if app.engine.dialect.name == "sqlite":
        assert secret.encode() not in _on_disk(app)
    with read(app.engine) as conn:
        events = [(e.actor, e.event, e.subject, e.payload) for e in journal.entries(conn, "user:bao-cao")
                  if e.event.startswith("token.")]
        logged = "\n".join(repr(tuple(r)) for r in conn.execute(select(metadata.tables["journal"])))
    assert [e[:3] for e in events] == [("quan-tri", "token.created", "user:bao-cao"),
                                       ("quan-tri", "token.revoked", "user:bao-cao")]
    assert events[0][3]["label"] == "báo cáo hằng đêm" and events[1][3] == {"token_id": 1}
    assert secret not in logged and secret[4:] not in logged and tokens.digest(secret) not in logged


@pytest.mark.parametrize(("args", "code", "words"), [
    (("add", "khong-co"), 3, ["khong-co"]),
    (("add", "bao-cao", "--days", "0"), 2, ["--days", "0"]),
    (("add", "bao-cao", "--days", "100000"), 2, ["--days", "3650"]),
    (("add", "bao-cao", "--label", "x" * 201), 2, ["--label", "200"]),
    (("add", "da-khoa"), 4, ["da-khoa", "publisher user enable"]),
    (("list", "khong-co"), 3, ["khong-co"]),
    (("revoke", "7"), 3, ["7"]),
    (("revoke", "bay"), 2, ["bay"]),
])
def test_cli_mistakes_are_one_clear_line(app, project, backend, args, code, words):
    add_user(app, "bao-cao", "editor")
    add_user(app, "da-khoa", "editor")
    accounts.disable(app, "quan-tri", "da-khoa")
    result = run_cli("user", "token", *args, cwd=project, env={**HERE, "PUBLISHER_DATABASE_URL": backend})
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("Lỗi: ")
    assert all(w in result.stderr for w in words), result.stderr
    with read(app.engine) as conn:
        assert conn.execute(select(api_tokens)).first() is None


# --- the library ---------------------------------------------------------------------------------

def test_library_create_list_revoke(app):
    add_user(app, "bao-cao", "auditor")
    made, secret = tokens.create(app, "quan-tri", "bao-cao", label="  đêm  ")
    assert SHAPE.fullmatch(secret) and made.label == "đêm" and made.state() == "active"
    assert made.expires_at - made.created_at == timedelta(days=tokens.DEFAULT_DAYS)
    second, other = tokens.create(app, "quan-tri", "bao-cao", days=1)
    assert other != secret and second.id == made.id + 1
    assert [k.id for k in tokens.list_tokens(app, "BAO-CAO")] == [made.id, second.id]
    assert tokens.authenticate(app, secret).username == "bao-cao"
    assert tokens.revoke(app, "quan-tri", made.id).state() == "revoked"
    assert tokens.authenticate(app, secret) is None and tokens.authenticate(app, other) is not None
    with pytest.raises(StateError):
        tokens.revoke(app, "quan-tri", made.id)
    with pytest.raises(NotFound):
        tokens.revoke(app, "quan-tri", 2**40)
    with pytest.raises(InputError):
        tokens.create(app, "quan-tri", "bao-cao", label="hai\ndòng")
    for junk in ("", "pub_", "Bearer", secret.upper(), secret + "x", "x" * 10_000, "pub_" + "\x00" * 40):
        assert tokens.authenticate(app, junk) is None, junk[:20]


# --- the API with a token --------------------------------------------------------------------------

def test_an_unsafe_api_call_with_a_token_needs_no_csrf(app):
    add_user(app, "bien-tap", "editor", agency="tinh")
    _, secret = tokens.create(app, "quan-tri", "bien-tap")
    client = web_client(app)
    created = client.post("/api/v1/policies", json=POLICY, headers=_bearer(secret))
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "bien-tap" and created.json()["agency"] == "tinh"
    pid = created.json()["id"]
    changed = client.patch(f"/api/v1/policies/{pid}", json={"title": "Tên mới"}, headers=_bearer(secret))
    assert changed.status_code == 200 and changed.json()["policy"]["title"] == "Tên mới"
    assert "publisher_session" not in client.cookies  # nothing was logged in


def test_a_request_with_a_session_cookie_keeps_the_csrf_check(app):
    add_user(app, "bien-tap", "editor", agency="tinh")
    _, secret = tokens.create(app, "quan-tri", "bien-tap")
    client = web_client(app)
    login_as(app, "bien-tap", client=client)
    refused = client.post("/api/v1/policies", json=POLICY, headers=_bearer(secret))
    assert refused.status_code == 403 and refused.json()["detail"]
    assert client.post("/api/v1/policies", json=POLICY).status_code == 403  # the session alone: CSRF as always
    with read(app.engine) as conn:
        assert conn.execute(select(metadata.tables["policies"])).first() is None


def test_wrong_revoked_expired_tokens_and_a_disabled_account_get_401(app):
    add_user(app, "bien-tap", "editor")
    add_user(app, "nghi-viec", "editor")
    good, good_secret = tokens.create(app, "quan-tri", "bien-tap")
    revoked, revoked_secret = tokens.create(app, "quan-tri", "bien-tap")
    expired, expired_secret = tokens.create(app, "quan-tri", "bien-tap")
    _, disabled_secret = tokens.create(app, "quan-tri", "nghi-viec")
    tokens.revoke(app, "quan-tri", revoked.id)
    with write(app.engine) as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == expired.id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    accounts.disable(app, "quan-tri", "nghi-viec")
    client = web_client(app)
    assert client.get("/api/v1/me", headers=_bearer(good_secret)).status_code == 200
    wrong = "pub_" + "A" * 40
    for headers in (_bearer(wrong), _bearer(revoked_secret), _bearer(expired_secret), _bearer(disabled_secret),
                    _bearer(""), _bearer(good_secret[:-1]), {"Authorization": f"bearer  {wrong}"}):
        for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/policies"), ("POST", "/api/v1/policies")):
            answer = client.request(method, path, headers=headers, json=POLICY)
            assert answer.status_code == 401, (headers, method, path, answer.text)
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["detail"].startswith("Chưa đăng nhập")
    speaks_english = web_client(app)
    speaks_english.cookies.set("lang", "en")
    english = speaks_english.get("/api/v1/me", headers=_bearer(wrong))
    assert english.status_code == 401 and english.json()["detail"].startswith("Not logged in")
    # a wrong token is a 401 even next to a valid session: the header decides alone, never a fallback
    login_as(app, "bien-tap", client=client)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(wrong)).status_code == 401


def test_a_token_acts_with_its_accounts_role(app):
    add_user(app, "kiem-tra", "auditor")
    add_user(app, "bien-tap", "editor", agency="tinh")
    _, auditor = tokens.create(app, "quan-tri", "kiem-tra")
    _, editor = tokens.create(app, "quan-tri", "bien-tap")
    client = web_client(app)
    assert client.post("/api/v1/policies", json=POLICY, headers=_bearer(editor)).status_code == 201
    me = client.get("/api/v1/me", headers=_bearer(auditor)).json()
    assert me["role"] == "auditor" and "policy.write" not in me["actions"]
    assert len(client.get("/api/v1/policies", headers=_bearer(auditor)).json()) == 1
    refused = client.post("/api/v1/policies", json={**POLICY, "code": "KH-2"}, headers=_bearer(auditor))
    assert refused.status_code == 403 and "Vai trò" in refused.json()["detail"]
    refused = client.patch("/api/v1/policies/1", json={"title": "x"}, headers=_bearer(auditor))
    assert refused.status_code == 403
    assert client.post("/api/v1/deliveries/1/cancel", headers=_bearer(auditor)).status_code == 403
    assert client.get("/api/v1/policies/1", headers=_bearer(auditor)).json()["title"] == POLICY["title"]


def test_pages_ignore_the_token(app):
    add_user(app, "bao-cao", "admin")
    _, secret = tokens.create(app, "quan-tri", "bao-cao")
    client = web_client(app)
    for path in ("/", "/policies", "/deliveries"):
        answer = client.get(path, headers=_bearer(secret), follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    assert client.post("/logout", headers=_bearer(secret)).status_code == 403  # forms keep their CSRF check


def test_the_openapi_document_declares_the_bearer_scheme(app):
    spec = web_client(app).get("/api/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "publisher user token add" in scheme["description"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert {"bearer": []} in operation.get("security", []), (method, path)
