"""The command's logging: one stderr handler, text or JSON lines, every secret redacted.

``daemon.log_format`` picks the format once the configuration is read
(:func:`use_log_format`); until then lines are text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from .. import redact

_HANDLER = "publisher"  # the stderr handler this command installs (not one a host program or pytest added)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message and the extra fields.

    The redacting filter has already rewritten the message; extra fields and
    any traceback are redacted here, value by value (before JSON escaping could
    hide a secret from the match).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": redact.redact(record.getMessage())}
        if record.exc_info:
            entry["exception"] = redact.redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact.redact(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _clean(value)
        return json.dumps(entry, ensure_ascii=False)


def _clean(value: Any) -> Any:
    """An extra field as JSON data, every text in it redacted."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {redact.redact(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return redact.redact(str(value))


def use_log_format(fmt: str) -> None:
    """``daemon.log_format``: "text" (the default) or "json", on the handler this command installed."""
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in logging.getLogger().handlers:
        if handler.get_name() == _HANDLER:
            handler.setFormatter(formatter)


def install(verbose: bool) -> None:
    """Log to stderr as text (DEBUG with --verbose), with every known secret redacted."""
    root = logging.getLogger()
    ours = not root.handlers  # basicConfig adds a handler only to a bare root logger
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr, format=TEXT_FORMAT)
    if ours and root.handlers:  # daemon.log_format applies to it once the config is read (State._speak)
        root.handlers[0].set_name(_HANDLER)
    redact.install()  # no token ever reaches a log line
    if not verbose:  # migrations and the scheduler narrate every step; keep the terminal readable
        for name in ("alembic", "apscheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
