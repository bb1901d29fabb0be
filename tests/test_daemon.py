"""The daemon as a real process: on time, picks up new work, stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from publisher.models import utcnow

from .conftest import run_cli, set_daemon_options

SLOW_DAEMON = """
import sys, time
from pathlib import Path
from publisher.channels.outbox import OutboxChannel
from publisher.cli import main

original = OutboxChannel.publish

def slow_publish(self, delivery):
    Path("publishing-started").touch()
    time.sleep(1.5)  # a slow peer: SIGTERM arrives while this attempt is in flight
    return original(self, delivery)

OutboxChannel.publish = slow_publish
sys.argv = ["publisher", "daemon", "--worker-id", "d1"]
main()
"""


def _ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def _queue_post(project: Path, at: str, channels=("fanpage",)) -> None:
    args = ["--as", "bien-tap", "post", "new", "--policy", "KH-06", "--at", at]
    for c in channels:
        args += ["--channel", c]
    post = json.loads(_ok(*args, "--json", cwd=project).stdout)
    _ok("--as", "truong-phong", "post", "approve", str(post["id"]), cwd=project)


def _start(project: Path, *args: str, script: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    cmd = [sys.executable, "-c", script] if script else [sys.executable, "-m", "publisher", "daemon", *args]
    return subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _queue(project: Path) -> list[dict]:
    return json.loads(_ok("queue", "--json", cwd=project).stdout)


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def _setup(project: Path) -> None:
    _ok("policy", "add", "--agency", "tinh", "--code", "KH-06", "--title", "Chính sách thử", "--summary", "Tóm tắt",
        cwd=project)


def test_daemon_wakes_at_the_due_time_not_at_the_next_poll(project):
    set_daemon_options(project, poll_seconds=60)
    _setup(project)
    due = utcnow() + timedelta(seconds=3)
    _queue_post(project, due.isoformat())
    daemon = _start(project)
    try:
        assert _wait_for(lambda: _queue(project)[0]["state"] == "published", timeout=20)
    finally:
        code, err = _stop(daemon)
    published_at = datetime.fromisoformat(_queue(project)[0]["published_at"])
    assert due <= published_at < due + timedelta(seconds=2), (published_at, due)  # poll is 60 s
    assert code == 0, err


def test_daemon_picks_up_work_queued_by_another_process(project):
    set_daemon_options(project, poll_seconds=1)
    _setup(project)
    daemon = _start(project)
    try:
        time.sleep(1.5)  # idle, nothing queued yet
        _queue_post(project, "now")
        assert _wait_for(lambda: _queue(project)[0]["state"] == "published", timeout=15)
    finally:
        code, err = _stop(daemon)
    assert code == 0, err


def test_sigterm_lets_the_attempt_in_flight_finish_and_releases_the_rest(project):
    set_daemon_options(project, poll_seconds=30, batch_size=5)
    _setup(project)
    for _ in range(3):
        _queue_post(project, "now", channels=("fanpage", "portal"))
    daemon = _start(project, script=SLOW_DAEMON)
    try:
        assert _wait_for((project / "publishing-started").exists, timeout=20)
    finally:
        code, err = _stop(daemon)
    assert code == 0, err
    states = [d["state"] for d in _queue(project)]
    assert "publishing" not in states, states
    assert states.count("published") >= 1 and states.count("queued") >= 1, states
    published = {d["id"] for d in _queue(project) if d["state"] == "published"}
    files = {int(p.stem) for p in (project / "data" / "outbox").glob("*/*.json")}
    assert files == published  # what finished is recorded; nothing half-done
    journal = json.loads(_ok("log", "--journal", "--format", "json", cwd=project).stdout)
    assert any(e["event"] == "delivery.released" for e in journal)


def test_on_postgresql_a_daemon_wakes_when_work_is_approved_not_at_its_next_poll(project, pg_url):
    set_daemon_options(project, poll_seconds=120)
    env = {"PUBLISHER_DATABASE_URL": pg_url}
    ok = lambda *a: run_cli(*a, cwd=project, env=env)  # noqa: E731
    assert ok("policy", "add", "--agency", "tinh", "--code", "KH-06", "--title", "Chính sách thử",
              "--summary", "Tóm tắt").returncode == 0
    proc_env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")} | env
    daemon = subprocess.Popen([sys.executable, "-m", "publisher", "daemon"], cwd=project, env=proc_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)  # started, idle, next poll in two minutes
        post = json.loads(ok("--as", "bien-tap", "post", "new", "--policy", "KH-06", "--at", "now",
                             "--channel", "fanpage", "--json").stdout)
        approved_at = time.monotonic()
        assert ok("--as", "truong-phong", "post", "approve", str(post["id"])).returncode == 0
        published = lambda: json.loads(ok("queue", "--json").stdout)[0]["state"] == "published"  # noqa: E731
        assert _wait_for(published, timeout=15)
        assert time.monotonic() - approved_at < 10  # NOTIFY, not the 120 s poll
    finally:
        code, err = _stop(daemon)
    assert code == 0, err
