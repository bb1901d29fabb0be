"""The Channel interface.

A channel publishes one frozen delivery to one place and knows nothing of the
store, the queue or the CLI.  It maps every transport and remote error to the
tree in :mod:`publisher.errors` at its boundary, and nowhere else:

- ``publish(delivery)`` returns a :class:`Receipt` or raises a PublishError;
- ``find(delivery, since)`` looks for a delivery that may already be published
  (after an ambiguous failure or a worker crash) and returns its receipt;
- ``check()`` reports whether the channel can publish now (credentials...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ..errors import PermanentError
from ..models import Delivery, Health, Receipt, Setting, utcnow


class Channel(ABC):
    """Base class of every channel kind."""

    #: The ``type`` written in config.toml.
    type: ClassVar[str]
    #: Options of this kind, validated by config.py like every other setting.
    options: ClassVar[tuple[Setting, ...]] = ()

    @classmethod
    def validate(cls, options: dict[str, Any], path: str) -> None:
        """Checks across options that their types cannot express (raise ConfigError)."""

    def __init__(self, name: str, options: dict[str, Any], data_dir: Path) -> None:
        self.name = name
        self.settings = options
        self.data_dir = data_dir
        self.clock: Callable[[], datetime] = utcnow  # tests move time without sleeping

    def media_path(self, relative: str) -> Path:
        """Absolute path of a frozen media file of a delivery."""
        return self.data_dir / relative

    @abstractmethod
    def publish(self, delivery: Delivery) -> Receipt:
        """Publish *delivery*; raise a PublishError subclass on failure."""

    @abstractmethod
    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        """The receipt of *delivery* if it was already published, else None."""

    @abstractmethod
    def check(self) -> Health:
        """Whether this channel can publish now."""

    def unschedule(self, delivery: Delivery) -> None:
        """Delete a post this channel handed to the peer's own scheduler (see native scheduling)."""
        raise PermanentError(f"channel {self.name} cannot cancel a scheduled post")

    def close(self) -> None:
        """Release connections; called when the process stops."""
