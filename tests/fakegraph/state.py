"""What the fake Graph API knows: Pages, tokens, posts, photos, faults, usage, the request log.

This is the state behind :mod:`tests.fakegraph` (the HTTP side, and the package
docstring that lists which Graph behaviours are modelled and where they are
documented).  Everything here is plain Python guarded by one re-entrant lock,
so handler threads and the test thread can use it at once.  Nothing here sleeps
or touches a socket: latency, slow answers and connection resets are the HTTP
layer's business; this module only decides *what* the answer is.

:class:`GraphState` itself holds the lock, the settings, the request log and
the snapshots; its rules come from mixins in :mod:`.faults`, :mod:`.tokens`,
:mod:`.usage`, :mod:`.writes` and :mod:`.reads`.

Two clocks are used on purpose:

- ``clock`` (default :func:`time.time`, injectable) is the wall clock the Graph
  API shows: ``created_time``, ``scheduled_publish_time`` checks, token expiry;
- :func:`time.monotonic` measures durations the tests tune in seconds:
  read-after-write ``lag``, the usage window, fault windows, duplicate window.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from .errors import JSON
from .faults import Fault, FaultsMixin
from .reads import ReadsMixin
from .records import DEFAULT_SCOPES, MAX_PHOTO_BYTES, SCHEDULE_MAX_SECONDS, SCHEDULE_MIN_SECONDS, Page, Photo, Post
from .tokens import TokensMixin
from .usage import UsageMixin
from .writes import WritesMixin


class GraphState(FaultsMixin, TokensMixin, UsageMixin, WritesMixin, ReadsMixin):
    """Pages, tokens, posts, photos, faults, usage and the request log, behind one lock."""

    def __init__(self, pages: Mapping[str, Mapping[str, Any]], *, lag: float = 0.0, latency: float = 0.0,
                 duplicate_window: float = 0.0, calls_per_window: int = 10**9, usage_window: float = 3600.0,
                 throttle_code: int = 80001, app_id: str | None = None, app_secret: str | None = None,
                 require_appsecret_proof: bool = False, max_photo_bytes: int = MAX_PHOTO_BYTES,
                 schedule_min: float = SCHEDULE_MIN_SECONDS, schedule_max: float = SCHEDULE_MAX_SECONDS,
                 clock: Callable[[], float] = time.time, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.random = random.Random(seed)
        self.lag = lag
        self.latency = latency
        self.duplicate_window = duplicate_window
        self.calls_per_window = calls_per_window
        self.usage_window = usage_window
        self.throttle_code = throttle_code
        self.app_id = app_id
        self.app_secret = app_secret
        self.require_appsecret_proof = require_appsecret_proof
        self.max_photo_bytes = max_photo_bytes
        self.schedule_min = schedule_min
        self.schedule_max = schedule_max
        self._page_config = {str(k): dict(v) for k, v in pages.items()}
        self.reset()

    # -- configuration -----------------------------------------------------------
    def reset(self) -> None:
        """Back to the start: initial tokens; no posts, photos, faults, usage or log."""
        with self.lock:
            now = self.clock()
            self.pages: dict[str, Page] = {}
            for page_id, conf in self._page_config.items():
                token = str(conf["token"])
                self.pages[page_id] = Page(page_id, str(conf.get("name", f"Page {page_id}")), token,
                                           list(conf.get("scopes", DEFAULT_SCOPES)), token, now)
            self.posts: dict[str, Post] = {}
            self.photos: dict[str, Photo] = {}
            self.faults: list[Fault] = []
            self.log: list[JSON] = []
            self.calls: dict[str, deque[float]] = {}
            self.app_calls: deque[float] = deque()
            self._ids = itertools.count(1)
            self._fault_ids = itertools.count(1)
            self._post_numbers = itertools.count(100000000000001)
            self._photo_numbers = itertools.count(200000000000001)

    def configure(self, **settings: Any) -> None:
        """Change ``lag``, ``latency``, ``duplicate_window``, ``calls_per_window``, ... at run time."""
        allowed = {"lag", "latency", "duplicate_window", "calls_per_window", "usage_window", "throttle_code",
                   "require_appsecret_proof", "max_photo_bytes", "schedule_min", "schedule_max"}
        with self.lock:
            for name, value in settings.items():
                if name not in allowed:
                    raise ValueError(f"unknown setting {name!r} (one of {sorted(allowed)})")
                setattr(self, name, value)

    # -- request log -------------------------------------------------------------------
    def log_request(self, entry: JSON) -> JSON:
        """Add a Graph request to the log (numbered, timed); returns the entry."""
        with self.lock:
            entry["seq"] = next(self._ids)
            entry["time"] = self.clock()
            self.log.append(entry)
            return entry

    def finish_request(self, entry: JSON, **outcome: Any) -> None:
        """Add what became of a logged request (status, page, fault, ...)."""
        with self.lock:
            entry.update(outcome)

    # -- snapshots -------------------------------------------------------------------------
    def posts_snapshot(self, page: str | None = None) -> list[JSON]:
        """Every post (optionally of one page), oldest first."""
        with self.lock:
            now, mono = self.clock(), time.monotonic()
            return [p.record(now, mono) for p in sorted(self.posts.values(), key=lambda p: p.seq)
                    if page is None or p.page_id == str(page)]

    def photos_snapshot(self, page: str | None = None) -> list[JSON]:
        """Every photo (optionally of one page), in upload order."""
        with self.lock:
            mono = time.monotonic()
            return [p.record(mono) for p in self.photos.values() if page is None or p.page_id == str(page)]

    def requests_snapshot(self) -> list[JSON]:
        """Copies of the request log entries, oldest first."""
        with self.lock:
            return [dict(entry) for entry in self.log]
