"""``publisher channels hold|release|holds``: stop one channel's publishing for a while, with a reason."""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import holds as holds_lib
from ..i18n import t
from .channels import channels
from .output import dump, table, when


@channels.command("hold")
@click.argument("name")
@click.option("--reason", required=True, help="Lý do, ghi vào nhật ký / why (journalled).")
@click.pass_obj
def hold(state, name: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    """Tạm dừng một kênh: các lượt đăng chờ đến khi mở lại / put a channel on hold.

    Nothing is cancelled: the channel's deliveries stay queued and go out when it is released.

    \b
    Ví dụ / example:
      publisher channels hold fanpage --reason "Đang cấp lại token Trang"
    """
    holds_lib.hold(state.app(), state.actor, name, reason)
    click.echo(t("hold.held", channel=name))


@channels.command("release")
@click.argument("name")
@click.pass_obj
def release(state, name: str) -> None:  # type: ignore[no-untyped-def]
    """Mở lại kênh đang tạm dừng / release a channel on hold.

    \b
    Ví dụ / example:
      publisher channels release fanpage
    """
    holds_lib.release(state.app(), state.actor, name)
    click.echo(t("hold.released", channel=name))


@channels.command("holds")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_holds(state, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Các kênh đang tạm dừng / channels on hold.

    \b
    Ví dụ / example:
      publisher channels holds --json
    """
    app = state.app()
    found = sorted(holds_lib.current(app).values(), key=lambda h: h.channel)
    if as_json:
        dump([{**asdict(h), "since": h.since.isoformat()} for h in found])
    elif not found:
        click.echo(t("hold.none"))
    else:
        table([{**asdict(h), "since": when(h.since, app.config.timezone)} for h in found],
              ("channel", "reason", "actor", "since"))


COMMANDS: list[click.Command] = []  # the commands above belong to the `channels` group
