"""Reading posts: one post, its frozen content, its preview, the list.

Nothing here writes: :mod:`publisher.posts` (which re-exports these) writes,
approves and cancels.  :func:`load` and :func:`policy_of` read inside a
caller's transaction, so a write can re-read what it is about to change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from . import content, media
from .errors import NotFound
from .models import Content, Policy, Post
from .store import rows
from .store.engine import read
from .store.schema import deliveries, policies, posts

if TYPE_CHECKING:
    from .context import App


def get(app: App, post_id: int) -> Post:
    """One post; NotFound if there is none."""
    with read(app.engine) as conn:
        return load(conn, post_id)


def draft_of(post: Post) -> content.Draft:
    """What rendering needs of a stored post."""
    return content.Draft(template=post.template, variables=post.variables, channels=post.channels,
                         infographics=post.infographics, media=post.media, publish_at=post.publish_at)


def frozen(app: App, post_id: int) -> dict[str, Content]:
    """The approved content of each channel (empty while the post is a draft)."""
    with read(app.engine) as conn:
        found = conn.execute(rows.delivery_select().where(deliveries.c.post_id == post_id)).all()
    return {r.channel: rows.delivery(r).content for r in found}


def preview(app: App, post_id: int) -> tuple[dict[str, tuple[str, str]], list[tuple[str, bytes]]]:
    """What the post publishes: text per channel and images (the frozen ones once approved)."""
    approved = frozen(app, post_id)
    if approved:
        images = {m.path: (m.name, media.read(app.data_dir, m)) for c in approved.values() for m in c.media}
        return {name: (c.title, c.body) for name, c in approved.items()}, list(images.values())
    with read(app.engine) as conn:
        post = load(conn, post_id)
        policy = policy_of(conn, post.policy_id)
    draft = draft_of(post)
    texts = {c: content.text(app, policy, draft, c) for c in post.channels}
    attachments = [(m.name, media.read(app.data_dir, m)) for m in post.media]
    return texts, attachments + content.draw(app, policy, post.infographics)


def load(conn: Connection, post_id: int) -> Post:
    """One post, read in the caller's transaction; NotFound if there is none."""
    row = conn.execute(select(posts).where(posts.c.id == post_id)).first()
    if row is None:
        raise NotFound("post.not_found", id=post_id)
    return rows.post(row)


def policy_of(conn: Connection, policy_id: int) -> Policy:
    """The policy a post belongs to, read in the caller's transaction."""
    return rows.policy(conn.execute(select(policies).where(policies.c.id == policy_id)).one())


def list_posts(app: App, agency: str | None = None, policy_code: str | None = None) -> list[tuple[Post, str]]:
    """Every post with its policy's code, oldest first; optionally of one agency or policy."""
    query = select(posts, policies.c.code.label("policy_code")).join(policies).order_by(posts.c.id)
    if agency:
        query = query.where(policies.c.agency == agency)
    if policy_code:
        query = query.where(policies.c.code == policy_code)
    with read(app.engine) as conn:
        return [(rows.post(r), r.policy_code) for r in conn.execute(query)]
