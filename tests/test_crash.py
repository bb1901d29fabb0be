"""A process killed between the outbox write and the database update.

The child process is the real CLI (``run --once``) with one change: right
after the outbox channel has written its file, the process dies
(``os._exit``, like a power cut or ``kill -9``: no cleanup, no rollback
handlers).  After a restart the delivery must be published exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from .conftest import run_cli, set_daemon_options

CRASH_AFTER_WRITE = """
import os, sys
from publisher.channels.outbox import OutboxChannel
from publisher.cli import main

original = OutboxChannel.publish

def publish_then_die(self, delivery):
    original(self, delivery)
    os._exit(137)  # dies before the database records the outcome

OutboxChannel.publish = publish_then_die
sys.argv = ["publisher", "run", "--once", "--worker-id", "doomed"]
main()
"""


def _ok(*args, cwd):
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def test_crash_after_outbox_write_publishes_exactly_once_after_restart(project):
    set_daemon_options(project, lease_seconds=1)
    _ok("policy", "add", "--agency", "tinh", "--code", "KH-06", "--title", "Chính sách thử", "--summary", "Tóm tắt",
        cwd=project)
    _ok("--as", "bien-tap", "post", "new", "--policy", "KH-06", "--channel", "fanpage", "--at", "now", cwd=project)
    _ok("--as", "truong-phong", "post", "approve", "1", cwd=project)

    crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_WRITE], cwd=project, capture_output=True,
                             text=True, timeout=60)
    assert crashed.returncode == 137, crashed.stderr
    outbox = project / "data" / "outbox" / "fanpage"
    assert [p.name for p in outbox.glob("*.json")] == ["1.json"]
    queue = json.loads(_ok("queue", "--json", cwd=project).stdout)
    assert [d["state"] for d in queue] == ["publishing"]  # the database never heard back

    time.sleep(1.1)  # lease_seconds = 1: the dead worker's lease runs out
    _ok("run", "--once", "--worker-id", "survivor", cwd=project)

    assert [p.name for p in outbox.glob("*.json")] == ["1.json"]  # exactly one post
    assert not list(outbox.glob(".*.tmp"))  # no half-written file left behind
    [delivery] = json.loads(_ok("queue", "--json", cwd=project).stdout)
    assert delivery["state"] == "published" and delivery["remote_id"] == "outbox:fanpage:1"
    log = json.loads(_ok("log", "--format", "json", cwd=project).stdout)
    assert [(r["worker"], r["outcome"]) for r in log] == [("doomed", "lease_expired"), ("survivor", "reconciled")]
    _ok("audit", "verify", cwd=project)
