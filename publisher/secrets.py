"""Secrets and the database URL: read from the environment or a file, never shown.

``config.toml`` only names where a secret is (``token_env``/``token_file``);
a database URL with a password must come from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from . import redact
from .errors import ConfigError


def database_url(storage: dict[str, Any], data_dir: Path) -> str:
    url, where = os.environ.get("PUBLISHER_DATABASE_URL") or "", "PUBLISHER_DATABASE_URL"
    if not url and storage["database_url_env"]:
        url, where = os.environ.get(storage["database_url_env"], ""), "storage.database_url_env"
        if not url:
            raise ConfigError("config.env_unset", path=where, name=storage["database_url_env"])
    if url:  # from the environment: may hold a password, never shown
        parse_url(url, where)
        return url
    url = storage["database_url"]
    if not url:
        return f"sqlite:///{data_dir / 'publisher.db'}"
    parsed = parse_url(url, "storage.database_url")
    if parsed.password is not None or any(k.lower() == "password" for k in parsed.query):
        raise ConfigError("config.secret_in_url", path="storage.database_url")
    return url


def parse_url(url: str, where: str) -> URL:
    """A parsed database URL; the error names where it came from, never the URL itself."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError("config.bad_database_url", path=where) from None


def secret(options: dict[str, Any], key: str, path: str) -> str:
    """Resolve ``<key>_env`` / ``<key>_file`` from channel options (never logged).

    A blank value counts as missing: an empty token must not reach a peer.
    """
    if options.get(f"{key}_env"):
        value = os.environ.get(options[f"{key}_env"], "").strip()
        if not value:
            raise ConfigError("config.env_unset", path=f"{path}.{key}_env", name=options[f"{key}_env"])
        return redact.register(value)
    if options.get(f"{key}_file"):
        try:
            value = Path(options[f"{key}_file"]).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError("config.secret_file", path=f"{path}.{key}_file", value=options[f"{key}_file"]) from None
        if not value:
            raise ConfigError("config.secret_empty", path=f"{path}.{key}_file", value=options[f"{key}_file"])
        return redact.register(value)
    raise ConfigError("config.secret_missing", path=f"{path}.{key}_env")
