"""channels.<name>.max_per_hour: a sliding hour, counted in the database, shared by every daemon."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState
from publisher.store import rates
from publisher.store.engine import read

from .conftest import BASE_CONFIG, run_cli
from .helpers import Clock, add_policy, approved_post, delivery

S = DeliveryState


@pytest.fixture
def limited(project, backend, monkeypatch):
    """The test config with the fanpage limited to 3 attempts an hour (the portal unlimited)."""
    text = BASE_CONFIG.replace('format = "facebook"\n', 'format = "facebook"\nmax_per_hour = 3\n', 1)
    (project / "config.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    opened = App.open(project / "config.toml")
    add_policy(opened)
    yield opened
    opened.close()


def _queue(app, n, clock, channels=("portal", "fanpage")):
    return [approved_post(app, channels=channels, at=clock.now - timedelta(minutes=1)) for _ in range(n)]


def test_a_limited_channel_publishes_its_hourly_share_and_sleeps_until_a_slot_frees(limited):
    clock = Clock()
    queued = _queue(limited, 5, clock)
    dispatcher = Dispatcher(limited, "w", clock=clock)
    assert dispatcher.run_once() == {"published": 8}  # 5 portal + 3 fanpage
    fanpage = [delivery(limited, pair[1]).state for pair in queued]
    assert fanpage.count(S.PUBLISHED) == 3 and fanpage.count(S.QUEUED) == 2
    assert all(delivery(limited, pair[0]).state == S.PUBLISHED for pair in queued)  # the portal is not held back
    first_start = clock.now
    assert dispatcher.next_wakeup() == first_start + rates.WINDOW  # not "now": no spinning on held-back work
    clock.now += timedelta(minutes=30)
    assert dispatcher.run_once() == {}
    clock.now = first_start + rates.WINDOW + timedelta(seconds=1)
    assert dispatcher.run_once() == {"published": 2}
    assert dispatcher.next_wakeup() is None


def test_the_window_slides_one_slot_at_a_time(limited):
    clock = Clock()
    _queue(limited, 5, clock, channels=("fanpage",))
    dispatcher = Dispatcher(limited, "w", clock=clock)
    start = clock.now
    for minute in (0, 10, 20):  # one fanpage attempt at each of these minutes
        clock.now = start + timedelta(minutes=minute)
        [claimed] = dispatcher.claim(1, ["fanpage"])
        assert dispatcher.process(claimed) == "published"
    clock.now = start + timedelta(minutes=59)
    assert dispatcher.claim(5, ["fanpage"]) == []
    clock.now = start + timedelta(minutes=61)  # the minute-0 attempt left the window: one slot
    [claimed] = dispatcher.claim(5, ["fanpage"])
    with read(limited.engine) as conn:
        assert rates.used(conn, "fanpage", clock.now) == 3  # two attempts in the window + one claim running
    dispatcher.process(claimed)
    assert dispatcher.next_wakeup() == start + timedelta(minutes=70)  # when the minute-10 attempt leaves


def test_two_daemons_claiming_at_once_never_exceed_the_limit_together(limited):
    clock = Clock()
    _queue(limited, 8, clock)
    workers = [Dispatcher(limited, f"w{i}", clock=clock) for i in range(4)]
    barrier, got = threading.Barrier(len(workers)), []

    def claim(dispatcher):
        barrier.wait()
        got.extend(dispatcher.claim(10, ["fanpage"]))

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 3 and len({d.id for d in got}) == 3


def test_max_per_hour_must_not_be_negative(project):
    text = BASE_CONFIG.replace('format = "facebook"\n', 'format = "facebook"\nmax_per_hour = -1\n', 1)
    (project / "config.toml").write_text(text, encoding="utf-8")
    result = run_cli("config", "check", cwd=project)
    assert result.returncode == 2 and "channels.fanpage.max_per_hour" in result.stderr
