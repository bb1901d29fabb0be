"""``publisher user add|passwd|role|disable|enable|list``: accounts of the web UI.

A password is never a command-line argument (it would sit in the shell
history and in ``ps`` for every local user to read): it is typed twice at a
hidden prompt, or read from standard input with ``--password-stdin``.
``publisher user token ...`` (API tokens for scripts) is in ``user_tokens.py``.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from .. import accounts
from ..accounts import User
from ..errors import InputError
from ..i18n import t
from .output import dump, table, when

COLUMNS = ("username", "display_name", "role", "agency", "state", "password_changed_at")
_STDIN = click.option("--password-stdin", "from_stdin", is_flag=True,
                      help="Đọc mật khẩu từ đầu vào chuẩn (một dòng) / read the password from stdin.")


@click.group("user")
def user() -> None:
    """Tài khoản và vai trò (editor, approver, auditor, admin) / accounts and roles.

    \b
    Ví dụ / examples:
      publisher user add bien-tap --role editor --agency tinh --name "Trần Thị Bình"
      publisher user passwd bien-tap
      publisher user role bien-tap approver --all-agencies
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


@user.command("role")
@click.argument("username")
@click.argument("role", metavar="ROLE")
@click.option("--agency", help="Đổi cả cơ quan / also set the agency (code).")
@click.option("--all-agencies", is_flag=True, help="Đổi sang mọi cơ quan / serve every agency from now on.")
@click.pass_obj
def role(state, username: str, role: str, agency: str | None,  # type: ignore[no-untyped-def]
         all_agencies: bool) -> None:
    """Đổi vai trò (và cơ quan) / change an account's role (and agency).

    ROLE: editor | approver | auditor | admin.  Không ghi --agency hay
    --all-agencies thì cơ quan giữ nguyên / without either, the agency stays.
    Không ai tự hạ quyền quản trị của mình, và quản trị viên cuối cùng còn
    hoạt động không thể bị hạ / nobody demotes themselves or the last admin.

    \b
    Ví dụ / examples:
      publisher user role bien-tap approver
      publisher user role truong-phong admin --all-agencies
      publisher user role kiem-tra auditor --agency xa
    """
    if agency is not None and all_agencies:
        raise InputError("user.agency_conflict")
    scope = None if all_agencies else accounts.KEEP if agency is None else agency
    done = accounts.set_role(state.app(), state.actor, username, role, scope)
    click.echo(t("user.role_set", username=done.username, role=done.role.value, agency=_agency(done)))


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


COMMANDS = [user]
