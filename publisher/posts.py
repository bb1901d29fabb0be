"""What staff do with posts: write, approve (render and freeze), cancel.

A post names a template, its variables and the channels it goes to.  It is
rendered when written (so a mistake shows at once) and rendered again and
frozen on approval: each channel gets one delivery whose title, body and media
hashes are stored with their sha256.  What was approved is what is published.
Reading posts is :mod:`publisher.posts_read`; checking a new post's fields is
:mod:`publisher.posts_input`; what callers use of them stays importable from here.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from . import content, enqueue, inputs, journal, media, notify
from .errors import PublishError, StateError
from .i18n import t
from .models import DeliveryState, Policy, Post, PostState, utcnow
from .posts_input import channels as _channels
from .posts_input import times as _times
from .posts_input import variables as _variables
from .posts_read import draft_of, frozen, get, list_posts, preview
from .posts_read import load as _get
from .posts_read import policy_of as _policy
from .redact import redact
from .service import find_policy
from .store import deliveries as store_deliveries
from .store import rows
from .store.engine import read, write
from .store.schema import deliveries, posts

if TYPE_CHECKING:
    from .context import App

__all__ = ["approve", "cancel", "draft_of", "frozen", "get", "list_posts", "new_post", "preview"]

S = DeliveryState


def new_post(app: App, actor: str, data: dict[str, Any], source: str = "--", moment: str | None = None) -> Post:
    """Validate, render once for every channel, store as a draft awaiting approval."""
    inputs.check_keys(data, inputs.POST_KEYS, source)
    with read(app.engine) as conn:
        agency = inputs.text(data, "agency", source, required=False)
        policy = find_policy(conn, inputs.text(data, "policy", source), agency)
    template = inputs.text(data, "template", source, required=False) or app.config.default_template
    publish_at, deadline = _times(app, data, source, policy, template, moment)
    draft = content.Draft(
        template=template,
        variables=_variables(data.get("variables", {}), source),
        channels=tuple(_channels(app, policy, inputs.names(data, "channels", source), source)),
        infographics=tuple(inputs.names(data, "infographics", source)), publish_at=publish_at)
    attachments = [Path(p) for p in inputs.names(data, "media", source)]
    for path in attachments:
        media.check(path)
    content.check(app, policy, draft, attachments)  # fail now, not at approval
    frozen = [media.freeze(app.data_dir, path) for path in attachments]  # only once the post is known good
    with write(app.engine) as conn:
        pid = conn.execute(insert(posts).values(
            policy_id=policy.id, template=draft.template, variables=draft.variables, channels=list(draft.channels),
            media=[asdict(m) for m in frozen], infographics=list(draft.infographics), moment=moment,
            publish_at=publish_at, deadline_at=deadline, state=PostState.DRAFT, author=actor,
            created_at=utcnow())).inserted_primary_key[0]
        post = _get(conn, pid)
        journal.append(conn, actor, "post.created", f"post:{pid}", _post_payload(post, policy))
    return post


def approve(app: App, actor: str, post_id: int) -> list[int]:
    """Approve a draft written by someone else: render, freeze, queue one delivery per channel."""
    with read(app.engine) as conn:
        post = _get(conn, post_id)
        policy = _policy(conn, post.policy_id)
    _check_approvable(post, actor)
    contents = content.build(app, policy, draft_of(post))  # outside the write lock: drawing takes time
    now = utcnow()
    with write(app.engine) as conn:
        approved = conn.execute(update(posts).where(posts.c.id == post_id, posts.c.state == PostState.DRAFT)
                                .values(state=PostState.APPROVED, approver=actor, approved_at=now)).rowcount
        if approved != 1:  # approved or cancelled by someone else meanwhile
            _check_approvable(_get(conn, post_id), actor)
        journal.append(conn, actor, "post.approved", f"post:{post_id}", {"author": post.author})
        queued = enqueue.enqueue(conn, actor, [enqueue.Item(post, policy.code, name, contents[name])
                                               for name in post.channels], now)
        notify.announce(conn)  # daemons on PostgreSQL wake at commit, not at their next poll
        return queued


def _check_approvable(post: Post, actor: str) -> None:
    if post.state != PostState.DRAFT:
        raise StateError("post.not_draft", id=post.id, state=t(f"post_state.{post.state.value}"))
    if actor == post.author:
        raise StateError("post.self_approval", id=post.id, author=post.author)


def cancel(app: App, actor: str, post_id: int, reason: str = "") -> dict[str, list[int]]:
    """Cancel a post and its deliveries that have not gone out yet.

    A delivery already on a peer's own scheduler is deleted there first; if
    that fails, nothing is cancelled and the error says why (try again).
    """
    _unschedule_remote(app, post_id)
    with write(app.engine) as conn:
        post = _get(conn, post_id)
        if post.state == PostState.CANCELLED:
            raise StateError("post.already_cancelled", id=post_id)
        found = conn.execute(select(deliveries.c.id, deliveries.c.state).where(deliveries.c.post_id == post_id)).all()
        cancellable = [r.id for r in found if S(r.state) in (S.QUEUED, S.WAITING, S.SCHEDULED)]
        kept = [r.id for r in found if r.id not in cancellable]
        if found and not cancellable:
            raise StateError("post.nothing_to_cancel", id=post_id)
        conn.execute(update(posts).where(posts.c.id == post_id).values(state=PostState.CANCELLED))
        journal.append(conn, actor, "post.cancelled", f"post:{post_id}", {"reason": reason})
        for did in cancellable:
            store_deliveries.transition(conn, did, S.CANCELLED, last_error=reason or None)
            journal.append(conn, actor, "delivery.cancelled", f"delivery:{did}", {"reason": reason})
    return {"cancelled": cancellable, "kept": kept}


def _unschedule_remote(app: App, post_id: int) -> None:
    query = rows.delivery_select().where(deliveries.c.post_id == post_id, deliveries.c.state == S.SCHEDULED)
    with read(app.engine) as conn:
        scheduled = [rows.delivery(r) for r in conn.execute(query)]
    for d in scheduled:  # network calls outside any transaction
        try:
            app.channel(d.channel).unschedule(d)
        except PublishError as exc:
            raise StateError("post.unschedule_failed", id=post_id, channel=d.channel, detail=redact(str(exc))) from None


def _post_payload(post: Post, policy: Policy) -> dict[str, Any]:
    return {"policy": policy.code, "template": post.template, "variables": post.variables,
            "channels": list(post.channels), "publish_at": post.publish_at.isoformat(),
            "media": [m.sha256 for m in post.media], "infographics": list(post.infographics),
            "moment": post.moment}
