"""`publisher status`, daemon heartbeats, JSON logs and migration 0003.

The library cases run on SQLite and PostgreSQL (the ``app`` and ``backend``
fixtures); the daemon cases run the real ``publisher daemon`` process.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from publisher import heartbeat, redact
from publisher import status as status_mod
from publisher.channels.outbox import OutboxChannel
from publisher.cli import _HANDLER, JsonFormatter, use_log_format
from publisher.dispatch import Dispatcher
from publisher.errors import ContentRejected, TransientError
from publisher.store import migrate
from publisher.store.engine import make_engine, read
from publisher.store.schema import daemons, metadata

from .conftest import run_cli, set_daemon_options
from .helpers import Clock, add_policy, approved_post

# --- the status of the queue (library, both engines) ------------------------------------------------


def test_status_of_an_empty_queue(app):
    found = status_mod.collect(app)
    assert [c["channel"] for c in found["channels"]] == ["portal", "fanpage", "xa-fanpage"]
    assert all(set(c["states"].values()) == {0} and c["due"] == 0 and c["last_error"] is None
               for c in found["channels"])
    assert found["due"] == 0 and found["oldest_due"] is None and found["lag_seconds"] is None
    assert found["daemons"] == [] and found["alive"] == 0
    assert found["healthy"] is True  # nothing due: no daemon needed


def _scripted(failures: dict[str, Exception]):
    """OutboxChannel.publish failing per channel as scripted (our own channel, real files otherwise)."""
    original = OutboxChannel.publish

    def publish(self, delivery):
        if delivery.channel in failures:
            raise failures[delivery.channel]
        return original(self, delivery)

    return publish


def test_status_counts_states_due_work_lag_and_the_last_error_per_channel(app, monkeypatch):
    clock = Clock()
    t0 = clock.now
    add_policy(app)
    early = approved_post(app, at=t0 - timedelta(minutes=10))  # portal + fanpage, due
    later = approved_post(app, at=t0 + timedelta(hours=1))  # queued, not due yet
    monkeypatch.setattr(OutboxChannel, "publish", _scripted({
        "portal": ContentRejected("nội dung bị từ chối: quá dài"),
        "fanpage": TransientError("mất kết nối tới máy chủ")}))
    assert Dispatcher(app, "w1", clock).run_once() == {"failed": 1, "waiting": 1}
    queued = approved_post(app, channels=("fanpage",), at=t0 - timedelta(minutes=5))  # due, never tried

    now = t0 + timedelta(seconds=30)  # past the fanpage retry (base 1 s, max 2 s)
    found = status_mod.collect(app, now=now)
    channels = {c["channel"]: c for c in found["channels"]}
    assert channels["portal"]["states"] == {**dict.fromkeys(status_mod.STATES, 0), "failed": 1, "queued": 1}
    assert channels["fanpage"]["states"] == {**dict.fromkeys(status_mod.STATES, 0), "waiting": 1, "queued": 2}
    assert channels["xa-fanpage"]["states"] == dict.fromkeys(status_mod.STATES, 0)
    assert found["totals"]["queued"] == 3 and found["totals"]["failed"] == 1 and found["totals"]["waiting"] == 1
    # due: the waiting delivery (its retry time passed) and the never-tried one; not the one due in an hour
    assert (channels["portal"]["due"], channels["fanpage"]["due"], found["due"]) == (0, 2, 2)
    assert found["oldest_due"]["delivery"] == queued[0] and found["oldest_due"]["channel"] == "fanpage"
    assert found["lag_seconds"] == pytest.approx(330, abs=1)  # 5 min late + 30 s
    portal_error, fanpage_error = channels["portal"]["last_error"], channels["fanpage"]["last_error"]
    assert portal_error["delivery"] == early[0] and portal_error["outcome"] == "rejected"
    assert "quá dài" in portal_error["error"] and portal_error["worker"] == "w1"
    assert fanpage_error["delivery"] == early[1] and fanpage_error["outcome"] == "transient"
    assert "mất kết nối" in fanpage_error["error"]
    assert channels["xa-fanpage"]["last_error"] is None
    assert found["healthy"] is False  # due work, no daemon
    assert later  # still queued, counted above

    # the waiting delivery's retry is not due yet just after the attempt: only the fresh one is
    soon = status_mod.collect(app, now=t0)
    assert soon["due"] == 1 and soon["lag_seconds"] == pytest.approx(300, abs=1)


def test_the_last_error_is_the_latest_attempt_that_met_one(app, monkeypatch):
    clock = Clock()
    add_policy(app)
    approved_post(app, channels=("fanpage",), at=clock.now - timedelta(minutes=1))
    monkeypatch.setattr(OutboxChannel, "publish", _scripted({"fanpage": ContentRejected("lỗi thứ nhất")}))
    Dispatcher(app, "w1", clock).run_once()
    [second] = approved_post(app, channels=("fanpage",), at=clock.now - timedelta(seconds=30))
    monkeypatch.setattr(OutboxChannel, "publish", _scripted({"fanpage": ContentRejected("lỗi thứ hai")}))
    clock.now += timedelta(seconds=5)
    Dispatcher(app, "w2", clock).run_once()
    [third] = approved_post(app, channels=("fanpage",), at=clock.now - timedelta(seconds=1))
    monkeypatch.undo()
    clock.now += timedelta(seconds=5)
    assert Dispatcher(app, "w3", clock).run_once() == {"published": 1}  # a success is no error
    error = {c["channel"]: c for c in status_mod.collect(app)["channels"]}["fanpage"]["last_error"]
    assert (error["delivery"], error["worker"], error["error"]) == (second, "w2", "lỗi thứ hai")
    assert third != second


# --- heartbeats (library, both engines) ------------------------------------------------------------


def _daemons(app):
    return {d["worker"]: d for d in status_mod.collect(app)["daemons"]}


def test_heartbeats_tell_alive_stopped_and_silent_daemons(app):
    now = datetime.now(timezone.utc)
    assert heartbeat.beat(app, "d-alive", now - timedelta(seconds=5), starting=True)
    assert heartbeat.beat(app, "d-silent", now - timedelta(minutes=5), starting=True)  # killed: no more beats
    assert heartbeat.beat(app, "d-stopped", now - timedelta(seconds=40), starting=True)
    assert heartbeat.stopped(app, "d-stopped", now - timedelta(seconds=20))
    assert heartbeat.beat(app, "d-old", now - timedelta(days=8), starting=True)
    assert heartbeat.stopped(app, "d-old", now - timedelta(days=8))  # long gone: not listed any more

    found = _daemons(app)
    assert {w: d["state"] for w, d in found.items()} == {
        "d-alive": "alive", "d-silent": "silent", "d-stopped": "stopped"}
    alive = found["d-alive"]
    assert alive["pid"] == os.getpid() and alive["host"] and alive["version"] == heartbeat.version()
    assert alive["stopped_at"] is None and alive["seconds_since_heartbeat"] == pytest.approx(5, abs=2)
    assert found["d-stopped"]["stopped_at"] is not None
    assert status_mod.collect(app)["alive"] == 1
    # alive means a beat within 3 heartbeat periods (daemon.heartbeat_seconds, 15 s by default)
    assert heartbeat.beat(app, "d-alive", now - timedelta(seconds=46))
    assert _daemons(app)["d-alive"]["state"] == "silent"


def test_a_beat_moves_the_heartbeat_and_a_new_run_restarts_the_row(app):
    t0 = datetime.now(timezone.utc) - timedelta(minutes=1)
    heartbeat.beat(app, "d1", t0, starting=True)
    heartbeat.beat(app, "d1", t0 + timedelta(seconds=15))
    with read(app.engine) as conn:
        row = conn.execute(select(daemons).where(daemons.c.worker == "d1")).one()
    assert (row.started_at, row.heartbeat_at, row.stopped_at) == (t0, t0 + timedelta(seconds=15), None)

    heartbeat.stopped(app, "d1", t0 + timedelta(seconds=20))
    heartbeat.beat(app, "d1", t0 + timedelta(seconds=21))  # a late beat racing the shutdown
    with read(app.engine) as conn:
        row = conn.execute(select(daemons).where(daemons.c.worker == "d1")).one()
    assert row.stopped_at == t0 + timedelta(seconds=20)  # still stopped: not brought back

    heartbeat.beat(app, "d1", t0 + timedelta(seconds=30), starting=True)  # restarted with the same id
    with read(app.engine) as conn:
        row = conn.execute(select(daemons).where(daemons.c.worker == "d1")).one()
    assert (row.started_at, row.stopped_at) == (t0 + timedelta(seconds=30), None)
    assert _daemons(app)["d1"]["state"] == "alive"


def test_due_work_is_healthy_only_with_a_daemon_alive(app):
    add_policy(app)
    approved_post(app, channels=("fanpage",))
    assert status_mod.collect(app)["healthy"] is False
    heartbeat.beat(app, "d1", starting=True)
    assert status_mod.collect(app)["healthy"] is True


# --- the command ------------------------------------------------------------------------------------


def test_status_command_exits_1_when_work_is_due_and_no_daemon_is_alive(sqlite_app, project):
    empty = run_cli("status", cwd=project)
    assert empty.returncode == 0, empty.stderr
    assert "Hàng đợi theo kênh" in empty.stdout and "chưa có tiến trình chạy nền" in empty.stdout
    as_json = run_cli("status", "--json", cwd=project)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["healthy"] is True

    add_policy(sqlite_app)
    approved_post(sqlite_app, channels=("fanpage",), at=datetime.now(timezone.utc) - timedelta(minutes=2))
    due = run_cli("status", cwd=project)
    assert due.returncode == 1
    assert "trễ 0:02:" in due.stdout and "CẢNH BÁO" in due.stderr and "Traceback" not in due.stderr
    found = json.loads(run_cli("status", "--json", cwd=project).stdout)
    assert found["due"] == 1 and found["alive"] == 0 and found["healthy"] is False
    assert 120 <= found["lag_seconds"] < 180
    english = run_cli("--lang", "en", "status", cwd=project)
    assert english.returncode == 1 and "Queue per channel" in english.stdout and "WARNING" in english.stderr

    heartbeat.beat(sqlite_app, "may-chu-1", starting=True)  # a daemon alive elsewhere: all is well
    alive = run_cli("status", cwd=project)
    assert alive.returncode == 0, alive.stderr
    assert "may-chu-1" in alive.stdout and "đang chạy" in alive.stdout


def _start_daemon(project: Path, *args: str, script: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    cmd = [sys.executable, "-c", script] if script else [sys.executable, "-m", "publisher", "daemon", *args]
    return subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _status(project: Path) -> dict:
    result = run_cli("status", "--json", cwd=project)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    return None


def _worker(project: Path, worker: str) -> dict | None:
    return next((d for d in _status(project)["daemons"] if d["worker"] == worker), None)


def _create_database(project: Path) -> None:
    # first, so that the daemon and status never both create it at once (each registers the agencies)
    assert run_cli("db", "upgrade", cwd=project).returncode == 0
    assert run_cli("status", cwd=project).returncode == 0


def test_a_running_daemon_is_alive_in_status_and_stopped_after_sigterm(project):
    set_daemon_options(project, heartbeat_seconds=0.3)
    _create_database(project)
    proc = _start_daemon(project, "--worker-id", "d1")
    try:
        first = _wait_for(lambda: _worker(project, "d1"), timeout=20)
        assert first is not None and first["state"] == "alive", first
        assert first["pid"] == proc.pid and first["stopped_at"] is None
        later = _wait_for(lambda: (d := _worker(project, "d1")) and d["heartbeat_at"] > first["heartbeat_at"] and d,
                          timeout=10)
        assert later and later["state"] == "alive" and later["started_at"] == first["started_at"]  # it beats
        shown = run_cli("status", cwd=project)
        assert shown.returncode == 0 and "d1" in shown.stdout and "đang chạy" in shown.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    after = _worker(project, "d1")
    assert after["state"] == "stopped" and after["stopped_at"] is not None
    assert _status(project)["alive"] == 0


def test_a_killed_daemon_goes_silent(project):
    set_daemon_options(project, heartbeat_seconds=0.3)
    _create_database(project)
    proc = _start_daemon(project, "--worker-id", "d2")
    try:
        assert _wait_for(lambda: (d := _worker(project, "d2")) and d["state"] == "alive", timeout=20)
    finally:
        proc.kill()  # SIGKILL: no chance to say it stopped
        proc.communicate(timeout=30)
    silent = _wait_for(lambda: (d := _worker(project, "d2")) and d["state"] == "silent" and d, timeout=10)
    assert silent and silent["stopped_at"] is None


# --- structured logs --------------------------------------------------------------------------------

SECRET = "EAAB-sieu-bi-mat-token-9876"

LEAKY_DAEMON = f"""
import logging, sys
from publisher import redact
from publisher.channels.outbox import OutboxChannel
from publisher.cli import main

