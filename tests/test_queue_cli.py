"""``publisher queue retry|cancel`` in a real process, on a real project (SQLite and PostgreSQL).

The deliveries are made through the library (``tests/helpers``) and failed by
the real :class:`Dispatcher` with the outbox channel refusing the content for
one run; the commands then run as a subprocess (``run_cli``) on the same
database, and the next ``publisher run --once`` shows what the queue does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from publisher.channels.outbox import OutboxChannel
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ContentRejected, ExitCode
from publisher.models import DeliveryState, utcnow
from publisher.store.engine import read
from publisher.store.schema import journal as journal_table

from .conftest import run_cli
from .helpers import add_policy, approved_post, delivery, outcomes

S = DeliveryState
REFUSED = "Trang từ chối nội dung"
Cli = Callable[..., Any]


@pytest.fixture
def cli(app: App, project: Path, backend: str) -> Cli:
    """``publisher ARGS`` in a subprocess on the test's database (the policy exists)."""
    add_policy(app)

    def call(*args: str) -> Any:
        return run_cli(*args, cwd=project, env={"PUBLISHER_DATABASE_URL": backend})

    return call


def _refuse(self: OutboxChannel, d: Any) -> Any:
    raise ContentRejected(REFUSED)


def _failed(app: App, monkeypatch: pytest.MonkeyPatch) -> int:
    """A fanpage delivery the real dispatcher failed: the channel refused its content for one run."""
    [did] = approved_post(app, channels=("fanpage",))
    with monkeypatch.context() as patched:
        patched.setattr(OutboxChannel, "publish", _refuse)
        assert Dispatcher(app, "may-1").run_once() == {"failed": 1}
    return did


def _published(app: App) -> int:
    [did] = approved_post(app, channels=("portal",))
    assert Dispatcher(app, "may-1").run_once() == {"published": 1}
    return did


def _queued(app: App) -> int:
    [did] = approved_post(app, channels=("portal",), at=utcnow() + timedelta(days=2))
    return did


def _events(app: App, event: str) -> list[tuple[str, str, dict[str, Any]]]:
    with read(app.engine) as conn:
        found = conn.execute(select(journal_table).where(journal_table.c.event == event)
                             .order_by(journal_table.c.seq)).all()
    return [(r.actor, r.subject, json.loads(r.payload)) for r in found]


# --- retry -------------------------------------------------------------------------------------

def test_a_failed_delivery_is_retried_journalled_and_published_by_the_next_run(app, cli, monkeypatch):
    did = _failed(app, monkeypatch)
    done = cli("--as", "bien-tap", "queue", "retry", str(did), "--reason", "Đã sửa cấu hình kênh")
    assert done.returncode == ExitCode.OK, done.stderr
    assert f"lượt đăng số {did} (fanpage) trở lại hàng đợi" in done.stdout
    d = delivery(app, did)
    assert d.state == S.QUEUED and d.attempts == 1 and d.needs_reconcile  # attempts kept, channel asked first
    assert _events(app, "delivery.retried") == [
        ("bien-tap", f"delivery:{did}", {"attempts": 1, "last_error": REFUSED, "reason": "Đã sửa cấu hình kênh"})]
    ran = cli("run", "--once")
    assert ran.returncode == ExitCode.OK, ran.stderr
    assert delivery(app, did).state == S.PUBLISHED and outcomes(app, did) == ["rejected", "published"]
    assert (app.data_dir / "outbox" / "fanpage" / f"{did}.json").is_file()


def test_retry_answers_json_like_the_queue_listing(app, cli, monkeypatch):
    did = _failed(app, monkeypatch)
    done = cli("--as", "bien-tap", "queue", "retry", str(did), "--json")
    assert done.returncode == ExitCode.OK, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["id"], shown["state"], shown["channel"], shown["attempts"]) == (did, "queued", "fanpage", 1)
    listed = json.loads(cli("queue", "--state", "queued", "--json").stdout)
    assert [row["id"] for row in listed] == [did] and set(listed[0]) == set(shown)
    assert _events(app, "delivery.retried") == [("bien-tap", f"delivery:{did}",
                                                 {"attempts": 1, "last_error": REFUSED})]  # no reason given


