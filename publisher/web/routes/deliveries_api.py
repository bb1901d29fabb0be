"""The deliveries API (``/api/v1/deliveries``): the same reads and operations as the deliveries pages.

Reading needs ``post.read``; retrying and cancelling ``delivery.manage``.
A delivery this account may not see is a 404; a refused operation (retry a
published delivery...) answers 409 with a clear message and changes nothing.
The page module (``deliveries.py``) includes this router, and uses
:func:`refusal` for its own 409 pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from ... import retries
from ...access import User
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
    detail,
    listing,
    summary,
    visible,
)
from ..language import Speaker, speaker
from .api import REFUSALS, Problem

api = APIRouter(prefix="/api/v1/deliveries", tags=["v1"])
MAX_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL: a larger "id" names nothing
Reader = Annotated[User, Depends(require("post.read"))]
Manager = Annotated[User, Depends(require("delivery.manage"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such delivery here."}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Not possible in the delivery's state; nothing changed."}}


def refusal(words: Speaker, exc: PublisherError, current: Delivery, action: str) -> str:
    """Why *action* was refused, in the request's language (the state named as staff know it)."""
    state = words.t(f"state.{current.state.value}")
    if isinstance(exc, StateError) and action == "retry" and not retries.can_retry(current):
        return words.t("delivery.retry_refused", id=current.id, state=state)
    if isinstance(exc, StateError) and action == "cancel" and not retries.can_cancel(current):
        return words.t("delivery.cancel_refused", id=current.id, state=state)
    return words.error(exc)  # e.g. the deadline passed, or the peer would not delete its scheduled post


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


# no docstrings on api_get and api_cancel: a docstring would become their description in the OpenAPI document
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
        return JSONResponse({"detail": refusal(speaker(request), exc, current, action)}, 409)
    return _full(request, visible(app, user, d.id))
