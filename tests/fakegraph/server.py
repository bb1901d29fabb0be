"""HTTP plumbing: the threaded server, open connections, reading bodies, JSON answers, resets.

:class:`BaseHandler` knows nothing of Graph; :class:`~tests.fakegraph.handler.Handler`
builds on it.  The server's ``stopping`` event wakes every sleeping answer when
it stops, and its open connections are kept so that
:meth:`~tests.fakegraph.fake.FakeGraph.stop` can cut them.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import JSON, err_param
from .state import GraphState

MAX_BODY = 64 * 1024 * 1024


class Reset(Exception):
    """Raised inside the handler to drop the connection abruptly (RST)."""


class Server(ThreadingHTTPServer):
    """A threaded HTTP server on one :class:`GraphState`, answering with *handler*."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: GraphState, handler: type[BaseHandler]) -> None:
        super().__init__(address, handler)
        self.state = state
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class BaseHandler(BaseHTTPRequestHandler):
    """One connection's plumbing: tracked while open, bodies read, JSON answers sent, resets."""

    server: Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    error_content_type = "application/json"
    # like a real server: no Nagle delay between the headers and the body of an answer
    # (with it, every call costs an extra ~40 ms of delayed ACK on loopback)
    disable_nagle_algorithm = True

    def setup(self) -> None:
        """Track the connection so that stopping the server can cut it."""
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        """Forget the connection (the client may already have dropped it)."""
        try:
            super().finish()
        except OSError:
            pass
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Log nothing to stderr."""
        pass  # quiet: the request log is in the state

    def _read_body(self) -> bytes:
        """The request body (``Content-Length`` or chunked; at most :data:`MAX_BODY`)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise err_param("(#100) Request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: JSON, headers: Mapping[str, str] | None = None) -> None:
        """Answer *status* with a JSON *body* and extra *headers*."""
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client gave up (e.g. its read timeout fired during slow_after)
            self.close_connection = True

    def _reset(self) -> None:
        """Close the socket with SO_LINGER 0: the client sees a connection reset."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _wait(self, seconds: float) -> None:
        """Sleep *seconds*, or less if the server stops meanwhile."""
        if seconds > 0:
            self.server.stopping.wait(seconds)
