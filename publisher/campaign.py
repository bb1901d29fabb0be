"""Campaigns: the standard posts of a policy, planned from its lifecycle dates.

Four moments, each one post to every enabled channel of the policy's agency,
written as a draft awaiting approval: when consultation opens (mời góp ý), a
reminder ``campaign.reminder_days`` before it closes, when the document is
passed, when it is issued.  Planning again after the dates change moves the
drafts; approved posts are never touched (cancel one to re-plan it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from . import deadlines, journal, posts, service
from .errors import InputError
from .models import Policy, Post, PostState, utcnow
from .store import rows
from .store.engine import read, write
from .store.schema import posts as t_posts

if TYPE_CHECKING:
    from .context import App

MOMENTS = deadlines.MOMENTS
ACTIONS = ("created", "replanned", "unchanged", "approved", "missed", "no_date")


@dataclass(frozen=True)
class Step:
    moment: str
    action: str  # one of ACTIONS; "approved": left alone
    post_id: int | None = None
    at: datetime | None = None


def plan(app: App, actor: str, code: str, agency: str | None = None) -> list[Step]:
    """Create or re-plan the campaign posts of policy *code*."""
    policy = service.get_policy(app, code, agency)
    channels = [n for n, c in app.config.channels.items() if c.agency == policy.agency and c.enabled]
    if not channels:
        raise InputError("campaign.no_channels", agency=policy.agency)
    return [_step(app, actor, policy, moment, channels) for moment in MOMENTS]


def schedule(app: App, policy: Policy, moment: str) -> tuple[datetime, datetime | None] | None:
    """When the post of *moment* goes out and its deadline (aware UTC), or None without a date."""
    zone, at_time = app.config.timezone, app.config.campaign["publish_time"]
    closes = policy.consultation_closes
    day: date | None = {
        "opens": policy.consultation_opens,
        "reminder": closes - timedelta(days=app.config.campaign["reminder_days"]) if closes else None,
        "passed": policy.passed_on,
        "issued": policy.issued_on,
    }[moment]
    if day is None or (moment == "reminder" and policy.consultation_opens and day <= policy.consultation_opens):
        return None  # no date yet, or a consultation too short for a reminder
    at = _utc(datetime.combine(day, at_time, zone))
    return at, deadlines.default(app, policy, at, "", moment)  # see deadlines.py: one rule per kind of post


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _step(app: App, actor: str, policy: Policy, moment: str, channels: list[str]) -> Step:
    planned = schedule(app, policy, moment)
    existing = _current_post(app, policy, moment)
    if planned is None:
        return Step(moment, "no_date", existing.id if existing else None)
    at, deadline = planned
    now = utcnow()
    if deadline is not None and deadline <= now:
        return Step(moment, "missed", existing.id if existing else None, at)
    if existing is None:
        # a moment already past (but not its deadline) goes out as soon as it is approved
        data = _post_data(app, policy, moment, channels, max(at, now), deadline)
        created = posts.new_post(app, actor, data, source="campaign", moment=moment)
        return Step(moment, "created", created.id, created.publish_at)
    if existing.state == PostState.APPROVED:
        return Step(moment, "approved", existing.id, existing.publish_at)
    same_time = existing.publish_at == at or (at <= now and existing.publish_at <= now)
    if same_time and existing.deadline_at == deadline:
        return Step(moment, "unchanged", existing.id, existing.publish_at)
    _replan(app, actor, existing, max(at, now), deadline)
    return Step(moment, "replanned", existing.id, max(at, now))


def _post_data(app: App, policy: Policy, moment: str, channels: list[str], at: datetime,
               deadline: datetime | None) -> dict[str, object]:
    data: dict[str, object] = {
        "policy": policy.code, "agency": policy.agency, "template": app.config.campaign[f"{moment}_template"],
        "channels": channels, "at": at.isoformat(), "infographics": list(app.config.campaign["infographics"])}
    if deadline:
        data["deadline"] = deadline.isoformat()
    return data


def _current_post(app: App, policy: Policy, moment: str) -> Post | None:
    query = (select(t_posts).where(t_posts.c.policy_id == policy.id, t_posts.c.moment == moment,
                                   t_posts.c.state != PostState.CANCELLED).order_by(t_posts.c.id.desc()).limit(1))
    with read(app.engine) as conn:
        row = conn.execute(query).first()
    return rows.post(row) if row else None


def _replan(app: App, actor: str, post: Post, at: datetime, deadline: datetime | None) -> None:
    with write(app.engine) as conn:
        moved = conn.execute(update(t_posts).where(t_posts.c.id == post.id, t_posts.c.state == PostState.DRAFT)
                             .values(publish_at=at, deadline_at=deadline)).rowcount
        if moved:
            journal.append(conn, actor, "post.replanned", f"post:{post.id}", {
                "moment": post.moment, "from": post.publish_at.isoformat(), "to": at.isoformat(),
                "deadline": deadline.isoformat() if deadline else None})


def replan_if_planned(app: App, actor: str, policy: Policy) -> list[Step]:
    """After a policy changed: re-plan its campaign, if it has one."""
    query = select(t_posts.c.id).where(t_posts.c.policy_id == policy.id, t_posts.c.moment.is_not(None)).limit(1)
    with read(app.engine) as conn:
        planned = conn.execute(query).first() is not None
    return plan(app, actor, policy.code, policy.agency) if planned else []
