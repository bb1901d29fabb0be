"""Shared by the daemon benchmarks: a project folder, a daemon process, its CPU time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CONFIG = """
[storage]
data_dir = "data"
[daemon]
poll_seconds = 30
[agencies.tinh]
name = "Ủy ban nhân dân tỉnh"
[channels.fanpage]
type = "outbox"
agency = "tinh"
format = "facebook"
"""


def project(folder: Path) -> Path:
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "templates").mkdir(exist_ok=True)
    return folder / "config.toml"


def start(folder: Path, worker: str = "bench", extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")} | (extra_env or {})
    return subprocess.Popen([sys.executable, "-m", "publisher", "daemon", "--worker-id", worker], cwd=folder,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def scratch_postgres(name: str) -> str:
    """A fresh, empty database on the machine's PostgreSQL; returns its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
