"""``publisher user token add|list|revoke``: API tokens for scripts.

A new token is printed once, on its own line of standard output (so a script
can capture it), and never stored: the database keeps only its sha256.  The
``token`` group hangs under ``publisher user`` (importing this module, as
``cli/__init__.py`` does, attaches it).
"""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import tokens
from ..i18n import t
from .output import dump, table, when
from .users import user

TOKEN_COLUMNS = ("id", "label", "state", "created_at", "expires_at", "last_used_at")


@user.group("token")
def token() -> None:
    """Mã truy cập API cho script / API tokens for scripts.

    Script gửi mã trong tiêu đề "Authorization: Bearer <mã>" khi gọi /api/;
    mã mang đúng vai trò của tài khoản. / A script sends the token in the
    "Authorization: Bearer <token>" header on /api/; it has its account's role.

    \b
    Ví dụ / examples:
      publisher user token add bao-cao --label "báo cáo hằng đêm" --days 30
      publisher user token list bao-cao
      publisher user token revoke 3
    """


@token.command("add")
@click.argument("username")
@click.option("--label", help="Dùng vào việc gì / what the token is for.")
@click.option("--days", type=int, default=None,
              help=f"Số ngày hiệu lực / days it stays valid (default {tokens.DEFAULT_DAYS}, "
                   f"at most {tokens.MAX_DAYS}).")
@click.pass_obj
def token_add(state, username: str, label: str | None, days: int | None) -> None:  # type: ignore[no-untyped-def]
    """Tạo mã truy cập, in ra MỘT LẦN / make a token, printed ONCE.

    \b
    Ví dụ / examples:
      publisher user token add bao-cao --label "báo cáo hằng đêm"
      TOKEN="$(publisher user token add bao-cao --days 7 2>/dev/null)"
    """
    app = state.app()
    made, secret = tokens.create(app, state.actor, username, label=label, days=days)
    click.echo(t("token.created", id=made.id, username=made.username,
                 expires=when(made.expires_at, app.config.timezone)), err=True)
    click.echo(secret)  # alone on standard output: the only time it is ever shown
    click.echo(t("token.usage"), err=True)


@token.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_obj
def token_list(state, username: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Liệt kê mã truy cập của một tài khoản (không hiện mã) / list an account's tokens (never the secret).

    Ví dụ / example: publisher user token list bao-cao --json
    """
    app = state.app()
    found = tokens.list_tokens(app, username)
    if as_json:
        dump([{**asdict(k), "state": k.state()} for k in found])
        return
    zone = app.config.timezone
    shown = {"active": t("token.state_active"), "expired": t("token.state_expired"),
             "revoked": t("token.state_revoked")}
    table([{**asdict(k), "state": shown[k.state()], "created_at": when(k.created_at, zone),
            "expires_at": when(k.expires_at, zone), "last_used_at": when(k.last_used_at, zone)} for k in found],
          TOKEN_COLUMNS, header_prefix="token.col")


@token.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@click.pass_obj
def token_revoke(state, token_id: int) -> None:  # type: ignore[no-untyped-def]
    """Thu hồi mã truy cập (không hoàn tác) / revoke a token for good.

    Ví dụ / example: publisher user token revoke 3
    """
    done = tokens.revoke(state.app(), state.actor, token_id)
    click.echo(t("token.revoked", id=done.id, username=done.username))


COMMANDS: list[click.Command] = []  # nothing at the top level: see the docstring
