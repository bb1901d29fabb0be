"""``publisher campaign POLICY``: plan the standard posts of a policy."""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import campaign as campaign_mod
from ..i18n import t
from .output import dump, table, when


def show_steps(app, steps: list[campaign_mod.Step]) -> None:  # type: ignore[no-untyped-def]
    if steps:
        table([{"moment": t(f"moment.{s.moment}"), "action": t(f"campaign.{s.action}"), "post": s.post_id,
                "at": when(s.at, app.config.timezone)} for s in steps], ("moment", "action", "post", "at"))


@click.command("campaign")
@click.argument("policy")
@click.option("--agency", help="Mã cơ quan, khi mã trùng / agency, if codes repeat.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def campaign(state, policy: str, agency: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Lập các bài chiến dịch theo mốc thời gian của chính sách / plan a policy's campaign.

    Creates drafts awaiting approval for: consultation opens, a reminder before
    it closes (campaign.reminder_days), passed, issued. Run it again after the
    dates change: unapproved drafts are re-planned, approved posts are kept.

    \b
    Ví dụ / examples:
      publisher --as bien-tap campaign 12/2026/NQ-HĐND
      publisher post list --policy 12/2026/NQ-HĐND
    """
    app = state.app()
    steps = campaign_mod.plan(app, state.actor, policy, agency)
    if as_json:
        dump([asdict(s) for s in steps])
    else:
        show_steps(app, steps)


COMMANDS = [campaign]
