"""The tamper-evident journal and the publish log, on SQLite and PostgreSQL.

The journal is tampered with the way an insider with database access would:
SQL on the ``journal`` table (edit, delete, swap, insert with renumbering,
and a tail rewritten with recomputed hashes, which only an anchor exposes).
``publisher audit verify`` must exit 1 and name the exact entry each time.
Two real OS processes append at once to the same database: one chain, every
event exactly once.  The publish log is filtered as an auditor would, and
``config.seen`` is journalled once per distinct configuration, with no
secret value in it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, insert, select, text, update

from publisher import daemon, health, journal, posts, service
from publisher.cli import cli
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ExitCode
from publisher.models import utcnow
from publisher.store.engine import read, write
from publisher.store.schema import daemons
from publisher.store.schema import journal as t_journal

from .conftest import BASE_CONFIG, POLICY, ROOT, set_daemon_options
from .helpers import add_policy, approved_post
from .test_multi_daemon import start_daemon, stop_daemon, wait_until

CODE = POLICY["code"]  # "12/2026/NQ-HĐND"
OTHER = "05/2026/QĐ-UBND"
AUTHOR, APPROVER = "Trần Thị Bình", "Lê Văn Cường"  # Vietnamese names must survive filters and CSV


# --- helpers ---------------------------------------------------------------------------------------------------

def invoke(*args: str) -> Result:
    """The CLI in-process (cwd: the project; the database: PUBLISHER_DATABASE_URL of the fixture)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def verify(*args: str) -> tuple[Result, dict[str, Any]]:
    """``audit verify --json``: the result and its JSON (stdout carries it whether or not the chain holds)."""
    result = invoke("audit", "verify", "--json", *args)
    return result, json.loads(result.stdout) if result.stdout else {}


def sql(app: App, statement: str, **params: Any) -> int:
    """Tamper: one SQL statement on the journal, committed; returns the rows it touched."""
    with write(app.engine) as conn:
        return conn.execute(text(statement), params).rowcount


def stored(app: App) -> list[Any]:
    with read(app.engine) as conn:
        return conn.execute(select(t_journal).order_by(t_journal.c.seq)).all()


def shift(app: App, first: int, by: int) -> None:
    """Renumber entries from *first* on by *by* (via a large offset: the key is checked row by row)."""
    sql(app, "UPDATE journal SET seq = seq + 1000000 WHERE seq >= :first", first=first)
    sql(app, "UPDATE journal SET seq = seq - 1000000 + :by WHERE seq >= 1000000", by=by)


def rehash(app: App, first: int, payload: str) -> None:
    """Replace entry *first*'s payload and recompute every hash from it on: a forger's clean chain."""
    rows = stored(app)
    prev = rows[first - 2].hash if first > 1 else journal.GENESIS
    with write(app.engine) as conn:
        for r in rows[first - 1:]:
            body = payload if r.seq == first else r.payload
            digest = journal.entry_hash(prev, r.seq, r.at, r.actor, r.event, r.subject, body)
            conn.execute(update(t_journal).where(t_journal.c.seq == r.seq)
                         .values(payload=body, prev_hash=prev, hash=digest))
            prev = digest


def append_notes(app: App, n: int, actor: str = "kiem-thu") -> None:
    with write(app.engine) as conn:
        journal.append_many(conn, actor, [journal.Event("test.note", f"test:{i}", {"i": i, "ghi_chú": "Ủy ban"})
                                          for i in range(n)])


@pytest.fixture
def chain(app: App) -> App:
    """About twenty real entries: agencies, a policy, a post approved and published, then notes."""
    add_policy(app)
    approved_post(app)
    Dispatcher(app, "may-1").run_once()
    append_notes(app, 8)
    assert len(stored(app)) >= 18
    return app


# --- tampering: each case detected and located -----------------------------------------------------------------

def _edit_payload(app: App) -> None:
    assert sql(app, "UPDATE journal SET payload = :p WHERE seq = 6", p='{"author":"ke-gian"}') == 1


def _delete(app: App) -> None:
    assert sql(app, "DELETE FROM journal WHERE seq = 6") == 1


