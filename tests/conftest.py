"""Shared fixtures: real SQLite and PostgreSQL, a project folder per test.

``backend`` runs a test on both engines.  PostgreSQL is the machine's server
(127.0.0.1:5432, or ``PUBLISHER_TEST_PG``); each test gets a fresh database.
Without a server the PostgreSQL case is skipped locally and fails in CI
(``CI=true``), so a green CI always means both engines passed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from publisher import i18n
from publisher.context import App

PG_ADMIN = os.environ.get("PUBLISHER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent

BASE_CONFIG = """
[storage]
data_dir = "data"

[daemon]
poll_seconds = 0.2
lease_seconds = 5
grace_seconds = 10

[retry]
max_attempts = 3
base_seconds = 1
max_seconds = 2
inline_attempts = 2
inline_wait_seconds = 0.01
reconcile_delay_seconds = 1

[agencies.tinh]
name = "Ủy ban nhân dân tỉnh Thử Nghiệm"

[agencies.xa]
name = "Ủy ban nhân dân xã Thử Nghiệm"

[channels.portal]
type = "outbox"
agency = "tinh"
format = "portal"

[channels.fanpage]
type = "outbox"
agency = "tinh"
format = "facebook"

[channels.xa-fanpage]
type = "outbox"
agency = "xa"
format = "facebook"
"""


@pytest.fixture(autouse=True)
def _vietnamese() -> Iterator[None]:
    i18n.set_language("vi")
    yield
    i18n.set_language("vi")


@pytest.fixture(autouse=True)
def _quick_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost in tests (~1 ms instead of ~150 ms a hash): the web tests log in hundreds of times.

    Not in test_users.py, which checks the real parameters and the re-hash of weaker ones;
    processes started by tests (publisher web) keep the real cost.
    """
    if request.module.__name__.endswith("test_users"):
        return
    from argon2 import PasswordHasher

    from publisher import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_ADMIN}")
        pytest.skip("PostgreSQL not reachable (set PUBLISHER_TEST_PG); skipped outside CI")
    return PG_ADMIN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"publisher_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: SQLite in the test folder, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'publisher.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with config.toml (SQLite under ./data), as the cwd."""
    (tmp_path / "config.toml").write_text(BASE_CONFIG, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    monkeypatch.chdir(tmp_path)
    for var in ("PUBLISHER_CONFIG", "PUBLISHER_DATABASE_URL", "PUBLISHER_LANG", "PUBLISHER_USER"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def app(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """An opened App on each backend, with the test config."""
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    opened = App.open(project / "config.toml")
    yield opened
    opened.close()


@pytest.fixture
def sqlite_app(project: Path) -> Iterator[App]:
    opened = App.open(project / "config.toml")
    yield opened
    opened.close()


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``publisher`` command in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "publisher", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


POLICY = {
    "code": "12/2026/NQ-HĐND",
    "title": "Nghị quyết quy định mức hỗ trợ học phí",
    "summary": "Hỗ trợ học phí cho học sinh vùng khó khăn.",
    "consultation_opens": "2026-12-01",
    "consultation_closes": "2026-12-31",
    "draft_url": "https://tinh.example.gov.vn/du-thao/12",
}


def set_daemon_options(project: Path, **options: object) -> None:
    """Change or add keys of the [daemon] table of the project's config.toml."""
    import re

    config = project / "config.toml"
    head, rest = config.read_text(encoding="utf-8").split("[daemon]\n", 1)
    for key, value in options.items():
        line = re.compile(rf"^{key} = .*$", re.M)
        rest = line.sub(f"{key} = {value}", rest, count=1) if line.search(rest) else f"{key} = {value}\n{rest}"
    config.write_text(f"{head}[daemon]\n{rest}", encoding="utf-8")


PAGES = {"111111": {"name": "UBND tỉnh Thử Nghiệm", "token": "EAAB-tinh-page-token-0001"},
         "222222": {"name": "UBND xã Thử Nghiệm", "token": "EAAB-xa-page-token-0002"}}


def channel_config(project: Path, channels: str) -> Path:
    """Write BASE_CONFIG plus *channels* (TOML tables) as the project's config; a refused token waits 1 s."""
    config = project / "config.toml"
    config.write_text(BASE_CONFIG.replace("[retry]\n", "[retry]\nauth_wait_seconds = 1\n") + channels,
                      encoding="utf-8")
    return config


def facebook_config(project: Path, graph_url: str, *, concurrency: int = 1, extra: str = "") -> Path:
    """BASE_CONFIG plus two Facebook channels (tokens in files) pointing at a fake Graph API."""
    channels = ""
    for name, page_id, agency in (("fb-tinh", "111111", "tinh"), ("fb-xa", "222222", "xa")):
        token_file = project / f"{name}.token"
        token_file.write_text(PAGES[page_id]["token"] + "\n", encoding="utf-8")
        channels += (f'\n[channels.{name}]\ntype = "facebook"\nagency = "{agency}"\nformat = "facebook"\n'
                     f'page_id = "{page_id}"\ntoken_file = "{token_file.name}"\nbase_url = "{graph_url}"\n'
                     f"concurrency = {concurrency}\nread_timeout = 1.0\nrecheck_seconds = 0.3\n{extra}")
    return channel_config(project, channels)


# --- a real WordPress (tests/wordpress/setup.sh: Debian's WordPress + PHP, MariaDB) -------------------
import subprocess as _subprocess  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

WORDPRESS_DIR = Path(__file__).resolve().parent / "wordpress"
SETUP = WORDPRESS_DIR / "setup.sh"
STOP = WORDPRESS_DIR / "stop.sh"
SITE = os.environ.get("PUBLISHER_WP_SITE", "/tmp/publisher-wp")


class WordPress(NamedTuple):
    url: str  # e.g. http://127.0.0.1:8089 (REST API under /wp-json/)
    user: str  # admin login, e.g. bientap
    app_password: str  # Application Password, 24 characters, no spaces


def _unavailable(reason: str, what: str = "local WordPress") -> None:
    """A missing service skips a local run and fails CI (where .ci/run provides it)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


#: Debian's Chromium (apt-get install chromium), driven by Playwright; screenshots go to OUTPUT.
CHROMIUM = Path(os.environ.get("PUBLISHER_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(os.environ.get("PUBLISHER_TEST_OUTPUT", ROOT / "test-output"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium for tests of what people see (skips locally without it, fails in CI)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(str(exc), "Playwright")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)", "Chromium")
    with sync_playwright() as driver:
        # no sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


WEB_SECRET = "khóa-bí-mật-chỉ-dùng-cho-thử-nghiệm-trình-duyệt-0123456789"


@contextmanager
def web_server(project: Path, *options: str) -> Iterator[str]:
    """``publisher web`` (the command staff run) for *project* on a free loopback port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(PUBLISHER_WEB_SECRET=WEB_SECRET, PYTHONPATH=str(ROOT))  # this checkout, whatever is installed
    command = [sys.executable, "-m", "publisher", "web", "--port", str(port), *options]
    proc = _subprocess.Popen(command, cwd=project, env=env, stdout=_subprocess.DEVNULL, stderr=_subprocess.PIPE,
                             text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_up(url: str, proc: _subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"publisher web stopped: {proc.stderr.read() if proc.stderr else ''}")
        try:
            requests.get(f"{url}/login", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("publisher web did not start within 30 s")


def screenshot_path(name: str) -> Path:
    """Where a test saves what the browser showed (test-output/, not committed)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / f"{name}.png"


@pytest.fixture(scope="session")
def wordpress() -> Iterator[WordPress]:
    env = dict(os.environ)
    # A fresh database each session: known ids (post 1 "Hello world!",
    # category 1 "Uncategorized"), no leftovers. Costs about half a second.
    env.setdefault("PUBLISHER_WP_RESET", "1")
    try:
        proc = _subprocess.run(
            ["bash", str(SETUP), SITE],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,  # a first run installs PHP with apt
            stdin=_subprocess.DEVNULL,
        )
    except (OSError, _subprocess.TimeoutExpired) as exc:
        _unavailable(f"{SETUP.name}: {exc}")
    if proc.returncode != 0:
        _unavailable(f"{SETUP.name} exited {proc.returncode}:\n{proc.stderr.strip()}")
    lines = proc.stdout.splitlines()
    if len(lines) != 3 or not all(lines):
        _unavailable(f"{SETUP.name} printed {proc.stdout!r}, not three lines")
    try:
        yield WordPress(*lines)
    finally:
        # --drop-db too, if the database should not outlive the session.
        _subprocess.run(["bash", str(STOP), SITE], capture_output=True, timeout=60)
