"""Approvals: the drafts waiting, each with its preview; approve, or send back with a comment.

Everyone may read (``post.read``): an editor opens ``/approvals/{id}`` to see
why a post was sent back.  Approving and sending back need ``post.approve``
(approvers, admins); an approver still cannot approve their own post
(``posts.approve`` refuses it: 409, nothing changes).  The operations are
``posts.approve`` and ``review.send_back``; the reads are ``web.approvals_data``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from ... import posts, review
from ...access import User, can
from ...errors import InputError, PublisherError, StateError
from ...models import PostState
from .. import approvals_data as data
from ..auth import require
from ..language import Speaker, speaker
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/approvals", tags=["v1"])
Reader = Annotated[User, Depends(require("post.read"))]
Approver = Annotated[User, Depends(require("post.approve"))]
SOURCE = "web"


def _id(text: str) -> int:
    """A post id from a page URL; anything else is a page that does not exist."""
    if not text.isdigit() or not 0 < int(text) <= data.MAX_ID:
        raise HTTPException(404)
    return int(text)


def _when(request: Request) -> Callable[[datetime | None], str]:
    zone = request.app.state.site.app.config.timezone
    return lambda value: "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def _images(request: Request, item: data.Item) -> list[dict[str, str]]:
    names = data.image_names(request.app.state.site.app, item)
    return [{"name": name, "url": f"/approvals/{item.post.id}/image/{n}"} for n, name in enumerate(names)]


def _preview(request: Request, item: data.Item) -> dict[str, Any]:
    """The texts of each channel, or why they could not be rendered (in the request's language)."""
    found = data.texts(request.app.state.site.app, item)
    return {"texts": found.texts, "error": speaker(request).error(found.error) if found.error else None}


def _refusal(words: Speaker, exc: PublisherError, current: data.Item) -> str:
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


# --- pages -------------------------------------------------------------------------------------

@pages.get("/approvals")
def list_page(request: Request, user: Reader) -> Response:
    """The drafts waiting, oldest publish time first, each with its preview."""
    app = request.app.state.site.app
    items = data.waiting(app, user)
    shown = [{"item": i, "preview": _preview(request, i), "images": _images(request, i)} for i in items]
    return render(request, "approvals/list.html", {
        "shown": shown, "when": _when(request), "can_approve": can(user, "post.approve")})


@pages.get("/approvals/{post_id}")
def detail_page(request: Request, post_id: str, user: Reader, done: str = "") -> Response:
    item = data.visible(request.app.state.site.app, user, _id(post_id))
    notice = {"approved": "web.approvals.done_approved", "returned": "web.approvals.done_returned"}.get(done)
    return _detail(request, user, item, notice=notice)


def _detail(request: Request, user: User, item: data.Item, *, notice: str | None = None, error: str | None = None,
            comment: str = "", status_code: int = 200) -> Response:
    app = request.app.state.site.app
    approver = can(user, "post.approve") and item.post.state == PostState.DRAFT
    own = item.post.author == user.username
    return render(request, "approvals/detail.html", {
        "item": item, "post": item.post, "policy": item.policy, "preview": _preview(request, item),
        "images": _images(request, item), "deliveries": data.deliveries_of(app, item.post.id),
        "when": _when(request), "notice": notice, "error": error, "comment": comment,
        "may_approve": approver and not own, "own": approver and own, "may_return": approver,
        "max_comment": review.MAX_COMMENT}, status_code=status_code)


@pages.get("/approvals/{post_id}/image/{n}")
def image(request: Request, post_id: str, n: str, user: Reader) -> Response:
    """Image *n* of the post's preview (an infographic is drawn for this request only)."""
    app = request.app.state.site.app
    item = data.visible(app, user, _id(post_id))
    if not n.isdigit() or len(n) > 4:
        raise HTTPException(404)
    name, body = data.image(app, item, int(n))
    kind = data.content_type(name)
    disposition = "inline" if kind.startswith("image/") else "attachment"
    return Response(body, media_type=kind, headers={"content-disposition": f'{disposition}; filename="image-{n}"'})


@pages.post("/approvals/{post_id}/approve")
def approve_form(request: Request, post_id: str, user: Approver) -> Response:
    app = request.app.state.site.app
    item = data.visible(app, user, _id(post_id))
    try:
        posts.approve(app, user.username, item.post.id)
    except PublisherError as exc:
        current = data.visible(app, user, item.post.id)
        return _detail(request, user, current, error=_refusal(speaker(request), exc, current), status_code=409)
    return RedirectResponse(f"/approvals/{item.post.id}?done=approved", status_code=303)


@pages.post("/approvals/{post_id}/return")
def return_form(request: Request, post_id: str, user: Approver,
                comment: Annotated[str, Form()] = "") -> Response:
    app = request.app.state.site.app
    item = data.visible(app, user, _id(post_id))
    try:
        review.send_back(app, user.username, item.post.id, comment, source=SOURCE)
    except PublisherError as exc:
        current = data.visible(app, user, item.post.id)
        status = 400 if isinstance(exc, InputError) else 409
        return _detail(request, user, current, error=_refusal(speaker(request), exc, current), comment=comment,
                       status_code=status)
    return RedirectResponse(f"/approvals/{item.post.id}?done=returned", status_code=303)


# --- API ---------------------------------------------------------------------------------------

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such post you may see."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Not a draft, or your own post; nothing changed."}}
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "A blank comment."}}
PostId = Annotated[int, Path(ge=1, le=data.MAX_ID)]


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
        images=[data.ImageOut(**i) for i in _images(request, item)])


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
    return JSONResponse({"detail": _refusal(speaker(request), exc, current)}, status)


router.include_router(pages)
router.include_router(api)
