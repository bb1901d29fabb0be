"""The error tree and the exit codes.

Two families, never mixed::

    PublisherError              a person's mistake or a refused operation;
    ├── UserError       (2)     rendered in their language by the face
    │   ├── ConfigError         bad config.toml / environment (names the key path)
    │   └── InputError          bad flag, TOML input file, template variable
    ├── NotFound        (3)
    ├── StateError      (4)     illegal transition, self-approval
    ├── SchemaError     (5)     database older/newer than this program
    └── StorageError    (6)     database unreachable

    PublishError                raised by channels only, mapped at their boundary
    ├── TransientError          safe to retry (nothing reached the peer)
    │   └── RateLimited         retry at ``retry_at``
    ├── AmbiguousError          may have been published: reconcile with find()
    └── PermanentError          retrying cannot help
        ├── AuthError           token expired/revoked: staff must renew it
        └── ContentRejected     the peer refused the content
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from .i18n import t


class ExitCode(IntEnum):
    """Named process exit codes (see README)."""

    OK = 0
    FAILED = 1  # the command ran but some work failed (e.g. a delivery)
    USAGE = 2  # bad config, flags or input files
    NOT_FOUND = 3
    CONFLICT = 4
    SCHEMA = 5
    UNAVAILABLE = 6
    INTERNAL = 70


class PublisherError(Exception):
    """An error shown to a person: a message key plus parameters."""

    exit_code = ExitCode.FAILED

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return t(self.key, **self.params)


class UserError(PublisherError):
    exit_code = ExitCode.USAGE


class ConfigError(UserError):
    """Invalid configuration; ``params['path']`` names the key path."""


class InputError(UserError):
    """Invalid flags, input files or template variables."""


class NotFound(PublisherError):
    exit_code = ExitCode.NOT_FOUND


class StateError(PublisherError):
    exit_code = ExitCode.CONFLICT


class SchemaError(PublisherError):
    exit_code = ExitCode.SCHEMA


class StorageError(PublisherError):
    exit_code = ExitCode.UNAVAILABLE


class PublishError(Exception):
    """A channel failed to publish; ``str()`` is safe to store (already redacted)."""

    outcome = "error"


class TransientError(PublishError):
    outcome = "transient"


class RateLimited(TransientError):
    outcome = "rate_limited"

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AmbiguousError(PublishError):
    outcome = "ambiguous"


class PermanentError(PublishError):
    outcome = "permanent"


class AuthError(PermanentError):
    outcome = "auth"


class ContentRejected(PermanentError):
    outcome = "rejected"
