"""The deliveries pages and their API: filter, see every attempt, retry a failed one, cancel a queued one.

Everyone may read (``post.read``) the deliveries of their agency; retrying
and cancelling need ``delivery.manage`` (editors, approvers, admins).  The
operations are ``publisher.retries``; the reads are ``web.deliveries_data``.
A refused operation (retry a published delivery...) answers 409 with a clear
message and changes nothing.

The API under ``/api/v1/deliveries`` (``deliveries_api.py``, included below)
does the same operations with the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from ... import retries
from ...access import User, can
from ...errors import PublisherError
from ...models import Delivery, DeliveryState
from ..deliveries_data import Filters, attempts_of, channels_for, listing, visible
from ..language import speaker
from ..templating import render
from .deliveries_api import MAX_ID, Manager, Reader, api, refusal

router = APIRouter()


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
        return _detail(request, user, current, error=refusal(speaker(request), exc, current, "retry"),
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
        return _detail(request, user, current, error=refusal(speaker(request), exc, current, "cancel"),
                       status_code=409)
    return RedirectResponse(f"/deliveries/{d.id}?done=cancelled", status_code=303)


router.include_router(api)
