"""The ``[web]`` section of config.toml, and the secret that signs session cookies.

``config.load`` checks the ``[web]`` table with every other section; here its
values become typed options.  The secret itself never sits in config.toml:
``secret_env`` names an environment variable, ``secret_file`` a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import redact
from ..config import Config
from ..errors import ConfigError

#: Shorter secrets are refused: the cookie signature is only as strong as its key.
MIN_SECRET = 32
#: The rate limit's window; login_attempts counts failures inside it.
LOGIN_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class WebOptions:
    """The checked ``[web]`` values, paths made absolute."""

    host: str
    port: int
    secret_env: str
    secret_file: Path | None
    session_hours: float
    login_attempts: int
    workers: int = 1

    @property
    def session_seconds(self) -> int:
        return int(self.session_hours * 3600)


def web_options(config: Config) -> WebOptions:
    """The ``[web]`` options of *config* (defaults when the table is absent)."""
    values = config.web
    secret_file = config.base_dir / values["secret_file"] if values["secret_file"] else None
    return WebOptions(host=values["host"], port=values["port"], secret_env=values["secret_env"],
                      secret_file=secret_file, session_hours=values["session_hours"],
                      login_attempts=values["login_attempts"], workers=values["workers"])


def session_secret(options: WebOptions) -> str:
    """The signing secret: the environment variable first, else the file; a clear ConfigError otherwise."""
    value = os.environ.get(options.secret_env, "").strip() if options.secret_env else ""
    where = "web.secret_env"
    if not value and options.secret_file is not None:
        value, where = _read_secret_file(options.secret_file), "web.secret_file"
    if not value:  # both ways named, so the person knows what to do without reading the README
        raise ConfigError("web.no_secret", path="web.secret_env", name=options.secret_env or "PUBLISHER_WEB_SECRET")
    if len(value) < MIN_SECRET:
        raise ConfigError("web.short_secret", path=where, minimum=MIN_SECRET)
    return redact.register(value)  # never in a log line, even by accident


def _read_secret_file(path: Path) -> str:
    """The file's text, stripped; an unreadable or empty file is named, never silently skipped."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError("config.secret_file", path="web.secret_file", value=str(path)) from None
    if not value:
        raise ConfigError("config.secret_empty", path="web.secret_file", value=str(path))
    return value