def _delete_two(app: App) -> None:
    assert sql(app, "DELETE FROM journal WHERE seq IN (6, 7)") == 2


def _delete_and_renumber(app: App) -> None:
    sql(app, "DELETE FROM journal WHERE seq = 6")
    shift(app, 7, -1)


def _swap(app: App, a: int, b: int) -> None:
    """Swap every column but seq between entries *a* and *b* (hash last: it is unique)."""
    rows = {r.seq: r._asdict() for r in stored(app) if r.seq in (a, b)}
    with write(app.engine) as conn:
        for mine, theirs in ((a, b), (b, a)):
            values = {k: v for k, v in rows[theirs].items() if k != "seq"}
            conn.execute(update(t_journal).where(t_journal.c.seq == mine).values({**values, "hash": f"tmp{mine}"}))
        for mine, theirs in ((a, b), (b, a)):
            conn.execute(update(t_journal).where(t_journal.c.seq == mine).values(hash=rows[theirs]["hash"]))


def _insert_renumbered(app: App) -> None:
    """A forged entry at 6 that chains correctly from 5; the entries after it move up one."""
    rows = stored(app)
    shift(app, 6, +1)
    before = rows[4]
    payload = '{"author":"ke-gian"}'
    digest = journal.entry_hash(before.hash, 6, before.at, "ke-gian", "post.approved", "post:1", payload)
    with write(app.engine) as conn:
        conn.execute(insert(t_journal).values(seq=6, at=before.at, actor="ke-gian", event="post.approved",
                                              subject="post:1", payload=payload, prev_hash=before.hash, hash=digest))


def _rehash_one(app: App) -> None:
    """Entry 6 edited and its own hash recomputed, the rest left alone: 7 no longer follows it."""
    r = stored(app)[5]
    payload = '{"author":"ke-gian"}'
    digest = journal.entry_hash(r.prev_hash, 6, r.at, r.actor, r.event, r.subject, payload)
    sql(app, "UPDATE journal SET payload = :p, hash = :h WHERE seq = 6", p=payload, h=digest)


