"""The calendar: a month or a week of deliveries, by day and channel, coloured by state; and its API.

Read-only, for everyone (``post.read``), bounded by the user's agency.  The
page is ``/calendar`` (this month in display.timezone) or
``/calendar?view=week&date=YYYY-MM-DD`` (the week of that day, Monday
first); filters by channel and state are a GET form.  The API is
``/api/v1/calendar?from=...&to=...`` (at most 62 days).  The reads are
``web.calendar_data``: one query for the whole range shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from ...access import User
from ...models import DeliveryState, utcnow
from .. import calendar_data as data
from ..auth import require
from ..deliveries_data import MAX_FILTER, channels_for
from ..language import speaker
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["v1"])
Reader = Annotated[User, Depends(require("post.read"))]
VIEWS = ("month", "week")
LIMITS = {"month": 4, "week": 20}  # deliveries shown in one day cell; the others are counted ("+k nữa")


def _refuse(request: Request, message: str) -> Response:
    words = speaker(request)
    return render(request, "error.html", {"title": words.t("web.calendar.title"), "message": message},
                  status_code=400)


def _today(request: Request) -> dt.date:
    return utcnow().astimezone(request.app.state.site.app.config.timezone).date()


@pages.get("/calendar")
def calendar_page(request: Request, user: Reader, view: str = "month", date: str = "", channel: str = "",
                  state: str = "") -> Response:
    """The month (default) or week around *date* (default today), with its deliveries."""
    words = speaker(request)
    if view not in VIEWS:
        return _refuse(request, words.t("web.calendar.bad_view", view=view))
    if state and state not in {s.value for s in DeliveryState}:
        return _refuse(request, words.t("web.calendar.bad_state", state=state))
    today = _today(request)
    anchor = data.parse_day(date) if date else today
    if anchor is None:
        return _refuse(request, words.t("web.calendar.bad_date", value=date, first=data.FIRST_DAY.isoformat(),
                                        last=data.LAST_DAY.isoformat()))
    channel = channel.strip()[:MAX_FILTER]
    if view == "month":
        first, last = data.month_bounds(anchor)
        before, after = data.shift_month(anchor, -1), data.shift_month(anchor, 1)
    else:
        first = data.monday_of(anchor)
        last = first + dt.timedelta(days=6)
        before, after = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
    app = request.app.state.site.app
    found = data.entries(app, user, first, last, channel=channel or None,
                         state=DeliveryState(state) if state else None)
    filters = {"channel": channel, "state": state}

    def href(target_view: str, day: dt.date | None) -> str | None:
        if day is not None and not data.in_bounds(day):
            return None
        query = {"view": target_view, **({"date": day.isoformat()} if day else {}),
                 **{k: v for k, v in filters.items() if v}}
        return "/calendar?" + urlencode(query)

    context: dict[str, Any] = {
        "view": view, "anchor": anchor, "first": first, "last": last, "today": today,
        "weeks": data.weeks(found, first, last, today, LIMITS[view]), "total": len(found),
        "zone": app.config.timezone.key,
        "filters": filters, "states": [s.value for s in DeliveryState], "channels": channels_for(app, user),
        "previous": href(view, before), "next": href(view, after), "today_href": href(view, None),
        "month_href": href("month", anchor), "week_href": href("week", anchor),
    }
    return render(request, "calendar/page.html", context)


BAD_RANGE: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "`to` before `from`, a range over 62 days, or a day out of bounds."}}


@api.get("/calendar", response_model=data.CalendarRange, responses={**REFUSALS, **BAD_RANGE},
         summary="Deliveries by local day")
def api_calendar(request: Request, user: Reader,
                 start: Annotated[dt.date, Query(alias="from", description="First local day, YYYY-MM-DD.")],
                 end: Annotated[dt.date, Query(alias="to", description="Last local day (inclusive), YYYY-MM-DD.")],
                 channel: Annotated[str | None, Query(max_length=200)] = None,
                 state: DeliveryState | None = None) -> Response | data.CalendarRange:
    """The deliveries this account may see from `from` to `to` (local days, at most 62), by time.

    A published delivery sits at the time it was published; any other at the time it is due.
    """
    words = speaker(request)
    if not (data.in_bounds(start) and data.in_bounds(end)):
        return JSONResponse({"detail": words.t("web.calendar.api_out_of_bounds", first=data.FIRST_DAY.isoformat(),
                                               last=data.LAST_DAY.isoformat())}, 400)
    if end < start:
        return JSONResponse({"detail": words.t("web.calendar.api_order", start=start.isoformat(),
                                               end=end.isoformat())}, 400)
    days = (end - start).days + 1
    if days > data.MAX_DAYS:
        return JSONResponse({"detail": words.t("web.calendar.api_too_long", days=days, maximum=data.MAX_DAYS)}, 400)
    app = request.app.state.site.app
    found = data.entries(app, user, start, end, channel=(channel or "").strip() or None, state=state)
    return data.CalendarRange(start=start, end=end, timezone=app.config.timezone.key,
                              items=[data.item(e, words.t(f"state.{e.state.value}")) for e in found])


router.include_router(pages)
router.include_router(api)
