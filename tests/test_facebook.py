"""The Facebook channel against the fake Graph API: every kind of post, every fault, exactly once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher import posts
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState
from publisher.store.engine import read
from publisher.store.schema import attempts, journal

from .conftest import PAGES, facebook_config
from .fakegraph import FakeGraph
from .helpers import Clock, add_policy, delivery, outcomes, write_png

S = DeliveryState
TINH = "111111"




@pytest.fixture
def fake():
    with FakeGraph(PAGES) as server:
        yield server


@pytest.fixture
def app(project, fake):
    opened = App.open(facebook_config(project, fake.url))
    add_policy(opened)
    yield opened
    opened.close()


def _queue(app, **extra):
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                            "channels": ["fb-tinh"], "at": "now", **extra})
    [did] = posts.approve(app, "truong-phong", post.id)
    return did






def _live_posts(fake, page=TINH):
    return [p for p in fake.posts(page) if not p["deleted"]]


def _drain(app, clock, rounds=10, step=timedelta(minutes=20)):
    """Run the dispatcher until nothing is left, moving time instead of sleeping."""
    dispatcher = Dispatcher(app, "w", clock=clock)
    for name in ("fb-tinh", "fb-xa"):
        app.channel(name).clock = clock
    for _ in range(rounds):
        dispatcher.run_once()
        clock.now += step
    return dispatcher


def test_a_text_post_with_its_link(app, fake):
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    [post] = _live_posts(fake)
    body = delivery(app, did).content.body
    assert post["message"] == body.strip() and post["link"] == "https://tinh.example.gov.vn/du-thao/12"
    assert delivery(app, did).remote_id == post["id"] and post["id"].startswith(f"{TINH}_")


def test_a_photo_post_uploads_the_frozen_image(app, fake, project):
    did = _queue(app, media=[str(write_png(project / "anh.png"))])
    Dispatcher(app, "w").run_once()
    [photo] = fake.photos(TINH)
    frozen = delivery(app, did).content.media[0]
    assert photo["sha256"] == frozen.sha256 and photo["content_type"] == "image/png"
    assert delivery(app, did).remote_id == photo["post_id"]


def test_several_images_become_one_post_with_attached_media(app, fake, project):
    images = [str(write_png(project / f"anh-{i}.png", color=(i * 40, 10, 10))) for i in range(3)]
    did = _queue(app, media=images)
    Dispatcher(app, "w").run_once()
    [post] = _live_posts(fake)
    uploaded = fake.photos(TINH)
    assert len(uploaded) == 3 and not any(p["published"] for p in uploaded)
    assert sorted(post["attached_media"]) == sorted(p["id"] for p in uploaded)
    assert delivery(app, did).state == S.PUBLISHED


@pytest.mark.parametrize("kind", ["5xx_after", "code1_after", "reset_after", "slow_after"])
def test_a_failure_after_the_post_was_made_is_reconciled_not_reposted(app, fake, kind):
    fake.add_fault(kind, path=r"/feed$", method="POST", seconds=2)  # slow_after: past the 1 s read timeout
    did = _queue(app)
    _drain(app, Clock(), rounds=3)
    assert len(_live_posts(fake)) == 1
    assert outcomes(app, did) == ["ambiguous", "reconciled"]
    assert delivery(app, did).remote_id == _live_posts(fake)[0]["id"]


@pytest.mark.parametrize("kind", ["5xx_before", "code2_before", "reset_before"])
def test_a_failure_before_the_post_was_made_is_retried_after_looking(app, fake, kind):
    fake.add_fault(kind, path=r"/feed$", method="POST")
    did = _queue(app)
    _drain(app, Clock(), rounds=3)
    assert len(_live_posts(fake)) == 1
    assert outcomes(app, did) == ["ambiguous", "published"]


def test_read_after_write_lag_is_waited_out(app, fake):
    fake.lag = 0.2  # the post exists at once but shows in the feed 0.2 s later (recheck is 0.3 s)
    fake.add_fault("5xx_after", path=r"/feed$", method="POST")
    did = _queue(app)
    _drain(app, Clock(), rounds=3)
    assert len(_live_posts(fake)) == 1 and outcomes(app, did) == ["ambiguous", "reconciled"]


def test_rate_limits_wait_for_the_time_meta_gives(app, fake):
    fake.add_fault("rate_limit", path=r"/feed$", method="POST", code=32, seconds=120)
    did = _queue(app)
    clock = Clock()
    dispatcher = Dispatcher(app, "w", clock=clock)
    app.channel("fb-tinh").clock = clock
    assert dispatcher.run_once() == {"waiting": 1}
    waiting = delivery(app, did)
    assert waiting.next_attempt_at == clock.now + timedelta(minutes=2) and "32" in waiting.last_error
    assert _live_posts(fake) == []
    clock.now += timedelta(minutes=3)
    assert dispatcher.run_once() == {"published": 1}


def test_high_usage_pauses_the_page_before_meta_blocks_it(app, fake):
    fake.configure(calls_per_window=10)  # each call uses 10% of the Page's budget
    ids = [_queue(app) for _ in range(12)]
    clock = Clock()
    app.channel("fb-tinh").clock = clock
    Dispatcher(app, "w", clock=clock).run_once()
    states = [delivery(app, i).state for i in ids]
    assert states.count(S.PUBLISHED) == 9  # the 9th call reported 90%: the Page paused itself
    assert all(s == S.WAITING for s in states[9:])
    assert all("paused" in delivery(app, i).last_error for i in ids[9:])
    assert not any(r["status"] == 400 for r in fake.requests())  # never blocked by Meta


def test_an_expired_token_waits_and_resumes_once_renewed(app, fake, project):
    fake.expire_token(TINH)
    did = _queue(app)
    clock = Clock()
    dispatcher = Dispatcher(app, "w", clock=clock)
    for _ in range(3):
        assert dispatcher.run_once() == {"waiting": 1}
        clock.now += timedelta(seconds=2)
    assert delivery(app, did).state == S.WAITING  # not failed, not lost, however often it is refused
    assert "renew the Page access token" in delivery(app, did).last_error
    fake.rotate_token(TINH, "EAAB-tinh-page-token-renewed")
    (project / "fb-tinh.token").write_text("EAAB-tinh-page-token-renewed", encoding="utf-8")
    assert dispatcher.run_once() == {"published": 1}
    with read(app.engine) as conn:
        events = conn.execute(select(journal.c.event).where(journal.c.subject == "channel:fb-tinh")).scalars().all()
    assert events == ["channel.unhealthy", "channel.healthy"]  # staff are told once, and told it is fixed


@pytest.mark.parametrize(("kind", "code"), [("duplicate", "506"), ("invalid", "100"), ("blocked", "368")])
def test_rejected_content_fails_with_the_graph_message(app, fake, kind, code):
    fake.add_fault(kind, path=r"/feed$", method="POST")
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert code in delivery(app, did).last_error and _live_posts(fake) == []


def test_the_token_never_appears_in_a_url_a_log_or_a_stored_error(app, fake, caplog):
    caplog.set_level(logging.DEBUG)
    from publisher import redact

    for handler in logging.getLogger().handlers:
        handler.addFilter(redact.RedactingFilter())
    fake.expire_token(TINH)
    fake.add_fault("5xx_after", path=r"/feed$", method="POST")
    _queue(app)
    _drain(app, Clock(), rounds=2)
    token = PAGES[TINH]["token"]
    assert fake.requests() and not any(r["token_in_query"] for r in fake.requests())
    assert all(r["token_source"] in ("header", None) for r in fake.requests())
    assert token not in caplog.text
    with read(app.engine) as conn:
        stored = " ".join(str(v) for row in conn.execute(select(attempts)) for v in row)
        stored += " ".join(str(v) for row in conn.execute(select(journal)) for v in row)
    assert token not in stored


def test_appsecret_proof_is_sent_when_an_app_secret_is_configured(project):
    with FakeGraph(PAGES, app_id="42", app_secret="s3cret-app", require_appsecret_proof=True) as server:
        (project / "app.secret").write_text("s3cret-app", encoding="utf-8")
        config = facebook_config(project, server.url, extra='app_secret_file = "app.secret"\n')
        app = App.open(config)
        add_policy(app)
        _queue(app)
        assert Dispatcher(app, "w").run_once() == {"published": 1}
        app.close()


def test_check_reports_the_page_and_a_wrong_token(app, fake, project):
    assert app.channel("fb-tinh").check().ok and app.channel("fb-tinh").check().detail == "UBND tỉnh Thử Nghiệm"
    (project / "fb-tinh.token").write_text(PAGES["222222"]["token"], encoding="utf-8")  # the other Page's token
    health = app.channel("fb-tinh").check()
    assert not health.ok and "222222" in health.detail
    fake.expire_token("222222")
    assert not app.channel("fb-xa").check().ok


def test_every_step_of_a_reconciliation_is_on_record(app, fake):
    fake.add_fault("5xx_before", path=r"/feed$", method="POST")
    did = _queue(app)
    _drain(app, Clock(), rounds=2)
    with read(app.engine) as conn:
        events = conn.execute(select(journal.c.event).where(journal.c.subject == f"delivery:{did}")
                              .order_by(journal.c.seq)).scalars().all()
    assert events == ["delivery.queued", "delivery.claimed", "delivery.waiting", "delivery.claimed",
                      "delivery.not_found", "delivery.published"]


def test_channels_check_cli_reports_and_journals_a_bad_token(app, fake, project):
    from .conftest import run_cli

    good = run_cli("channels", "check", "--json", cwd=project)
    assert good.returncode == 0, good.stderr
    fake.expire_token(TINH)
    bad = run_cli("channels", "check", cwd=project)
    assert bad.returncode == 1 and "fb-tinh" in bad.stdout and "190" in bad.stdout
    with read(app.engine) as conn:
        failures = conn.execute(select(journal.c.subject).where(journal.c.event == "channel.check_failed")).all()
    assert [f.subject for f in failures] == ["channel:fb-tinh"]
