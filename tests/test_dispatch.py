"""The dispatcher's decisions for every kind of channel outcome.

``ScriptedChannel`` is the real outbox channel with scripted failures put in
front of it (a test double of our own interface, not of a remote service): it
lets each error class of the tree reach the dispatcher exactly when we want.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from publisher.channels import registry
from publisher.channels.outbox import OutboxChannel
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import AmbiguousError, ContentRejected, RateLimited, TransientError
from publisher.models import DeliveryState, utcnow
from publisher.store.engine import write
from publisher.store.schema import deliveries

from .conftest import BASE_CONFIG
from .helpers import Clock, add_policy, approved_post, delivery, outcomes, write_png

S = DeliveryState
SCRIPT: list[object] = []
CALLS: list[str] = []


class ScriptedChannel(OutboxChannel):
    type = "scripted"

    def publish(self, delivery):
        CALLS.append("publish")
        step = SCRIPT.pop(0) if SCRIPT else "ok"
        if step == "slow":  # a peer that takes longer than a lease to answer
            import time

            time.sleep(2.5)
            return super().publish(delivery)
        if step == "write-then-ambiguous":  # the post went out, then the connection dropped
            super().publish(delivery)
            raise AmbiguousError("read timeout after the request was sent")
        if isinstance(step, BaseException):
            raise step
        return super().publish(delivery)

    def find(self, delivery, since):
        CALLS.append("find")
        return super().find(delivery, since)


@pytest.fixture
def app(project, monkeypatch):
    monkeypatch.setitem(registry.CHANNEL_TYPES, "scripted", ScriptedChannel)
    config = BASE_CONFIG + '\n[channels.thu]\ntype = "scripted"\nagency = "tinh"\nformat = "facebook"\n'
    (project / "config.toml").write_text(config, encoding="utf-8")
    SCRIPT.clear()
    CALLS.clear()
    opened = App.open(project / "config.toml")
    add_policy(opened)
    yield opened
    opened.close()






def _files(app):
    return sorted(p.name for p in (app.data_dir / "outbox" / "thu").glob("*.json"))


def test_a_short_transient_fault_is_retried_inside_the_attempt(app):
    SCRIPT.append(TransientError("connection refused"))
    [did] = approved_post(app, channels=("thu",))
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    assert CALLS == ["publish", "publish"] and outcomes(app, did) == ["published"]


def test_a_lasting_transient_fault_waits_with_backoff_then_fails(app):
    SCRIPT.extend([TransientError("down")] * 10)
    [did] = approved_post(app, channels=("thu",))
    clock = Clock()
    now = clock.now
    dispatcher = Dispatcher(app, "w", clock=clock)
    assert dispatcher.run_once() == {"waiting": 1}
    waiting = delivery(app, did)
    assert waiting.state == S.WAITING and waiting.attempts == 1 and waiting.last_error == "down"
    assert now + timedelta(seconds=0.5) <= waiting.next_attempt_at <= now + timedelta(seconds=1)
    assert dispatcher.run_once() == {}  # not before next_attempt_at: no worker sleeps on it
    for _ in range(2):  # max_attempts = 3 in the test config
        clock.now += timedelta(seconds=10)
        dispatcher.run_once()
    assert delivery(app, did).state == S.FAILED
    assert outcomes(app, did) == ["transient", "transient", "transient"] and _files(app) == []


def test_rate_limited_waits_until_the_time_the_peer_gave(app):
    retry_at = utcnow() + timedelta(hours=1)
    SCRIPT.append(RateLimited("code 32: page request limit", retry_at=retry_at))
    [did] = approved_post(app, channels=("thu",))
    assert Dispatcher(app, "w").run_once() == {"waiting": 1}
    assert CALLS == ["publish"]  # rate limits are not retried in place
    assert delivery(app, did).next_attempt_at == retry_at




def test_ambiguous_failure_that_did_publish_is_reconciled_not_reposted(app):
    SCRIPT.append("write-then-ambiguous")
    [did] = approved_post(app, channels=("thu",))
    clock = Clock()
    dispatcher = Dispatcher(app, "w", clock=clock)
    assert dispatcher.run_once() == {"waiting": 1}
    assert delivery(app, did).needs_reconcile
    assert delivery(app, did).next_attempt_at == clock.now + timedelta(seconds=1)  # read-after-write lag
    CALLS.clear()
    clock.now += timedelta(seconds=2)
    assert dispatcher.run_once() == {"published": 1}
    assert CALLS == ["find"]  # found it: never published twice
    assert outcomes(app, did) == ["ambiguous", "reconciled"] and _files(app) == [f"{did}.json"]
    assert delivery(app, did).remote_id == f"outbox:thu:{did}"


def test_ambiguous_failure_that_did_not_publish_is_retried_after_looking(app):
    SCRIPT.append(AmbiguousError("HTTP 502"))
    [did] = approved_post(app, channels=("thu",))
    clock = Clock()
    dispatcher = Dispatcher(app, "w", clock=clock)
    dispatcher.run_once()
    CALLS.clear()
    clock.now += timedelta(seconds=2)
    assert dispatcher.run_once() == {"published": 1}
    assert CALLS == ["find", "publish"] and outcomes(app, did) == ["ambiguous", "published"]


def test_a_crashing_channel_is_treated_as_ambiguous(app):
    SCRIPT.append(KeyError("bug"))
    [did] = approved_post(app, channels=("thu",))
    Dispatcher(app, "w").run_once()
    d = delivery(app, did)
    assert d.state == S.WAITING and d.needs_reconcile and "KeyError" in d.last_error


def test_permanent_errors_fail_at_once_with_the_peer_message(app):
    SCRIPT.append(ContentRejected("(#100) Invalid parameter"))
    [did] = approved_post(app, channels=("thu",))
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    d = delivery(app, did)
    assert d.state == S.FAILED and d.last_error == "(#100) Invalid parameter" and CALLS == ["publish"]


def test_a_missed_deadline_fails_instead_of_publishing_late(app):
    [did] = approved_post(app, channels=("thu",), deadline=(utcnow() + timedelta(minutes=1)).isoformat())
    late = Dispatcher(app, "w", clock=lambda: utcnow() + timedelta(minutes=2))
    assert late.run_once() == {"failed": 1}
    assert outcomes(app, did) == ["deadline"] and CALLS == [] and _files(app) == []


def test_content_changed_after_approval_is_never_published(app):
    [did] = approved_post(app, channels=("thu",))
    with write(app.engine) as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == did).values(body="nội dung chưa duyệt"))
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert outcomes(app, did) == ["tampered"] and _files(app) == []


def test_media_changed_after_approval_is_never_published(app, project):
    image = write_png(project / "anh.png")
    [did] = approved_post(app, channels=("thu",), media=[str(image)])
    frozen = delivery(app, did).content.media[0]
    (app.data_dir / frozen.path).write_bytes(b"something else")
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert "anh.png" in delivery(app, did).last_error


def test_media_is_published_with_the_post(app, project):
    image = write_png(project / "anh.png", color=(10, 20, 30))
    [did] = approved_post(app, channels=("thu",), media=[str(image)])
    Dispatcher(app, "w").run_once()
    copies = list((app.data_dir / "outbox" / "thu" / str(did)).iterdir())
    assert [c.read_bytes() for c in copies] == [image.read_bytes()]


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_result(app):
    [did] = approved_post(app, channels=("thu",))
    now = utcnow()
    slow = Dispatcher(app, "slow", clock=lambda: now)
    [claimed] = slow.claim()
    later = Dispatcher(app, "fast", clock=lambda: now + timedelta(seconds=60))  # lease is 5 s
    assert later.run_once() == {"recovered": 1, "published": 1}
    CALLS.clear()
    assert slow.process(claimed) == "lease_lost"
    assert CALLS == []  # the presumed-dead worker never talks to the channel
    assert outcomes(app, did) == ["lease_expired", "published"]
    assert delivery(app, did).lease_owner is None and _files(app) == [f"{did}.json"]


def test_stopping_releases_claimed_work_not_started(app):
    ids = approved_post(app, channels=("thu",))
    dispatcher = Dispatcher(app, "w")
    [claimed] = dispatcher.claim()
    assert dispatcher.release([claimed]) == 1
    d = delivery(app, ids[0])
    assert d.state == S.QUEUED and d.lease_owner is None and outcomes(app, ids[0]) == []


def test_a_live_worker_keeps_its_lease_through_a_slow_attempt(app, project):
    """The lease keeper renews while a peer is slow; nobody presumes the worker dead."""
    import threading
    import time

    from publisher.context import App

    from .conftest import set_daemon_options

    set_daemon_options(project, lease_seconds=1)
    slow_app = App.open(project / "config.toml")  # lease 1 s; the publish below takes 2.5 s
    SCRIPT.append("slow")
    [did] = approved_post(slow_app, channels=("thu",))
    worker = threading.Thread(target=Dispatcher(slow_app, "slow").run_once)
    worker.start()
    time.sleep(1.8)  # past the first lease: without renewal another worker would take it over
    assert Dispatcher(slow_app, "thief").recover() == 0
    worker.join()
    assert outcomes(slow_app, did) == ["published"] and CALLS.count("publish") == 1
    slow_app.close()


def test_a_post_without_a_deadline_gets_the_default_one_and_is_never_published_weeks_late(app):
    [did] = approved_post(app, channels=("thu",), template="thong-tin",
                          variables={"noi_dung": "Thông tin"})  # general news: posts.deadline_days (7)
    d = delivery(app, did)
    assert d.deadline_at == d.due_at + timedelta(days=7)
    late = Dispatcher(app, "w", clock=lambda: d.due_at + timedelta(days=8))  # the daemon was down a week
    assert late.run_once() == {"failed": 1}
    assert outcomes(app, did) == ["deadline"] and CALLS == [] and "deadline" in delivery(app, did).last_error