TAMPERING: dict[str, tuple[Callable[[App], None], str, int, int, int | None, str]] = {
    # name: (tamper, reason, first failing seq, entry named, other, the sentence that explains it)
    "edited payload": (_edit_payload, "edited", 6, 6, None, "Nội dung hoặc mã băm của mục số 6 đã bị sửa."),
    "deleted row": (_delete, "deleted", 7, 6, 6, "Mục số 6 đã bị xóa."),
    "two deleted rows": (_delete_two, "deleted", 8, 6, 7, "Các mục từ số 6 đến số 7 đã bị xóa."),
    "deleted and renumbered": (_delete_and_renumber, "renumbered", 6, 6, None,
                               "Mục vốn mang số 6 đã bị xóa và các mục sau nó bị đánh số lại."),
    "swapped rows": (lambda app: _swap(app, 5, 9), "moved", 5, 5, 8,
                     "Mục số 5 đã bị đổi chỗ: nó vốn đứng ngay sau mục nay mang số 8."),
    "swapped neighbours": (lambda app: _swap(app, 5, 6), "moved", 5, 5, 6,
                           "Mục số 5 đã bị đổi chỗ: nó vốn đứng ngay sau mục nay mang số 6."),
    "inserted and renumbered": (_insert_renumbered, "inserted", 7, 6, None,
                                "Mục số 6 được chèn thêm vào giữa chuỗi"),
    "one entry rehashed": (_rehash_one, "unlinked", 7, 7, 6, "Mục số 7 không nối tiếp mục số 6"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected_and_located(chain: App, case: str) -> None:
    tamper, reason, seq, entry, other, sentence = TAMPERING[case]
    intact, report = verify()
    assert intact.exit_code == 0 and report["ok"] and report["checked"] == len(stored(chain))
    assert report["head"]["hash"] == stored(chain)[-1].hash and report["broken"] is None
    tamper(chain)

    broken, report = verify()
    assert broken.exit_code == ExitCode.FAILED
    walked = [r.seq for r in stored(chain)].index(seq) + 1  # the walk stops at the first entry that fails
    assert report["ok"] is False and report["checked"] == walked
    assert report["broken"] == {"seq": seq, "reason": reason, "entry": entry, "other": other}
    assert report["head"] is None and sentence in report["message"]
    text_mode = invoke("audit", "verify")
    assert text_mode.exit_code == ExitCode.FAILED and text_mode.stdout == ""
    assert f"mục số {seq} không khớp chuỗi băm" in text_mode.stderr
    assert sentence in text_mode.stderr and "Traceback" not in text_mode.stderr
    assert text_mode.stderr.count("\n") == 1  # one line


def test_the_count_checked_is_stated(chain: App) -> None:
    total = len(stored(chain))
    ok = invoke("audit", "verify")
    assert ok.exit_code == 0 and f"{total} mục" in ok.stdout
    _edit_payload(chain)
    _, report = verify()
    assert report["checked"] == 6  # entries 1..5 verified, 6 failed: the walk stops at the first break
    assert "đã kiểm tra 6 mục" in invoke("audit", "verify").stderr
    english = invoke("--lang", "en", "audit", "verify")
    assert "entry 6 breaks the hash chain (6 entries checked)" in english.stderr
    assert "The content or hash of entry 6 was altered." in english.stderr


def test_verify_streams_the_journal(app: App) -> None:
    """30,000 entries verify with a bounded memory peak (fetching them all at once costs ~30 MB)."""
    with write(app.engine) as conn:
        journal.append_many(conn, "kiem-thu", [journal.Event("test.bulk", f"test:{i}", {"i": i, "nội_dung": "Ủy ban "
                                                                                         * 10}) for i in range(30000)])
    tracemalloc.start()
    try:
        with read(app.engine) as conn:
            result = journal.check(conn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.checked == 30000 + 2 and result.broken is None  # + the two agencies registered
    assert peak < 8_000_000, f"verify peaked at {peak / 1e6:.1f} MB: rows are not streamed"


# --- anchors ---------------------------------------------------------------------------------------------------

def anchor(*args: str) -> dict[str, Any]:
    result = invoke("audit", "verify", "--anchor", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_anchor_prints_the_head_to_write_down(chain: App) -> None:
    head = stored(chain)[-1]
    shown = invoke("audit", "verify", "--anchor")
    assert shown.exit_code == 0
    token = f"{head.seq}:{head.hash}"
    assert f"Mục số:    {head.seq}\n" in shown.stdout and f"Mã băm:    {head.hash}\n" in shown.stdout
    assert f"Mã neo:    {token}\n" in shown.stdout and f"--since-anchor {token}" in shown.stdout
    local = head.at.astimezone(chain.config.timezone).isoformat(timespec="seconds")
    assert f"Thời điểm: {local}" in shown.stdout and local.endswith("+07:00")
    assert f"{head.seq} mục" in shown.stderr  # the verification itself goes to stderr: stdout is the anchor

    as_json = anchor()
    assert as_json == {"seq": head.seq, "at": head.at.isoformat(), "hash": head.hash, "anchor": token}
    english = invoke("--lang", "en", "audit", "verify", "--anchor").stdout
    assert f"Anchor: {token}" in english and f"Entry:  {head.seq}" in english


def test_since_anchor_checks_from_the_anchored_entry_on(chain: App) -> None:
    token = anchor()["anchor"]
    seq = int(token.split(":")[0])
    append_notes(chain, 5, actor="sau-neo")
    total = len(stored(chain))

    ok = invoke("audit", "verify", "--since-anchor", token)
    assert ok.exit_code == 0, ok.output
    assert f"từ mục được neo số {seq}: đã kiểm tra {total - seq + 1} mục, đến mục số {total}" in ok.stdout
    _, report = verify("--since-anchor", token.split(":")[1])  # the hash alone will do
    assert report["ok"] and report["from_seq"] == seq and report["checked"] == total - seq + 1
    _, report = verify("--since-anchor", "  " + token.upper() + "\n")  # typed back from paper
    assert report["ok"] and report["checked"] == total - seq + 1
    _, report = verify("--since-anchor", f"0:{journal.GENESIS}")  # the empty journal's anchor: everything
    assert report["ok"] and report["checked"] == total

    sql(chain, "UPDATE journal SET actor = 'ke-gian' WHERE seq = :s", s=seq + 2)
    broken, report = verify("--since-anchor", token)
    assert broken.exit_code == ExitCode.FAILED and report["broken"]["seq"] == seq + 2
    assert report["checked"] == 3


def test_a_rewritten_tail_passes_plain_verify_but_not_the_anchor(chain: App) -> None:
    token = anchor()["anchor"]
    seq = int(token.split(":")[0])
    append_notes(chain, 3)
    rehash(chain, 6, '{"author":"ke-gian"}')  # entry 6 forged, every hash from 6 on recomputed

    plain = invoke("audit", "verify")
    assert plain.exit_code == 0  # the forged chain is self-consistent: this is what anchors are for
    refused = invoke("audit", "verify", "--since-anchor", token)
    assert refused.exit_code == ExitCode.FAILED and "Traceback" not in refused.stderr
    assert f"Mục được neo số {seq} đã bị thay đổi" in refused.stderr
    assert stored(chain)[seq - 1].hash in refused.stderr  # the hash it has now
    by_hash = invoke("audit", "verify", "--since-anchor", token.split(":")[1])
    assert by_hash.exit_code == ExitCode.FAILED
    assert "Không còn mục nào mang mã băm neo" in by_hash.stderr and "bị xóa" in by_hash.stderr


def test_an_anchor_exposes_truncation_renumbering_and_an_edited_anchor(chain: App) -> None:
    token = anchor()["anchor"]
    seq = int(token.split(":")[0])

    sql(chain, "UPDATE journal SET payload = '{}' WHERE seq = :s", s=seq)  # its stored hash kept
    _, report = verify("--since-anchor", token)
    assert report["broken"] == {"seq": seq, "reason": "edited", "entry": seq, "other": None}
    sql(chain, "DELETE FROM journal WHERE seq >= :s", s=seq - 1)  # the tail cut off: the rest still chains
    assert invoke("audit", "verify").exit_code == 0
    removed = invoke("audit", "verify", "--since-anchor", token)
    assert removed.exit_code == ExitCode.FAILED
    assert f"Mục được neo số {seq} không còn trong sổ nhật ký" in removed.stderr


def test_an_anchor_renumbered_is_named(chain: App) -> None:
    token = anchor()["anchor"]
    seq = int(token.split(":")[0])
    _delete_and_renumber(chain)
    moved = invoke("audit", "verify", "--since-anchor", token)
    assert moved.exit_code == ExitCode.FAILED
    assert f"Mục được neo số {seq} nay mang số {seq - 1}" in moved.stderr


@pytest.mark.parametrize("bad", ["abc", "12:xyz", "12:" + "g" * 64, "-1:" + "a" * 64, "a" * 63, "1:2:" + "a" * 64,
                                 "a" * 64 + "\x1b[2J"])
def test_a_malformed_anchor_is_a_usage_error(project: Path, bad: str) -> None:
    result = invoke("audit", "verify", "--since-anchor", bad)
    assert result.exit_code == ExitCode.USAGE
    assert "Mã neo không hợp lệ" in result.stderr and "\x1b" not in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_unknown_anchor_fails(chain: App) -> None:
    result = invoke("audit", "verify", "--since-anchor", "ab" * 32)
    assert result.exit_code == ExitCode.FAILED
    assert "Không còn mục nào mang mã băm neo " + "ab" * 32 in result.stderr
    english = invoke("--lang", "en", "audit", "verify", "--since-anchor", "3:" + "ab" * 32)
    assert english.exit_code == ExitCode.FAILED and "Anchored entry 3 was altered" in english.stderr


def test_a_real_process_reports_a_break_without_traceback(chain: App, project: Path, backend: str) -> None:
    _delete(chain)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_DATABASE_URL"] = backend
    ran = subprocess.run([sys.executable, "-m", "publisher", "audit", "verify"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1 and ran.stdout == ""
    assert "Mục số 6 đã bị xóa." in ran.stderr and "Traceback" not in ran.stderr


# --- two processes append at once --------------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from publisher import journal
from publisher.store.engine import make_engine, write

url, name, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
engine = make_engine(url)
Path(f"{go}.{name}").touch()  # ready: imports done, connected
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    with write(engine) as conn:
        if i % 5 == 0:  # a batch of three in one transaction, as approving a post does
            journal.append_many(conn, name, [journal.Event("test.batch", f"test:{name}-{i}-{j}", {"j": j})
                                             for j in range(3)])
        else:
            journal.append(conn, name, "test.one", f"test:{name}-{i}", {"i": i, "ghi_chú": "Ủy ban"})
    time.sleep(0.002)  # other work between events, as a daemon has: SQLite's busy handler otherwise starves one
engine.dispose()
"""


def test_two_processes_appending_at_once_keep_one_chain(app: App, backend: str, tmp_path: Path) -> None:
    n = 150
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, backend, name, str(n), str(go)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("p1", "p2")]
    ready = lambda: all(Path(f"{go}.{name}").exists() for name in ("p1", "p2"))  # noqa: E731
    assert wait_until(lambda: ready() or any(p.poll() is not None for p in writers), timeout=60)
    go.touch()  # both start together
    for proc in writers:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err

    rows = stored(app)
    per_writer = n + 2 * len(range(0, n, 5))  # three events instead of one every fifth transaction
    by_actor = Counter(r.actor for r in rows)
    assert by_actor["p1"] == by_actor["p2"] == per_writer
    subjects = Counter(r.subject for r in rows if r.subject.startswith("test:"))
    assert len(subjects) == 2 * per_writer and set(subjects.values()) == {1}
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    interleaved = sum(1 for a, b in zip(rows, rows[1:], strict=False) if a.actor != b.actor)
    assert interleaved > 2, "the writers did not run at the same time; the test proves nothing"
    result, report = verify()
    assert result.exit_code == 0 and report["checked"] == len(rows)


# --- the publish log -------------------------------------------------------------------------------------------

BROKEN_CHANNEL = '\n[channels.hong]\ntype = "outbox"\nagency = "tinh"\nformat = "facebook"\ndirectory = "khoa"\n'


@pytest.fixture
def published(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Policy 1 on portal (by may-1); policy 2 on fanpage and on 'hong', which fails once, then works.

    Rows of the log: portal/may-1, fanpage/may-2, hong/may-2 (transient), hong/may-3 (published).
    """
    (project / "config.toml").write_text(BASE_CONFIG + BROKEN_CHANNEL, encoding="utf-8")
    (project / "khoa").write_text("a file where the outbox folder should be", encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    app = App.open(project / "config.toml")
    try:
        add_policy(app)
        add_policy(app, code=OTHER, title="Quyết định về phí đỗ xe")
        first = _post(app, CODE, ["portal"], AUTHOR, APPROVER)
        Dispatcher(app, "may-1").run_once()
        second = _post(app, OTHER, ["fanpage", "hong"], "bien-tap", "truong-phong")
        assert Dispatcher(app, "may-2").run_once() == Counter({"published": 1, "waiting": 1})
        (project / "khoa").unlink()  # staff fix the folder; the retry goes out
        assert Dispatcher(app, "may-3", clock=lambda: utcnow() + timedelta(hours=1)).run_once() == Counter(
            {"published": 1})
        yield {"app": app, "deliveries": {"portal": first[0], "fanpage": second[0], "hong": second[1]}}
    finally:
        app.close()


def _post(app: App, code: str, channels: list[str], author: str, approver: str) -> list[int]:
    post = posts.new_post(app, author, {"policy": code, "agency": "tinh", "channels": channels, "at": "now",
                                        "template": "thong-tin", "variables": {"noi_dung": "Mời góp ý dự thảo."}})
    return posts.approve(app, approver, post.id)


def log(*args: str) -> list[dict[str, Any]]:
    result = invoke("log", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def keys(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["channel"], r["worker"]) for r in rows}


ALL = {("portal", "may-1"), ("fanpage", "may-2"), ("hong", "may-2"), ("hong", "may-3")}


def test_log_filters_by_policy_channel_state_and_time(published: dict[str, Any]) -> None:
    assert keys(log()) == ALL
    assert keys(log("--policy", CODE)) == {("portal", "may-1")}
    assert keys(log("--policy", OTHER)) == ALL - {("portal", "may-1")}
    assert keys(log("--channel", "hong")) == {("hong", "may-2"), ("hong", "may-3")}
    assert keys(log("--state", "published")) == ALL  # the delivery's state now
    assert log("--state", "waiting") == [] and log("--agency", "xa") == []
    assert keys(log("--policy", OTHER, "--channel", "hong", "--actor", "may-2")) == {("hong", "may-2")}
    retried = next(r for r in log() if r["worker"] == "may-3")
    assert keys(log("--since", retried["time"])) == {("hong", "may-3")}
    assert keys(log("--until", retried["time"])) == ALL - {("hong", "may-3")}
    assert log("--since", "2000-01-01", "--until", "2000-01-02") == []


def test_log_actor_is_the_worker_the_author_or_the_approver(published: dict[str, Any]) -> None:
    assert keys(log("--actor", "may-2")) == {("fanpage", "may-2"), ("hong", "may-2")}
    assert keys(log("--actor", "may-3")) == {("hong", "may-3")}
    assert keys(log("--actor", AUTHOR)) == {("portal", "may-1")}
    assert keys(log("--actor", APPROVER)) == {("portal", "may-1")}
    assert keys(log("--actor", "truong-phong")) == ALL - {("portal", "may-1")}
    assert log("--actor", "khong-ai") == []
    journalled = log("--journal", "--actor", APPROVER)
    assert journalled and {e["actor"] for e in journalled} == {APPROVER}
    assert {e["event"] for e in journalled} == {"post.approved", "delivery.queued"}
    helped = invoke("log", "--help").stdout
    assert all(word in helped for word in ("--actor", "worker", "author", "approver", "duyệt"))


def test_every_log_row_has_the_permalink_of_what_was_published(published: dict[str, Any], project: Path) -> None:
    ids = published["deliveries"]
    where = {"portal": project / "data" / "outbox" / "portal", "fanpage": project / "data" / "outbox" / "fanpage",
             "hong": project / "khoa"}
    rows = log()
    for r in rows:
        expected = (where[r["channel"]] / f"{ids[r['channel']]}.json").resolve()
        assert expected.is_file() and r["permalink"] == expected.as_uri(), r
    transient = next(r for r in rows if r["worker"] == "may-2" and r["channel"] == "hong")
    assert transient["outcome"] == "transient" and transient["error"]  # its own attempt failed...
    assert transient["permalink"]  # ...but the row leads to the post as it is online
    assert "file://" in invoke("log", "--channel", "portal").stdout  # the table shows it too


def test_log_csv_opens_in_excel_with_vietnamese(published: dict[str, Any], project: Path) -> None:
    written = invoke("log", "--output", "nhat-ky.csv")
    assert written.exit_code == 0 and "nhat-ky.csv" in written.stderr
    raw = (project / "nhat-ky.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    assert AUTHOR.encode("utf-8") in raw and "HĐND".encode() in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert {(r["channel"], r["worker"]) for r in rows} == ALL
    portal = next(r for r in rows if r["channel"] == "portal")
    assert (portal["policy"], portal["author"], portal["approver"]) == (CODE, AUTHOR, APPROVER)
    assert unicodedata.is_normalized("NFC", raw.decode("utf-8-sig"))
    assert all(r["permalink"].startswith("file://") for r in rows)
    shown = invoke("log", "--format", "csv", "--actor", AUTHOR)
    assert shown.stdout.startswith("\ufeff") and shown.stdout.count("\n") == 2  # header + one row


# --- every event is journalled ---------------------------------------------------------------------------------

def test_every_kind_of_event_is_journalled(published: dict[str, Any], project: Path) -> None:
    app = published["app"]
    service.update_policy(app, "bien-tap", CODE, "tinh", {"consultation_closes": "2027-01-15"})
    cancelled = posts.new_post(app, "bien-tap", {"policy": CODE, "agency": "tinh", "channels": ["portal"],
                                                 "at": (utcnow() + timedelta(days=3)).isoformat()})
    posts.approve(app, "truong-phong", cancelled.id)
    posts.cancel(app, "bien-tap", cancelled.id, "Dự thảo đã thay đổi")
    late = posts.new_post(app, "bien-tap", {"policy": CODE, "agency": "tinh", "channels": ["fanpage"],
                                            "at": (utcnow() - timedelta(seconds=1)).isoformat(),
                                            "deadline": (utcnow() + timedelta(minutes=5)).isoformat()})
    posts.approve(app, "truong-phong", late.id)
    assert Dispatcher(app, "may-4", clock=lambda: utcnow() + timedelta(hours=2)).run_once()["failed"] == 1
    shutil.rmtree(project / "khoa")
    (project / "khoa").write_text("blocked again", encoding="utf-8")  # the next check fails
    health.check_all(app, "kiem-tra")
    daemon.journal_config(app, "may-1")

    events = {(e["event"], e["actor"]) for e in log("--journal")}
    names = {e for e, _ in events}
    assert {"policy.created", "policy.changed", "post.created", "post.approved", "post.cancelled",
            "delivery.queued", "delivery.claimed", "delivery.waiting", "delivery.published", "delivery.failed",
            "delivery.cancelled", "channel.check_failed", "config.seen"} <= names
    assert {("delivery.claimed", "may-2"), ("delivery.waiting", "may-2"), ("delivery.published", "may-3"),
            ("post.approved", APPROVER), ("post.created", AUTHOR), ("delivery.failed", "may-4")} <= events
    assert invoke("audit", "verify").exit_code == 0


# --- config.seen -----------------------------------------------------------------------------------------------

def seen(app: App) -> list[journal.Entry]:
    with read(app.engine) as conn:
        return [e for e in journal.entries(conn) if e.event == daemon.CONFIG_SEEN]


def reopen(project: Path) -> App:
    return App.open(project / "config.toml")


def test_config_seen_once_per_distinct_config(app: App, project: Path) -> None:
    assert daemon.journal_config(app, "may-1") is True
    assert daemon.journal_config(app, "may-2") is False  # the same settings: nothing new to record
    [first] = seen(app)
    assert first.actor == "may-1" and first.payload["previous"] is None
    assert "daemon.poll_seconds" in first.payload["changed"] and len(first.payload["fingerprint"]) == 64

    set_daemon_options(project, poll_seconds=5)
    changed = reopen(project)
    try:
        assert daemon.journal_config(changed, "may-1") is True
        assert daemon.journal_config(changed, "may-1") is False
    finally:
        changed.close()
    second = seen(app)[-1]
    assert second.payload["changed"] == ["daemon.poll_seconds"]
    assert second.payload["previous"] == first.payload["fingerprint"] != second.payload["fingerprint"]

    assert daemon.journal_config(app, "may-1") is True  # back as it was: a change again, to the first fingerprint
    third = seen(app)[-1]
    assert third.payload["changed"] == ["daemon.poll_seconds"]
    assert third.payload["fingerprint"] == first.payload["fingerprint"]
    assert len(seen(app)) == 3


SECRETS = {"token": "EAAB-bi-mat-trang-fanpage-0001", "hmac": "khoa-hmac-webhook-rat-bi-mat-0002",
           "wp_user": "nguoi-dung-wp-0003", "wp_password": "abcd efgh ijkl mnop qrst uvwx", "db": "mat-khau-csdl-0004"}

SECRET_CHANNELS = """
[channels.fb]
type = "facebook"
agency = "tinh"
format = "facebook"
page_id = "111111"
token_file = "fb.token"
base_url = "http://127.0.0.1:9"

[channels.hook]
type = "webhook"
agency = "xa"
url = "http://127.0.0.1:9/nhan-bai"
secret_env = "KHOA_WEBHOOK"

[channels.cong]
type = "wordpress"
agency = "tinh"
base_url = "http://127.0.0.1:9"
user_env = "WP_NGUOI_DUNG"
password_file = "wp.password"
"""


@pytest.mark.timeout(120)
def test_config_seen_by_two_daemons_starting_together_is_one_entry_without_secrets(
        project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "config.toml").write_text(BASE_CONFIG + SECRET_CHANNELS, encoding="utf-8")
    (project / "fb.token").write_text(SECRETS["token"] + "\n", encoding="utf-8")
    (project / "wp.password").write_text(SECRETS["wp_password"], encoding="utf-8")
    monkeypatch.setenv("KHOA_WEBHOOK", SECRETS["hmac"])
    monkeypatch.setenv("WP_NGUOI_DUNG", SECRETS["wp_user"])
    url = backend.replace("postgres@", f"postgres:{SECRETS['db']}@")  # trust: the password is ignored, not lost
    assert url != backend or backend.startswith("sqlite")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", url)
    app = reopen(project)  # creates the schema before the daemons race
    try:
        daemons = [start_daemon(project, worker, url) for worker in ("d1", "d2")]
        try:
            assert wait_until(lambda: len(seen(app)) >= 1 and _checked(app.engine), timeout=60)
        finally:
            codes = [stop_daemon(p) for p in daemons]
        assert codes == [0, 0], (project / "daemon-d1.log").read_text()
        [entry] = seen(app)
        assert entry.actor in ("d1", "d2")
        assert "channels.fb.options.token_file" in entry.payload["keys"]
        assert "channels.hook.options.secret_env" in entry.payload["keys"]
        with read(app.engine) as conn:
            everything = " ".join(str(v) for row in conn.execute(select(t_journal)) for v in row)
        for name, secret in SECRETS.items():
            assert secret not in everything, f"the {name} secret reached the journal"
        config_view = json.dumps(daemon.config_view(app.config), ensure_ascii=False)
        assert not any(secret in config_view for secret in SECRETS.values())
    finally:
        app.close()


def _checked(engine: Engine) -> bool:
    """Both daemons have run their first channel check (so their journal entries are in too)."""
    with engine.connect() as conn:
        failed = conn.execute(select(t_journal.c.actor).where(t_journal.c.event == "channel.check_failed")).all()
    return {a for (a,) in failed} == {"d1", "d2"}


def test_config_view_keeps_no_database_password(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", "postgresql+psycopg://bien-tap:mk-bi-mat-9@db.tinh.vn:5433/pub"
                                                 "?password=mk-khac-8&sslmode=require")
    from publisher import config as config_mod

    view = daemon.config_view(config_mod.load(project / "config.toml"))
    assert json.loads(view["database_url"]) == "postgresql+psycopg://bien-tap@db.tinh.vn:5433/pub"
    assert "mk-bi-mat-9" not in json.dumps(view) and "mk-khac-8" not in json.dumps(view)
    assert not any(key.split(".")[-1] in ("token", "password", "secret") for key in view)


def test_config_seen_is_journalled_by_a_real_daemon_at_start(app: App, project: Path, backend: str) -> None:
    proc = start_daemon(project, "d1", backend)
    try:
        assert wait_until(lambda: _started(app.engine, "d1") == proc.pid, timeout=30)
    finally:
        assert stop_daemon(proc) == 0
    assert [e.actor for e in seen(app)] == ["d1"]
    restarted = start_daemon(project, "d1", backend)
    try:  # its start is recorded (heartbeat) after config.seen would have been
        assert wait_until(lambda: _started(app.engine, "d1") == restarted.pid, timeout=30)
    finally:
        assert stop_daemon(restarted) == 0
    assert [e.actor for e in seen(app)] == ["d1"]  # restarted with the same config.toml: nothing new


def _started(engine: Engine, worker: str) -> int | None:
    """The pid of *worker*'s current run, once its start is recorded."""
    with engine.connect() as conn:
        return conn.execute(select(daemons.c.pid).where(daemons.c.worker == worker)).scalar()
