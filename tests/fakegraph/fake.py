"""``FakeGraph``: the fake Graph API served from a thread, and what a test calls on it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from .errors import JSON
from .faults import Fault
from .handler import DEFAULT_VERSION, Handler
from .server import Server
from .state import GraphState


class FakeGraph:
    """The fake Graph API server; ``with FakeGraph(pages=...) as fake: ... fake.url``.

    *pages* maps a page id to ``{"name", "token"[, "scopes"]}``.  Every other
    argument is described in :class:`tests.fakegraph.state.GraphState`
    (``latency`` and ``lag`` in seconds; ``duplicate_window`` 0 = off;
    ``calls_per_window`` per ``usage_window`` seconds before the page throttles
    with ``throttle_code``; ``app_id``/``app_secret`` for ``appsecret_proof``
    and ``debug_token``; ``clock`` the wall clock Graph shows).
    """

    def __init__(self, pages: Mapping[str, Mapping[str, Any]], *, latency: float = 0.0, lag: float = 0.0,
                 duplicate_window: float = 0.0, calls_per_window: int = 10**9, usage_window: float = 3600.0,
                 throttle_code: int = 80001, app_id: str | None = None, app_secret: str | None = None,
                 require_appsecret_proof: bool = False, max_photo_bytes: int = 4 * 1024 * 1024,
                 schedule_min: float = 600.0, schedule_max: float = 30 * 86400.0,
                 clock: Callable[[], float] = time.time, seed: int | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = GraphState(pages, lag=lag, latency=latency, duplicate_window=duplicate_window,
                                calls_per_window=calls_per_window, usage_window=usage_window,
                                throttle_code=throttle_code, app_id=app_id, app_secret=app_secret,
                                require_appsecret_proof=require_appsecret_proof, max_photo_bytes=max_photo_bytes,
                                schedule_min=schedule_min, schedule_max=schedule_max, clock=clock, seed=seed)
        self._address = (host, port)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeGraph:
        """Bind (a free port unless one was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._server = Server(self._address, self.state, Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fakegraph:{self._server.server_address[1]}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and sleeping answers, free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        with server.connections_lock:
            for conn in list(server.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGraph:
        """Start; the block runs against :attr:`url`."""
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop, whatever happened in the block."""
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeGraph is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def graph_url(self, version: str = DEFAULT_VERSION) -> str:
        """``http://127.0.0.1:PORT/v26.0`` — what a client puts before ``/{page}/feed``."""
        return f"{self.url}/{version}"

    # -- settings ------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds every Graph call waits before it is handled."""
        return self.state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        """Set :attr:`latency` while running."""
        self.state.configure(latency=seconds)

    @property
    def lag(self) -> float:
        """Seconds before reads see a new post or photo."""
        return self.state.lag

    @lag.setter
    def lag(self, seconds: float) -> None:
        """Set :attr:`lag` while running."""
        self.state.configure(lag=seconds)

    def configure(self, **settings: Any) -> None:
        """Change lag, latency, duplicate_window, calls_per_window, ... while running."""
        self.state.configure(**settings)

    # -- faults and tokens -------------------------------------------------------------------
    def add_fault(self, kind: str, path: str | None = None, times: int | None = 1, probability: float = 1.0,
                  seconds: float = 0.0, code: int | None = None, subcode: int | None = None,
                  method: str | None = None, message: str | None = None) -> Fault:
        """Inject a fault.

        *kind*: ``5xx_before``, ``code2_before``, ``reset_before``, ``rate_limit``,
        ``expired_token``, ``blocked``, ``duplicate``, ``invalid``,
        ``rejected_media`` (answer without running the request), or
        ``5xx_after``, ``code1_after``, ``slow_after``, ``reset_after`` (run it,
        then spoil the answer).  *path*: a regex searched in the path without
        the version (``r"/feed$"``); by default every Graph POST.  *method*:
        only this method (with *path*; default any).  *times*: how many requests
        it strikes (None: until cleared — for ``rate_limit`` with *seconds*,
        for that many seconds).  *probability*: chance per matching request.
        *seconds*: ``slow_after`` delay; ``rate_limit`` time to regain access.
        *code* / *subcode* / *message*: override the answer (``rate_limit``
        code 4, 17, 32 (default), 80001, 613, 341; ``blocked`` subcode 1390008;
        ``rejected_media`` code 1609005).
        """
        return self.state.add_fault(kind, path, times, probability, seconds, code, subcode, method, message)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.state.clear_faults()

    def faults(self) -> list[JSON]:
        """The faults added since the last clear, with how often each fired."""
        return self.state.faults_snapshot()

    def rotate_token(self, page: str, token: str, expires_at: float | None = None) -> None:
        """New token for *page*, expiring at *expires_at* (unix seconds; None: never); the old one: 190/460."""
        self.state.rotate_token(page, token, expires_at)

    def set_token_expiry(self, page: str, expires_at: float | None) -> None:
        """*page*'s current token expires at *expires_at* (unix seconds on the fake's clock; None: never).

        ``debug_token`` reports it; once it passes, the token fails with 190/463.
        """
        self.state.set_token_expiry(page, expires_at)

    def expire_token(self, page: str) -> None:
        """*page*'s current token fails with 190/463 until :meth:`rotate_token`."""
        self.state.expire_token(page)

    # -- what happened ------------------------------------------------------------------------
    def posts(self, page: str | None = None) -> list[JSON]:
        """Every post ever created (oldest first): published, scheduled, unpublished, deleted, not yet visible."""
        return self.state.posts_snapshot(page)

    def photos(self, page: str | None = None) -> list[JSON]:
        """Every photo uploaded (published or not), with size and sha256."""
        return self.state.photos_snapshot(page)

    def requests(self) -> list[JSON]:
        """The Graph request log: method, path, query, header names, token source, status, fault."""
        return self.state.requests_snapshot()

    def reset(self) -> None:
        """Initial tokens; no posts, photos, faults, usage or log."""
        self.state.reset()
