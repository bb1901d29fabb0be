"""The approvals API (``/api/v1/approvals``): the same reads and decisions as the approvals pages, for scripts.

Reading needs ``post.read``; approving and sending back ``post.approve``.  A
refused decision answers 409 (not a draft, your own post) or 400 (a blank or
too long comment) with the message the page shows, and changes nothing.
The page module (``approvals.py``) includes this router and shares the
helpers below (image links, the refusal's wording).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from ... import posts, review
from ...access import User
from ...errors import InputError, PublisherError, StateError
from ...models import PostState
from .. import approvals_data as data
from ..auth import require
from ..language import Speaker, speaker
from .api import REFUSALS, Problem

api = APIRouter(prefix="/api/v1/approvals", tags=["v1"])
Reader = Annotated[User, Depends(require("post.read"))]
Approver = Annotated[User, Depends(require("post.approve"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such post you may see."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Not a draft, or your own post; nothing changed."}}
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "A blank comment."}}
PostId = Annotated[int, Path(ge=1, le=data.MAX_ID)]


def image_links(request: Request, item: data.Item) -> list[dict[str, str]]:
    """Each image of the post's preview: its name and the page URL that draws it."""
    names = data.image_names(request.app.state.site.app, item)
    return [{"name": name, "url": f"/approvals/{item.post.id}/image/{n}"} for n, name in enumerate(names)]


def refusal(words: Speaker, exc: PublisherError, current: data.Item) -> str:
    """Why approving or sending back was refused, in the request's language."""
    post = current.post
    if isinstance(exc, StateError) and post.state == PostState.APPROVED:
        return words.t("web.approvals.already_approved", id=post.id, approver=post.approver or "?")
    if isinstance(exc, StateError) and post.state == PostState.CANCELLED:
        return words.t("web.approvals.already_cancelled", id=post.id)
    if isinstance(exc, StateError) and exc.key == "post.self_approval":
        return words.t("web.approvals.self_approval", id=post.id)
    if isinstance(exc, InputError) and exc.params.get("field") == "comment":
        if exc.key == "input.too_long":
            return words.t("web.approvals.comment_too_long", limit=review.MAX_COMMENT)
        return words.t("web.approvals.comment_required")
    return words.t("web.approvals.refused", detail=words.error(exc))


def _out(request: Request, item: data.Item) -> data.ApprovalOut:
    words = speaker(request)
    preview = data.texts(request.app.state.site.app, item)
    post, r = item.post, item.returned
    return data.ApprovalOut(
        id=post.id, state=post.state.value, agency=item.policy.agency, policy=item.policy.code,
        policy_title=item.policy.title, template=post.template, channels=list(post.channels),
        publish_at=post.publish_at, deadline_at=post.deadline_at, author=post.author, approver=post.approver,
        returned=data.ReturnedOut(actor=r.actor, at=r.at, comment=r.comment) if r else None,
        texts=[data.ChannelText(channel=c, title=title, body=body) for c, (title, body) in preview.texts.items()],
        preview_error=words.error(preview.error) if preview.error else None,
        images=[data.ImageOut(**i) for i in image_links(request, item)])


@api.get("", response_model=data.ApprovalList, responses=REFUSALS, summary="Drafts waiting for approval")
def api_list(request: Request, user: Reader) -> data.ApprovalList:
    """The drafts this account may see, oldest publish time first, each with its preview."""
    return data.ApprovalList(items=[_out(request, i) for i in data.waiting(request.app.state.site.app, user)])


@api.get("/{post_id}", response_model=data.ApprovalOut, responses={**REFUSALS, **NOT_FOUND},
         summary="One post with its preview")
def api_get(request: Request, post_id: PostId, user: Reader) -> data.ApprovalOut:
    return _out(request, data.visible(request.app.state.site.app, user, post_id))


@api.post("/{post_id}/approve", response_model=data.ApprovalDone, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Approve a draft")
def api_approve(request: Request, post_id: PostId, user: Approver) -> Response | data.ApprovalDone:
    """Freeze the content and queue one delivery per channel (never your own post)."""
    app = request.app.state.site.app
    item = data.visible(app, user, post_id)
    try:
        queued = posts.approve(app, user.username, item.post.id)
    except PublisherError as exc:
        return _api_refusal(request, user, exc, item.post.id)
    return data.ApprovalDone(post=_out(request, data.visible(app, user, post_id)), deliveries=queued)


@api.post("/{post_id}/return", response_model=data.ApprovalOut,
          responses={**REFUSALS, **NOT_FOUND, **REFUSED, **INVALID}, summary="Send a draft back with a comment")
def api_return(request: Request, post_id: PostId, body: data.ReturnRequest,
               user: Approver) -> Response | data.ApprovalOut:
    """The post stays a draft; the comment is journalled and shown to its author."""
    app = request.app.state.site.app
    item = data.visible(app, user, post_id)
    try:
        review.send_back(app, user.username, item.post.id, body.comment, source="API")
    except PublisherError as exc:
        return _api_refusal(request, user, exc, item.post.id)
    return _out(request, data.visible(app, user, post_id))


def _api_refusal(request: Request, user: User, exc: PublisherError, post_id: int) -> JSONResponse:
    current = data.visible(request.app.state.site.app, user, post_id)
    status = 400 if isinstance(exc, InputError) else 409
    return JSONResponse({"detail": refusal(speaker(request), exc, current)}, status)
