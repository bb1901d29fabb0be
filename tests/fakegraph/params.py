"""Graph request arguments and formats: times, booleans, ``fields`` lists, paging cursors.

Times are read as unix seconds or ISO 8601 and written as Graph writes them
(``2026-11-29T10:00:00+0000``).  Cursors are opaque to clients; here they are
the url-safe base64 of a post's sort key (shown time, sequence number).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime, timezone

from .errors import err_param

#: Page size of the feed-like edges: 25 unless ``limit`` says otherwise, at most 100.
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def graph_time(ts: float) -> str:
    """Graph's time format: ``2026-11-29T10:00:00+0000``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str, name: str) -> float:
    """A Graph time argument: unix seconds or ISO 8601 (``strtotime`` phrases are not modelled)."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise err_param(f"(#100) The parameter {name} must be a valid unix time or ISO 8601 date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def parse_bool(value: str | None, default: bool, name: str) -> bool:
    """A Graph boolean argument (``true``/``false``/``1``/``0``); *default* if absent."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise err_param(f"(#100) Param {name} must be a boolean")


def encode_cursor(key: tuple[float, int]) -> str:
    """The paging cursor of a post's sort key (shown time, sequence number)."""
    return base64.urlsafe_b64encode(f"{key[0]!r}:{key[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    """The sort key in a paging cursor; code 100 if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, seq = raw.split(":")
        return float(ts), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise err_param("(#100) Invalid cursor") from None


def split_fields(value: str | None, default: Iterable[str]) -> list[str]:
    """Top-level names of a ``fields`` argument (``a,b{c,d},e.limit(1)`` gives a, b, e)."""
    if not value:
        return list(default)
    names, depth, current = [], 0, ""
    for char in value:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and char not in "})":
            current += char
    names.append(current)
    cleaned = [name.split(".")[0].strip() for name in names]
    return [name for name in cleaned if name]
