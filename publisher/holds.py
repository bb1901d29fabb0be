"""Channels on hold: an admin stops one channel's publishing for a while, with a reason.

A Page was hacked, a portal is being moved, a token is being renewed: the
admin puts the channel on hold (web ``/channels``, ``publisher channels
hold``).  Its deliveries stay queued — nothing is cancelled, nothing fails —
and no daemon claims them until the hold is released; then they go out in
their order, late ones at once (their deadline still applies).  Both steps
are journalled (``channel.held``, ``channel.released``) with the actor and
the reason, so the auditor sees why a post came late.

Holds are rows of ``channel_holds``, read by every claim in the claim's own
transaction: a hold takes effect at the next claim of every daemon, and a
delivery claimed just before it still goes out (it was already on its way).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select

from . import journal, notify
from .errors import InputError, StateError
from .models import nfc, utcnow
from .store.engine import read, write
from .store.schema import channel_holds

if TYPE_CHECKING:
    from .context import App

#: A longer reason is refused (it is shown on the dashboard and journalled).
MAX_REASON = 500


@dataclass(frozen=True)
class Hold:
    """One channel on hold: why, who put it there, since when (UTC)."""

    channel: str
    reason: str
    actor: str
    since: datetime


def hold(app: App, actor: str, channel: str, reason: str) -> Hold:
    """Put *channel* on hold; its deliveries wait until :func:`release`."""
    _check_channel(app, channel)
    reason = nfc(reason or "").strip()
    if not reason:
        raise InputError("hold.no_reason", channel=channel)
    if "\x00" in reason:  # no database column takes it (PostgreSQL refuses it outright)
        raise InputError("hold.bad_reason", channel=channel)
    if len(reason) > MAX_REASON:
        raise InputError("hold.long_reason", channel=channel, limit=MAX_REASON)
    with write(app.engine) as conn:
        if _get(conn, channel) is not None:
            raise StateError("hold.already_held", channel=channel)
        made = Hold(channel=channel, reason=reason, actor=actor, since=utcnow())
        conn.execute(insert(channel_holds).values(channel=channel, reason=reason, actor=actor, since=made.since))
        journal.append(conn, actor, "channel.held", f"channel:{channel}", {"reason": reason})
    return made


def release(app: App, actor: str, channel: str) -> Hold:
    """End *channel*'s hold; daemons publish its due deliveries at once (PostgreSQL: woken at commit)."""
    _check_channel(app, channel)
    with write(app.engine) as conn:
        found = _get(conn, channel)
        if found is None:
            raise StateError("hold.not_held", channel=channel)
        conn.execute(delete(channel_holds).where(channel_holds.c.channel == channel))
        journal.append(conn, actor, "channel.released", f"channel:{channel}",
                       {"held_since": found.since.isoformat(), "reason": found.reason})
        notify.announce(conn)
    return found


def current(app: App) -> dict[str, Hold]:
    """Every hold, by channel name."""
    with read(app.engine) as conn:
        return held(conn)


def held(conn: Connection) -> dict[str, Hold]:
    """Every hold, read in the caller's transaction (the claim's own, so a hold is never missed)."""
    return {r.channel: Hold(r.channel, r.reason, r.actor, r.since) for r in conn.execute(select(channel_holds))}


def without_held(conn: Connection, channels: Iterable[str]) -> list[str]:
    """*channels* minus those on hold, in their order."""
    on_hold = set(held(conn))
    return [c for c in channels if c not in on_hold]


def _get(conn: Connection, channel: str) -> Hold | None:
    return held(conn).get(channel)


def _check_channel(app: App, channel: str) -> None:
    if channel not in app.config.channels:
        raise InputError("hold.unknown_channel", channel=channel, known=", ".join(app.config.channels))
