"""``publisher demo``: the whole pipeline once, with no account anywhere."""

from __future__ import annotations

import click

from .. import demo as demo_mod
from ..i18n import t


@click.command("demo")
@click.pass_obj
def demo(state) -> None:  # type: ignore[no-untyped-def]
    """Chạy thử toàn bộ quy trình với kênh outbox / run the pipeline once, to the outbox.

    Registers a policy from the sample plan 06/KH-UBND, writes a post, approves
    it, queues and publishes it to every outbox channel, then shows where to look.
    Example: publisher demo && publisher log
    """
    app = state.app()
    result = demo_mod.run(app)
    click.echo(t("demo.policy", code=result.policy.code, agency=result.policy.agency))
    click.echo(t("demo.post", id=result.post_id, author=demo_mod.AUTHOR, approver=demo_mod.APPROVER))
    for d in result.deliveries:
        click.echo(t("demo.delivery", id=d.id, channel=d.channel, state=t(f"state.{d.state.value}"),
                     where=d.permalink or d.last_error or ""))
    click.echo(t("demo.next", data_dir=str(app.data_dir)))


COMMANDS = [demo]
