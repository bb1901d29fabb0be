"""The ``publisher`` command: thin Click commands over the library.

Every user mistake becomes one line on stderr and a named exit code (see
:class:`publisher.errors.ExitCode`), never a traceback; ``--debug`` shows the
traceback of an unexpected failure.
"""

from __future__ import annotations

import getpass
from typing import Any

import click

from .. import config as config_mod
from .. import i18n
from ..config import Config
from ..context import App
from ..errors import ExitCode, PublisherError
from ..i18n import t
from . import logs
from .logs import _HANDLER, TEXT_FORMAT, JsonFormatter, use_log_format

# the log handler and its formats live in cli/logs.py; these names stay importable from here
__all__ = ["_HANDLER", "TEXT_FORMAT", "Group", "JsonFormatter", "State", "cli", "main", "use_log_format"]


class State:
    """Options of the top-level command, and the App opened on first use."""

    def __init__(self, config: str | None, actor: str, lang: str | None = None) -> None:
        self.config_path = config
        self.actor = actor
        self.lang = lang  # --lang or PUBLISHER_LANG: wins over display.language
        self._app: App | None = None

    def app(self, ensure_schema: bool = True) -> App:
        if self._app is None:
            self._app = App.open(self.config_path, ensure_schema=ensure_schema)
            self._speak(self._app.config)
        return self._app

    def config(self) -> Config:
        """The validated configuration alone (touches no database)."""
        loaded = config_mod.load(self.config_path)
        self._speak(loaded)
        return loaded

    def _speak(self, loaded: Config) -> None:
        if not self.lang:
            i18n.set_language(loaded.language)
        use_log_format(loaded.daemon["log_format"])

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


# click >= 8.2: "publisher policy" alone shows its help through this UsageError; keep that as it is
_SHOWS_HELP: tuple[type[Exception], ...] = tuple(
    e for e in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if e is not None)


def _usage_error(exc: click.UsageError) -> click.exceptions.Exit:
    """A bad flag or argument, as one line like every other mistake (Click's text, our prefix)."""
    hint = f" ({exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    click.echo(f"{t('cli.error')}: {exc.format_message()}{hint}", err=True)
    return click.exceptions.Exit(int(ExitCode.USAGE))


class Group(click.Group):
    """A group that turns PublisherError into a message and an exit code."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # a bad top-level option, e.g. --lang fr
            if isinstance(exc, _SHOWS_HELP):
                raise
            raise _usage_error(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PublisherError as exc:
            click.echo(f"{t('cli.error')}: {exc}", err=True)
            ctx.exit(int(exc.exit_code))
        except click.UsageError as exc:  # a bad option or argument of a subcommand
            if isinstance(exc, _SHOWS_HELP):
                raise
            raise _usage_error(exc) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"{t('cli.internal_error')}: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(int(ExitCode.INTERNAL))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", envvar="PUBLISHER_CONFIG", metavar="PATH",
              help="Tệp cấu hình / config file (mặc định ./config.toml).")
@click.option("--as", "actor", envvar="PUBLISHER_USER", default=None, metavar="USER",
              help="Người thực hiện, ghi vào nhật ký / who is acting (default: login name).")
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), envvar="PUBLISHER_LANG", default=None,
              help="Ngôn ngữ / language (vi, en).")
@click.option("-v", "--verbose", is_flag=True, help="Ghi nhật ký chi tiết / verbose logging.")
@click.option("--debug", is_flag=True, hidden=True)
@click.version_option(package_name="publisher")
@click.pass_context
def cli(ctx: click.Context, config: str | None, actor: str | None, lang: str | None, verbose: bool,
        debug: bool) -> None:
    """Lập lịch và đăng bài truyền thông chính sách (Trang TTĐT, Fanpage).

    Schedule and publish policy communication to the portal and fanpages.

    \b
    Ví dụ / examples:
      publisher demo
      publisher policy add --code 12/NQ --title "..." --summary "..."
      publisher post new --policy 12/NQ --channel fanpage --at "2026-12-01 08:00"
      publisher run --once
      publisher log --format csv > nhat-ky.csv
    """
    i18n.set_language(lang or "vi")
    logs.install(verbose)
    state = State(config, actor or _login(), lang)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def main() -> None:
    cli(prog_name="publisher")


from . import (  # noqa: E402
    admin,
    campaign,
    channels,
    demo,
    dossier,
    holds,
    ops,
    policies,
    posts,
    render,
    report,
    status,
    user_tokens,
    users,
    web,
)

#: Each module's top-level commands; holds and user_tokens add theirs to the `channels` and `user` groups.
for module in (admin, campaign, channels, demo, dossier, holds, ops, policies, posts, render, report, status,
               user_tokens, users, web):
    for command in module.COMMANDS:
        cli.add_command(command)
