"""The ``publisher`` command, end to end.

Most cases run the Click group in-process (fast, same code path, exit code and
stderr are all that matter); the pipeline, the CSV export and a few user
mistakes also run as a real ``python -m publisher`` subprocess, so the entry
point, the encoding of stdout and the absence of tracebacks are checked for real.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.errors import ExitCode

from .conftest import POLICY, run_cli

CODE = POLICY["code"]  # "12/2026/NQ-HĐND"
OTHER = {"code": "05/2026/QĐ-UBND", "title": "Quyết định về phí đỗ xe", "summary": "Điều chỉnh phí đỗ xe."}
FUTURE = "2099-01-01 08:00"  # Asia/Ho_Chi_Minh
FUTURE_UTC = "2099-01-01T01:00:00+00:00"


# --- helpers --------------------------------------------------------------

def invoke(*args: str, actor: str | None = None) -> Result:
    """Run the CLI in-process (cwd = the project) and return Click's result."""
    argv = (["--as", actor] if actor else []) + list(args)
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def ok(*args: str, actor: str | None = None) -> Result:
    result = invoke(*args, actor=actor)
    assert result.exit_code == 0, (args, result.output)
    return result


def as_json(*args: str, actor: str | None = None) -> Any:
    return json.loads(ok(*args, "--json", actor=actor).stdout)


def log_json(*args: str) -> list[dict[str, Any]]:
    return json.loads(ok("log", "--format", "json", *args).stdout)


def journal() -> list[dict[str, Any]]:
    return log_json("--journal")


def policy_flags(data: dict[str, str], agency: str = "tinh") -> list[str]:
    flags = ["--agency", agency]
    for key, value in data.items():
        flags += [f"--{key.replace('_', '-')}", value]
    return flags


def add_policy(data: dict[str, str] = POLICY, agency: str = "tinh") -> None:
    ok("policy", "add", *policy_flags(data, agency))


def new_post(*args: str, actor: str = "a") -> int:
    """Write a post with the thong-tin template; returns its id."""
    return as_json("post", "new", "--template", "thong-tin", "--var", "noi_dung=Mời góp ý dự thảo.", *args,
                   actor=actor)["id"]


