"""``publisher channels check``: can every channel publish now?"""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import health
from ..errors import ExitCode
from ..i18n import t
from .output import dump, table, when


@click.group("channels")
def channels() -> None:
    """Kênh đăng / channels.

    \b
    Ví dụ / example:
      publisher channels check
    """


@channels.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def check(state, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Kiểm tra từng kênh: token, Trang, quyền / check every channel (token, Page, access).

    Failures are written to the journal, and so is a token that expires within
    token_warn_days. Exit code 1 if any channel cannot publish (an expiring
    token still publishes).

    \b
    Ví dụ / examples:
      publisher channels check
      publisher channels check --json
    """
    app = state.app()
    rows = [asdict(h) for h in health.check_all(app, state.actor)]
    failed = [r for r in rows if not r["ok"]]
    if as_json:
        dump(rows)  # expires_at in ISO 8601 UTC, null when it never expires or is not known
    else:
        table([{**r, "ok": t("channels.ok") if r["ok"] else t("channels.not_ok"),
                "expires_at": when(r["expires_at"], app.config.timezone)} for r in rows],
              ("channel", "type", "agency", "ok", "expires_at", "detail"))
    if failed:
        raise click.exceptions.Exit(int(ExitCode.FAILED))


COMMANDS = [channels]
