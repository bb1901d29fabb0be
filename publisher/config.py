"""Load and validate ``config.toml``.

The file is found as: ``--config PATH``, else ``$PUBLISHER_CONFIG``, else
``./config.toml``, else the built-in defaults.  Every problem is a
:class:`ConfigError` naming the key path; nothing is touched before the whole
file is valid.  Secrets are never read from the file: a key such as ``token``
must be written ``token_env = "NAME"`` or ``token_file = "path"``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from . import resources, settings
from .channels import registry
from .errors import ConfigError
from .models import Agency, Setting
from .render.text import template_name
from .retry import RetryPolicy

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    type: str
    agency: str
    format: str
    enabled: bool
    options: dict[str, Any] = field(default_factory=dict)


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
    _reject_secrets(raw, "")
    _check_keys(raw, set(settings.SECTIONS) | {"agencies", "channels"}, "")
    sec = {name: _section(raw, name, decl) for name, decl in settings.SECTIONS.items()}
    agencies = _agencies(raw.get("agencies", {}))
    channels = _channels(raw.get("channels", {}), agencies, base_dir)
    data_dir = base_dir / sec["storage"]["data_dir"]
    # a folder the user named must exist; the built-in defaults' "templates" may be absent here
    explicit_dir = path is not None and isinstance(raw.get("templates"), dict) and "dir" in raw["templates"]
    template_dirs = _template_dirs(sec["templates"]["dir"], base_dir, explicit=explicit_dir)
    config = Config(
        path=path,
        base_dir=base_dir,
        data_dir=data_dir,
        database_url=_database_url(sec["storage"], data_dir),
        timezone=_zone(sec["display"]["timezone"]),
        language=sec["display"]["language"],
        daemon=sec["daemon"],
        retry=RetryPolicy(**sec["retry"]),
        template_dirs=template_dirs,
        default_template=sec["templates"]["default"],
        agencies=agencies,
        channels=channels,
        busy_timeout_ms=sec["storage"]["busy_timeout_ms"],
    )
    _check_templates(config)
    return config


def _shown(value: object) -> str:
    """User text as it can be shown in a one-line error: control characters escaped."""
    text = str(value)
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _reject_secrets(table: dict[str, Any], prefix: str) -> None:
    for key, value in table.items():
        path = f"{prefix}{_shown(key)}"
        if isinstance(value, dict):
            _reject_secrets(value, path + ".")
        elif settings.is_secret_key(key):
            # (not key=: PublisherError's first parameter is already called key)
            raise ConfigError("config.inline_secret", path=path, name=_shown(key))


def _check_keys(table: dict[str, Any], allowed: set[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError("config.unknown_key", path=f"{prefix}{_shown(key)}", allowed=", ".join(sorted(allowed)))


def _section(raw: dict[str, Any], name: str, decl: tuple[Setting, ...]) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError("config.not_table", path=name)
    return _values(table, decl, f"{name}.")


def _values(table: dict[str, Any], decl: tuple[Setting, ...], prefix: str) -> dict[str, Any]:
    _check_keys(table, {s.key for s in decl}, prefix)
    return {s.key: _value(table, s, prefix) for s in decl}


def _value(table: dict[str, Any], s: Setting, prefix: str) -> Any:
    path = prefix + s.key
    if s.key not in table:
        if s.default is None:
            raise ConfigError("config.required", path=path, help=s.help)
        return s.default
    value = table[s.key]
    ok = isinstance(value, s.type) and not (s.type is not bool and isinstance(value, bool))
    if s.type is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError("config.wrong_type", path=path, expected=s.type.__name__, got=type(value).__name__)
    if isinstance(value, float) and not math.isfinite(value):  # TOML allows nan and inf
        raise ConfigError("config.not_finite", path=path, value=value)
    if s.choices and value not in s.choices:
        raise ConfigError("config.bad_choice", path=path, value=_shown(value), choices=", ".join(s.choices))
    if s.minimum is not None and value < s.minimum:
        raise ConfigError("config.too_small", path=path, value=value, minimum=s.minimum)
    return value


def _code(code: str, path: str) -> str:
    if not _CODE.fullmatch(code):
        raise ConfigError("config.bad_code", path=_shown(path), value=_shown(code))
    return code


def _agencies(raw: Any) -> dict[str, Agency]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("config.no_agencies", path="agencies")
    out = {}
    for code, table in raw.items():
        _code(code, f"agencies.{code}")
        if not isinstance(table, dict):
            raise ConfigError("config.not_table", path=f"agencies.{code}")
        out[code] = Agency(code=code, name=_values(table, settings.AGENCY, f"agencies.{code}.")["name"])
    return out


def _channels(raw: Any, agencies: dict[str, Agency], base_dir: Path) -> dict[str, ChannelConfig]:
    if not isinstance(raw, dict):
        raise ConfigError("config.not_table", path="channels")
    return {name: _channel(name, table, agencies, base_dir) for name, table in raw.items()}


def _channel(name: str, table: Any, agencies: dict[str, Agency], base_dir: Path) -> ChannelConfig:
    prefix = f"channels.{_code(name, f'channels.{name}')}."
    if not isinstance(table, dict):
        raise ConfigError("config.not_table", path=prefix[:-1])
    kind = table.get("type")
    if not isinstance(kind, str) or kind not in registry.CHANNEL_TYPES:
        raise ConfigError("config.unknown_channel_type", path=prefix + "type", value=_shown(kind),
                          choices=", ".join(sorted(registry.CHANNEL_TYPES)))
    options = registry.CHANNEL_TYPES[kind].options
    values = _values(table, settings.CHANNEL + options, prefix)
    if values["agency"] not in agencies:
        raise ConfigError("config.unknown_agency", path=prefix + "agency", value=_shown(values["agency"]),
                          choices=", ".join(sorted(agencies)))
    for s in options:
        if s.is_path and values[s.key]:
            values[s.key] = str(base_dir / values[s.key])  # absolute values stay as they are
    common = {s.key for s in settings.CHANNEL}
    return ChannelConfig(name=name, type=kind, agency=values["agency"], format=values["format"],
                         enabled=values["enabled"], options={k: v for k, v in values.items() if k not in common})


def _database_url(storage: dict[str, Any], data_dir: Path) -> str:
    url, where = os.environ.get("PUBLISHER_DATABASE_URL") or "", "PUBLISHER_DATABASE_URL"
    if not url and storage["database_url_env"]:
        url, where = os.environ.get(storage["database_url_env"], ""), "storage.database_url_env"
        if not url:
            raise ConfigError("config.env_unset", path=where, name=storage["database_url_env"])
    if url:  # from the environment: may hold a password, never shown
        _parse_url(url, where)
        return url
    url = storage["database_url"]
    if not url:
        return f"sqlite:///{data_dir / 'publisher.db'}"
    parsed = _parse_url(url, "storage.database_url")
    if parsed.password is not None or any(k.lower() == "password" for k in parsed.query):
        raise ConfigError("config.secret_in_url", path="storage.database_url")
    return url


def _parse_url(url: str, where: str) -> URL:
    """A parsed database URL; the error names where it came from, never the URL itself."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError("config.bad_database_url", path=where) from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("config.bad_timezone", path="display.timezone", value=_shown(name)) from None


