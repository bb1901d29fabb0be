"""Every kind of post gets a sensible deadline when it names none (publisher/deadlines.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from publisher import campaign, posts
from publisher.errors import InputError
from publisher.models import utcnow

from .helpers import add_policy

#: 23:59:59 on 31/12/2026 in Asia/Ho_Chi_Minh (UTC+7): the test policy's consultation closes that day.
CLOSES = datetime(2026, 12, 31, 16, 59, 59, tzinfo=timezone.utc)
AT = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


def _deadline(app, **extra):
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh", "channels": ["portal"],
                                            "at": AT.isoformat(), "variables": {"noi_dung": "Thông tin"}, **extra})
    return post.deadline_at


@pytest.mark.parametrize(("template", "expected"), [
    ("moi-gop-y", CLOSES),  # an invitation to comment ends with the consultation
    ("nhac-han-gop-y", CLOSES),  # so does the reminder
    ("thong-qua", AT + timedelta(days=14)),  # news of a passed document: campaign.news_deadline_days
    ("ban-hanh", AT + timedelta(days=14)),  # news of an issued document
    ("thong-tin", AT + timedelta(days=7)),  # anything else: posts.deadline_days
])
def test_a_hand_written_post_gets_the_deadline_of_its_kind(app, template, expected):
    add_policy(app)
    assert _deadline(app, template=template) == expected


def test_an_explicit_deadline_wins(app):
    add_policy(app)
    assert _deadline(app, template="moi-gop-y", deadline="2027-01-15 17:00") == datetime(
        2027, 1, 15, 10, 0, tzinfo=timezone.utc)


def test_an_invitation_without_a_closing_date_falls_back_to_the_general_deadline(app):
    add_policy(app, consultation_closes=None)
    assert _deadline(app, template="moi-gop-y") == AT + timedelta(days=7)


def test_an_invitation_written_after_the_consultation_closed_is_refused_with_the_reason(app):
    add_policy(app, consultation_opens="2026-01-01", consultation_closes="2026-02-01")
    with pytest.raises(InputError) as caught:
        _deadline(app, template="nhac-han-gop-y")
    assert "01/02/2026" in str(caught.value) and "nhac-han-gop-y" in str(caught.value)
    assert posts.list_posts(app) == []  # nothing half-written


def test_campaign_posts_follow_the_same_rules(app):
    policy = add_policy(app)
    opens_at, opens_deadline = campaign.schedule(app, policy, "opens")
    issued = add_policy(app, code="13/2026/NQ-HĐND", issued_on="2027-02-01")
    issued_at, issued_deadline = campaign.schedule(app, issued, "issued")
    assert opens_deadline == CLOSES and issued_deadline == issued_at + timedelta(days=14)
    assert opens_at < utcnow() + timedelta(days=60)


def test_a_time_in_year_9999_is_a_clear_input_error_not_an_overflow(app):
    add_policy(app)
    with pytest.raises(InputError, match="9999"):
        posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh", "channels": ["portal"],
                                         "at": "9999-12-31 23:00"})
    with pytest.raises(InputError, match="9999"):
        add_policy(app, code="X-1", consultation_closes="31/12/9999")
