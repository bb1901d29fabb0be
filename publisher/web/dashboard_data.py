"""What the dashboard shows: what goes out today and this week, what needs a person, channels, coverage.

Every read is bounded by the user's agency (an agency-bound account sees its
own agency's deliveries, channels and coverage only).  Days and weeks are
local (``display.timezone``), weeks start on Monday as they do in Vietnam.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Any

from sqlalchemy import func, select

from .. import coverage, holds
from ..access import User
from ..context import App
from ..health import EXPIRY_EVENT, HEALTH_EVENTS, days_left, expiry_state, latest, payload, warn_days
from ..models import Delivery, DeliveryState, utcnow
from ..store.engine import read
from ..store.rows import delivery, delivery_select
from ..store.schema import deliveries, policies, posts

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
        boxes = [_upcoming(conn, user, _utc(day, zone), _utc(end, zone))
                 for day, end in ((today, today + timedelta(days=1)), (monday, monday + timedelta(days=7)))]
        failed = _box(conn, user, (deliveries.c.state == S.FAILED,), (deliveries.c.updated_at.desc(),))
        health = _channel_events(conn, app.config.channels)
        held = holds.held(conn)
    return Dashboard(today=boxes[0], week=boxes[1], failed=failed, channels=_channels(app, user, health, held),
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


def _upcoming(conn: Any, user: User, start: datetime, end: datetime) -> Box:
    """Deliveries still to go out, due between *start* and *end*, soonest first.

    One range of ``ix_deliveries_due`` (state, due_at) per state, each stopped
    after SHOWN + 1 rows, merged here: one query with ``state IN (...)`` would
    read and sort every delivery of the week before keeping ten.
    """
    window = (deliveries.c.due_at >= start, deliveries.c.due_at < end)
    order = (deliveries.c.due_at, deliveries.c.id)
    found = sorted((d for state in UPCOMING for d in _first(conn, user, (deliveries.c.state == state, *window), order)),
                   key=lambda d: (d.due_at, d.id))
    return _counted(conn, user, found, (deliveries.c.state.in_(UPCOMING), *window))


def _box(conn: Any, user: User, where: tuple[Any, ...], order: tuple[Any, ...]) -> Box:
    """The first SHOWN deliveries matching *where* in *order*, and how many match in all."""
    return _counted(conn, user, _first(conn, user, where, order), where)


def _first(conn: Any, user: User, where: tuple[Any, ...], order: tuple[Any, ...]) -> list[Delivery]:
    """At most SHOWN + 1 deliveries matching *where* (within the user's agency), in *order*."""
    query = delivery_select().where(*where, *_agency(user)).order_by(*order).limit(SHOWN + 1)
    return [delivery(r) for r in conn.execute(query)]


def _counted(conn: Any, user: User, found: list[Delivery], where: tuple[Any, ...]) -> Box:
    """A box of the first SHOWN of *found*; counted in full only if there are more (the common case reads none)."""
    total = len(found)
    if total > SHOWN:
        total = conn.execute(_count(user).where(*where, *_agency(user))).scalar_one()
    return Box(items=found[:SHOWN], total=total)


def _agency(user: User) -> tuple[Any, ...]:
    return () if user.agency is None else (policies.c.agency == user.agency,)


def _count(user: User) -> Any:
    """A count of deliveries: on the index alone, joined to their policies only to keep to an agency."""
    if user.agency is None:
        return select(func.count()).select_from(deliveries)
    return select(func.count()).select_from(deliveries.join(posts, posts.c.id == deliveries.c.post_id)
                                            .join(policies, policies.c.id == posts.c.policy_id))


def _channel_events(conn: Any, names: Iterable[str]) -> dict[str, ChannelEvents]:
    """Per configured channel: its latest health event and the token expiry on record, from the journal.

    Two reads of the ``subject`` index per channel, each stopped at its first
    match (:func:`publisher.health.latest`): the cost does not grow with the
    journal.  The page never asks the channels themselves (no Graph call).
    """
    return {name: ChannelEvents(latest(conn, name, HEALTH_EVENTS), latest(conn, name, (EXPIRY_EVENT,)))
            for name in names}


def _channels(app: App, user: User, health: dict[str, ChannelEvents],
              held: dict[str, holds.Hold]) -> list[dict[str, Any]]:
    """Each channel the user may see: enabled or not, on hold or not, its last problem, its token expiry."""
    shown = []
    for name, spec in app.config.channels.items():
        if user.agency is not None and spec.agency != user.agency:
            continue
        events = health.get(name) or ChannelEvents(None, None)
        event = events.health
        problem = event is not None and event.event != "channel.healthy"
        detail = payload(event).get("detail", "") if problem and event else ""
        shown.append({"name": name, "type": spec.type, "enabled": spec.enabled, "hold": held.get(name),
                      "ok": not problem,
                      "since": event.at if problem and event else None, "detail": detail,
                      **_token_expiry(app, spec.options, events.expiry)})
    return shown


@dataclass(frozen=True)
class ChannelEvents:
    """What the journal says of one channel: latest health event, latest token expiry (rows or None)."""

    health: Any
    expiry: Any


def _token_expiry(app: App, options: dict[str, Any], row: Any) -> dict[str, Any]:
    """The token's expiry as shown: local date, days left, ``ok``/``soon``/``expired`` (all None if not known)."""
    expires = payload(row).get("expires_at") if row is not None else None
    if not expires:
        return {"expires_on": None, "days_left": None, "expiry": None}
    at, now, zone = datetime.fromisoformat(expires), utcnow(), app.config.timezone
    return {"expires_on": at.astimezone(zone).strftime("%d/%m/%Y"), "days_left": days_left(at, now, zone),
            "expiry": expiry_state(at, now, warn_days(options))}
