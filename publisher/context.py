"""The wiring every operation needs: configuration, database, channels.

Built once per process by the faces (CLI, daemon) with :meth:`App.open`,
which validates the configuration, connects, checks the schema revision and
registers the configured agencies.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from . import config as config_mod
from .channels import registry
from .channels.base import Channel
from .config import Config
from .errors import ConfigError
from .service import sync_agencies
from .store import migrate
from .store.engine import make_engine


@dataclass
class App:
    config: Config
    engine: Engine
    _channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def open(cls, config_path: str | os.PathLike[str] | None = None, *, ensure_schema: bool = True) -> App:
        config = config_mod.load(config_path)
        app = cls(config=config, engine=make_engine(config.database_url, config.busy_timeout_ms))
        if ensure_schema:
            migrate.ensure(app.engine)
            sync_agencies(app)
        return app

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def channel(self, name: str) -> Channel:
        """The channel object for *name* (built on first use)."""
        if name not in self._channels:
            spec = self.config.channels.get(name)
            if spec is None:
                raise ConfigError("config.unknown_channel", path=f"channels.{name}",
                                  choices=", ".join(sorted(self.config.channels)))
            self._channels[name] = registry.build(name, spec.type, spec.options, self.data_dir)
        return self._channels[name]

    def enabled_channels(self) -> list[str]:
        return [name for name, spec in self.config.channels.items() if spec.enabled]

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self.engine.dispose()


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
