"""Reading a webhook receiver's answer: a value at a dotted JSON path, its message, its Retry-After.

A receiver is a portal's own API: its JSON may be anything, or not JSON at
all.  These helpers never raise on a strange answer: a value that is not
there is None, a message falls back to the text or the HTTP reason.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

#: Where receivers commonly put their error message, most specific first.
MESSAGE_PATHS = ("message", "error.message", "error", "detail", "title")


def at(value: Any, path: str) -> str | None:
    """The scalar at dotted *path* (``data.items.0.id``) as text, or None."""
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return None if value is None or value == "" or isinstance(value, (dict, list)) else str(value)


def json_of(response: requests.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def message(response: requests.Response, answer: Any = None) -> str:
    """The receiver's own words about a refusal (cut short), else its text or the HTTP reason."""
    answer = json_of(response) if answer is None else answer
    found = next(filter(None, (at(answer, p) for p in MESSAGE_PATHS)), "")
    return found[:500] or response.text.strip()[:300] or response.reason or "no message"


def retry_at(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if value and value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
