"""Accounts and roles: the library, the permission table, the ``publisher user`` commands.

Every database case runs on SQLite and PostgreSQL.  The password used here is
searched for everywhere it must never be: the raw rows of every table, the
SQLite files themselves, the journal, stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select, text, update

from publisher import accounts, i18n, journal
from publisher.access import ACTIONS, ROLES, Role, can, check_password, sees_agency
from publisher.cli import cli
from publisher.cli.users import COLUMNS
from publisher.errors import ExitCode, InputError, NotFound, StateError
from publisher.store.engine import read, write
from publisher.store.schema import metadata, users

from .conftest import ROOT, run_cli

# The subprocesses import this checkout, whichever copy of publisher pip last installed in editable mode.
HERE = {"PYTHONPATH": str(ROOT)}

PASSWORD = "Mật-khẩu rất bí mật 2026"
OTHER_PASSWORD = "một mật khẩu khác hẳn"

# The whole permission table, role by role: x = allowed.  A new action or role must be added here.
PERMISSIONS = """
action           editor  approver  auditor  admin
post.read        x       x         x        x
policy.write     x       .         .        x
post.write       x       .         .        x
post.approve     .       x         .        x
delivery.manage  x       x         .        x
journal.read     x       x         x        x
report.read      x       x         x        x
channels.manage  .       .         .        x
users.manage     .       .         .        x
"""


def _table() -> dict[tuple[str, str], bool]:
    header, *lines = PERMISSIONS.strip().splitlines()
    roles = header.split()[1:]
    return {(role, action): mark == "x" for action, *marks in map(str.split, lines)
            for role, mark in zip(roles, marks, strict=True)}


def _add(app, name: str = "bien-tap", role: str = "editor", **extra: object) -> accounts.User:
    return accounts.add_user(app, "quan-tri", name, role, PASSWORD, **extra)


def _raw_rows(app) -> str:
    """Every row of every table, as text."""
    with read(app.engine) as conn:
        return "\n".join(repr(tuple(r)) for table in metadata.sorted_tables for r in conn.execute(select(table)))


def _stored_hash(app, name: str) -> str:
    with read(app.engine) as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.username == name)).scalar_one()


# --- the library --------------------------------------------------------------------------

def test_add_list_passwd_disable_enable_round_trip(app):
    created = _add(app, "Bien-Tap", agency="tinh", display_name="Trần Thị Bình")
    assert (created.username, created.role, created.agency) == ("bien-tap", Role.EDITOR, "tinh")
    assert created.display_name == "Trần Thị Bình" and created.disabled_at is None
    _add(app, "quan-tri", "admin")
    assert [u.username for u in accounts.list_users(app)] == ["bien-tap", "quan-tri"]
    changed = accounts.set_password(app, "quan-tri", "BIEN-TAP", OTHER_PASSWORD)
    assert changed.password_changed_at > created.password_changed_at
    assert accounts.disable(app, "quan-tri", "bien-tap").disabled_at is not None
    with pytest.raises(StateError) as twice:
        accounts.disable(app, "quan-tri", "bien-tap")
    assert twice.value.key == "user.already_disabled"
    assert accounts.enable(app, "quan-tri", "bien-tap").disabled_at is None
    with pytest.raises(StateError):
        accounts.enable(app, "quan-tri", "bien-tap")
    assert accounts.authenticate(app, "bien-tap", OTHER_PASSWORD) == accounts.get_user(app, "bien-tap")
    with read(app.engine) as conn:
        events = [(e.actor, e.event, e.subject) for e in journal.entries(conn, "user:bien-tap")]
    assert events == [("quan-tri", "user.created", "user:bien-tap"), ("quan-tri", "user.password_changed",
                      "user:bien-tap"), ("quan-tri", "user.disabled", "user:bien-tap"),
                      ("quan-tri", "user.enabled", "user:bien-tap")]


def test_authenticate_right_wrong_disabled_unknown(app, monkeypatch):
    _add(app)
    assert accounts.authenticate(app, "bien-tap", PASSWORD).username == "bien-tap"
    assert accounts.authenticate(app, "BIEN-TAP", unicodedata.normalize("NFD", PASSWORD)) is not None
    assert accounts.authenticate(app, "bien-tap", PASSWORD + "x") is None
    assert accounts.authenticate(app, "bien-tap", "") is None
    verified = []
    monkeypatch.setattr(accounts, "_verify", lambda digest, pw: verified.append(digest) or False)
    assert accounts.authenticate(app, "khong-co", PASSWORD) is None
    assert accounts.authenticate(app, "not a valid name!", PASSWORD) is None
    monkeypatch.undo()
    accounts.disable(app, "quan-tri", "bien-tap")
    assert accounts.authenticate(app, "bien-tap", PASSWORD) is None
    # an unknown name costs one argon2 verification too, against a dummy hash: no timing oracle
    assert len(verified) == 2 and all(d.startswith("$argon2id$") for d in verified)


def test_the_stored_hash_is_argon2id_and_the_password_is_nowhere(app):
    _add(app, display_name="Trần Thị Bình")
    accounts.set_password(app, "quan-tri", "bien-tap", OTHER_PASSWORD)
    accounts.authenticate(app, "bien-tap", OTHER_PASSWORD)
    digest = _stored_hash(app, "bien-tap")
    assert digest.startswith("$argon2id$") and PasswordHasher().verify(digest, OTHER_PASSWORD)
    raw = _raw_rows(app)
    for secret in (PASSWORD, OTHER_PASSWORD):
        assert secret not in raw and secret not in digest
    with read(app.engine) as conn:
        logged = "\n".join(repr(tuple(r)) for r in conn.execute(select(metadata.tables["journal"])))
    assert "argon2" not in logged and digest not in logged and PASSWORD not in logged
    assert not hasattr(accounts.get_user(app, "bien-tap"), "password_hash")
    if app.engine.dialect.name == "sqlite":  # the bytes on disk, pages and write-ahead log alike
        files = Path(app.engine.url.database).parent.glob("publisher.db*")
        on_disk = b"".join(p.read_bytes() for p in files)
        assert PASSWORD.encode() not in on_disk and OTHER_PASSWORD.encode() not in on_disk


def test_an_outdated_hash_is_replaced_on_login(app):
    created = _add(app)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with write(app.engine) as conn:
        conn.execute(update(users).where(users.c.username == "bien-tap").values(password_hash=weak))
    assert accounts.authenticate(app, "bien-tap", PASSWORD) is not None
    renewed = _stored_hash(app, "bien-tap")
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)
    assert accounts.get_user(app, "bien-tap").password_changed_at == created.password_changed_at


@pytest.mark.parametrize(("password", "key"), [
    ("ngan-qua", "user.password_short"),
    ("123456789", "user.password_short"),
    ("bien-tap-01", "user.password_is_username"),
    ("BIEN-TAP-01", "user.password_is_username"),
    ("x" * 1025, "user.password_long"),
])
def test_weak_passwords_are_refused(password, key):
    with pytest.raises(InputError) as refused:
        check_password("bien-tap-01", password)
    assert refused.value.key == key


def test_a_weak_password_creates_nothing(app):
    with pytest.raises(InputError, match="10"):
        accounts.add_user(app, "quan-tri", "bien-tap", "editor", "ngan")
    assert accounts.list_users(app) == []
    _add(app)
    with pytest.raises(InputError):
        accounts.set_password(app, "quan-tri", "bien-tap", "bien-tap")
    assert accounts.authenticate(app, "bien-tap", PASSWORD) is not None


@pytest.mark.parametrize(("first", "second"), [
    ("bien-tap", "Bien-Tap"),
    ("trần.an", unicodedata.normalize("NFD", "trần.an")),
    ("trần.an", unicodedata.normalize("NFD", "TRẦN.AN")),
])
def test_duplicate_usernames_are_refused_ignoring_case_and_unicode_form(app, first, second):
    _add(app, first)
    with pytest.raises(InputError) as refused:
        _add(app, second)
    assert refused.value.key == "user.exists"
    assert len(accounts.list_users(app)) == 1


@pytest.mark.parametrize("name", ["", "a", "a b", "x@y", "-abc", ".abc", "_abc", "a" * 65, "tên\tsai"])
def test_bad_usernames_are_refused(app, name):
    with pytest.raises(InputError) as refused:
        _add(app, name)
    assert refused.value.key == "user.bad_username"


def test_role_agency_and_display_name_are_checked(app):
    for role, agency, shown, key in (("boss", None, None, "user.bad_role"),
                                     ("editor", "khong-co", None, "user.unknown_agency"),
                                     ("editor", None, "Trần\nBình", "user.bad_display_name")):
        with pytest.raises(InputError) as refused:
            _add(app, "bien-tap", role, agency=agency, display_name=shown)
        assert refused.value.key == key
    assert _add(app, "xa-1", "approver", agency="xa").agency == "xa"
    assert _add(app, "tinh-1", "Auditor").agency is None  # no agency: all of them
    with pytest.raises(NotFound):
        accounts.set_password(app, "quan-tri", "khong-co", PASSWORD)
    with pytest.raises(NotFound):
        accounts.disable(app, "quan-tri", "khong-co")


# --- roles and permissions ----------------------------------------------------------------

def _user(role: str, agency: str | None = None, disabled: bool = False) -> accounts.User:
    now = datetime.now(UTC)
    return accounts.User(1, "x", None, Role(role), agency, now, now, now if disabled else None)


def test_the_permission_table_role_by_role():
    expected = _table()
    assert {a for _, a in expected} == set(ACTIONS) and {r for r, _ in expected} == set(ROLES)
    for (role, action), allowed in expected.items():
        assert can(_user(role), action) is allowed, (role, action)
        assert can(_user(role, disabled=True), action) is False


def test_an_undeclared_action_is_a_bug_not_a_refusal():
    with pytest.raises(ValueError, match="post.delete"):
        can(_user("admin"), "post.delete")


def test_agency_scope():
    assert sees_agency(_user("editor", "tinh"), "tinh") and not sees_agency(_user("editor", "tinh"), "xa")
    assert sees_agency(_user("auditor"), "xa") and not sees_agency(_user("auditor", disabled=True), "xa")


def test_the_list_headers_are_in_both_languages():
    for column in COLUMNS:
        assert set(i18n.raw_catalogue()[f"user.col.{column}"]) == set(i18n.LANGUAGES)


# --- the command line -----------------------------------------------------------------------

def _cli_stdin(project: Path, backend: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    """Like run_cli, with standard input (run_cli has no parameter for it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(HERE, PUBLISHER_DATABASE_URL=backend)
    return subprocess.run([sys.executable, "-m", "publisher", *args], cwd=project, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_cli_round_trip_with_password_stdin(app, project, backend):
    env = {**HERE, "PUBLISHER_DATABASE_URL": backend}
    added = _cli_stdin(project, backend, "--as", "quan-tri", "user", "add", "Bien-Tap", "--role", "editor",
                       "--agency", "tinh", "--name", "Trần Thị Bình", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "bien-tap" in added.stdout and "editor" in added.stdout
    changed = _cli_stdin(project, backend, "user", "passwd", "bien-tap", "--password-stdin", stdin=OTHER_PASSWORD)
    assert changed.returncode == 0, changed.stderr
    outputs = [added, changed]
    for args in (("user", "disable", "bien-tap"), ("user", "list"), ("user", "enable", "bien-tap"),
                 ("--lang", "en", "user", "list", "--json"), ("log", "--journal", "--format", "json")):
        outputs.append(run_cli(*args, cwd=project, env=env))
        assert outputs[-1].returncode == 0, (args, outputs[-1].stderr)
    assert "Trần Thị Bình" in outputs[3].stdout and "đã khóa" in outputs[3].stdout
    assert '"username": "bien-tap"' in outputs[5].stdout and '"disabled_at": null' in outputs[5].stdout
    assert accounts.authenticate(app, "bien-tap", OTHER_PASSWORD) is not None
    shown = "".join(o.stdout + o.stderr for o in outputs)
    assert PASSWORD not in shown and OTHER_PASSWORD not in shown and "argon2" not in shown
    with read(app.engine) as conn:
        created = journal.find(conn, event="user.created")
    assert created.actor == "quan-tri" and created.payload["display_name"] == "Trần Thị Bình"


@pytest.mark.parametrize(("args", "stdin", "code", "words"), [
    (("add", "bien-tap", "--role", "boss"), "", ExitCode.USAGE, ["--role", "boss", "editor, approver"]),
    (("add", "x1", "--role", "editor", "--agency", "huyen"), "", ExitCode.USAGE, ["--agency", "huyen", "tinh, xa"]),
    (("add", "BIEN-TAP", "--role", "editor", "--password-stdin"), PASSWORD, ExitCode.USAGE, ["bien-tap", "đã có"]),
    (("add", "x1", "--role", "editor", "--password-stdin"), "ngan\n", ExitCode.USAGE, ["mật khẩu", "10"]),
    (("add", "x1", "--role", "editor", "--password-stdin"), "x1\n", ExitCode.USAGE, ["mật khẩu"]),
    (("add", "x1", "--role", "editor", "--password-stdin"), "", ExitCode.USAGE, ["--password-stdin"]),
    (("add", "a b", "--role", "editor"), "", ExitCode.USAGE, ["tên đăng nhập", "a b"]),
    (("passwd", "khong-co", "--password-stdin"), PASSWORD, ExitCode.NOT_FOUND, ["khong-co"]),
    (("disable", "khong-co"), "", ExitCode.NOT_FOUND, ["khong-co"]),
    (("enable", "bien-tap"), "", ExitCode.CONFLICT, ["bien-tap"]),
])
def test_cli_mistakes_are_one_clear_line(app, project, backend, args, stdin, code, words):
    _add(app)
    result = _cli_stdin(project, backend, "user", *args, stdin=stdin)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("Lỗi: ")
    assert all(w in result.stderr for w in words), result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert len(accounts.list_users(app)) == 1


def test_cli_prompts_twice_hidden(app, project):
    runner = CliRunner()
    typed = f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n"  # a mismatch first: asked again
    result = runner.invoke(cli, ["--as", "quan-tri", "user", "add", "truong-phong", "--role", "approver"],
                           input=typed, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "không khớp" in result.output and result.output.count("Nhập lại mật khẩu") == 2
    assert PASSWORD not in result.output  # hidden: nothing typed is echoed
    assert accounts.authenticate(app, "truong-phong", PASSWORD).role == Role.APPROVER
    weak = runner.invoke(cli, ["user", "passwd", "truong-phong"], input="truong-phong\n")
    assert weak.exit_code == ExitCode.USAGE and "tên đăng nhập" in weak.output
    assert "Nhập lại" not in weak.output  # refused before being asked twice
    changed = runner.invoke(cli, ["user", "passwd", "truong-phong"], input=f"{OTHER_PASSWORD}\n" * 2)
    assert changed.exit_code == 0 and OTHER_PASSWORD not in changed.output
    assert accounts.authenticate(app, "truong-phong", OTHER_PASSWORD) is not None


def test_the_users_table_holds_no_password_after_the_cli(app, project, backend):
    result = _cli_stdin(project, backend, "user", "add", "kiem-tra", "--role", "auditor", "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in _raw_rows(app)
    with read(app.engine) as conn:
        hashed = text("SELECT count(*) FROM users WHERE password_hash LIKE :argon2id")
        assert conn.execute(hashed, {"argon2id": "$argon2id$%"}).scalar() == 1
