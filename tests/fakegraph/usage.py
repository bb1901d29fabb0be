"""Call counting and Meta's usage headers: X-App-Usage, X-Business-Use-Case-Usage, the Page throttle.

Usage percentages grow linearly with the calls made in the last
``usage_window`` seconds per ``calls_per_window`` (Meta's real quota depends on
engaged users); past it a Page is throttled with ``throttle_code``.
:class:`UsageMixin` is that part of :class:`~tests.fakegraph.state.GraphState`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque

from .errors import JSON, err_rate_limit
from .records import Page


class UsageMixin:
    """Usage methods of :class:`~tests.fakegraph.state.GraphState`."""

    lock: threading.RLock
    pages: dict[str, Page]
    calls: dict[str, deque[float]]
    app_calls: deque[float]
    calls_per_window: int
    usage_window: float
    throttle_code: int

    def _trim(self, calls: deque[float], mono: float) -> None:
        """Drop the calls older than the usage window."""
        while calls and calls[0] <= mono - self.usage_window:
            calls.popleft()

    def record_call(self, page_id: str | None) -> None:
        """Count one Graph call against the app and (if known) the page."""
        mono = time.monotonic()
        with self.lock:
            self.app_calls.append(mono)
            if page_id is not None:
                self.calls.setdefault(page_id, deque()).append(mono)

    def page_percent(self, page_id: str) -> int:
        """The page's ``call_count`` percentage in the current window."""
        mono = time.monotonic()
        with self.lock:
            calls = self.calls.get(page_id, deque())
            self._trim(calls, mono)
            return min(100, (100 * len(calls)) // max(1, self.calls_per_window))

    def check_throttle(self, page_id: str) -> None:
        """Raise the page-level throttle once its calls in the window pass ``calls_per_window``."""
        mono = time.monotonic()
        with self.lock:
            calls = self.calls.get(page_id, deque())
            self._trim(calls, mono)
            if len(calls) > self.calls_per_window:
                excess = len(calls) - self.calls_per_window
                frees_at = calls[excess - 1] + self.usage_window
                raise err_rate_limit(self.throttle_code, math.ceil((frees_at - mono) / 60))

    def usage_headers(self, page_id: str | None, regain_minutes: int = 0) -> dict[str, str]:
        """``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (percentages; 100 while throttled)."""
        mono = time.monotonic()
        with self.lock:
            self._trim(self.app_calls, mono)
            app_cap = max(1, self.calls_per_window * max(1, len(self.pages)))
            app = min(100, (100 * len(self.app_calls)) // app_cap)
            page = self.page_percent(page_id) if page_id is not None else 0
        if regain_minutes > 0:
            app = page = 100
        app_usage = {"call_count": app, "total_cputime": app // 2, "total_time": (app * 3) // 4}
        buc: JSON = {}
        if page_id is not None:
            buc[page_id] = [{"type": "pages", "call_count": page, "total_cputime": page // 2,
                             "total_time": (page * 3) // 4, "estimated_time_to_regain_access": regain_minutes}]
        return {"X-App-Usage": json.dumps(app_usage), "X-Business-Use-Case-Usage": json.dumps(buc)}