def snapshot() -> dict[str, Any]:
    """Everything a failed command must leave alone."""
    return {"journal": journal(), "policies": as_json("policy", "list"), "posts": as_json("post", "list"),
            "queue": as_json("queue")}


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def _t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def assert_one_line_error(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Lỗi: "), stderr
    for needle in needles:
        assert needle in lines[0], (needle, stderr)


# --- policies -------------------------------------------------------------

def test_policy_add_from_flags_then_list_and_show(project: Path) -> None:
    flags = policy_flags({**POLICY, "consultation_opens": "01/12/2026"})  # dd/mm/yyyy is accepted too
    added = ok("policy", "add", *flags, actor="chuyen-vien")
    assert CODE in added.stdout and "tinh" in added.stdout

    shown = as_json("policy", "show", CODE)
    assert {k: shown[k] for k in POLICY} == {**POLICY, "consultation_opens": "2026-12-01"}
    assert shown["agency"] == "tinh"
    assert shown["created_by"] == "chuyen-vien"
    assert shown["impact"] == "high"

    listed = as_json("policy", "list")
    assert listed == [shown]
    table = ok("policy", "list").stdout
    assert CODE in table and POLICY["title"] in table and "2026-12-31" in table
    assert table.splitlines()[0].startswith("Cơ quan")  # translated headers

    assert [e["event"] for e in journal()].count("policy.created") == 1


def test_policy_add_from_toml_file_and_flags_override(project: Path) -> None:
    lines = [f'{k} = "{v}"' for k, v in POLICY.items()] + ['agency = "xa"', 'impact = "normal"',
                                                          "passed_on = 2027-01-10"]
    (project / "chinh-sach.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok("policy", "add", "--file", "chinh-sach.toml")
    shown = as_json("policy", "show", CODE)
    assert shown["agency"] == "xa" and shown["impact"] == "normal" and shown["passed_on"] == "2027-01-10"
    assert shown["summary"] == POLICY["summary"]

    # a flag wins over the file (same code, other agency: allowed)
    ok("policy", "add", "--file", "chinh-sach.toml", "--agency", "tinh", "--title", "Tên khác")
    assert as_json("policy", "show", CODE, "--agency", "tinh")["title"] == "Tên khác"
    assert as_json("policy", "show", CODE, "--agency", "xa")["title"] == POLICY["title"]


def test_policy_list_and_show_by_agency(project: Path) -> None:
    add_policy(POLICY, "tinh")
    add_policy(OTHER, "xa")
    add_policy({**OTHER, "title": "Bản của tỉnh"}, "tinh")  # the same code in both agencies

    assert sorted((p["agency"], p["code"]) for p in as_json("policy", "list")) == [
        ("tinh", OTHER["code"]), ("tinh", CODE), ("xa", OTHER["code"])]
    assert [(p["agency"], p["code"]) for p in as_json("policy", "list", "--agency", "xa")] == [("xa", OTHER["code"])]
    assert {p["agency"] for p in as_json("policy", "list", "--agency", "tinh")} == {"tinh"}
    table = ok("policy", "list", "--agency", "xa").stdout
    assert OTHER["title"] in table and CODE not in table and "Bản của tỉnh" not in table

    # a code used by two agencies needs --agency
    ambiguous = invoke("policy", "show", OTHER["code"])
    assert ambiguous.exit_code == ExitCode.USAGE
    assert_one_line_error(ambiguous.stderr, OTHER["code"], "--agency", "tinh, xa")
    assert as_json("policy", "show", OTHER["code"], "--agency", "tinh")["title"] == "Bản của tỉnh"

    missing = invoke("policy", "show", "99/KHÔNG-CÓ")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert_one_line_error(missing.stderr, "99/KHÔNG-CÓ")


# --- user mistakes --------------------------------------------------------

@pytest.fixture
def seeded(project: Path) -> Path:
    """A policy of agency tinh and posts 1 (draft by a), 2 (approved by b), 3 (cancelled)."""
    add_policy()
    (project / "bai.toml").write_text(f'policy = "{CODE}"\nchanels = ["portal"]\n', encoding="utf-8")
    (project / "hong.toml").write_text('code = "12/NQ\ntitle = "x"\n', encoding="utf-8")
    assert new_post("--policy", CODE, "--at", FUTURE) == 1
    assert new_post("--policy", CODE, "--at", FUTURE) == 2
    ok("post", "approve", "2", actor="b")
    assert new_post("--policy", CODE, "--at", FUTURE) == 3
    ok("post", "cancel", "3")
    return project


POLICY_ADD = ["policy", "add", "--agency", "tinh", "--code", "99/NQ", "--title", "T", "--summary", "S"]
POST_NEW = ["post", "new", "--policy", CODE, "--template", "thong-tin"]
V = ["--var", "noi_dung=x"]

MISTAKES = {
    "agency missing": (["policy", "add", "--code", "99/NQ", "--title", "T", "--summary", "S"], ExitCode.USAGE,
                       ["--agency", "tinh, xa"]),
    "unknown agency": ([*POLICY_ADD[:3], "huyen", *POLICY_ADD[4:]], ExitCode.USAGE, ["huyen", "tinh, xa"]),
    "impossible date": ([*POLICY_ADD, "--consultation-opens", "31/02/2026"], ExitCode.USAGE,
                        ["consultation_opens", "31/02/2026"]),
    "missing field": (["policy", "add", "--agency", "tinh", "--code", "99/NQ", "--summary", "S"], ExitCode.USAGE,
                      ["'title'"]),
    "closes before opens": ([*POLICY_ADD, "--consultation-opens", "2026-12-10", "--consultation-closes",
                             "2026-12-01"], ExitCode.USAGE, ["consultation_closes", "consultation_opens"]),
    "bad url": ([*POLICY_ADD, "--draft-url", "tinh.example.gov.vn/du-thao"], ExitCode.USAGE,
                ["draft_url", "tinh.example.gov.vn/du-thao", "https://"]),
    "bad impact": ([*POLICY_ADD, "--impact", "huge"], ExitCode.USAGE, ["huge", "policy add --help"]),
    "unknown option": ([*POLICY_ADD, "--agencyy", "xa"], ExitCode.USAGE, ["--agencyy"]),
    "post id not a number": (["post", "approve", "mot"], ExitCode.USAGE, ["mot", "post approve --help"]),
    "bad --lang": (["--lang", "fr", "post", "approve", "1"], ExitCode.USAGE, ["fr", "vi"]),
    "duplicate code": (["policy", "add", *policy_flags(POLICY)], ExitCode.USAGE, [CODE, "tinh"]),
    "unknown field in file": (["policy", "add", "--file", "bai.toml"], ExitCode.USAGE, ["bai.toml", "'policy'"]),
    "unknown post field in file": (["post", "new", "--file", "bai.toml"], ExitCode.USAGE,
                                   ["bai.toml", "'chanels'", "channels"]),
    "toml syntax": (["policy", "add", "--file", "hong.toml"], ExitCode.USAGE, ["hong.toml", "TOML", "line 1"]),
    "missing file": (["policy", "add", "--file", "khong-co.toml"], ExitCode.USAGE, ["khong-co.toml"]),
    "unknown policy": (["post", "new", "--policy", "99/KHÔNG-CÓ"], ExitCode.NOT_FOUND, ["99/KHÔNG-CÓ"]),
    "unknown channel": ([*POST_NEW, *V, "--channel", "zalo"], ExitCode.USAGE,
                        ["zalo", "fanpage, portal, xa-fanpage"]),
    "channel of another agency": ([*POST_NEW, *V, "--channel", "xa-fanpage"], ExitCode.USAGE,
                                  ["xa-fanpage", "xa", "tinh"]),
    "missing template variable": (POST_NEW, ExitCode.USAGE, ["thong-tin.portal.html", "noi_dung", "--var"]),
    "unknown template": (["post", "new", "--policy", CODE, "--template", "khong-co"], ExitCode.USAGE,
                         ["khong-co", "moi-gop-y, nhac-han-gop-y, thong-qua, thong-tin"]),
    "var without =": ([*POST_NEW, "--var", "noi_dung"], ExitCode.USAGE, ["noi_dung", "=" ]),
    "missing media": ([*POST_NEW, *V, "--media", "anh-khong-co.png"], ExitCode.USAGE, ["anh-khong-co.png"]),
    "bad time": ([*POST_NEW, *V, "--at", "31/02/2026"], ExitCode.USAGE, ["'at'", "31/02/2026", "now"]),
    "deadline before at": ([*POST_NEW, *V, "--at", FUTURE, "--deadline", "2098-01-01 08:00"], ExitCode.USAGE,
                           ["deadline"]),
    "self approval": (["--as", "a", "post", "approve", "1"], ExitCode.CONFLICT, ["không được tự duyệt"]),
    "approve twice": (["--as", "c", "post", "approve", "2"], ExitCode.CONFLICT, ["bài 2", "bản nháp"]),
    "approve cancelled": (["--as", "c", "post", "approve", "3"], ExitCode.CONFLICT, ["bài 3"]),
    "cancel cancelled": (["post", "cancel", "3"], ExitCode.CONFLICT, ["bài 3", "đã bị hủy"]),
    "approve unknown post": (["--as", "c", "post", "approve", "42"], ExitCode.NOT_FOUND, ["42"]),
    "cancel unknown post": (["post", "cancel", "42"], ExitCode.NOT_FOUND, ["42"]),
    "show unknown post": (["post", "show", "42"], ExitCode.NOT_FOUND, ["42"]),
    "run without --once": (["run"], ExitCode.USAGE, ["--once", "daemon"]),
    "bad --since": (["log", "--since", "hôm qua"], ExitCode.USAGE, ["since", "hôm qua"]),
    "table to --output": (["log", "--format", "table", "--output", "nhat-ky.txt"], ExitCode.USAGE,
                          ["--format csv"]),
    "unwritable --output": (["log", "--output", "khong-co/nhat-ky.csv"], ExitCode.USAGE,
                            ["khong-co/nhat-ky.csv"]),
}


@pytest.mark.parametrize("case", MISTAKES, ids=list(MISTAKES))
def test_mistake_is_one_line_exit_code_and_changes_nothing(seeded: Path, case: str) -> None:
    args, code, needles = MISTAKES[case]
    before = snapshot()
    result = invoke(*args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert_one_line_error(result.stderr, *needles)
    assert snapshot() == before
    assert not (seeded / "nhat-ky.txt").exists()


def test_mistakes_in_a_real_process(seeded: Path) -> None:
    """The installed entry point: exit codes, one line on stderr, no traceback, nothing changed."""
    before = snapshot()
    for args, code, needle in [
        ([*POLICY_ADD, "--consultation-opens", "31/02/2026"], ExitCode.USAGE, "31/02/2026"),
        (["--as", "a", "post", "approve", "1"], ExitCode.CONFLICT, "không được tự duyệt"),
        (["post", "approve", "42"], ExitCode.NOT_FOUND, "42"),
        (["policy", "add", "--file", "bai.toml"], ExitCode.USAGE, "bai.toml"),
    ]:
        done = run_cli(*args, cwd=seeded)
        assert done.returncode == code, (args, done.stderr)
        assert done.stdout == ""
        assert_one_line_error(done.stderr, needle)
    assert snapshot() == before


def test_language_flag_environment_and_config(project: Path) -> None:
    vi = run_cli("post", "approve", "42", cwd=project)
    en = run_cli("--lang", "en", "post", "approve", "42", cwd=project)
    env = run_cli("post", "approve", "42", cwd=project, env={"PUBLISHER_LANG": "en"})
    assert vi.returncode == en.returncode == env.returncode == ExitCode.NOT_FOUND
    assert vi.stderr == "Lỗi: không tìm thấy bài đăng số 42\n"
    assert en.stderr == "Error: post 42 not found\n"
    assert env.stderr == en.stderr

    # display.language is the default; --lang still wins over it
    with (project / "config.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[display]\nlanguage = "en"\n')
    assert invoke("post", "approve", "42").stderr == "Error: post 42 not found\n"
    assert invoke("--lang", "vi", "post", "approve", "42").stderr == "Lỗi: không tìm thấy bài đăng số 42\n"


# --- the pipeline ---------------------------------------------------------

def test_post_approve_queue_run_outbox_and_log(project: Path) -> None:
    image = project / "anh-minh-hoa.png"
    image.write_bytes(png_bytes())
    (project / "chinh-sach.toml").write_text(
        "\n".join(f'{k} = "{v}"' for k, v in POLICY.items()) + '\nagency = "tinh"\n', encoding="utf-8")
    assert run_cli("--as", "chuyen-vien", "policy", "add", "--file", "chinh-sach.toml", cwd=project).returncode == 0

    created = run_cli("--as", "chuyen-vien", "post", "new", "--policy", CODE, "--template", "thong-tin",
                      "--var", "noi_dung=Mời nhân dân góp ý dự thảo.", "--media", str(image), "--at", "now",
                      cwd=project)
    assert created.returncode == 0, created.stderr
    assert "số 1 " in created.stdout and "portal, fanpage" in created.stdout

    approved = run_cli("--as", "truong-phong", "post", "approve", "1", cwd=project)
    assert approved.returncode == 0, approved.stderr
    assert "1, 2" in approved.stdout

    shown = json.loads(run_cli("post", "show", "1", "--json", cwd=project).stdout)
    assert shown["post"]["author"] == "chuyen-vien" and shown["post"]["approver"] == "truong-phong"
    assert shown["post"]["state"] == "approved"
    content = shown["content"]
    assert set(content) == {"portal", "fanpage"}
    for channel in content.values():
        assert "Mời nhân dân góp ý dự thảo." in channel["body"]
        assert len(channel["sha256"]) == 64
        assert [m["name"] for m in channel["media"]] == ["anh-minh-hoa.png"]
    assert "<p>" in content["portal"]["body"] and "<p>" not in content["fanpage"]["body"]
    assert content["portal"]["sha256"] != content["fanpage"]["sha256"]

    queued = json.loads(run_cli("queue", "--json", cwd=project).stdout)
    assert [(d["id"], d["channel"], d["state"]) for d in queued] == [(1, "portal", "queued"), (2, "fanpage", "queued")]
    for d in queued:
        assert d["due"].endswith("+00:00")  # stored and exported in UTC
        assert abs(datetime.fromisoformat(d["due"]) - datetime.now(UTC)) < timedelta(minutes=5)
        assert d["content_sha256"] == content[d["channel"]]["sha256"]

    ran = run_cli("run", "--once", cwd=project)
    assert ran.returncode == 0, ran.stderr
    assert "published=2" in ran.stdout

    for did, channel in ((1, "portal"), (2, "fanpage")):
        record_path = project / "data" / "outbox" / channel / f"{did}.json"
        record = json.loads(record_path.read_text(encoding="utf-8"))
        assert record["body"] == content[channel]["body"]
        assert record["title"] == content[channel]["title"]
        assert record["content_sha256"] == content[channel]["sha256"]
        assert record["policy"] == CODE
        [copied] = record["media"]
        assert (record_path.parent / copied).read_bytes() == image.read_bytes()

    rows = json.loads(run_cli("log", "--format", "json", cwd=project).stdout)
    # the two channels publish in parallel: the log's order is the order they finished
    assert sorted((r["delivery"], r["channel"], r["outcome"], r["state"]) for r in rows) == [
        (1, "portal", "published", "published"), (2, "fanpage", "published", "published")]
    for r in rows:
        outbox_file = project / "data" / "outbox" / r["channel"] / f"{r['delivery']}.json"
        assert r["permalink"] == outbox_file.resolve().as_uri()
        assert r["content_sha256"] == content[r["channel"]]["sha256"]
        assert (r["author"], r["approver"], r["policy"], r["agency"]) == ("chuyen-vien", "truong-phong", CODE, "tinh")

    events = [(e["event"], e["subject"], e["actor"]) for e in journal()]
    for expected in [("policy.created", "policy:1", "chuyen-vien"), ("post.created", "post:1", "chuyen-vien"),
                     ("post.approved", "post:1", "truong-phong"), ("delivery.queued", "delivery:1", "truong-phong"),
                     ("delivery.queued", "delivery:2", "truong-phong")]:
        assert expected in events
    assert {e[1] for e in events if e[0] == "delivery.published"} == {"delivery:1", "delivery:2"}
    assert [e[0] for e in events].index("post.approved") < [e[0] for e in events].index("delivery.published")
    assert "delivery.published" in ok("log", "--journal").stdout  # the table too

    # published is final: nothing left to cancel, and publishing again does nothing
    before = snapshot()
    refused = invoke("post", "cancel", "1")
    assert refused.exit_code == ExitCode.CONFLICT
    assert_one_line_error(refused.stderr, "bài 1")
    assert snapshot() == before
    assert "published" not in ok("run", "--once").stdout
    assert len(log_json()) == 2


def test_cancel_queued_posts_publishes_nothing(project: Path) -> None:
    add_policy()
    due_now = new_post("--policy", CODE, "--at", "now")
    later = new_post("--policy", CODE, "--channel", "fanpage", "--at", FUTURE)
    ok("post", "approve", str(due_now), actor="b")
    ok("post", "approve", str(later), actor="b")
    queued = as_json("queue")
    assert [(d["channel"], d["state"]) for d in queued] == [("portal", "queued"), ("fanpage", "queued"),
                                                            ("fanpage", "queued")]
    assert queued[-1]["due"] == FUTURE_UTC  # 08:00 in Hà Nội is 01:00 UTC

    for post_id in (due_now, later):
        cancelled = ok("post", "cancel", str(post_id), "--reason", "Dự thảo đã thay đổi")
        assert f"bài {post_id}" in cancelled.stdout
    assert {d["state"] for d in as_json("queue")} == {"cancelled"}
    assert [d["last_error"] for d in as_json("queue")] == ["Dự thảo đã thay đổi"] * 3

    ran = ok("run", "--once")
    assert "published" not in ran.stdout
    assert not (project / "data" / "outbox").exists() or not any((project / "data" / "outbox").rglob("*.json"))
    assert log_json() == []
    cancelled_events = [e for e in journal() if e["event"] == "delivery.cancelled"]
    assert len(cancelled_events) == 3
    assert {e["payload"]["reason"] for e in cancelled_events} == {"Dự thảo đã thay đổi"}
    assert as_json("post", "show", str(due_now))["post"]["state"] == "cancelled"


# --- reports --------------------------------------------------------------

@pytest.fixture
def two_published(project: Path) -> dict[str, Any]:
    """Policy 1 published to portal, then policy 2 to fanpage; a cancelled fanpage post of policy 1."""
    add_policy(POLICY)
    add_policy(OTHER)
    first = new_post("--policy", CODE, "--channel", "portal", "--at", "now")
    ok("post", "approve", str(first), actor="b")
    ok("run", "--once")
    second = new_post("--policy", OTHER["code"], "--channel", "fanpage", "--at", "now")
    ok("post", "approve", str(second), actor="b")
    ok("run", "--once")
    third = new_post("--policy", CODE, "--channel", "fanpage", "--at", FUTURE)
    ok("post", "approve", str(third), actor="b")
    ok("post", "cancel", str(third))
    rows = log_json()
    assert [(r["policy"], r["channel"]) for r in rows] == [(CODE, "portal"), (OTHER["code"], "fanpage")]
    return {"rows": rows, "posts": (first, second, third)}


def test_log_and_queue_filters(two_published: dict[str, Any]) -> None:
    first_row, second_row = two_published["rows"]
    assert _t(first_row["time"]) < _t(second_row["time"])

    assert [r["delivery"] for r in log_json("--policy", CODE)] == [first_row["delivery"]]
    assert [r["delivery"] for r in log_json("--channel", "fanpage")] == [second_row["delivery"]]
    assert [r["delivery"] for r in log_json("--state", "published")] == [first_row["delivery"],
                                                                         second_row["delivery"]]
    assert log_json("--state", "cancelled") == []  # never attempted
    assert log_json("--agency", "xa") == []
    assert [r["delivery"] for r in log_json("--since", second_row["time"])] == [second_row["delivery"]]
    assert [r["delivery"] for r in log_json("--until", second_row["time"])] == [first_row["delivery"]]
    assert log_json("--since", "2000-01-01", "--until", "2000-01-02") == []
    table = ok("log", "--channel", "portal").stdout
    assert "portal" in table and "fanpage" not in table

    assert [(d["channel"], d["state"]) for d in as_json("queue", "--state", "cancelled")] == [("fanpage", "cancelled")]
    assert [d["policy"] for d in as_json("queue", "--policy", OTHER["code"])] == [OTHER["code"]]
    assert len(as_json("queue")) == 3


def test_journal_events_and_filters(two_published: dict[str, Any]) -> None:
    everything = journal()
    events = {e["event"] for e in everything}
    assert {"agency.registered", "policy.created", "post.created", "post.approved", "delivery.queued",
            "delivery.claimed", "delivery.published", "post.cancelled", "delivery.cancelled"} <= events
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))

    second_post = two_published["posts"][1]
    about_other = log_json("--journal", "--policy", OTHER["code"])
    assert {e["subject"] for e in about_other} == {"policy:2", f"post:{second_post}", "delivery:2"}
    assert {e["event"] for e in about_other} >= {"policy.created", "post.created", "delivery.published"}

    on_fanpage = {e["subject"] for e in log_json("--journal", "--channel", "fanpage")}
    assert "delivery:2" in on_fanpage and "delivery:3" in on_fanpage and "delivery:1" not in on_fanpage

    by_b = log_json("--journal", "--actor", "b")
    assert by_b and {e["actor"] for e in by_b} == {"b"}
    assert {e["event"] for e in by_b} == {"post.approved", "delivery.queued"}

    middle = everything[len(everything) // 2]["time"]
    since = log_json("--journal", "--since", middle)
    until = log_json("--journal", "--until", middle)
    assert since and until
    assert len(since) + len(until) == len(everything)
    assert all(_t(e["time"]) >= _t(middle) for e in since) and all(_t(e["time"]) < _t(middle) for e in until)

    table = ok("log", "--journal", "--policy", OTHER["code"]).stdout
    assert "policy:2" in table and "policy:1" not in table


def test_csv_export_with_bom_and_vietnamese(two_published: dict[str, Any], project: Path) -> None:
    shown = run_cli("log", "--format", "csv", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("\ufeff")
    parsed = list(csv.DictReader(io.StringIO(shown.stdout[1:])))
    assert [(r["policy"], r["channel"], r["outcome"]) for r in parsed] == [
        (CODE, "portal", "published"), (OTHER["code"], "fanpage", "published")]
    assert "HĐND" in parsed[0]["policy"] and parsed[0]["approver"] == "b"

    written = run_cli("log", "--format", "csv", "--output", "nhat-ky.csv", cwd=project)
    assert written.returncode == 0 and written.stdout == ""
    assert "nhat-ky.csv" in written.stderr and "2" in written.stderr
    raw = (project / "nhat-ky.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "12/2026/NQ-HĐND".encode() in raw
    assert raw.decode("utf-8").replace("\r\n", "\n") == shown.stdout  # (text mode turned \r\n into \n)

    # --output alone picks the format from the file name
    ok("log", "--journal", "--output", "so-nhat-ky.json")
    assert json.loads((project / "so-nhat-ky.json").read_text(encoding="utf-8")) == journal()
    ok("log", "--journal", "--policy", CODE, "--output", "so-nhat-ky.csv")
    rows = list(csv.DictReader(io.StringIO((project / "so-nhat-ky.csv").read_text(encoding="utf-8-sig"))))
    assert rows and all(r["subject"] in {"policy:1", "post:1", "post:3", "delivery:1", "delivery:3"} for r in rows)
    assert json.loads(rows[0]["payload"])["code"] == CODE


# --- help and audit -------------------------------------------------------

def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _commands(sub, (*path, name))
    return found


def test_every_command_has_help_with_an_example() -> None:
    paths = _commands(cli)
    assert {("policy", "add"), ("post", "new"), ("run",), ("audit", "verify"), ("db", "upgrade")} <= set(paths)
    assert len(paths) >= 20
    missing = []
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.stdout
        if "Example" not in result.stdout and "Ví dụ" not in result.stdout:
            missing.append(" ".join(path) or "publisher")
    assert missing == []


def test_audit_verify_detects_a_tampered_entry(project: Path) -> None:
    add_policy()
    post_id = new_post("--policy", CODE, "--at", "now")
    ok("post", "approve", str(post_id), actor="b")
    entries = journal()
    intact = ok("audit", "verify")
    assert f"{len(entries)} mục" in intact.stdout and entries[-1]["hash"] in intact.stdout

    approved = next(e for e in entries if e["event"] == "post.approved")
    assert approved["seq"] < len(entries)  # not the last one: later entries still verify on their own
    with sqlite3.connect(project / "data" / "publisher.db") as db:
        changed = db.execute("UPDATE journal SET payload = ? WHERE seq = ?",
                             ('{"author":"b"}', approved["seq"])).rowcount
    db.close()
    assert changed == 1

    broken = invoke("audit", "verify")
    assert broken.exit_code == ExitCode.FAILED
    assert broken.stdout == ""
    assert f"mục số {approved['seq']} " in broken.stderr
    assert "Traceback" not in broken.stderr
