"""What the dashboard shows: what goes out today and this week, what needs a person, channels, coverage.

Every read is bounded by the user's agency (an agency-bound account sees its
own agency's deliveries, channels and coverage only).  Days and weeks are
local (``display.timezone``), weeks start on Monday as they do in Vietnam.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Any

from sqlalchemy import func, select

from .. import coverage
from ..access import User
from ..context import App
from ..models import Delivery, DeliveryState, utcnow
from ..store.engine import read
from ..store.rows import delivery, delivery_select
from ..store.schema import deliveries, journal, policies

S = DeliveryState
SHOWN = 10  # items listed per box; the box says how many there are in all
UPCOMING = (S.QUEUED, S.WAITING, S.SCHEDULED)


@dataclass
class Box:
    """A list on the dashboard: the first SHOWN items and how many there are."""

    items: list[Delivery] = field(default_factory=list)
    total: int = 0


@dataclass
class Dashboard:
    today: Box
    week: Box
    failed: Box
    channels: list[dict[str, Any]]
    coverage: coverage.Coverage


def collect(app: App, user: User, now: datetime | None = None) -> Dashboard:
    """The whole dashboard of *user*, read in one transaction (coverage in its own)."""
    now = now or utcnow()
    zone = app.config.timezone
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    with read(app.engine) as conn:
        boxes = [_box(conn, user, _select(UPCOMING, _utc(day, zone), _utc(end, zone)))
                 for day, end in ((today, today + timedelta(days=1)), (monday, monday + timedelta(days=7)))]
        failed = _box(conn, user, delivery_select().where(deliveries.c.state == S.FAILED)
                      .order_by(deliveries.c.updated_at.desc()))
        health = _channel_events(conn)
    return Dashboard(today=boxes[0], week=boxes[1], failed=failed, channels=_channels(app, user, health),
                     coverage=_year_coverage(app, user.agency, today.year))


#: The gauge reads every delivery of the year's policies: computed at most once a minute per
#: database, agency and year (a yearly figure does not need the dashboard's every refresh).
COVERAGE_SECONDS = 60.0
_coverage_cache: dict[tuple[str, str | None, int], tuple[float, coverage.Coverage]] = {}


def _year_coverage(app: App, agency: str | None, year: int) -> coverage.Coverage:
    key = (str(app.engine.url), agency, year)
    found = _coverage_cache.get(key)
    if found is None or found[0] < monotonic():
        found = (monotonic() + COVERAGE_SECONDS,
                 coverage.build(app, coverage.parse_period(str(year), None, None), agency))
        _coverage_cache[key] = found
    return found[1]


def _utc(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(timezone.utc)


def _select(states: tuple[DeliveryState, ...], start: datetime, end: datetime) -> Any:
    return (delivery_select().where(deliveries.c.state.in_(states), deliveries.c.due_at >= start,
                                    deliveries.c.due_at < end).order_by(deliveries.c.due_at, deliveries.c.id))


def _box(conn: Any, user: User, query: Any) -> Box:
    if user.agency is not None:
        query = query.where(policies.c.agency == user.agency)
    found = [delivery(r) for r in conn.execute(query.limit(SHOWN + 1))]
    total = len(found)
    if total > SHOWN:  # only then count them all: the common case reads SHOWN + 1 rows at most
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return Box(items=found[:SHOWN], total=total)


def _channel_events(conn: Any) -> dict[str, tuple[str, datetime, str]]:
    """The latest health event of each channel from the journal: (event, time, detail)."""
    query = (select(journal.c.subject, journal.c.event, journal.c.at, journal.c.payload)
             .where(journal.c.subject.like("channel:%"),
                    journal.c.event.in_(("channel.check_failed", "channel.unhealthy", "channel.healthy")))
             .order_by(journal.c.seq.desc()).limit(500))
    latest: dict[str, tuple[str, datetime, str]] = {}
    for r in conn.execute(query):
        latest.setdefault(r.subject.split(":", 1)[1], (r.event, r.at, r.payload))
    return latest


def _channels(app: App, user: User, health: dict[str, tuple[str, datetime, str]]) -> list[dict[str, Any]]:
    """Each channel the user may see: enabled or not, and its last health event if it was a problem."""
    shown = []
    for name, spec in app.config.channels.items():
        if user.agency is not None and spec.agency != user.agency:
            continue
        event = health.get(name)
        problem = event is not None and event[0] != "channel.healthy"
        detail = json.loads(event[2]).get("detail", "") if problem and event else ""
        shown.append({"name": name, "type": spec.type, "enabled": spec.enabled, "ok": not problem,
                      "since": event[1] if problem and event else None, "detail": detail})
    return shown
