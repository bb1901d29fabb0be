"""Native scheduling: posts handed to Facebook's scheduler ahead of time, confirmed or cancelled."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from publisher import posts
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState

from .conftest import PAGES, facebook_config
from .fakegraph import FakeGraph
from .helpers import Clock, add_policy, delivery, outcomes

S = DeliveryState
TINH = "111111"




@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    with FakeGraph(PAGES, clock=clock.unix) as server:
        yield server


@pytest.fixture
def app(project, fake, clock):
    opened = App.open(facebook_config(project, fake.url, extra="native_scheduling = true\n"))
    add_policy(opened)
    opened.channel("fb-tinh").clock = clock
    yield opened
    opened.close()


def _queue(app, at):
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh", "channels": ["fb-tinh"],
                                            "at": at.isoformat()})
    [did] = posts.approve(app, "truong-phong", post.id)
    return post.id, did






def test_a_post_due_in_two_hours_is_scheduled_on_facebook_then_confirmed_live(app, fake, clock):
    due = (clock.now + timedelta(hours=2)).replace(microsecond=0)
    _, did = _queue(app, due)
    dispatcher = Dispatcher(app, "w", clock=clock)
    assert dispatcher.run_once() == {"scheduled": 1}
    [remote] = fake.posts(TINH)
    assert remote["scheduled"] and remote["scheduled_publish_time"] == int(due.timestamp())
    assert delivery(app, did).state == S.SCHEDULED and delivery(app, did).remote_id == remote["id"]
    assert dispatcher.next_wakeup() == due  # the daemon wakes to confirm it went live
    clock.now = due + timedelta(minutes=1)
    assert dispatcher.run_once() == {"published": 1}
    done = delivery(app, did)
    assert done.state == S.PUBLISHED and done.published_at == due
    assert outcomes(app, did) == ["scheduled", "went_live"]


def test_cancelling_deletes_the_scheduled_post_on_facebook(app, fake, clock):
    post_id, did = _queue(app, clock.now + timedelta(days=3))
    Dispatcher(app, "w", clock=clock).run_once()
    result = posts.cancel(app, "truong-phong", post_id, "dự thảo thay đổi")
    assert result["cancelled"] == [did] and delivery(app, did).state == S.CANCELLED
    assert [p["deleted"] for p in fake.posts(TINH)] == [True]


def test_a_scheduled_post_removed_from_the_page_is_failed_not_reported_published(app, fake, clock):
    due = clock.now + timedelta(hours=1)
    _, did = _queue(app, due)
    dispatcher = Dispatcher(app, "w", clock=clock)
    dispatcher.run_once()
    app.channel("fb-tinh").unschedule(delivery(app, did))  # a Page admin deleted it on Facebook
    clock.now = due + timedelta(minutes=1)
    assert dispatcher.run_once() == {"failed": 1}
    assert "no longer on the page" in delivery(app, did).last_error


def test_a_post_due_too_soon_for_facebook_scheduling_is_published_at_its_time(app, fake, clock):
    due = clock.now + timedelta(minutes=5)  # Facebook needs 10 minutes' notice
    _, did = _queue(app, due)
    dispatcher = Dispatcher(app, "w", clock=clock)
    assert dispatcher.run_once() == {}
    clock.now = due
    assert dispatcher.run_once() == {"published": 1}
    assert not fake.posts(TINH)[0]["scheduled"]


def test_an_ambiguous_failure_while_scheduling_finds_the_scheduled_post(app, fake, clock):
    fake.add_fault("5xx_after", path=r"/feed$", method="POST")
    _, did = _queue(app, clock.now + timedelta(hours=5))
    dispatcher = Dispatcher(app, "w", clock=clock)
    dispatcher.run_once()
    clock.now += timedelta(seconds=10)
    time.sleep(0.01)
    dispatcher.run_once()
    assert delivery(app, did).state == S.SCHEDULED and len(fake.posts(TINH)) == 1
    assert outcomes(app, did) == ["ambiguous", "reconciled"]
