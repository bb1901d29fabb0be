"""The named tables of ``config.toml``: ``[agencies.<code>]`` and ``[channels.<name>]``.

Each table is checked against its declared settings (``settings.AGENCY``;
``settings.CHANNEL`` plus the channel type's own ``options``), then the
channel type's ``validate`` checks what types cannot express.  Relative paths
are made absolute against the config file's folder.  :mod:`.config` calls
:func:`agencies` and :func:`channels` and re-exports :class:`ChannelConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config_checks as checks
from . import resources, settings
from .channels import registry
from .errors import ConfigError
from .models import Agency


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    type: str
    agency: str
    format: str
    enabled: bool
    concurrency: int = 1
    max_per_hour: int = 0  # 0: no limit
    options: dict[str, Any] = field(default_factory=dict)


def agencies(raw: Any, base_dir: Path) -> dict[str, Agency]:
    """The ``[agencies]`` tables (at least one), by code."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("config.no_agencies", path="agencies")
    out = {}
    for code, table in raw.items():
        checks.code(code, f"agencies.{code}")
        if not isinstance(table, dict):
            raise ConfigError("config.not_table", path=f"agencies.{code}")
        values = checks.read_table(table, settings.AGENCY, f"agencies.{code}.")
        out[code] = Agency(code=code, name=values["name"], logo=_logo(values["logo"], base_dir, code))
    return out


def _logo(value: str, base_dir: Path, code: str) -> str:
    path = (base_dir / value) if value else resources.assets() / "logos" / "logo-mau.png"
    if value and not path.is_file():
        raise ConfigError("config.missing_file_key", path=f"agencies.{code}.logo", value=checks.shown(path))
    return str(path)


def channels(raw: Any, agencies: dict[str, Agency], base_dir: Path) -> dict[str, ChannelConfig]:
    """The ``[channels]`` tables, by name; each names a known type and one of *agencies*."""
    if not isinstance(raw, dict):
        raise ConfigError("config.not_table", path="channels")
    return {name: _channel(name, table, agencies, base_dir) for name, table in raw.items()}


def _channel(name: str, table: Any, agencies: dict[str, Agency], base_dir: Path) -> ChannelConfig:
    prefix = f"channels.{checks.code(name, f'channels.{name}')}."
    if not isinstance(table, dict):
        raise ConfigError("config.not_table", path=prefix[:-1])
    kind = table.get("type")
    if not isinstance(kind, str) or kind not in registry.CHANNEL_TYPES:
        raise ConfigError("config.unknown_channel_type", path=prefix + "type", value=checks.shown(kind),
                          choices=", ".join(sorted(registry.CHANNEL_TYPES)))
    options = registry.CHANNEL_TYPES[kind].options
    values = checks.read_table(table, settings.CHANNEL + options, prefix)
    if values["agency"] not in agencies:
        raise ConfigError("config.unknown_agency", path=prefix + "agency", value=checks.shown(values["agency"]),
                          choices=", ".join(sorted(agencies)))
    for s in options:
        if s.is_path and values[s.key]:
            values[s.key] = str(base_dir / values[s.key])  # absolute values stay as they are
    registry.CHANNEL_TYPES[kind].validate(values, prefix[:-1])
    common = {s.key for s in settings.CHANNEL}
    return ChannelConfig(name=name, type=kind, agency=values["agency"], format=values["format"],
                         enabled=values["enabled"], concurrency=values["concurrency"],
                         max_per_hour=values["max_per_hour"],
                         options={k: v for k, v in values.items() if k not in common})
