"""The Facebook Page token's expiry: asked by batch (never in a URL), journalled once, shown on the dashboard."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from publisher import health
from publisher import journal as journal_log
from publisher.context import App
from publisher.store.engine import read, write
from publisher.store.schema import journal
from publisher.web import dashboard_data

from .conftest import PAGES, facebook_config, run_cli
from .fakegraph import FakeGraph
from .webtools import add_user, login_as

TINH = "111111"
TOKEN = PAGES[TINH]["token"]
DAY = 86400


@pytest.fixture
def fake():
    with FakeGraph(PAGES) as server:
        yield server


@pytest.fixture
def fb(project, backend, monkeypatch, fake):
    """An App on each backend whose channels fb-tinh and fb-xa are Pages of the fake Graph API."""
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    opened = App.open(facebook_config(project, fake.url))
    yield opened
    opened.close()


def _expires_in(fake, days: float, page: str = TINH) -> datetime:
    """Give the page's token an expiry *days* from now (whole seconds, as Graph gives it)."""
    at = int(time.time() + days * DAY)
    fake.set_token_expiry(page, at)
    return datetime.fromtimestamp(at, timezone.utc)


def _events(app, event, channel="fb-tinh"):
    with read(app.engine) as conn:
        rows = conn.execute(select(journal.c.payload).where(journal.c.event == event,
                                                            journal.c.subject == f"channel:{channel}")
                            .order_by(journal.c.seq)).scalars().all()
    return [json.loads(r) for r in rows]


def _check(app):
    return {h.channel: h for h in health.check_all(app, "may-1")}


# -- asking Graph --------------------------------------------------------------------------------------


def test_the_expiry_is_read_through_a_batch_post_and_the_token_is_in_no_url(fb, fake):
    expires = _expires_in(fake, 30)
    found = fb.channel("fb-tinh").check()
    assert found.ok and found.detail == "UBND tỉnh Thử Nghiệm" and found.expires_at == expires

    [batch] = [r for r in fake.requests() if "batch" in r]
    assert (batch["method"], batch["graph_path"], batch["query"]) == ("POST", "/", "")
    assert "batch" in batch["body_fields"] and batch["token_source"] == "header"
    assert [(op["method"], op["graph_path"], op["status"]) for op in batch["batch"]] == [("GET", "/debug_token", 200)]
    for entry in fake.requests():  # the token went in the header and the POST body, never in a path or a query
        assert TOKEN not in entry["path"] + entry["query"] and not entry["token_in_query"]
    assert TOKEN not in json.dumps(fake.requests())


def test_the_batch_carries_appsecret_proof_like_every_call(project):
    with FakeGraph(PAGES, app_id="42", app_secret="s3cret-app", require_appsecret_proof=True) as server:
        (project / "app.secret").write_text("s3cret-app", encoding="utf-8")
        app = App.open(facebook_config(project, server.url, extra='app_secret_file = "app.secret"\n'))
        expires = _expires_in(server, 20)
        try:
            found = app.channel("fb-tinh").check()
        finally:
            app.close()
    assert found.ok and found.expires_at == expires, found.detail


def test_a_token_that_never_expires(fb, fake):
    found = _check(fb)["fb-tinh"]
    assert found.ok and found.expires_at is None and found.detail == "UBND tỉnh Thử Nghiệm"
    assert _events(fb, health.EXPIRY_EVENT) == [] and _events(fb, health.EXPIRING_EVENT) == []


def test_debug_token_refused_leaves_the_channel_ready_with_its_expiry_unknown(fb, fake):
    fake.add_fault("invalid", path=r"^/debug_token$", method="GET", code=10, times=None,
                   message="(#10) Application does not have permission for this action")
    found = _check(fb)["fb-tinh"]
    assert found.ok and found.expires_at is None
    assert "token expiry unknown" in found.detail and "(#10)" in found.detail
    assert _events(fb, "channel.check_failed") == [] and _events(fb, health.EXPIRING_EVENT) == []


# -- the warning window, journalled once -------------------------------------------------------------------


