"""Channel health: can each channel publish now?  Failures go in the journal.

Used by ``publisher channels check`` and, every ``daemon.check_minutes``, by
the daemon, so an expired token is on record before a post is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import journal
from .redact import redact
from .store.engine import write

if TYPE_CHECKING:
    from .context import App


@dataclass(frozen=True)
class ChannelHealth:
    channel: str
    type: str
    agency: str
    enabled: bool
    ok: bool
    detail: str


def check_all(app: App, actor: str, enabled_only: bool = False) -> list[ChannelHealth]:
    """Check every channel; journal each one that cannot publish."""
    found = []
    for name, spec in app.config.channels.items():
        if enabled_only and not spec.enabled:
            continue
        health = app.channel(name).check()
        found.append(ChannelHealth(name, spec.type, spec.agency, spec.enabled, health.ok, redact(health.detail)))
    failed = [h for h in found if not h.ok]
    if failed:
        with write(app.engine) as conn:
            for h in failed:
                journal.append(conn, actor, "channel.check_failed", f"channel:{h.channel}", {"detail": h.detail})
    return found
