"""What the deliveries pages and API read: one page of deliveries, one delivery and its attempts.

Reading only (the changes are ``publisher.retries``).  Every read is bounded
by the user's agency (``access.sees_agency``): an agency-bound account never
gets another agency's delivery, not in a list and not by its id (a 404, so
the answer does not even tell that the id exists).  The pydantic models are
the API's answers, so the OpenAPI document describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ..access import User, sees_agency
from ..context import App
from ..errors import NotFound
from ..models import Delivery, DeliveryState, nfc
from ..retries import can_cancel, can_retry
from ..retries import get as get_delivery
from ..store.engine import read
from ..store.rows import delivery, delivery_select
from ..store.schema import attempts, deliveries, policies

PER_PAGE = 50
MAX_FILTER = 200  # a policy code or channel name longer than this matches nothing: cut it


@dataclass(frozen=True)
class Filters:
    state: DeliveryState | None = None
    channel: str | None = None
    policy: str | None = None
    page: int = 1

    @classmethod
    def of(cls, state: DeliveryState | None, channel: str | None, policy: str | None, page: int) -> Filters:
        """Blank fields are no filter; text is NFC (a code typed with combining marks still matches)."""
        return cls(state=state, channel=(channel or "").strip()[:MAX_FILTER] or None,
                   policy=nfc((policy or "").strip())[:MAX_FILTER] or None, page=max(1, page))


@dataclass(frozen=True)
class Listing:
    items: list[Delivery]
    total: int
    page: int
    pages: int


def listing(app: App, user: User, f: Filters) -> Listing:
    """The deliveries *user* may see that match *f*: newest due first, PER_PAGE a page."""
    query = delivery_select()
    if user.agency is not None:
        query = query.where(policies.c.agency == user.agency)
    for column, value in ((deliveries.c.state, f.state), (deliveries.c.channel, f.channel),
                          (policies.c.code, f.policy)):
        if value:
            query = query.where(column == value)
    page_query = (query.order_by(deliveries.c.due_at.desc(), deliveries.c.id.desc())
                  .limit(PER_PAGE).offset((f.page - 1) * PER_PAGE))
    with read(app.engine) as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        items = [delivery(r) for r in conn.execute(page_query)]
    return Listing(items=items, total=total, page=f.page, pages=max(1, ceil(total / PER_PAGE)))


def visible(app: App, user: User, delivery_id: int) -> Delivery:
    """The delivery if *user* may see it; else a 404, as for an id that does not exist."""
    try:
        found = get_delivery(app, delivery_id)
    except NotFound:
        raise HTTPException(404) from None
    if not sees_agency(user, found.agency):
        raise HTTPException(404)
    return found


def channels_for(app: App, user: User) -> list[str]:
    """The channels a filter may name: those of the user's agency (all, for an account of every agency)."""
    return sorted(name for name, spec in app.config.channels.items() if sees_agency(user, spec.agency))


class AttemptOut(BaseModel):
    """One try to publish a delivery."""

    number: int
    worker: str
    started_at: datetime
    finished_at: datetime
    outcome: str = Field(description="published, reconciled, scheduled, transient, rejected, deadline...")
    error: str | None
    remote_id: str | None
    permalink: str | None


def attempts_of(app: App, delivery_id: int) -> list[AttemptOut]:
    query = (select(attempts).where(attempts.c.delivery_id == delivery_id)
             .order_by(attempts.c.number, attempts.c.id))
    with read(app.engine) as conn:
        return [AttemptOut(number=r.number, worker=r.worker, started_at=r.started_at, finished_at=r.finished_at,
                           outcome=r.outcome, error=r.error, remote_id=r.remote_id, permalink=r.permalink)
                for r in conn.execute(query)]


class DeliveryOut(BaseModel):
    """A delivery: one approved post going to one channel."""

    id: int
    post_id: int
    agency: str
    policy: str = Field(description="The policy's code.")
    channel: str
    state: DeliveryState
    state_name: str = Field(description="The state's name in the caller's language.")
    due_at: datetime
    deadline_at: datetime | None
    attempts: int = Field(description="How many attempts were made.")
    next_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None
    permalink: str | None
    published_at: datetime | None
    can_retry: bool = Field(description="A failed delivery: may be put back in the queue.")
    can_cancel: bool = Field(description="Queued, waiting or scheduled: may be cancelled.")


class DeliveryDetail(DeliveryOut):
    """A delivery with what it publishes (frozen at approval) and every attempt."""

    title: str
    body: str
    media: list[str] = Field(description="The names of its media files.")
    content_sha256: str
    history: list[AttemptOut] = Field(description="Every attempt, first to last.")


class DeliveryPage(BaseModel):
    """One page of deliveries, newest due first."""

    items: list[DeliveryOut]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE


class CancelRequest(BaseModel):
    reason: str = Field("", max_length=500, description="Why (journalled, shown as the last error).")


def summary(d: Delivery, state_name: str) -> dict[str, Any]:
    """The fields of DeliveryOut for *d*."""
    return {"id": d.id, "post_id": d.post_id, "agency": d.agency, "policy": d.policy_code, "channel": d.channel,
            "state": d.state, "state_name": state_name, "due_at": d.due_at, "deadline_at": d.deadline_at,
            "attempts": d.attempts, "next_attempt_at": d.next_attempt_at, "last_error": d.last_error,
            "remote_id": d.remote_id, "permalink": d.permalink, "published_at": d.published_at,
            "can_retry": can_retry(d), "can_cancel": can_cancel(d)}


def detail(d: Delivery, state_name: str, history: list[AttemptOut]) -> DeliveryDetail:
    return DeliveryDetail(**summary(d, state_name), title=d.content.title, body=d.content.body,
                          media=[m.name for m in d.content.media], content_sha256=d.content_sha256,
                          history=history)
