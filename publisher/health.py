"""Channel health: can each channel publish now, and when does its token expire?

Used by ``publisher channels check`` and, every ``daemon.check_minutes``, by
the daemon, so an expired token is on record before a post is due.  What is
journalled (subject ``channel:NAME``), each only when it changes — the daemon
checks every few minutes for years and the journal must not fill up:

- ``channel.check_failed`` {detail}: the channel cannot publish (at every such check);
- ``channel.healthy`` {detail}: a check passes again after a ``check_failed``;
- ``channel.token_expiry`` {expires_at}: the token's expiry as last seen, when it
  differs from the one on record (null: never expires, or Graph did not say);
- ``channel.token_expiring`` {expires_at, days_left}: the token expires within
  ``token_warn_days``; once per expiry value (a renewed token is warned about again).

The dashboard reads these back (:func:`latest`), never the channels themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, Select, select

from . import journal
from .models import utcnow
from .redact import redact
from .store.engine import read, write
from .store.schema import journal as journal_table

if TYPE_CHECKING:
    from .context import App

HEALTH_EVENTS = ("channel.check_failed", "channel.unhealthy", "channel.healthy")
EXPIRY_EVENT = "channel.token_expiry"
EXPIRING_EVENT = "channel.token_expiring"


@dataclass(frozen=True)
class ChannelHealth:
    channel: str
    type: str
    agency: str
    enabled: bool
    ok: bool
    detail: str
    expires_at: datetime | None = None  # UTC; None: never expires, or not known


def check_all(app: App, actor: str, enabled_only: bool = False,
              only: str | None = None) -> list[ChannelHealth]:
    """Check every channel; journal failures, recoveries and token expiry changes (see the module)."""
    found = []
    for name, spec in app.config.channels.items():
        if (enabled_only and not spec.enabled) or (only is not None and name != only):  # only: that one
            continue
        health = app.channel(name).check()
        found.append(ChannelHealth(name, spec.type, spec.agency, spec.enabled, health.ok, redact(health.detail),
                                   health.expires_at))
    _journal(app, actor, found)
    return found


def _journal(app: App, actor: str, found: list[ChannelHealth]) -> None:
    """Journal what changed; a read transaction only when nothing did (the daemon's usual check)."""
    now, zone = utcnow(), app.config.timezone
    days = {h.channel: warn_days(app.config.channels[h.channel].options) for h in found}
    with read(app.engine) as conn:
        if not any(_changes(conn, h, now, days[h.channel], zone) for h in found):
            return
    with write(app.engine) as conn:
        journal.lock(conn)  # decide again under the journal's lock: two daemons journal one change once
        events = [e for h in found for e in _changes(conn, h, now, days[h.channel], zone)]
        if events:
            journal.append_many(conn, actor, events)


def _changes(conn: Connection, h: ChannelHealth, now: datetime, days: int, zone: tzinfo) -> list[journal.Event]:
    """What to journal for one checked channel, given what is on record (see the module docstring)."""
    subject = f"channel:{h.channel}"
    if not h.ok:  # the expiry on record stays: the dashboard shows an expired token in red
        return [journal.Event("channel.check_failed", subject, {"detail": h.detail})]
    found = []
    last = latest(conn, h.channel, HEALTH_EVENTS)
    if last is not None and last.event == "channel.check_failed":  # not "unhealthy": publishing itself failed
        found.append(journal.Event("channel.healthy", subject, {"detail": h.detail}))
    expires = h.expires_at.isoformat() if h.expires_at else None
    if _recorded_expiry(conn, h.channel, EXPIRY_EVENT) != expires:
        found.append(journal.Event(EXPIRY_EVENT, subject, {"expires_at": expires}))
    if h.expires_at and expiry_state(h.expires_at, now, days) != "ok" \
            and _recorded_expiry(conn, h.channel, EXPIRING_EVENT) != expires:
        found.append(journal.Event(EXPIRING_EVENT, subject,
                                   {"expires_at": expires, "days_left": days_left(h.expires_at, now, zone)}))
    return found


def _recorded_expiry(conn: Connection, channel: str, event: str) -> str | None:
    row = latest(conn, channel, (event,))
    return payload(row).get("expires_at") if row is not None else None


def latest(conn: Connection, channel: str, events: tuple[str, ...]) -> Row[Any] | None:
    """The channel's latest journal entry among *events* (event, at, payload), or None."""
    return conn.execute(latest_query(channel, events)).first()


def latest_query(channel: str, events: tuple[str, ...]) -> Select[Any]:
    """The query of :func:`latest`: one range of the ``subject`` index, newest first, stopped at the first match.

    Its cost does not grow with the journal, only with this channel's own
    entries since that event.
    """
    return (select(journal_table.c.event, journal_table.c.at, journal_table.c.payload)
            .where(journal_table.c.subject == f"channel:{channel}", journal_table.c.event.in_(events))
            .order_by(journal_table.c.seq.desc()).limit(1))


def payload(row: Row[Any]) -> dict[str, Any]:
    """The JSON payload of a row from :func:`latest`."""
    value = json.loads(row.payload)
    return value if isinstance(value, dict) else {}


def warn_days(options: dict[str, Any]) -> int:
    """The channel's ``token_warn_days`` (0 for kinds without tokens that expire)."""
    return int(options.get("token_warn_days", 0))


def expiry_state(expires_at: datetime, now: datetime, days: int) -> str:
    """``expired``, ``soon`` (within *days*) or ``ok``."""
    if expires_at <= now:
        return "expired"
    return "soon" if days > 0 and expires_at - now <= timedelta(days=days) else "ok"


def days_left(expires_at: datetime, now: datetime, zone: tzinfo) -> int:
    """Calendar days from *now* to *expires_at* where people read dates (*zone*); 0: today, negative: past."""
    return (expires_at.astimezone(zone).date() - now.astimezone(zone).date()).days
