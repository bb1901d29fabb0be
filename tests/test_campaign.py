"""Campaigns: the standard posts planned from a policy's dates, and re-planned when they change."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from publisher import campaign, posts, service
from publisher.errors import InputError
from publisher.models import PostState, utcnow
from publisher.store.engine import read
from publisher.store.schema import journal

from .conftest import BASE_CONFIG, run_cli
from .helpers import add_policy

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = utcnow().astimezone(VN).date()


def _dates(opens: int, closes: int, passed: int | None = None, issued: int | None = None) -> dict[str, str]:
    days = {"consultation_opens": opens, "consultation_closes": closes, "passed_on": passed, "issued_on": issued}
    return {k: (TODAY + timedelta(days=v)).isoformat() for k, v in days.items() if v is not None}


def _local(day_offset: int, hour: int = 8, minute: int = 0, second: int = 0) -> datetime:
    day = TODAY + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VN).astimezone(timezone.utc)


def _by_moment(steps):
    return {s.moment: s for s in steps}


def test_plans_four_drafts_at_the_configured_time(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=5, closes=20, passed=40, issued=45))
    steps = _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND", "tinh"))
    assert {m: s.action for m, s in steps.items()} == dict.fromkeys(campaign.MOMENTS, "created")
    made = {p.moment: p for p, _ in posts.list_posts(sqlite_app, policy_code="12/2026/NQ-HĐND")}
    assert made["opens"].publish_at == _local(5) and made["opens"].template == "moi-gop-y"
    assert made["reminder"].publish_at == _local(17) and made["reminder"].template == "nhac-han-gop-y"
    assert made["opens"].deadline_at == made["reminder"].deadline_at == _local(20, 23, 59, 59)
    assert made["passed"].publish_at == _local(40) and made["passed"].deadline_at == _local(54)  # 14 days of news
    assert made["issued"].template == "ban-hanh"
    assert all(p.state == PostState.DRAFT and p.author == "bien-tap" for p in made.values())
    assert all(p.channels == ("portal", "fanpage") and p.infographics == ("vuong",) for p in made.values())


def test_planning_twice_changes_nothing(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=5, closes=20))
    campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND")
    again = _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND"))
    assert again["opens"].action == again["reminder"].action == "unchanged"
    assert again["passed"].action == "no_date"
    assert len(posts.list_posts(sqlite_app)) == 2


def test_new_dates_move_the_drafts_but_never_an_approved_post(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=5, closes=20))
    first = _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND"))
    posts.approve(sqlite_app, "truong-phong", first["opens"].post_id)
    policy, changes = service.update_policy(sqlite_app, "bien-tap", "12/2026/NQ-HĐND", "tinh",
                                            _dates(opens=6, closes=30))
    assert set(changes) == {"consultation_opens", "consultation_closes"}
    steps = _by_moment(campaign.replan_if_planned(sqlite_app, "bien-tap", policy))
    assert steps["opens"].action == "approved" and steps["reminder"].action == "replanned"
    reminder = posts.get(sqlite_app, first["reminder"].post_id)
    assert reminder.publish_at == _local(27) and reminder.deadline_at == _local(30, 23, 59, 59)
    assert posts.get(sqlite_app, first["opens"].post_id).publish_at == _local(5)  # approved: untouched
    with read(sqlite_app.engine) as conn:
        events = conn.execute(select(journal.c.event, journal.c.subject)).all()
    assert ("post.replanned", f"post:{first['reminder'].post_id}") in events
    assert ("policy.changed", f"policy:{policy.id}") in events


def test_a_closed_consultation_is_not_announced_late(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=-30, closes=-1))
    steps = _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND"))
    assert steps["opens"].action == steps["reminder"].action == "missed"
    assert posts.list_posts(sqlite_app) == []


def test_a_running_consultation_is_announced_now(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=-2, closes=10))
    before = utcnow()
    steps = _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND"))
    assert steps["opens"].action == "created" and before <= steps["opens"].at <= utcnow()


def test_a_consultation_too_short_for_a_reminder_gets_none(sqlite_app):
    add_policy(sqlite_app, **_dates(opens=5, closes=6))
    assert _by_moment(campaign.plan(sqlite_app, "bien-tap", "12/2026/NQ-HĐND"))["reminder"].action == "no_date"


def test_an_agency_without_channels_cannot_run_a_campaign(project, sqlite_app):
    config = BASE_CONFIG.replace('[channels.xa-fanpage]\ntype = "outbox"\nagency = "xa"\nformat = "facebook"\n', "")
    (project / "config.toml").write_text(config, encoding="utf-8")
    from publisher.context import App

    app = App.open(project / "config.toml")
    add_policy(app, agency="xa", **_dates(opens=5, closes=20))
    with pytest.raises(InputError, match="xa"):
        campaign.plan(app, "bien-tap", "12/2026/NQ-HĐND", "xa")
    app.close()


def test_cli_campaign_then_policy_update_replans(project):
    dates = _dates(opens=5, closes=20)
    add = run_cli("policy", "add", "--agency", "tinh", "--code", "KH-9", "--title", "Chính sách thử",
                  "--summary", "Tóm tắt", "--point", "Ý thứ nhất", "--point", "Ý thứ hai",
                  "--consultation-opens", dates["consultation_opens"],
                  "--consultation-closes", dates["consultation_closes"], cwd=project)
    assert add.returncode == 0, add.stderr
    planned = run_cli("--as", "bien-tap", "campaign", "KH-9", "--json", cwd=project)
    assert planned.returncode == 0, planned.stderr
    assert [s["action"] for s in json.loads(planned.stdout)] == ["created", "created", "no_date", "no_date"]
    moved = run_cli("--as", "bien-tap", "policy", "update", "KH-9", "--consultation-closes",
                    (date.fromisoformat(dates["consultation_closes"]) + timedelta(days=7)).isoformat(), cwd=project)
    assert moved.returncode == 0, moved.stderr
    assert "đã dời lịch" in moved.stdout  # the reminder draft moved with the new closing date
    shown = json.loads(run_cli("policy", "show", "KH-9", "--json", cwd=project).stdout)
    assert shown["key_points"] == ["Ý thứ nhất", "Ý thứ hai"]
