"""What the calendar reads: the deliveries of a range of local days, in one query, laid out by day and channel.

A delivery sits on the local day (``display.timezone``) of its time: the time
it was published for a published one, else the time it is due.  The range is
bounded (a month, a week, or at most :data:`MAX_DAYS` for the API) and read
with one query, never one per day.  Every read is bounded by the user's
agency (``access.sees_agency``), as in ``deliveries_data``.  The pydantic
models are the API's answers, so the OpenAPI document describes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timezone
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, select

from ..access import User
from ..context import App
from ..models import DeliveryState
from ..store.engine import read
from ..store.schema import deliveries, policies, posts

MAX_DAYS = 62  # the API's widest range: two months
FIRST_DAY = dt.date(1970, 1, 1)  # the days a calendar may show: far beyond any real post, and
LAST_DAY = dt.date(2999, 12, 31)  # far from the ends of the calendar, where date arithmetic overflows
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
S = DeliveryState


def parse_day(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` within FIRST_DAY..LAST_DAY, else None (no other spelling is accepted)."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def in_bounds(day: dt.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


@dataclass(frozen=True)
class Entry:
    """One delivery as the calendar shows it."""

    id: int
    post_id: int
    channel: str
    state: DeliveryState
    at: dt.datetime  # aware UTC: published_at for a published delivery, else due_at
    local: dt.datetime  # the same instant in display.timezone
    policy: str
    template: str


def entries(app: App, user: User, first: dt.date, last: dt.date, *, channel: str | None = None,
            state: DeliveryState | None = None) -> list[Entry]:
    """The deliveries *user* may see on the local days first..last (inclusive), by time: one query."""
    zone: ZoneInfo = app.config.timezone
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(timezone.utc)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(timezone.utc)
    published = and_(deliveries.c.state == S.PUBLISHED.value, deliveries.c.published_at.is_not(None))
    when = case((published, deliveries.c.published_at), else_=deliveries.c.due_at)
    query = (select(deliveries.c.id, deliveries.c.post_id, deliveries.c.channel, deliveries.c.state,
                    deliveries.c.due_at, deliveries.c.published_at, policies.c.code, posts.c.template)
             .join(posts, posts.c.id == deliveries.c.post_id)
             .join(policies, policies.c.id == posts.c.policy_id)
             .where(when >= start, when < end)
             .order_by(when, deliveries.c.id))
    if user.agency is not None:
        query = query.where(policies.c.agency == user.agency)
    if channel:
        query = query.where(deliveries.c.channel == channel)
    if state:
        query = query.where(deliveries.c.state == state.value)
    found = []
    with read(app.engine) as conn:
        for r in conn.execute(query):
            kind = DeliveryState(r.state)
            at = r.published_at if kind == S.PUBLISHED and r.published_at is not None else r.due_at
            found.append(Entry(id=r.id, post_id=r.post_id, channel=r.channel, state=kind, at=at,
                               local=at.astimezone(zone), policy=r.code, template=r.template))
    return found


# --- the page: days in a grid ------------------------------------------------------------------

@dataclass(frozen=True)
class Day:
    """One cell: its day, whether it belongs to the period shown, and its first deliveries by channel."""

    day: dt.date
    inside: bool  # False: a day of the neighbouring month, shown to fill the week
    today: bool
    groups: list[tuple[str, list[Entry]]]  # (channel, its deliveries by time), channels by name
    total: int
    more: int  # deliveries of the day not shown (beyond the first `limit`)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def shift_month(day: dt.date, months: int) -> dt.date:
    """The first day of the month *months* after *day*'s."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def weeks(found: list[Entry], first: dt.date, last: dt.date, today: dt.date, limit: int) -> list[list[Day]]:
    """Weeks Monday to Sunday covering first..last; days outside it are empty and marked so."""
    by_day: dict[dt.date, list[Entry]] = defaultdict(list)
    for e in found:
        by_day[e.local.date()].append(e)
    rows: list[list[Day]] = []
    day = monday_of(first)
    while day <= last:
        row = []
        for _ in range(7):
            inside = first <= day <= last
            items = by_day.get(day, []) if inside else []
            shown: dict[str, list[Entry]] = defaultdict(list)
            for e in items[:limit]:
                shown[e.channel].append(e)
            row.append(Day(day=day, inside=inside, today=day == today, groups=sorted(shown.items()),
                           total=len(items), more=max(0, len(items) - limit)))
            day += dt.timedelta(days=1)
        rows.append(row)
    return rows


# --- the API's answers ---------------------------------------------------------------------------

class CalendarItem(BaseModel):
    """One delivery on the calendar."""

    id: int
    post_id: int
    date: dt.date = Field(description="The local day (display.timezone) the delivery sits on.")
    time: str = Field(description="The local time, HH:MM.", pattern=r"^\d{2}:\d{2}$")
    at: dt.datetime = Field(description="The same instant in UTC: when it was published, else when it is due.")
    channel: str
    state: DeliveryState
    state_name: str = Field(description="The state's name in the caller's language.")
    policy: str = Field(description="The policy's code.")
    template: str = Field(description="The post's template.")


class CalendarRange(BaseModel):
    """The deliveries of a range of local days, by time."""

    start: dt.date = Field(description="The first day (the `from` parameter).")
    end: dt.date = Field(description="The last day, inclusive (the `to` parameter).")
    timezone: str = Field(description="The zone the days and times are in (display.timezone).")
    items: list[CalendarItem]


def item(e: Entry, state_name: str) -> CalendarItem:
    return CalendarItem(id=e.id, post_id=e.post_id, date=e.local.date(), time=e.local.strftime("%H:%M"), at=e.at,
                        channel=e.channel, state=e.state, state_name=state_name, policy=e.policy,
                        template=e.template)