def test_expiring_in_3_days_is_journalled_once_then_again_for_a_renewed_token(fb, fake, project):
    first = _expires_in(fake, 3)
    for _ in range(3):
        assert _check(fb)["fb-tinh"].expires_at == first
    [warned] = _events(fb, health.EXPIRING_EVENT)
    assert warned == {"expires_at": first.isoformat(), "days_left": 3}
    assert _events(fb, health.EXPIRY_EVENT) == [{"expires_at": first.isoformat()}]
    assert _events(fb, health.EXPIRING_EVENT, "fb-xa") == []  # fb-xa's token never expires

    renewed = datetime.fromtimestamp(int(time.time() + 10 * DAY), timezone.utc)
    fake.rotate_token(TINH, "EAAB-tinh-renewed", renewed.timestamp())
    (project / "fb-tinh.token").write_text("EAAB-tinh-renewed\n", encoding="utf-8")
    for _ in range(3):
        _check(fb)
    assert [e["expires_at"] for e in _events(fb, health.EXPIRING_EVENT)] == [first.isoformat(),
                                                                             renewed.isoformat()]
    assert len(_events(fb, health.EXPIRY_EVENT)) == 2


def test_outside_the_window_the_expiry_is_recorded_but_not_warned(fb, fake):
    expires = _expires_in(fake, 40)  # token_warn_days is 14
    _check(fb)
    _check(fb)
    assert _events(fb, health.EXPIRY_EVENT) == [{"expires_at": expires.isoformat()}]
    assert _events(fb, health.EXPIRING_EVENT) == []


def test_an_expired_token_fails_the_check_and_a_renewed_one_clears_it(fb, fake, project):
    _expires_in(fake, 1)
    _check(fb)
    fake.set_token_expiry(TINH, time.time() - 60)
    found = _check(fb)["fb-tinh"]
    assert not found.ok and "190" in found.detail and found.expires_at is None
    assert len(_events(fb, "channel.check_failed")) == 1 and len(_events(fb, health.EXPIRING_EVENT)) == 1
    fake.rotate_token(TINH, "EAAB-tinh-renewed")
    (project / "fb-tinh.token").write_text("EAAB-tinh-renewed\n", encoding="utf-8")
    assert _check(fb)["fb-tinh"].ok
    _check(fb)
    assert len(_events(fb, "channel.healthy")) == 1  # once, when it recovered
    assert _events(fb, health.EXPIRY_EVENT)[-1] == {"expires_at": None}  # the new token never expires


# -- the CLI ----------------------------------------------------------------------------------------------------


def test_channels_check_shows_the_expiry_and_fails_only_for_a_channel_that_cannot_publish(fb, fake, project,
                                                                                           backend):
    env = {"PUBLISHER_DATABASE_URL": backend}
    expires = _expires_in(fake, 3)
    shown = run_cli("channels", "check", cwd=project, env=env)
    assert shown.returncode == 0, shown.stderr  # an expiring token still publishes
    local = expires.astimezone(fb.config.timezone).strftime("%Y-%m-%d %H:%M")
    assert "Mã truy cập hết hạn" in shown.stdout and local in shown.stdout
    [line] = [x for x in shown.stdout.splitlines() if x.startswith("fb-tinh")]
    assert local in line
    rows = {r["channel"]: r for r in json.loads(run_cli("channels", "check", "--json", cwd=project, env=env).stdout)}
    assert rows["fb-tinh"]["expires_at"] == expires.isoformat() and rows["fb-xa"]["expires_at"] is None
    assert len(_events(fb, health.EXPIRING_EVENT)) == 1  # two runs, one warning

    fake.set_token_expiry(TINH, time.time() - 60)
    failed = run_cli("channels", "check", cwd=project, env=env)
    assert failed.returncode == 1 and "190" in failed.stdout


# -- the dashboard ---------------------------------------------------------------------------------------------


def _channel_box(client):
    return client.get("/").text.split('id="kenh"', 1)[1].split("</section>", 1)[0]


def _row(box, channel):
    return box.split(f"<td>{channel}</td>", 1)[1].split("</tr>", 1)[0]


