"""``publisher config check`` and ``publisher db upgrade|current``."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from ..i18n import t
from ..settings import is_secret_key
from ..store import migrate
from .output import dump


@click.group("config")
def config() -> None:
    """Cấu hình / configuration.

    Example: publisher config check
    """


def shown_url(url: str) -> str:
    """The database URL without its password, in the user part or the query."""
    parsed = make_url(url)
    hidden = {k: "***" for k in parsed.query if is_secret_key(k)}
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True)


@config.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def check(state, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Kiểm tra cấu hình và in những gì sẽ dùng / validate and show the configuration.

    Exit code 2 and the key path on any mistake; nothing is changed.
    Example: publisher --config /etc/publisher/config.toml config check
    """
    cfg = state.config()
    summary = {
        "config_file": str(cfg.path) if cfg.path else t("config.builtin"),
        "database": shown_url(cfg.database_url),
        "data_dir": str(cfg.data_dir),
        "timezone": cfg.timezone.key,
        "language": cfg.language,
        "template_dirs": [str(d) for d in cfg.template_dirs],
        "default_template": cfg.default_template,
        "agencies": {a.code: a.name for a in cfg.agencies.values()},
        "channels": {c.name: {"type": c.type, "agency": c.agency, "format": c.format, "enabled": c.enabled}
                     for c in cfg.channels.values()},
    }
    if as_json:
        dump(summary)
        return
    click.echo(t("config.valid"))
    for key, value in summary.items():
        if isinstance(value, dict):
            click.echo(f"{t('config.' + key)}:")
            for name, detail in value.items():
                click.echo(f"  {name}: {detail}")
        else:
            click.echo(f"{t('config.' + key)}: {value}")


@click.group("db")
def db() -> None:
    """Cơ sở dữ liệu / database schema.

    \b
    Ví dụ / examples:
      publisher db current
      publisher db upgrade
    """


@db.command("upgrade")
@click.pass_obj
def upgrade(state) -> None:  # type: ignore[no-untyped-def]
    """Nâng cấp lược đồ CSDL / create or upgrade the schema (back it up first).

    Example: publisher --config /etc/publisher/config.toml db upgrade
    """
    app = state.app(ensure_schema=False)
    before, after = migrate.upgrade(app.engine)
    if before == after:
        click.echo(t("db.up_to_date", revision=after))
    else:
        click.echo(t("db.upgraded", before=before or "-", after=after))


@db.command("current")
@click.pass_obj
def current(state) -> None:  # type: ignore[no-untyped-def]
    """Phiên bản lược đồ hiện tại / the schema revision of the database.

    Example: publisher db current
    """
    app = state.app(ensure_schema=False)
    click.echo(t("db.current", current=migrate.current(app.engine) or "-", head=migrate.head()))


COMMANDS = [config, db]
