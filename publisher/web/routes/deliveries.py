"""The deliveries pages and their API: filter, see every attempt, retry a failed one, cancel a queued one.

Everyone may read (``post.read``) the deliveries of their agency; retrying
and cancelling need ``delivery.manage`` (editors, approvers, admins).  The
operations are ``publisher.retries``; the reads are ``web.deliveries_data``.
A refused operation (retry a published delivery...) answers 409 with a clear
message and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from ... import retries
from ...access import User, can
from ...errors import PublisherError, StateError
from ...models import Delivery, DeliveryState
from ..auth import require
from ..deliveries_data import (
    CancelRequest,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    Filters,
    attempts_of,
    channels_for,
    detail,
    listing,
    summary,
    visible,
)
from ..language import Speaker, speaker
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
api = APIRouter(prefix="/api/v1/deliveries", tags=["v1"])
MAX_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL: a larger "id" names nothing
Reader = Annotated[User, Depends(require("post.read"))]
Manager = Annotated[User, Depends(require("delivery.manage"))]


def _id(text: str) -> int:
    """A delivery id from a page URL; anything else is a page that does not exist."""
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise HTTPException(404)
    return int(text)


def _when(request: Request) -> Callable[[datetime | None], str]:
    zone = request.app.state.site.app.config.timezone
    return lambda value: "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def _link(url: str | None) -> bool:
    """Only a web address becomes a link (a channel's answer is data, never a javascript: URL)."""
    return bool(url) and str(url).startswith(("https://", "http://"))


# --- pages -------------------------------------------------------------------------------------

@router.get("/deliveries", include_in_schema=False)
def list_page(request: Request, user: Reader, state: str = "", channel: str = "", policy: str = "",
              page: str = "1") -> Response:
    """The deliveries the user may see, newest due first, filtered by a GET form."""
    words = speaker(request)
    if state and state not in {s.value for s in DeliveryState}:
        return render(request, "error.html", {"title": words.t("web.deliveries.title"),
                                              "message": words.t("web.deliveries.bad_state", state=state)},
                      status_code=400)
    number = min(int(page), 10**6) if page.isdigit() else 1
    f = Filters.of(DeliveryState(state) if state else None, channel, policy, number)
    found = listing(request.app.state.site.app, user, f)
    shown = {"state": f.state.value if f.state else "", "channel": f.channel or "", "policy": f.policy or ""}

    def href(n: int) -> str:
        return "/deliveries?" + urlencode({**{k: v for k, v in shown.items() if v}, "page": n})

    context = {"found": found, "filters": shown, "states": [s.value for s in DeliveryState],
               "channels": channels_for(request.app.state.site.app, user), "when": _when(request), "link": _link,
               "previous": href(found.page - 1) if found.page > 1 else None,
               "next": href(found.page + 1) if found.page < found.pages else None}
    return render(request, "deliveries/list.html", context)


@router.get("/deliveries/{delivery_id}", include_in_schema=False)
def detail_page(request: Request, delivery_id: str, user: Reader, done: str = "") -> Response:
    words = speaker(request)
    notice = {"retried": words.t("web.deliveries.done_retried"),
              "cancelled": words.t("web.deliveries.done_cancelled")}.get(done)
    return _detail(request, user, visible(request.app.state.site.app, user, _id(delivery_id)), notice=notice)


def _detail(request: Request, user: User, d: Delivery, *, notice: str | None = None, error: str | None = None,
            status_code: int = 200) -> Response:
    manage = can(user, "delivery.manage")
    context = {"d": d, "history": attempts_of(request.app.state.site.app, d.id), "when": _when(request),
               "link": _link, "notice": notice, "error": error,
               "may_retry": manage and retries.can_retry(d), "may_cancel": manage and retries.can_cancel(d)}
    return render(request, "deliveries/detail.html", context, status_code=status_code)


@router.post("/deliveries/{delivery_id}/retry", include_in_schema=False)
def retry_form(request: Request, delivery_id: str, user: Manager) -> Response:
    app = request.app.state.site.app
    d = visible(app, user, _id(delivery_id))
    try:
        retries.retry(app, user.username, d.id)
    except PublisherError as exc:
        current = visible(app, user, d.id)
        return _detail(request, user, current, error=_refusal(speaker(request), exc, current, "retry"),
                       status_code=409)
    return RedirectResponse(f"/deliveries/{d.id}?done=retried", status_code=303)


@router.post("/deliveries/{delivery_id}/cancel", include_in_schema=False)
def cancel_form(request: Request, delivery_id: str, user: Manager,
                reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    app = request.app.state.site.app
    d = visible(app, user, _id(delivery_id))
    try:
        retries.cancel(app, user.username, d.id, reason)
    except PublisherError as exc:
        current = visible(app, user, d.id)
        return _detail(request, user, current, error=_refusal(speaker(request), exc, current, "cancel"),
                       status_code=409)
    return RedirectResponse(f"/deliveries/{d.id}?done=cancelled", status_code=303)


def _refusal(words: Speaker, exc: PublisherError, current: Delivery, action: str) -> str:
    """Why *action* was refused, in the request's language (the state named as staff know it)."""
    state = words.t(f"state.{current.state.value}")
    if isinstance(exc, StateError) and action == "retry" and not retries.can_retry(current):
        return words.t("delivery.retry_refused", id=current.id, state=state)
    if isinstance(exc, StateError) and action == "cancel" and not retries.can_cancel(current):
        return words.t("delivery.cancel_refused", id=current.id, state=state)
    return words.error(exc)  # e.g. the deadline passed, or the peer would not delete its scheduled post


# --- API ---------------------------------------------------------------------------------------

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such delivery here."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Not possible in the delivery's state; nothing changed."}}