def test_the_dashboard_shows_the_expiry_from_the_journal_in_both_languages(fb, fake):
    add_user(fb)
    expires = _expires_in(fake, 9)
    _check(fb)
    client, _ = login_as(fb, "bien-tap")
    calls = len(fake.requests())
    row = _row(_channel_box(client), "fb-tinh")
    day = expires.astimezone(fb.config.timezone).strftime("%d/%m/%Y")
    left = (expires.astimezone(fb.config.timezone).date() - datetime.now(fb.config.timezone).date()).days
    assert f"mã truy cập hết hạn {day} (còn {left} ngày)" in row and "state-waiting" in row  # inside 14 days
    assert "hết hạn" not in _row(_channel_box(client), "fb-xa")
    assert len(fake.requests()) == calls  # read from the journal: the page asks Facebook nothing

    client.get("/lang/en")
    assert f"token expires {day} ({left} days left)" in _row(_channel_box(client), "fb-tinh")


def test_the_dashboard_shows_an_expiry_far_ahead_quietly_and_a_past_one_in_red(fb, fake):
    add_user(fb)
    far = _expires_in(fake, 60)
    _check(fb)
    client, _ = login_as(fb, "bien-tap")
    row = _row(_channel_box(client), "fb-tinh")
    assert f"hết hạn {far.astimezone(fb.config.timezone):%d/%m/%Y}" in row and "muted" in row
    assert "state-waiting" not in row and "state-failed" not in row

    past = datetime.fromtimestamp(int(time.time() - 60), timezone.utc)
    with write(fb.engine) as conn:  # the expiry on record has passed since the last check
        journal_log.append(conn, "may-1", health.EXPIRY_EVENT, "channel:fb-tinh", {"expires_at": past.isoformat()})
    row = _row(_channel_box(client), "fb-tinh")
    assert f"mã truy cập đã hết hạn {past.astimezone(fb.config.timezone):%d/%m/%Y}" in row and "state-failed" in row


# -- index-friendly reads -----------------------------------------------------------------------------------


def _plan(conn, query) -> str:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index CAN serve
    return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))


def test_the_health_reads_use_the_subject_index(app):
    with read(app.engine) as conn:
        plan = _plan(conn, health.latest_query("fanpage", health.HEALTH_EVENTS))
    assert "ix_journal_subject" in plan, plan
    if app.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan and "SCAN journal" not in plan, plan  # newest first, straight off the index


def _fill(app, rows: int) -> None:
    """*rows* journal entries of other subjects, straight into the table (the hash chain does not matter here)."""
    now = datetime.now(timezone.utc)
    with write(app.engine) as conn:
        start = conn.execute(select(journal.c.seq).order_by(journal.c.seq.desc()).limit(1)).scalar() or 0
        conn.execute(insert(journal), [
            {"seq": start + i + 1, "at": now, "actor": "x", "event": "delivery.queued",
             "subject": f"delivery:{i}", "payload": "{}", "prev_hash": "0" * 64, "hash": f"{start + i:064x}"}
            for i in range(rows)])


def test_the_dashboard_reads_do_not_grow_with_the_journal(sqlite_app):
    """SQLite's virtual machine steps for the channel box: the same with 100 or 100,000 other entries."""
    with write(sqlite_app.engine) as conn:
        journal_log.append(conn, "may-1", "channel.check_failed", "channel:fanpage", {"detail": "x"})
        journal_log.append(conn, "may-1", health.EXPIRY_EVENT, "channel:fanpage", {"expires_at": None})

    def steps() -> int:
        count = [0]
        with read(sqlite_app.engine) as conn:
            raw = conn.connection.dbapi_connection
            raw.set_progress_handler(lambda: count.__setitem__(0, count[0] + 1) or 0, 10)
            found = dashboard_data._channel_events(conn, sqlite_app.config.channels)
            raw.set_progress_handler(None, 10)
        assert found["fanpage"].health.event == "channel.check_failed"
        return count[0]

    _fill(sqlite_app, 100)
    small = steps()
    _fill(sqlite_app, 100_000)
    assert steps() <= small * 1.5, (small, steps())
