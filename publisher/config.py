"""Load and validate ``config.toml``.

The file is found as: ``--config PATH``, else ``$PUBLISHER_CONFIG``, else
``./config.toml``, else the built-in defaults.  Every problem is a
:class:`ConfigError` naming the key path; nothing is touched before the whole
file is valid.  Secrets are never read from the file: a key such as ``token``
must be written ``token_env = "NAME"`` or ``token_file = "path"``.

The ``[agencies]`` and ``[channels]`` tables are read in ``config_tables.py``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import config_checks as checks
from . import config_tables, resources, secrets, settings
from .config_tables import ChannelConfig  # also imported from here by its users
from .errors import ConfigError
from .models import Agency, Setting
from .render.text import template_name
from .retry import RetryPolicy


@dataclass(frozen=True)
class Config:
    path: Path | None  # None: the built-in defaults
    base_dir: Path
    data_dir: Path
    database_url: str
    timezone: ZoneInfo
    language: str
    daemon: dict[str, Any]
    retry: RetryPolicy
    template_dirs: tuple[Path, ...]
    default_template: str
    agencies: dict[str, Agency]
    channels: dict[str, ChannelConfig]
    busy_timeout_ms: int = 10000
    campaign: dict[str, Any] = field(default_factory=dict)
    posts: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    web: dict[str, Any] = field(default_factory=dict)


def locate(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use, or None for the built-in defaults."""
    chosen = explicit or os.environ.get("PUBLISHER_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError("config.missing_file", path=str(path))
        return path
    local = Path.cwd() / "config.toml"
    return local if local.is_file() else None


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Find, parse and validate the configuration."""
    path = locate(explicit)
    source = path or resources.default_config()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.syntax", path=str(source), detail=str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config.unreadable", path=str(source), detail=str(exc)) from None
    base_dir = (path.parent if path else Path.cwd()).resolve()
    return build(raw, path, base_dir)


def build(raw: dict[str, Any], path: Path | None, base_dir: Path) -> Config:
    """Validate parsed TOML into a :class:`Config` (raises ConfigError)."""
    checks.reject_secrets(raw, "")
    checks.check_keys(raw, set(settings.SECTIONS) | {"agencies", "channels"}, "")
    sec = {name: _section(raw, name, decl) for name, decl in settings.SECTIONS.items()}
    agencies = config_tables.agencies(raw.get("agencies", {}), base_dir)
    channels = config_tables.channels(raw.get("channels", {}), agencies, base_dir)
    data_dir = base_dir / sec["storage"]["data_dir"]
    # a folder the user named must exist; the built-in defaults' "templates" may be absent here
    explicit_dir = path is not None and isinstance(raw.get("templates"), dict) and "dir" in raw["templates"]
    template_dirs = _template_dirs(sec["templates"]["dir"], base_dir, explicit=explicit_dir)
    config = Config(
        path=path,
        base_dir=base_dir,
        data_dir=data_dir,
        database_url=secrets.database_url(sec["storage"], data_dir),
        timezone=_zone(sec["display"]["timezone"]),
        language=sec["display"]["language"],
        daemon=sec["daemon"],
        retry=RetryPolicy(**sec["retry"]),
        template_dirs=template_dirs,
        default_template=sec["templates"]["default"],
        agencies=agencies,
        channels=channels,
        busy_timeout_ms=sec["storage"]["busy_timeout_ms"],
        campaign={**sec["campaign"], "publish_time": _time_of_day(sec["campaign"]["publish_time"])},
        posts=sec["posts"],
        audit=sec["audit"],
        web=sec["web"],
    )
    _check_templates(config)
    return config


def _section(raw: dict[str, Any], name: str, decl: tuple[Setting, ...]) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError("config.not_table", path=name)
    return checks.read_table(table, decl, f"{name}.")


def _time_of_day(value: str) -> time:
    try:
        return datetime.strptime(value.strip(), "%H:%M").time()
    except ValueError:
        raise ConfigError("config.bad_time_of_day", path="campaign.publish_time", value=checks.shown(value)) from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("config.bad_timezone", path="display.timezone", value=checks.shown(name)) from None


def _template_dirs(folder: str, base_dir: Path, explicit: bool) -> tuple[Path, ...]:
    """The user's folder (if any) before the built-in one; a folder named but missing is an error."""
    user = (base_dir / folder).resolve()
    builtin = resources.builtin_templates().resolve()
    if not user.is_dir():
        if explicit:
            raise ConfigError("config.missing_dir", path="templates.dir", value=checks.shown(user))
        return (builtin,)
    return (user,) if user == builtin else (user, builtin)


def _check_templates(config: Config) -> None:
    formats = {c.format for c in config.channels.values()} or {"portal"}
    for fmt in sorted(formats):
        if template_name(config.template_dirs, config.default_template, fmt) is None:
            raise ConfigError("config.missing_template", path="templates.default",
                              value=checks.shown(config.default_template), format=fmt)


#: Channel secrets are resolved here too, so callers need only this module.
secret = secrets.secret
