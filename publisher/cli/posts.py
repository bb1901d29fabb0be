"""``publisher post new|approve|cancel|show|list``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from .. import posts, service
from ..errors import InputError
from ..i18n import t
from .output import dump, table, when


@click.group("post")
def post() -> None:
    """Bài đăng / posts: write, approve, cancel.

    \b
    Ví dụ / examples:
      publisher post new --policy 12/NQ --channel fanpage --at "2026-12-01 08:00"
      publisher --as truong-phong post approve 3
      publisher post show 3
    """


@post.command("new")
@click.option("--file", "file", type=click.Path(path_type=Path), help="Tệp TOML mô tả bài đăng / post as TOML.")
@click.option("--policy", "policy", help="Mã chính sách / policy code.")
@click.option("--agency", help="Mã cơ quan, khi mã chính sách trùng / agency, if codes repeat.")
@click.option("--template", help="Mẫu bài / template name (default from config).")
@click.option("--channel", "channels", multiple=True, help="Kênh đăng (lặp lại được) / channel, repeatable.")
@click.option("--at", "at", help="Thời điểm đăng, giờ Việt Nam / when, e.g. '2026-12-01 08:00' or 'now'.")
@click.option("--deadline", help="Quá thời điểm này thì không đăng nữa / do not publish after this.")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="Biến của mẫu / template variable.")
@click.option("--media", multiple=True, type=click.Path(path_type=Path), help="Ảnh đính kèm / media file.")
@click.option("--layout", "layouts", multiple=True,
              help="Ảnh thông tin theo bố cục (vuong, the-lien-ket, doc) / infographic layout, repeatable.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def new(state, file: Path | None, variables: tuple[str, ...], channels: tuple[str, ...],  # type: ignore[no-untyped-def]
        media: tuple[Path, ...], layouts: tuple[str, ...], as_json: bool, **flags: Any) -> None:
    """Viết bài đăng (bản nháp chờ duyệt) / write a post, a draft awaiting approval.

    \b
    Ví dụ / examples:
      publisher post new --policy 12/NQ --template moi-gop-y --channel fanpage --at "2026-12-01 08:00" \\
          --layout vuong
      publisher post new --policy 12/NQ --template thong-tin --var noi_dung="..." --at now
      publisher post new --file bai-dang.toml
    """
    data = service.load_input(file) if file else {}
    data.update({k: v for k, v in flags.items() if v is not None})
    if channels:
        data["channels"] = list(channels)
    if media:
        data["media"] = [str(m) for m in media]
    if layouts:
        data["infographics"] = list(layouts)
    if variables:
        data["variables"] = {**data.get("variables", {}), **_pairs(variables)}
    created = posts.new_post(state.app(), state.actor, data, source=str(file) if file else t("cli.flags_source"))
    if as_json:
        dump(asdict(created))
    else:
        click.echo(t("post.created", id=created.id, channels=", ".join(created.channels)))


def _pairs(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError("input.bad_var", value=item)
        out[key.strip()] = value
    return out


@post.command("approve")
@click.argument("post_id", type=int)
@click.pass_obj
def approve(state, post_id: int) -> None:  # type: ignore[no-untyped-def]
    """Duyệt bài (người duyệt khác người viết) / approve; freezes the content.

    Example: publisher --as truong-phong post approve 3
    """
    queued = posts.approve(state.app(), state.actor, post_id)
    click.echo(t("post.approved", id=post_id, deliveries=", ".join(map(str, queued))))


@post.command("cancel")
@click.argument("post_id", type=int)
@click.option("--reason", default="", help="Lý do / reason (kept in the journal).")
@click.pass_obj
def cancel(state, post_id: int, reason: str) -> None:  # type: ignore[no-untyped-def]
    """Hủy bài và các lượt đăng chưa thực hiện / cancel what has not gone out.

    Example: publisher post cancel 3 --reason "Dự thảo đã thay đổi"
    """
    result = posts.cancel(state.app(), state.actor, post_id, reason)
    click.echo(t("post.cancelled", id=post_id, cancelled=len(result["cancelled"]), kept=len(result["kept"])))


@post.command("show")
@click.argument("post_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(state, post_id: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Xem bài và nội dung từng kênh / show a post and what each channel gets.

    Example: publisher post show 3 --json
    """
    app = state.app()
    found = posts.get(app, post_id)
    approved = posts.frozen(app, post_id)
    texts = {c: (v.title, v.body) for c, v in approved.items()} or posts.preview(app, post_id)[0]
    if as_json:
        content = {c: {**asdict(v), "sha256": v.sha256()} for c, v in approved.items()} or {
            c: {"title": title, "body": body} for c, (title, body) in texts.items()}
        dump({"post": asdict(found), "frozen": bool(approved), "content": content})
        return
    click.echo(t("post.summary", id=found.id, state=t(f"post_state.{found.state.value}"), author=found.author,
                 approver=found.approver or "-", at=when(found.publish_at, app.config.timezone)))
    for channel, (title, body) in texts.items():
        click.echo(f"\n=== {channel} — {title}\n{body}")


@post.command("list")
@click.option("--agency")
@click.option("--policy", "policy_code")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(state, agency: str | None, policy_code: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Liệt kê bài đăng / list posts.  Example: publisher post list --policy 12/NQ"""
    app = state.app()
    found = posts.list_posts(app, agency, policy_code)
    if as_json:
        dump([{**asdict(p), "policy": code} for p, code in found])
        return
    table([{"id": p.id, "policy": code, "template": p.template, "state": t(f"post_state.{p.state.value}"),
            "author": p.author, "approver": p.approver, "at": when(p.publish_at, app.config.timezone),
            "channels": ", ".join(p.channels)} for p, code in found],
          ("id", "policy", "template", "state", "author", "approver", "at", "channels"))


COMMANDS = [post]