redact.register({SECRET!r})  # as a channel registers the token it reads
original = OutboxChannel.publish

def leaky_publish(self, delivery):
    log = logging.getLogger("publisher.channels.leaky")
    log.warning("peer echoed the token %s", {SECRET!r}, extra={{"delivery": delivery.id, "token": {SECRET!r},
                "request": {{"headers": ["Authorization: Bearer {SECRET}"]}}}})
    try:
        raise RuntimeError("boom with {SECRET}")
    except RuntimeError:
        log.exception("a traceback")
    return original(self, delivery)

OutboxChannel.publish = leaky_publish
sys.argv = ["publisher", "daemon", "--worker-id", "json-1"]
main()
"""


def test_json_log_lines_parse_and_never_show_a_registered_secret(sqlite_app, project):
    set_daemon_options(project, log_format='"json"', heartbeat_seconds=0.3)
    add_policy(sqlite_app)
    [did] = approved_post(sqlite_app, channels=("fanpage",))
    proc = _start_daemon(project, script=LEAKY_DAEMON)
    try:
        assert _wait_for(lambda: (project / "data" / "outbox" / "fanpage" / f"{did}.json").exists(), timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert SECRET not in err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON object
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry)
        assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert any(e["logger"] == "publisher.daemon" and "json-1 started" in e["message"] for e in lines)
    [leak] = [e for e in lines if e["logger"] == "publisher.channels.leaky" and e["level"] == "WARNING"]
    assert leak["message"] == "peer echoed the token ***"
    assert leak["delivery"] == did and leak["token"] == "***"
    assert leak["request"] == {"headers": ["Authorization: Bearer ***"]}
    [trace] = [e for e in lines if e["message"].startswith("a traceback")]
    assert trace["level"] == "ERROR" and "RuntimeError: boom with ***" in trace["message"]


def test_text_logs_stay_the_default_and_json_is_redacted_in_process():
    redact.register(SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER)
    handler.addFilter(redact.RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    log = logging.getLogger("publisher.test")
    try:
        use_log_format("text")
        log.warning("token %s", SECRET)
        use_log_format("json")
        log.warning("token %s", SECRET, extra={"peer": f"said {SECRET}", "count": 3, "ok": True,
                                                "when": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    finally:
        use_log_format("text")
        root.removeHandler(handler)
    text_line, json_line = stream.getvalue().splitlines()
    assert text_line.endswith("WARNING publisher.test: token ***")
    entry = json.loads(json_line)
    assert entry["message"] == "token ***" and entry["peer"] == "said ***"
    assert entry["when"] == "2026-01-01T00:00:00+00:00" and entry["count"] == 3 and entry["ok"] is True
    assert SECRET not in stream.getvalue()


def test_json_formatter_redacts_a_traceback_it_formats_itself():
    redact.register(SECRET)
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))  # no filter in front: the formatter still redacts
    assert "ValueError: bad ***" in entry["exception"] and SECRET not in json.dumps(entry)


def test_log_format_is_validated(project):
    set_daemon_options(project, log_format='"xml"')
    result = run_cli("config", "check", cwd=project)
    assert result.returncode == 2 and "daemon.log_format" in result.stderr


# --- migration 0003 ---------------------------------------------------------------------------------


def test_migration_0003_adds_the_daemons_table_to_an_existing_database(backend):
    engine = make_engine(backend)
    command.upgrade(migrate._config(engine), "0002")
    with engine.begin() as conn:
        assert "daemons" not in inspect(conn).get_table_names()
        conn.execute(text("INSERT INTO agencies (code, name, created_at) VALUES ('tinh', 'UBND tỉnh', :at)"),
                     {"at": datetime(2026, 1, 1)})
    assert migrate.upgrade(engine) == ("0002", migrate.head())
    with engine.connect() as conn:
        assert "daemons" in inspect(conn).get_table_names()
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.execute(text("SELECT name FROM agencies")).scalar() == "UBND tỉnh"  # data kept
        columns = {c["name"]: c for c in inspect(conn).get_columns("daemons")}
    assert set(columns) == {"worker", "host", "pid", "started_at", "heartbeat_at", "stopped_at", "version"}
    assert columns["stopped_at"]["nullable"] and not columns["heartbeat_at"]["nullable"]
    command.downgrade(migrate._config(engine), "0002")  # and back
    with engine.connect() as conn:
        assert "daemons" not in inspect(conn).get_table_names()
    assert migrate.upgrade(engine) == ("0002", migrate.head())
    engine.dispose()
