"""What staff do with posts: write, approve (render and freeze), cancel.

A post names a template, its variables and the channels it goes to.  It is
rendered when written (so a mistake shows at once) and rendered again and
frozen on approval: each channel gets one delivery whose title, body and media
hashes are stored with their sha256.  What was approved is what is published.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from . import content, deadlines, enqueue, inputs, journal, media, notify
from .errors import InputError, NotFound, PublishError, StateError
from .i18n import t
from .models import Content, DeliveryState, Policy, Post, PostState, nfc, utcnow
from .redact import redact
from .service import find_policy
from .store import deliveries as store_deliveries
from .store import rows
from .store.engine import read, write
from .store.schema import deliveries, policies, posts

if TYPE_CHECKING:
    from .context import App

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


def _times(app: App, data: dict[str, Any], source: str, policy: Policy, template: str,
           moment: str | None) -> tuple[datetime, datetime]:
    zone = app.config.timezone
    publish_at = inputs.a_time(data, "at", source, zone) or utcnow()
    deadline = inputs.a_time(data, "deadline", source, zone)
    if deadline and deadline <= publish_at:
        raise InputError("input.dates_order", source=source, first="at", second="deadline")
    if deadline:
        return publish_at, deadline
    # no post is news forever: without a deadline of its own it gets its kind's default
    deadline = deadlines.default(app, policy, publish_at, template, moment)
    if deadline <= publish_at:  # e.g. an invitation to comment written after consultation closed
        raise InputError("post.consultation_over", source=source, template=template,
                         closes=policy.consultation_closes.strftime("%d/%m/%Y") if policy.consultation_closes else "?")
    return publish_at, deadline


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


def draft_of(post: Post) -> content.Draft:
    return content.Draft(template=post.template, variables=post.variables, channels=post.channels,
                         infographics=post.infographics, media=post.media, publish_at=post.publish_at)


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


def get(app: App, post_id: int) -> Post:
    with read(app.engine) as conn:
        return _get(conn, post_id)


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
        post = _get(conn, post_id)
        policy = _policy(conn, post.policy_id)
    draft = draft_of(post)
    texts = {c: content.text(app, policy, draft, c) for c in post.channels}
    attachments = [(m.name, media.read(app.data_dir, m)) for m in post.media]
    return texts, attachments + content.draw(app, policy, post.infographics)


def _get(conn: Connection, post_id: int) -> Post:
    row = conn.execute(select(posts).where(posts.c.id == post_id)).first()
    if row is None:
        raise NotFound("post.not_found", id=post_id)
    return rows.post(row)


def _policy(conn: Connection, policy_id: int) -> Policy:
    return rows.policy(conn.execute(select(policies).where(policies.c.id == policy_id)).one())


def _channels(app: App, policy: Policy, names: list[str], source: str) -> list[str]:
    if not names:
        names = [n for n, c in app.config.channels.items() if c.agency == policy.agency and c.enabled]
    if not names:
        raise InputError("input.required", source=source, field="channels")
    for name in names:
        spec = app.config.channels.get(name)
        if spec is None:
            raise InputError("input.unknown_channel", source=source, value=name,
                             choices=", ".join(sorted(app.config.channels)))
        if spec.agency != policy.agency:
            raise InputError("input.channel_agency", source=source, value=name, agency=spec.agency,
                             policy_agency=policy.agency)
    return names


def _variables(value: Any, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError("input.bad_field", source=source, field="variables", detail="table")
    return {k: nfc(v) if isinstance(v, str) else v for k, v in value.items()}


def _post_payload(post: Post, policy: Policy) -> dict[str, Any]:
    return {"policy": policy.code, "template": post.template, "variables": post.variables,
            "channels": list(post.channels), "publish_at": post.publish_at.isoformat(),
            "media": [m.sha256 for m in post.media], "infographics": list(post.infographics),
            "moment": post.moment}


def list_posts(app: App, agency: str | None = None, policy_code: str | None = None) -> list[tuple[Post, str]]:
    query = select(posts, policies.c.code.label("policy_code")).join(policies).order_by(posts.c.id)
    if agency:
        query = query.where(policies.c.agency == agency)
    if policy_code:
        query = query.where(policies.c.code == policy_code)
    with read(app.engine) as conn:
        return [(rows.post(r), r.policy_code) for r in conn.execute(query)]