def _template_dirs(folder: str, base_dir: Path, explicit: bool) -> tuple[Path, ...]:
    """The user's folder (if any) before the built-in one; a folder named but missing is an error."""
    user = (base_dir / folder).resolve()
    builtin = resources.builtin_templates().resolve()
    if not user.is_dir():
        if explicit:
            raise ConfigError("config.missing_dir", path="templates.dir", value=_shown(user))
        return (builtin,)
    return (user,) if user == builtin else (user, builtin)


def _check_templates(config: Config) -> None:
    formats = {c.format for c in config.channels.values()} or {"portal"}
    for fmt in sorted(formats):
        if template_name(config.template_dirs, config.default_template, fmt) is None:
            raise ConfigError("config.missing_template", path="templates.default",
                              value=_shown(config.default_template), format=fmt)


def secret(options: dict[str, Any], key: str, path: str) -> str:
    """Resolve ``<key>_env`` / ``<key>_file`` from channel options (never logged).

    A blank value counts as missing: an empty token must not reach a peer.
    """
    if options.get(f"{key}_env"):
        value = os.environ.get(options[f"{key}_env"], "").strip()
        if not value:
            raise ConfigError("config.env_unset", path=f"{path}.{key}_env", name=options[f"{key}_env"])
        return value
    if options.get(f"{key}_file"):
        try:
            value = Path(options[f"{key}_file"]).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError("config.secret_file", path=f"{path}.{key}_file", value=options[f"{key}_file"]) from None
        if not value:
            raise ConfigError("config.secret_empty", path=f"{path}.{key}_file", value=options[f"{key}_file"])
        return value
    raise ConfigError("config.secret_missing", path=f"{path}.{key}_env")
