"""Graph API errors and usage headers, classified in one table.

=============================================  =====================  ==========================
Graph error (code / subcode)                   class                  what happens
=============================================  =====================  ==========================
any write answered HTTP 5xx (checked first)    AmbiguousError         find() before any retry
4, 17, 32, 341, 613, 80001; 368/1390008        RateLimited            waits until the time given
                                                                      (usage headers) or backoff
1, 2 (unknown / service unavailable)           AmbiguousError         find() before any retry
190 (any subcode), 10, 200–299                 AuthError              waits for a renewed token
100, 324, 506 (duplicate), 1609005             ContentRejected        failed, Graph message shown
368 (other subcodes: posting blocked)          PermanentError         failed
anything else, HTTP 4xx                        PermanentError         failed
=============================================  =====================  ==========================

A read (``find``, ``check``) never gets AmbiguousError: reads change nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import (
    AmbiguousError,
    AuthError,
    ContentRejected,
    PermanentError,
    PublishError,
    RateLimited,
    TransientError,
)

THROTTLING = frozenset({4, 17, 32, 341, 613, 80001})
THROTTLING_SUBCODES = {368: frozenset({1390008})}
SERVER = frozenset({1, 2})
AUTH = frozenset({190, 10, *range(200, 300)})
CONTENT = frozenset({100, 324, 506, 1609005})


@dataclass(frozen=True)
class GraphError:
    status: int
    code: int | None
    subcode: int | None
    message: str


def parse_error(status: int, text: str) -> GraphError:
    try:
        error = json.loads(text).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    return GraphError(status, _int(error.get("code")), _int(error.get("error_subcode")),
                      str(error.get("message") or text[:200] or f"HTTP {status}"))


def classify(error: GraphError, *, write: bool, now: datetime, regain_seconds: float = 0) -> PublishError:
    """The PublishError for *error* (the one table above, in code)."""
    text = f"Graph error {error.code}{'/' + str(error.subcode) if error.subcode else ''}: {error.message}"
    code = error.code
    if write and error.status >= 500:  # whatever the code says, the server may have done the work
        return AmbiguousError(text)
    if code in THROTTLING or error.subcode in THROTTLING_SUBCODES.get(code or 0, ()):
        return RateLimited(text, retry_at=now + timedelta(seconds=regain_seconds) if regain_seconds else None)
    if code in AUTH:
        return AuthError(f"{text} — renew the Page access token (token_env / token_file)")
    if code in CONTENT:
        return ContentRejected(text)
    if code in SERVER or error.status >= 500:
        return AmbiguousError(text) if write else TransientError(text)
    return PermanentError(text)


@dataclass(frozen=True)
class Usage:
    percent: float  # the highest of every usage figure reported for the app and this Page
    regain_seconds: float  # how long Meta says until access is regained (0: not blocked)


def usage(headers: Any, page_id: str) -> Usage:
    """Usage from ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (missing or bad: 0)."""
    figures: list[float] = []
    regain = 0.0
    app = _json(headers.get("X-App-Usage"))
    if isinstance(app, dict):
        figures += [_num(app.get(k)) for k in ("call_count", "total_time", "total_cputime")]
    buc = _json(headers.get("X-Business-Use-Case-Usage"))
    for entry in (buc.get(page_id, []) if isinstance(buc, dict) else []):
        if isinstance(entry, dict):
            figures += [_num(entry.get(k)) for k in ("call_count", "total_time", "total_cputime")]
            regain = max(regain, _num(entry.get("estimated_time_to_regain_access")) * 60)
    return Usage(max(figures, default=0.0), regain)


def _json(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
