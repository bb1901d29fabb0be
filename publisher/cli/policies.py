"""``publisher policy add|list|show``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from .. import campaign, service
from ..i18n import t
from .campaign import show_steps
from .output import dump, table, when


@click.group("policy")
def policy() -> None:
    """Chính sách (dự thảo VBQPPL) / policies under consultation.

    \b
    Ví dụ / examples:
      publisher policy add --file chinh-sach.toml
      publisher policy list --json
      publisher policy show 12/NQ
    """


def policy_fields(func):  # type: ignore[no-untyped-def]
    """The options of a policy's fields, shared by ``add`` and ``update``."""
    for option in reversed([
        click.option("--title", help="Tên chính sách / title."),
        click.option("--summary", help="Tóm tắt nội dung / summary."),
        click.option("--point", "key_points", multiple=True,
                     help="Một ý chính, lặp lại tối đa 5 lần / a key point, up to 5 times."),
        click.option("--affected", help="Đối tượng chịu tác động / who is affected."),
        click.option("--comment-how", help="Cách gửi ý kiến / how to send comments."),
        click.option("--impact", type=click.Choice(["high", "normal"]),
                     help="Mức tác động (high: tính vào chỉ tiêu 70%)."),
        click.option("--consultation-opens", help="Ngày bắt đầu lấy ý kiến (2024-01-16 or 16/01/2024)."),
        click.option("--consultation-closes", help="Ngày kết thúc lấy ý kiến."),
        click.option("--passed-on", help="Ngày thông qua."),
        click.option("--issued-on", help="Ngày ban hành."),
        click.option("--draft-url", help="Địa chỉ trang dự thảo và góp ý / draft and comment page URL."),
        click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON."),
    ]):
        func = option(func)
    return func


def _given(flags: dict[str, object]) -> dict[str, object]:
    """The flags actually typed (an empty --point list is 'not given')."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in flags.items() if v not in (None, ())}


@policy.command("add")
@click.option("--file", "file", type=click.Path(path_type=Path),
              help="Tệp TOML mô tả chính sách / policy as a TOML file.")
@click.option("--code", help="Số, ký hiệu / code, e.g. 12/2024/NQ-HĐND.")
@click.option("--agency", help="Mã cơ quan / agency code (needed when several are configured).")
@policy_fields
@click.pass_obj
def add(state, file: Path | None, as_json: bool, **flags: object) -> None:  # type: ignore[no-untyped-def]
    """Đăng ký một chính sách / register a policy.

    \b
    Ví dụ / examples:
      publisher policy add --code 12/NQ --title "Hỗ trợ học phí" --summary "..." \\
          --point "Miễn 100% học phí cho học sinh vùng khó khăn" --affected "Học sinh, phụ huynh" \\
          --consultation-opens 2024-03-01 --consultation-closes 2024-03-31
      publisher policy add --file chinh-sach.toml
    """
    data = service.load_input(file) if file else {}
    data.update(_given(flags))
    created = service.add_policy(state.app(), state.actor, data, source=str(file) if file else t("cli.flags_source"))
    if as_json:
        dump(asdict(created))
    else:
        click.echo(t("policy.added", code=created.code, id=created.id, agency=created.agency))


@policy.command("update")
@click.argument("code")
@click.option("--agency", help="Mã cơ quan, khi mã trùng / agency, if codes repeat.")
@policy_fields
@click.pass_obj
def update(state, code: str, agency: str | None, as_json: bool, **flags: object) -> None:  # type: ignore[no-untyped-def]
    """Sửa chính sách; bài chiến dịch chưa duyệt được lên lịch lại / change a policy.

    Changing dates re-plans the campaign's unapproved posts.

    \b
    Ví dụ / examples:
      publisher policy update 12/NQ --consultation-closes 2024-04-15
      publisher policy update 12/NQ --point "Ý 1" --point "Ý 2" --point "Ý 3"
    """
    app = state.app()
    updated, changes = service.update_policy(app, state.actor, code, agency, _given(flags),
                                             source=t("cli.flags_source"))
    steps = campaign.replan_if_planned(app, state.actor, updated) if changes else []
    if as_json:
        dump({"policy": asdict(updated), "changes": changes, "campaign": [asdict(s) for s in steps]})
        return
    click.echo(t("policy.updated", code=updated.code, fields=", ".join(changes) or "-"))
    show_steps(app, steps)


@policy.command("list")
@click.option("--agency", help="Chỉ cơ quan này / only this agency.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(state, agency: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Liệt kê chính sách / list policies.  Example: publisher policy list --agency ubnd-huyen"""
    found = service.list_policies(state.app(), agency)
    if as_json:
        dump([asdict(p) for p in found])
        return
    table([{**asdict(p), "impact": t(f"impact.{p.impact.value}")} for p in found],
          ("agency", "code", "title", "impact", "consultation_opens", "consultation_closes"))


@policy.command("show")
@click.argument("code")
@click.option("--agency")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(state, code: str, agency: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Xem một chính sách / show one policy.  Example: publisher policy show 12/NQ"""
    app = state.app()
    found = service.get_policy(app, code, agency)
    if as_json:
        dump(asdict(found))
        return
    for key, value in asdict(found).items():
        shown = when(value, app.config.timezone) if key == "created_at" else value
        click.echo(f"{t('col.' + key)}: {'' if shown is None else shown}")


COMMANDS = [policy]