def test_retrying_a_published_delivery_is_refused_naming_its_state(app, cli):
    did = _published(app)
    before = delivery(app, did)
    refused = cli("--as", "bien-tap", "queue", "retry", str(did))
    assert refused.returncode == ExitCode.CONFLICT
    assert f"Không thể đăng lại lượt đăng số {did}" in refused.stderr and "“đã đăng”" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    english = cli("--lang", "en", "queue", "retry", str(did))
    assert english.returncode == ExitCode.CONFLICT and "“published”" in english.stderr
    assert delivery(app, did) == before and _events(app, "delivery.retried") == []


def test_a_failed_delivery_past_its_deadline_is_not_retried(app, cli):
    now = utcnow()
    [did] = approved_post(app, channels=("fanpage",), at=now - timedelta(hours=2),
                          deadline=(now - timedelta(hours=1)).isoformat())
    assert Dispatcher(app, "may-1").run_once() == {"failed": 1} and outcomes(app, did) == ["deadline"]
    refused = cli("--as", "bien-tap", "queue", "retry", str(did))
    assert refused.returncode == ExitCode.CONFLICT and "hạn chót" in refused.stderr
    assert delivery(app, did).state == S.FAILED and _events(app, "delivery.retried") == []


@pytest.mark.parametrize("action", [("retry",), ("cancel", "--reason", "thử")])
def test_an_unknown_delivery_is_not_found(app, cli, action):
    for missing in ("999", str(2**40)):  # a 64-bit id must not reach PostgreSQL's integer column
        done = cli("--as", "bien-tap", "queue", action[0], missing, *action[1:])
        assert done.returncode == ExitCode.NOT_FOUND, done.stderr
        assert f"không có lượt đăng số {missing}" in done.stderr and "Traceback" not in done.stderr


# --- cancel ------------------------------------------------------------------------------------

def test_a_queued_delivery_is_cancelled_with_its_reason(app, cli):
    did, other = _queued(app), _queued(app)
    done = cli("--as", "bien-tap", "queue", "cancel", str(did), "--reason", "Trùng bài")
    assert done.returncode == ExitCode.OK, done.stderr
    assert f"Đã hủy lượt đăng số {did} (portal)" in done.stdout
    d = delivery(app, did)
    assert d.state == S.CANCELLED and d.last_error == "Trùng bài"
    assert _events(app, "delivery.cancelled") == [("bien-tap", f"delivery:{did}", {"reason": "Trùng bài"})]
    answer = cli("--as", "bien-tap", "queue", "cancel", str(other), "--reason", "Đổi lịch", "--json")
    assert answer.returncode == ExitCode.OK and json.loads(answer.stdout)["state"] == "cancelled"
    assert delivery(app, other).state == S.CANCELLED


def test_cancelling_a_published_delivery_is_refused_naming_its_state(app, cli):
    did = _published(app)
    before = delivery(app, did)
    refused = cli("--as", "bien-tap", "queue", "cancel", str(did), "--reason", "Muộn rồi")
    assert refused.returncode == ExitCode.CONFLICT
    assert f"Không thể hủy lượt đăng số {did}" in refused.stderr and "“đã đăng”" in refused.stderr
    assert delivery(app, did) == before and _events(app, "delivery.cancelled") == []


def test_cancel_needs_a_reason(app, cli):
    did = _queued(app)
    for reason in ((), ("--reason", "   ")):
        refused = cli("--as", "bien-tap", "queue", "cancel", str(did), *reason)
        assert refused.returncode == ExitCode.USAGE and "--reason" in refused.stderr, refused.stderr
    assert delivery(app, did).state == S.QUEUED and _events(app, "delivery.cancelled") == []
