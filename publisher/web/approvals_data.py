"""What the approvals pages and API read: the drafts waiting, one post, its preview, its deliveries.

Reading only (the changes are ``posts.approve`` and ``review.send_back``).
Every read is bounded by the user's agency (``access.sees_agency``): another
agency's post is a 404, in a list and by its id.  The preview is what
``posts.preview`` gives, taken apart so that a page lists the images without
drawing them and an image request draws only its own: the texts of every
channel, then the attached images and the infographics, in that order (once
approved: the frozen content).  The pydantic models are the API's answers.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime

from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from .. import content, media, posts, review
from ..access import User, sees_agency
from ..context import App
from ..errors import NotFound, PublisherError
from ..models import Delivery, MediaFile, Policy, Post, PostState
from ..store import rows
from ..store.engine import read
from ..store.schema import deliveries, policies
from ..store.schema import posts as posts_table
from . import preview_images

MAX_ID = 2**31 - 1  # 32-bit ids in both databases: a larger one names nothing


@dataclass(frozen=True)
class Item:
    """A post with its policy and its latest send-back (None: never sent back)."""

    post: Post
    policy: Policy
    returned: review.Returned | None


def waiting(app: App, user: User) -> list[Item]:
    """The drafts *user* may see, oldest publish time first."""
    query = (select(posts_table).join(policies, policies.c.id == posts_table.c.policy_id)
             .where(posts_table.c.state == PostState.DRAFT)
             .order_by(posts_table.c.publish_at, posts_table.c.id))
    if user.agency is not None:
        query = query.where(policies.c.agency == user.agency)
    with read(app.engine) as conn:
        found = [rows.post(r) for r in conn.execute(query)]
        wanted = sorted({post.policy_id for post in found})
        known = {r.id: rows.policy(r) for r in conn.execute(select(policies).where(policies.c.id.in_(wanted)))}
    pairs = [(post, known[post.policy_id]) for post in found if sees_agency(user, known[post.policy_id].agency)]
    returned = review.latest_of(app, [post.id for post, _ in pairs])
    return [Item(post, policy, returned.get(post.id)) for post, policy in pairs]


def visible(app: App, user: User, post_id: int) -> Item:
    """Post *post_id* if *user* may see it; else a 404, as for an id that does not exist."""
    if not 0 < post_id <= MAX_ID:
        raise HTTPException(404)
    try:
        post = posts.get(app, post_id)
    except NotFound:
        raise HTTPException(404) from None
    with read(app.engine) as conn:
        policy = rows.policy(conn.execute(select(policies).where(policies.c.id == post.policy_id)).one())
    if not sees_agency(user, policy.agency):
        raise HTTPException(404)
    return Item(post, policy, review.latest(app, post_id))


@dataclass(frozen=True)
class Preview:
    """The text of each channel ((title, body); an error message instead when it cannot render)."""

    texts: dict[str, tuple[str, str]]
    error: PublisherError | None


def texts(app: App, item: Item) -> Preview:
    """What each channel publishes: the frozen text once approved, else rendered now."""
    frozen = posts.frozen(app, item.post.id)
    if frozen:
        return Preview({name: (c.title, c.body) for name, c in frozen.items()}, None)
    draft = posts.draft_of(item.post)
    try:
        return Preview({c: content.text(app, item.policy, draft, c) for c in item.post.channels}, None)
    except PublisherError as exc:  # e.g. a template removed since the post was written
        return Preview({}, exc)


def image_names(app: App, item: Item) -> list[str]:
    """The names of the post's images, in the order of ``posts.preview`` (nothing is drawn)."""
    frozen = _frozen_media(app, item.post.id)
    if frozen is not None:
        return [m.name for m in frozen]
    return [m.name for m in item.post.media] + [content.image_name(item.policy, n) for n in item.post.infographics]


def image(app: App, item: Item, n: int) -> tuple[str, bytes]:
    """Image *n* (from 0) as (name, bytes): read, or drawn alone; a 404 when there is none."""
    frozen = _frozen_media(app, item.post.id)
    if frozen is not None:
        if not 0 <= n < len(frozen):
            raise HTTPException(404)
        return frozen[n].name, media.read(app.data_dir, frozen[n])
    attached, layouts = item.post.media, item.post.infographics
    if 0 <= n < len(attached):
        return attached[n].name, media.read(app.data_dir, attached[n])
    if 0 <= n - len(attached) < len(layouts):
        try:
            return preview_images.draw(app, item.policy, layouts[n - len(attached)])
        except PublisherError:
            raise HTTPException(404) from None
    raise HTTPException(404)


def _frozen_media(app: App, post_id: int) -> list[MediaFile] | None:
    """The frozen media (each file once, first seen first), or None while nothing is frozen."""
    frozen = posts.frozen(app, post_id)
    if not frozen:
        return None
    unique = {m.path: m for c in frozen.values() for m in c.media}
    return list(unique.values())


def content_type(name: str) -> str:
    """An image's type from its name; anything else is served as bytes to download."""
    guessed = mimetypes.guess_type(name)[0] or ""
    return guessed if guessed.startswith("image/") and guessed != "image/svg+xml" else "application/octet-stream"


def deliveries_of(app: App, post_id: int) -> list[Delivery]:
    """The post's deliveries (one per channel once approved)."""
    query = rows.delivery_select().where(deliveries.c.post_id == post_id).order_by(deliveries.c.id)
    with read(app.engine) as conn:
        return [rows.delivery(r) for r in conn.execute(query)]


# --- the API's models ----------------------------------------------------------------------------

class ChannelText(BaseModel):
    channel: str
    title: str
    body: str


class ImageOut(BaseModel):
    name: str
    url: str = Field(description="Where the image is served (a PNG for an infographic).")


class ReturnedOut(BaseModel):
    """The latest send-back of a post."""

    actor: str = Field(description="The approver who sent it back.")
    at: datetime
    comment: str


class ApprovalOut(BaseModel):
    """A post as an approver sees it: its facts, its latest send-back and its preview."""

    id: int
    state: str = Field(description="draft, approved or cancelled")
    agency: str
    policy: str = Field(description="The policy's code.")
    policy_title: str
    template: str
    channels: list[str]
    publish_at: datetime
    deadline_at: datetime | None
    author: str
    approver: str | None
    returned: ReturnedOut | None
    texts: list[ChannelText] = Field(description="What each channel publishes.")
    preview_error: str | None = Field(description="Why the text could not be rendered (null: it could).")
    images: list[ImageOut]


class ApprovalList(BaseModel):
    """The drafts waiting for approval, oldest publish time first."""

    items: list[ApprovalOut]


class ApprovalDone(BaseModel):
    """An approved post and the deliveries queued for it."""

    post: ApprovalOut
    deliveries: list[int] = Field(description="Ids of the queued deliveries (see /api/v1/deliveries/{id}).")


class ReturnRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=review.MAX_COMMENT, description="Why; shown to the author.")