def _out(words: Speaker, d: Delivery) -> DeliveryOut:
    return DeliveryOut(**summary(d, words.t(f"state.{d.state.value}")))


def _full(request: Request, d: Delivery) -> DeliveryDetail:
    words = speaker(request)
    return detail(d, words.t(f"state.{d.state.value}"), attempts_of(request.app.state.site.app, d.id))


@api.get("", response_model=DeliveryPage, responses=REFUSALS, summary="List deliveries")
def api_list(request: Request, user: Reader, state: DeliveryState | None = None,
             channel: Annotated[str | None, Query(max_length=200)] = None,
             policy: Annotated[str | None, Query(max_length=200, description="A policy code.")] = None,
             page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> DeliveryPage:
    """The deliveries this account may see, newest due first, 50 a page."""
    found = listing(request.app.state.site.app, user, Filters.of(state, channel, policy, page))
    words = speaker(request)
    return DeliveryPage(items=[_out(words, d) for d in found.items], total=found.total, page=found.page,
                        pages=found.pages)


DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]


@api.get("/{delivery_id}", response_model=DeliveryDetail, responses={**REFUSALS, **NOT_FOUND},
         summary="One delivery with every attempt")
def api_get(request: Request, delivery_id: DeliveryId, user: Reader) -> DeliveryDetail:
    return _full(request, visible(request.app.state.site.app, user, delivery_id))


@api.post("/{delivery_id}/retry", response_model=DeliveryDetail, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Retry a failed delivery")
def api_retry(request: Request, delivery_id: DeliveryId, user: Manager) -> Response | DeliveryDetail:
    """Back to the queue (attempts kept); the channel is asked first whether the post is already there."""
    return _act(request, user, delivery_id, "retry", lambda app, d: retries.retry(app, user.username, d.id))


@api.post("/{delivery_id}/cancel", response_model=DeliveryDetail, responses={**REFUSALS, **NOT_FOUND, **REFUSED},
          summary="Cancel a delivery that has not gone out")
def api_cancel(request: Request, delivery_id: DeliveryId, user: Manager,
               body: CancelRequest | None = None) -> Response | DeliveryDetail:
    reason = body.reason if body else ""
    return _act(request, user, delivery_id, "cancel", lambda app, d: retries.cancel(app, user.username, d.id, reason))


def _act(request: Request, user: User, delivery_id: int, action: str,
         operation: Callable[[Any, Delivery], Delivery]) -> Response | DeliveryDetail:
    app = request.app.state.site.app
    d = visible(app, user, delivery_id)
    try:
        operation(app, d)
    except PublisherError as exc:
        current = visible(app, user, d.id)
        return JSONResponse({"detail": _refusal(speaker(request), exc, current, action)}, 409)
    return _full(request, visible(app, user, d.id))


router.include_router(api)
