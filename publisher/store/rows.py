"""Rows to typed records, and the joined selects the operations read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from ..models import (
    Content,
    Delivery,
    DeliveryState,
    Impact,
    MediaFile,
    Policy,
    Post,
    PostState,
)
from .schema import deliveries, policies, posts


def policy(row: Any) -> Policy:
    return Policy(
        id=row.id, agency=row.agency, code=row.code, title=row.title, summary=row.summary,
        impact=Impact(row.impact), consultation_opens=row.consultation_opens,
        consultation_closes=row.consultation_closes, passed_on=row.passed_on, issued_on=row.issued_on,
        draft_url=row.draft_url, key_points=tuple(row.key_points), affected=row.affected,
        comment_how=row.comment_how, created_by=row.created_by, created_at=row.created_at,
    )


def post(row: Any) -> Post:
    return Post(
        id=row.id, policy_id=row.policy_id, template=row.template, variables=row.variables,
        channels=tuple(row.channels), publish_at=row.publish_at, deadline_at=row.deadline_at,
        media=media_files(row.media), infographics=tuple(row.infographics), moment=row.moment,
        author=row.author, state=PostState(row.state), approver=row.approver,
        approved_at=row.approved_at, created_at=row.created_at,
    )


def media_files(items: list[dict[str, str]]) -> tuple[MediaFile, ...]:
    return tuple(MediaFile(name=m["name"], path=m["path"], sha256=m["sha256"]) for m in items)


def delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id, post_id=row.post_id, policy_id=row.policy_id, agency=row.agency, channel=row.channel,
        state=DeliveryState(row.state), due_at=row.due_at, deadline_at=row.deadline_at,
        content=Content(title=row.title, body=row.body, media=media_files(row.media)),
        content_sha256=row.content_sha256, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        needs_reconcile=bool(row.needs_reconcile), lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at, first_attempt_at=row.first_attempt_at,
        remote_id=row.remote_id, permalink=row.permalink, published_at=row.published_at,
        last_error=row.last_error, policy_code=row.policy_code,
    )


def delivery_select() -> Select[Any]:
    """Deliveries with the policy they serve (for filters and display)."""
    return (
        select(deliveries, posts.c.policy_id, policies.c.agency, policies.c.code.label("policy_code"))
        .join(posts, posts.c.id == deliveries.c.post_id)
        .join(policies, policies.c.id == posts.c.policy_id)
    )
