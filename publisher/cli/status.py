"""``publisher status``: the queue per channel, the lag, the last errors and the daemons."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from .. import status as status_mod
from ..errors import ExitCode
from ..i18n import t
from .output import dump, table, when


def _lag(seconds: float) -> str:
    """A duration as h:mm:ss (hours may pass 24), the same in every language."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _to_second(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="In JSON / print JSON.")
@click.pass_obj
def status(state_obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Tình trạng hàng đợi và tiến trình chạy nền / queue, lag, last errors, daemons.

    Exit code 1 when work is due and no daemon is alive (for monitoring).

    \b
    Ví dụ / examples:
      publisher status
      publisher status --json
    """
    app = state_obj.app()
    found = status_mod.collect(app)
    if as_json:
        dump(found)
    else:
        _print(found, app.config.timezone)
    if not found["healthy"]:
        click.echo(t("status.unhealthy", count=found["due"]), err=True)
        raise click.exceptions.Exit(int(ExitCode.FAILED))


def _print(found: dict, zone: ZoneInfo) -> None:  # type: ignore[type-arg]
    click.echo(t("status.queue_title"))
    disabled = t("status.disabled")
    held = t("status.held")
    table([{**c["states"], "channel": c["channel"] if c["enabled"] else f"{c['channel']} ({disabled})",
            "due_now": c["due"]} | ({"channel": f"{c['channel']} ({held})"} if c["held"] and c["enabled"] else {})
           for c in found["channels"]],
          ("channel", "queued", "waiting", "publishing", "scheduled", "failed", "published", "cancelled", "due_now"))
    click.echo()
    oldest = found["oldest_due"]
    if oldest is None:
        click.echo(t("status.none_due"))
    else:
        click.echo(t("status.due", count=found["due"]))
        click.echo(t("status.oldest", delivery=oldest["delivery"], channel=oldest["channel"],
                     due=when(oldest["due_at"], zone), lag=_lag(found["lag_seconds"])))
    click.echo()
    click.echo(t("status.errors_title"))
    errors = [{**c["last_error"], "channel": c["channel"], "time": when(c["last_error"]["at"], zone)}
              for c in found["channels"] if c["last_error"]]
    if errors:
        table(errors, ("channel", "time", "delivery", "outcome", "error"))
    else:
        click.echo(t("status.no_errors"))
    click.echo()
    click.echo(t("status.daemons_title", alive=found["alive"], seconds=f"{found['heartbeat_seconds']:g}"))
    labels = {"alive": t("status.alive"), "stopped": t("status.stopped"), "silent": t("status.silent")}
    if found["daemons"]:
        table([{**d, "daemon_state": labels[d["state"]], "started": _to_second(d["started_at"], zone),
                "heartbeat": f"{_to_second(d['heartbeat_at'], zone)} "
                             f"({t('status.ago', seconds=round(d['seconds_since_heartbeat']))})"}
               for d in found["daemons"]],
              ("worker", "host", "pid", "version", "daemon_state", "started", "heartbeat"))
    else:
        click.echo(t("status.no_daemons"))


COMMANDS = [status]
