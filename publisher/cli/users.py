"""``publisher user add|passwd|disable|enable|list`` and ``publisher user token``: accounts of the web UI.

A password is never a command-line argument (it would sit in the shell
history and in ``ps`` for every local user to read): it is typed twice at a
hidden prompt, or read from standard input with ``--password-stdin``.

``publisher user token add|list|revoke``: API tokens for scripts.  A new
token is printed once, on its own line of standard output (so a script can
capture it), and never stored: the database keeps only its sha256.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import accounts, tokens
from ..accounts import User
from ..errors import InputError
from ..i18n import t
from .output import dump, table, when

COLUMNS = ("username", "display_name", "role", "agency", "state", "password_changed_at")
TOKEN_COLUMNS = ("id", "label", "state", "created_at", "expires_at", "last_used_at")
_STDIN = click.option("--password-stdin", "from_stdin", is_flag=True,
                      help="Đọc mật khẩu từ đầu vào chuẩn (một dòng) / read the password from stdin.")


@click.group("user")
def user() -> None:
    """Tài khoản và vai trò (editor, approver, auditor, admin) / accounts and roles.

    \b
    Ví dụ / examples:
      publisher user add bien-tap --role editor --agency tinh --name "Trần Thị Bình"
      publisher user passwd bien-tap
      publisher user list --json
    """


def _password(username: str, from_stdin: bool) -> str:
    """Ask twice at a hidden prompt (a weak one is refused at once), or read one line of stdin."""
    if from_stdin:
        line = click.get_text_stream("stdin", encoding="utf-8").readline().rstrip("\r\n")
        if not line:
            raise InputError("user.password_missing")
        return line
    while True:
        first = click.prompt(t("user.password_prompt", username=username), hide_input=True)
        accounts.check_password(username, first)
        if click.prompt(t("user.password_again"), hide_input=True) == first:
            return first
        click.echo(t("user.password_mismatch"), err=True)


def _agency(found: User) -> str:
    return found.agency or t("user.all_agencies")


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, help="editor | approver | auditor | admin.")
@click.option("--agency", help="Mã cơ quan; bỏ trống: mọi cơ quan / agency code (default: all).")
@click.option("--name", "display_name", help="Họ tên đầy đủ / full name, e.g. \"Trần Thị Bình\".")
@_STDIN
@click.pass_obj
def add(state, username: str, role: str, agency: str | None, display_name: str | None,  # type: ignore[no-untyped-def]
        from_stdin: bool) -> None:
    """Tạo tài khoản / create an account.

    \b
    Ví dụ / examples:
      publisher user add quan-tri --role admin
      publisher user add truong-phong --role approver --agency tinh --name "Nguyễn Văn An"
      printf '%s\\n' "$MAT_KHAU" | publisher user add bien-tap --role editor --password-stdin
    """
    app = state.app()
    new = accounts.validate(app, username, role, agency, display_name)  # before anyone types a password
    password = _password(new.username, from_stdin)
    created = accounts.add_user(app, state.actor, username, role, password, agency=agency,
                                display_name=display_name)
    click.echo(t("user.added", username=created.username, role=created.role.value, agency=_agency(created)))


@user.command("passwd")
@click.argument("username")
@_STDIN
@click.pass_obj
def passwd(state, username: str, from_stdin: bool) -> None:  # type: ignore[no-untyped-def]
    """Đổi mật khẩu / set a new password.

    \b
    Ví dụ / examples:
      publisher user passwd bien-tap
      publisher user passwd bien-tap --password-stdin < mat-khau.txt
    """
    app = state.app()
    found = accounts.get_user(app, username)  # an unknown name fails before the prompt
    changed = accounts.set_password(app, state.actor, found.username, _password(found.username, from_stdin))
    click.echo(t("user.password_changed", username=changed.username))


@user.command("disable")
@click.argument("username")
@click.pass_obj
def disable(state, username: str) -> None:  # type: ignore[no-untyped-def]
    """Khóa tài khoản (không xóa, lịch sử giữ nguyên) / disable an account.

    Ví dụ / example: publisher user disable bien-tap
    """
    done = accounts.disable(state.app(), state.actor, username)
    click.echo(t("user.disabled", username=done.username))


@user.command("enable")
@click.argument("username")
@click.pass_obj
def enable(state, username: str) -> None:  # type: ignore[no-untyped-def]
    """Mở khóa tài khoản / enable a disabled account.

    Ví dụ / example: publisher user enable bien-tap
    """
    done = accounts.enable(state.app(), state.actor, username)
    click.echo(t("user.enabled", username=done.username))


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_obj
def list_(state, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Liệt kê tài khoản / list accounts.

    Ví dụ / example: publisher user list --json
    """
    app = state.app()
    found = accounts.list_users(app)
    if as_json:
        dump([asdict(u) for u in found])
        return
    zone = app.config.timezone
    table([{**asdict(u), "role": u.role.value, "agency": _agency(u),
            "state": t("user.state_disabled") if u.disabled_at else t("user.state_active"),
            "password_changed_at": when(u.password_changed_at, zone)} for u in found],
          COLUMNS, header_prefix="user.col")


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


COMMANDS = [user]
