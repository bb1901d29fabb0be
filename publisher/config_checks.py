"""Checks shared by every configuration table: keys, types, ranges, codes, secrets.

Every failure is a :class:`ConfigError` naming the key path; user text is
escaped so that an error is always one line.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import settings
from .errors import ConfigError
from .models import Setting

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def shown(value: object) -> str:
    """User text as it can be shown in a one-line error: control characters escaped."""
    text = str(value)
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def reject_secrets(table: dict[str, Any], prefix: str) -> None:
    for key, value in table.items():
        path = f"{prefix}{shown(key)}"
        if isinstance(value, dict):
            reject_secrets(value, path + ".")
        elif settings.is_secret_key(key):
            # (not key=: PublisherError's first parameter is already called key)
            raise ConfigError("config.inline_secret", path=path, name=shown(key))


def check_keys(table: dict[str, Any], allowed: set[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError("config.unknown_key", path=f"{prefix}{shown(key)}", allowed=", ".join(sorted(allowed)))


def read_table(table: dict[str, Any], decl: tuple[Setting, ...], prefix: str) -> dict[str, Any]:
    """Every declared key of *table*, checked, with defaults filled in."""
    check_keys(table, {s.key for s in decl}, prefix)
    return {s.key: read_value(table, s, prefix) for s in decl}


def read_value(table: dict[str, Any], s: Setting, prefix: str) -> Any:
    path = prefix + s.key
    if s.key not in table:
        if s.default is None:
            raise ConfigError("config.required", path=path, help=s.help)
        return s.default
    value = table[s.key]
    ok = isinstance(value, s.type) and not (s.type is not bool and isinstance(value, bool))
    if s.type is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if s.type is list and ok and not all(isinstance(item, str) for item in value):
        ok = False  # lists in config.toml are lists of names
    if not ok:
        raise ConfigError("config.wrong_type", path=path, expected=s.type.__name__, got=type(value).__name__)
    if isinstance(value, float) and not math.isfinite(value):  # TOML allows nan and inf
        raise ConfigError("config.not_finite", path=path, value=value)
    if s.choices and value not in s.choices:
        raise ConfigError("config.bad_choice", path=path, value=shown(value), choices=", ".join(s.choices))
    if s.minimum is not None and value < s.minimum:
        raise ConfigError("config.too_small", path=path, value=value, minimum=s.minimum)
    if s.maximum is not None and value > s.maximum:
        raise ConfigError("config.too_large", path=path, value=value, maximum=s.maximum)
    return value


def code(code: str, path: str) -> str:
    if not _CODE.fullmatch(code):
        raise ConfigError("config.bad_code", path=shown(path), value=shown(code))
    return code
