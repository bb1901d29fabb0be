"""The coverage report: what share of high-impact policies was communicated.

A policy is *in scope* when its impact is high and its consultation opened
within the period.  It is *covered* when it has a published delivery between
the start of the consultation-opening day and the end of the issuance day
(local days in the display zone; open-ended while it is not issued) on the
kind of channel ``audit.coverage_requires`` asks for; if not, it gets the most
informative of :data:`REASONS`.  Presentation: :mod:`publisher.coverage_html`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from .errors import InputError
from .inputs import a_date
from .models import DeliveryState, Impact, PostState
from .store.engine import read
from .store.schema import agencies, deliveries, policies, posts

if TYPE_CHECKING:
    from .config import ChannelConfig
    from .context import App

S = DeliveryState
#: Why a policy is not covered, the nearest to being covered first (the first that applies is given).
REASONS = ("wrong_channel", "pending", "too_late", "too_early", "failed", "cancelled", "nothing_queued")
COLUMNS = ("agency", "code", "title", "consultation_opens", "issued_on", "covered", "first_published",
           "channels", "reason")
PENDING = {S.QUEUED, S.WAITING, S.PUBLISHING, S.SCHEDULED}
KINDS = {"portal": "portal", "facebook": "fanpage"}  # channel format -> the name audit.coverage_requires uses
NEEDS = {"any": set(), "portal": {"portal"}, "fanpage": {"fanpage"}, "both": {"portal", "fanpage"}}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included


@dataclass(frozen=True)
class Publication:
    """One post of a policy in scope, with one of its deliveries."""

    post_state: str
    state: DeliveryState | None  # None: the post has no delivery (a draft, or cancelled before approval)
    channel: str | None
    kind: str | None  # "portal", "fanpage", or None when the channel's kind is unknown
    published_at: datetime | None


@dataclass(frozen=True)
class Coverage:
    period: Period
    agency: str | None
    timezone: str
    target: float
    requires: str
    rows: list[dict[str, Any]]  # one per policy in scope, keys COLUMNS
    by_channel: dict[str, int]  # published deliveries of the policies in scope

    @property
    def in_scope(self) -> int:
        return len(self.rows)

    @property
    def covered(self) -> int:
        return sum(1 for r in self.rows if r["covered"])

    @property
    def share(self) -> float | None:
        return self.covered / self.in_scope if self.rows else None

    @property
    def met(self) -> bool | None:  # None: nothing in scope; exact, so 7 of 10 meets 0.7 despite float rounding
        return Fraction(self.covered, self.in_scope) >= Fraction(str(self.target)) if self.rows else None


def parse_period(year: str | None, start: str | None, end: str | None) -> Period:
    """The period from ``--year YYYY`` or ``--from DATE --to DATE`` (``--to`` included)."""
    if year and (start or end):
        raise InputError("coverage.year_and_dates")
    if year:
        if not re.fullmatch(r"[0-9]{4}", year.strip()) or int(year) < 1:
            raise InputError("coverage.bad_year", value=year)
        return Period(date(int(year), 1, 1), date(int(year), 12, 31))
    first, last = a_date({"from": start}, "from", "--from"), a_date({"to": end}, "to", "--to")
    if first is None or last is None:
        raise InputError("coverage.period_required")
    if first > last:
        raise InputError("coverage.dates_order", start=first.isoformat(), end=last.isoformat())
    return Period(first, last)


def build(app: App, period: Period, agency: str | None = None) -> Coverage:
    """The coverage of high-impact policies whose consultation opened in *period*."""
    audit, zone = app.config.audit, app.config.timezone
    with read(app.engine) as conn:
        _check_agency(conn, agency)
        found = list(conn.execute(select(policies).where(*_scope(period, agency))
                                  .order_by(policies.c.consultation_opens, policies.c.agency, policies.c.code)))
        pubs = _publications(conn, period, agency, app.config.channels)
    rows = [_row(p, pubs.get(p.id, []), _window(p.consultation_opens, p.issued_on, zone), audit["coverage_requires"])
            for p in found]
    by_channel = Counter(x.channel for xs in pubs.values() for x in xs if x.state == S.PUBLISHED and x.channel)
    return Coverage(period, agency, str(zone), float(audit["coverage_target"]), audit["coverage_requires"], rows,
                    dict(sorted(by_channel.items())))


def _check_agency(conn: Connection, agency: str | None) -> None:
    if agency is None:
        return
    # the agencies the database knows: one removed from config.toml still has its history
    known = sorted(conn.execute(select(agencies.c.code)).scalars())
    if agency not in known:
        raise InputError("input.unknown_agency", source="--agency", value=agency, choices=", ".join(known))


def _scope(period: Period, agency: str | None) -> list[Any]:
    where = [policies.c.impact == Impact.HIGH.value, policies.c.consultation_opens.between(period.start, period.end)]
    return where + ([policies.c.agency == agency] if agency else [])


def _publications(conn: Connection, period: Period, agency: str | None,
                  channels: dict[str, ChannelConfig]) -> dict[int, list[Publication]]:
    query = (select(posts.c.policy_id, posts.c.state.label("post_state"), deliveries.c.state,
                    deliveries.c.channel, deliveries.c.published_at, deliveries.c.permalink)
             .select_from(policies).join(posts, posts.c.policy_id == policies.c.id)
             .outerjoin(deliveries, deliveries.c.post_id == posts.c.id).where(*_scope(period, agency)))
    found: dict[int, list[Publication]] = {}
    for r in conn.execute(query):
        found.setdefault(r.policy_id, []).append(Publication(
            r.post_state, S(r.state) if r.state else None, r.channel, _kind(r.channel, r.permalink, channels),
            r.published_at))
    return found


def _kind(channel: str | None, permalink: str | None, channels: dict[str, ChannelConfig]) -> str | None:
    # a channel no longer configured is known only by a Facebook permalink, else it counts under "any" alone
    if channel in channels:
        return KINDS.get(channels[channel].format)
    host = urlparse(permalink or "").hostname or ""
    return "fanpage" if host == "facebook.com" or host.endswith(".facebook.com") else None


def _window(opens: date, issued: date | None, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """[start of the opening day, start of the day after issuance) in the display zone."""
    end = datetime.combine(issued + timedelta(days=1), time(), zone) if issued else None
    return datetime.combine(opens, time(), zone), end


def _row(p: Any, pubs: list[Publication], window: tuple[datetime, datetime | None], requires: str) -> dict[str, Any]:
    published = sorted(((x.published_at, x) for x in pubs if x.state == S.PUBLISHED and x.published_at),
                       key=lambda pair: pair[0])
    inside = [(at, x) for at, x in published if window[0] <= at and (window[1] is None or at < window[1])]
    covered = bool(inside) and NEEDS[requires] <= {x.kind for _, x in inside}
    shown = inside or published  # the publications that count; else the ones that came too early or late
    return {"agency": p.agency, "code": p.code, "title": p.title, "consultation_opens": p.consultation_opens,
            "issued_on": p.issued_on, "covered": covered, "first_published": shown[0][0] if shown else None,
            "channels": sorted({x.channel for _, x in shown if x.channel}),
            "reason": None if covered else _reason(pubs, bool(inside), [at for at, _ in published], window[1])}


def _reason(pubs: list[Publication], inside: bool, published: list[datetime], end: datetime | None) -> str:
    states = {x.state for x in pubs}
    if inside:
        return "wrong_channel"
    if states & PENDING:
        return "pending"
    if end is not None and any(at >= end for at in published):
        return "too_late"
    if published:
        return "too_early"
    if S.FAILED in states:
        return "failed"
    if S.CANCELLED in states or any(x.post_state == PostState.CANCELLED.value for x in pubs):
        return "cancelled"
    return "nothing_queued"  # no post, or drafts never approved
