"""Approvals: the drafts waiting, each with its preview; approve, or send back with a comment.

Everyone may read (``post.read``): an editor opens ``/approvals/{id}`` to see
why a post was sent back.  Approving and sending back need ``post.approve``
(approvers, admins); an approver still cannot approve their own post
(``posts.approve`` refuses it: 409, nothing changes).  The operations are
``posts.approve`` and ``review.send_back``; the reads are ``web.approvals_data``.
The API under ``/api/v1/approvals`` is ``approvals_api.py`` (included below).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from ... import posts, review
from ...access import User, can
from ...errors import InputError, PublisherError
from ...models import PostState
from .. import approvals_data as data
from ..language import speaker
from ..templating import render
from .approvals_api import Approver, Reader, api, image_links, refusal

router = APIRouter()
pages = APIRouter(include_in_schema=False)
SOURCE = "web"


def _id(text: str) -> int:
    """A post id from a page URL; anything else is a page that does not exist."""
    if not text.isdigit() or not 0 < int(text) <= data.MAX_ID:
        raise HTTPException(404)
    return int(text)


def _when(request: Request) -> Callable[[datetime | None], str]:
    zone = request.app.state.site.app.config.timezone
    return lambda value: "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def _preview(request: Request, item: data.Item) -> dict[str, Any]:
    """The texts of each channel, or why they could not be rendered (in the request's language)."""
    found = data.texts(request.app.state.site.app, item)
    return {"texts": found.texts, "error": speaker(request).error(found.error) if found.error else None}


# --- pages -------------------------------------------------------------------------------------

@pages.get("/approvals")
def list_page(request: Request, user: Reader) -> Response:
    """The drafts waiting, oldest publish time first, each with its preview."""
    app = request.app.state.site.app
    items = data.waiting(app, user)
    shown = [{"item": i, "preview": _preview(request, i), "images": image_links(request, i)} for i in items]
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
        "images": image_links(request, item), "deliveries": data.deliveries_of(app, item.post.id),
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
        return _detail(request, user, current, error=refusal(speaker(request), exc, current), status_code=409)
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
        return _detail(request, user, current, error=refusal(speaker(request), exc, current), comment=comment,
                       status_code=status)
    return RedirectResponse(f"/approvals/{item.post.id}?done=returned", status_code=303)


router.include_router(pages)
router.include_router(api)
