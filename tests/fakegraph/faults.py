"""Injected faults: their kinds, one :class:`Fault`, and the fault list of the state.

A fault strikes the first matching Graph request(s): "before" kinds answer (or
reset) without running the request, "after" kinds run it and then spoil the
answer.  :class:`FaultsMixin` is the part of
:class:`~tests.fakegraph.state.GraphState` that keeps them.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random

from .errors import (
    JSON,
    GraphError,
    err_blocked,
    err_duplicate,
    err_expired,
    err_media,
    err_param,
    err_rate_limit,
    err_service,
    err_unknown,
    status_for,
)

#: Fault kinds and when they strike: "before" answers (or resets) without
#: running the request; "after" runs it (the post IS created) and then spoils
#: the answer.
FAULT_KINDS: dict[str, str] = {
    "5xx_before": "before",
    "code2_before": "before",
    "reset_before": "before",
    "rate_limit": "before",
    "expired_token": "before",
    "blocked": "before",
    "duplicate": "before",
    "invalid": "before",
    "rejected_media": "before",
    "5xx_after": "after",
    "code1_after": "after",
    "slow_after": "after",
    "reset_after": "after",
}



@dataclass
class Fault:
    """One injected fault; see :data:`FAULT_KINDS` and :meth:`GraphState.add_fault`."""

    id: int
    kind: str
    path: str | None
    method: str | None
    times: int | None
    probability: float
    seconds: float
    code: int | None
    subcode: int | None
    message: str | None
    until: float | None  # monotonic; a window fault (``times=None`` with ``seconds``) ends here
    fired: int = 0

    @property
    def phase(self) -> str:
        """``before`` or ``after``: see :data:`FAULT_KINDS`."""
        return FAULT_KINDS[self.kind]

    def active(self, mono: float) -> bool:
        """Still to strike: fired fewer than *times*, and its window (if any) not over."""
        if self.times is not None and self.fired >= self.times:
            return False
        return self.until is None or mono < self.until

    def matches(self, method: str, path: str) -> bool:
        """Aimed at this request (no *path*: every POST, or every *method* request)."""
        if self.path is None:
            return method == (self.method or "POST")
        if self.method is not None and method != self.method:
            return False
        return re.search(self.path, path) is not None

    def error(self) -> GraphError:
        """The answer a 'before' error fault (or a 5xx 'after' fault) gives."""
        kind = self.kind
        if kind == "5xx_before" or kind == "code1_after":
            error = err_unknown()
        elif kind == "code2_before" or kind == "5xx_after":
            error = err_service()
        elif kind == "rate_limit":
            error = err_rate_limit(self.code or 32, math.ceil(self.seconds / 60) if self.seconds else 1)
        elif kind == "expired_token":
            now = time.time()
            error = err_expired(now - 60, now)
        elif kind == "blocked":
            error = err_blocked(self.subcode)
        elif kind == "duplicate":
            error = err_duplicate()
        elif kind == "invalid":
            error = err_param(subcode=self.subcode)
        elif kind == "rejected_media":
            error = err_media(self.code or 324)
        else:
            raise ValueError(f"fault {kind} has no error answer")
        if self.message:
            error.message = self.message
        if self.code is not None and kind not in ("rate_limit", "rejected_media"):
            error.code = self.code
            error.status = status_for(self.code)
        if self.subcode is not None and kind != "blocked":
            error.subcode = self.subcode
        if kind in ("5xx_before", "code2_before", "5xx_after", "code1_after"):
            error.status = 500  # whatever code was asked for, these are server errors
        return error

    def record(self) -> JSON:
        """What ``/_fake/faults`` shows."""
        return {"id": self.id, "kind": self.kind, "path": self.path, "method": self.method, "times": self.times,
                "probability": self.probability, "seconds": self.seconds, "code": self.code,
                "subcode": self.subcode, "message": self.message, "fired": self.fired}


class FaultsMixin:
    """Fault methods of :class:`~tests.fakegraph.state.GraphState`: add, clear, strike, list."""

    lock: threading.RLock
    random: Random
    faults: list[Fault]
    _fault_ids: Iterator[int]

    def add_fault(self, kind: str, path: str | None = None, times: int | None = 1, probability: float = 1.0,
                  seconds: float = 0.0, code: int | None = None, subcode: int | None = None,
                  method: str | None = None, message: str | None = None) -> Fault:
        """Inject a fault; the first active matching fault (in order added) strikes a request."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {sorted(FAULT_KINDS)})")
        if path is not None:
            re.compile(path)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None (forever)")
        until = time.monotonic() + seconds if (times is None and kind == "rate_limit" and seconds > 0) else None
        with self.lock:
            fault = Fault(next(self._fault_ids), kind, path, method.upper() if method else None, times,
                          float(probability), float(seconds), code, subcode, message, until)
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        """Remove every fault."""
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault that strikes this request, if any (counted as fired)."""
        mono = time.monotonic()
        with self.lock:
            for fault in self.faults:
                if fault.active(mono) and fault.matches(method, path):
                    if fault.probability < 1.0 and self.random.random() >= fault.probability:
                        continue
                    fault.fired += 1
                    return fault
        return None

    def faults_snapshot(self) -> list[JSON]:
        """Every fault added since the last clear, with how often it fired."""
        with self.lock:
            return [f.record() for f in self.faults]
