"""``publisher demo`` on a fresh folder, through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _publisher(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("publisher")
    if exe is None:
        pytest.fail("the console script 'publisher' is not installed (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_demo_publishes_to_the_outbox_and_the_log_shows_it(tmp_path):
    demo = _publisher("demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "06/KH-UBND" in demo.stdout and "đã đăng" in demo.stdout

    rows = json.loads(_publisher("log", "--format", "json", cwd=tmp_path).stdout)
    assert {r["channel"] for r in rows} == {"cong-thong-tin", "fanpage"}
    assert all(r["outcome"] == "published" and r["state"] == "published" for r in rows)
    assert all(r["author"] != r["approver"] for r in rows)

    for row in rows:  # the permalink is the outbox file, holding the approved content
        record = json.loads(Path(row["permalink"].removeprefix("file://")).read_text(encoding="utf-8"))
        assert record["content_sha256"] == row["content_sha256"]
        assert "70%" in record["body"] and record["policy"] == "06/KH-UBND"
    assert not (tmp_path / "queue" / "__init__.py").exists()
    assert _publisher("audit", "verify", cwd=tmp_path).returncode == 0


def test_demo_twice_reuses_the_policy_and_publishes_a_new_post(tmp_path):
    assert _publisher("demo", cwd=tmp_path).returncode == 0
    assert _publisher("demo", cwd=tmp_path).returncode == 0
    policies = json.loads(_publisher("policy", "list", "--json", cwd=tmp_path).stdout)
    queue = json.loads(_publisher("queue", "--json", cwd=tmp_path).stdout)
    assert len(policies) == 1 and [d["state"] for d in queue] == ["published"] * 4
