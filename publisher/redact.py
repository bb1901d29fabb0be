"""Keep secrets out of logs, errors and the database.

Every secret publisher resolves (tokens, passwords) is registered here; the
dispatcher redacts error texts before storing them and the CLI installs
:class:`RedactingFilter` on its log handlers, so even a peer that echoes a
token back in an error message cannot leak it.
"""

from __future__ import annotations

import logging
import threading

_MIN_LENGTH = 6  # shorter "secrets" would redact ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()


def register(secret: str) -> str:
    """Remember *secret* so it is never shown; returns it unchanged."""
    if len(secret) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(secret)
    return secret


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with every known secret replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = redact(message), ()
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of *logger* (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
