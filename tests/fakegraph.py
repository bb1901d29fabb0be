"""A fake Facebook Graph API (Pages) on 127.0.0.1, with faults we can inject.

Tests run our real ``requests``-based Facebook channel against this real HTTP
server.  It follows Meta's documented Pages API closely enough that a client
which works here has handled what Facebook really answers — and it can fail in
every way that matters for "published exactly once": 5xx before or after the
post is made, slow answers, connection resets, throttling, expired tokens.

What is modelled (state and rules in :mod:`tests.fakegraph_state`)::

    client ──HTTP──▶ /v{N}.{M}/... (any version; unversioned too)
                      │ read body (form, multipart, JSON) · log the request
                      │ latency · faults "before" (answer/reset, nothing made)
                      │ token: Authorization: Bearer | access_token in form body
                      │        | in the query (accepted, but recorded)
                      │ appsecret_proof = HMAC-SHA256(app_secret, token) hex
                      │ page usage window → 80001 (or throttle_code) when over
                      ▼
      POST /{page}/feed            message, link, published, scheduled_publish_time,
                                   attached_media[i]={"media_fbid": photo}  → {"id"}
      POST /{page}/photos          multipart source (JPEG/PNG magic, ≤ 4 MB),
                                   message, published=false → {"id"[, "post_id"]}
      GET  /{page}/feed            live posts, newest first, since/until, limit
           /{page}/published_posts (25, max 100), cursors before/after + next
      GET  /{page}/scheduled_posts scheduled, not yet due
      GET  /{post|photo|page}      fields=...;  POST /{post} message,
                                   scheduled_publish_time, is_published;
                                   DELETE /{post|photo} → {"success": true}
      GET  /me                     the token's page;  GET /debug_token?input_token=
                      │ faults "after": 500, slow answer, reset — post already made
                      ▼
      every answer: X-App-Usage, X-Business-Use-Case-Usage (percent per page,
      estimated_time_to_regain_access in minutes), JSON errors
      {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}

Read-after-write lag (``lag`` seconds): a post exists at once (``posts()``,
updates, deletes) but the reads above only see it after the lag.  Scheduled
posts become live (in ``feed``, with ``created_time`` = their time) once their
time passes on ``clock``.  ``duplicate_window`` > 0 turns on Meta's 506
"Duplicate status message" for the same text on the same page.

Documentation followed (Meta for Developers):

- Pages API, Posts guide — publish, schedule, update, delete; the 10 minutes
  to 30 days window for ``scheduled_publish_time`` (older Feed reference pages
  said 6 months, some 75 days; the current guide says 30 days, so that is the
  default here — ``schedule_max`` changes it):
  https://developers.facebook.com/docs/pages-api/posts
- Page Feed, Page Photos, Page Scheduled Posts references:
  https://developers.facebook.com/docs/graph-api/reference/page/feed,
  .../reference/page/photos, .../reference/page/scheduled_posts
- Handling Errors — the error object, codes 1, 2, 4, 17, 100, 190 (subcodes
  460, 463), 200–299, 341, 368, 506, 1609005:
  https://developers.facebook.com/docs/graph-api/guides/error-handling
- Rate Limits — X-App-Usage, X-Business-Use-Case-Usage (type "pages",
  call_count / total_cputime / total_time percentages,
  estimated_time_to_regain_access in minutes), codes 4, 17, 32, 613, 80001:
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting
- Securing requests (appsecret_proof), Access Token Debugger (debug_token):
  https://developers.facebook.com/docs/graph-api/securing-requests,
  https://developers.facebook.com/docs/graph-api/reference/debug_token

Approximations (documented nowhere precisely, so chosen here): the exact text
of parameter errors (code 100), of the too-large photo error (324 here), and
that ``paging.next`` carries ``access_token`` only when the request had it in
its query; usage percentages grow linearly with calls per ``calls_per_window``
(Meta's real quota depends on engaged users); ``strtotime`` phrases for times
are not accepted, only unix seconds and ISO 8601.

Use in-process::

    with FakeGraph(pages={"111": {"name": "UBND tỉnh Thử", "token": "EAAB-tok1"}}) as fake:
        fake.add_fault("5xx_after", path=r"/feed$")
        ...  # point the channel's base_url at fake.url
        assert len(fake.posts()) == 1

or as a process (the daemon tests)::

    python -m tests.fakegraph --port 0 --pages pages.json   # first stdout line: its URL

and steer it over HTTP under ``/_fake/`` (never counted as Graph calls):
``POST/GET/DELETE /_fake/faults``, ``POST /_fake/tokens``, ``GET /_fake/posts``,
``GET /_fake/photos``, ``GET /_fake/requests``, ``POST /_fake/config``,
``POST /_fake/reset``, ``GET /_fake/health``.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakegraph_state import (
    DEFAULT_LIMIT,
    JSON,
    MAX_LIMIT,
    Fault,
    GraphError,
    GraphState,
    Page,
    Photo,
    Post,
    Upload,
    err_invalid_token,
    err_no_object,
    err_param,
    err_token_required,
    parse_time,
    split_fields,
    trace_id,
)

__all__ = ["FakeGraph", "GraphError", "GraphState", "main"]

_VERSION = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
MAX_BODY = 64 * 1024 * 1024
DEFAULT_VERSION = "v26.0"


class _Reset(Exception):
    """Raised inside the handler to drop the connection abruptly (RST)."""


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields and file parts of a request body (urlencoded, multipart or JSON)."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    if kind == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            raise err_param("(#100) The request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise err_param("(#100) The request body must be a JSON object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}, {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise err_param("(#100) The request body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True)), {}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise err_param("(#100) Invalid multipart body")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None or name == "source":
            files[str(name)] = Upload(filename, part.get_content_type() if part.get("content-type") else None, data)
        else:
            fields[str(name)] = data.decode("utf-8", errors="replace")
    return fields, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: GraphState) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """One connection: Graph calls and ``/_fake/`` control calls."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end after this
    error_content_type = "application/json"
    # like a real server: no Nagle delay between the headers and the body of an answer
    # (with it, every call costs an extra ~40 ms of delayed ACK on loopback)
    disable_nagle_algorithm = True

    # -- plumbing ----------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the request log is in the state

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def _read_body(self) -> bytes:
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
        if seconds > 0:
            self.server.stopping.wait(seconds)

    # -- dispatch ---------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        if split.path.startswith("/_fake/") or split.path == "/_fake":
            self._control(method, split.path, split.query)
            return
        try:
            self._graph(method, split.path, split.query)
        except _Reset:
            self._reset()

    def _graph(self, method: str, raw_path: str, raw_query: str) -> None:
        state = self.server.state
        match = _VERSION.match(raw_path)
        version, path = (match.group(1), match.group(2) or "/") if match else (None, raw_path or "/")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        entry: JSON = {"method": method, "path": raw_path, "graph_path": path, "version": version,
                       "query": raw_query, "headers": list(self.headers.keys())}
        body_error: GraphError | None = None
        error: GraphError | None
        fields: dict[str, str] = {}
        files: dict[str, Upload] = {}
        try:
            fields, files = parse_body(self.headers.get("Content-Type") or "", self._read_body())
        except GraphError as exc:
            body_error = exc
        token, source = self._token(query, fields)
        entry.update(token_in_query="access_token" in query, token_source=source,
                     body_fields=sorted(fields), files=sorted(files))
        state.log_request(entry)
        self._wait(state.latency)

        known = state.page_of_token(token)
        usage_page = known.id if known else self._path_page(path)
        state.record_call(usage_page)
        fault = state.take_fault(method, path)
        extra = {"facebook-api-version": version or DEFAULT_VERSION, "x-fb-trace-id": trace_id()}

        if fault is not None and fault.phase == "before":
            state.finish_request(entry, fault=fault.kind, page=usage_page)
            if fault.kind == "reset_before":
                state.finish_request(entry, status=None)
                raise _Reset
            error = fault.error()
            self._answer_error(entry, error, usage_page, extra)
            return

        try:
            if body_error is not None:
                raise body_error
            status, body, page = self._route(method, path, query, fields, files, token, source, entry)
        except GraphError as exc:
            status, body, page, error = exc.status, exc.body(), None, exc
        except Exception as exc:  # a bug in the fake: say so loudly, not as a dropped connection
            traceback.print_exc()
            state.finish_request(entry, internal_error=repr(exc))
            error = GraphError(1, f"An unknown error has occurred. (fakegraph internal error: {exc!r})")
            status, body, page = 500, error.body(), None
        else:
            error = None
        usage_page = page.id if page else usage_page
        state.finish_request(entry, page=usage_page)

        if fault is not None:  # an "after" fault: the request has run
            state.finish_request(entry, fault=fault.kind)
            if fault.kind == "reset_after":
                state.finish_request(entry, status=None)
                raise _Reset
            if fault.kind == "slow_after":
                self._wait(fault.seconds)
            else:
                error = fault.error()
                status, body = error.status, error.body()
        if error is not None and error.regain_minutes:
            self._answer_error(entry, error, usage_page, extra, body)
            return
        headers = {**state.usage_headers(usage_page), **extra, **self._auth_header(error)}
        state.finish_request(entry, status=status)
        self._send(status, body, headers)

    def _answer_error(self, entry: JSON, error: GraphError, page_id: str | None, extra: Mapping[str, str],
                      body: JSON | None = None) -> None:
        state = self.server.state
        headers = {**state.usage_headers(page_id, error.regain_minutes), **extra, **self._auth_header(error)}
        state.finish_request(entry, status=error.status)
        self._send(error.status, body or error.body(), headers)

    @staticmethod
    def _auth_header(error: GraphError | None) -> dict[str, str]:
        if error is not None and error.code in (104, 190):
            return {"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'}
        return {}

    def _token(self, query: Mapping[str, str], fields: Mapping[str, str]) -> tuple[str | None, str | None]:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip(), "header"
        if fields.get("access_token"):
            return fields["access_token"], "body"
        if query.get("access_token"):
            return query["access_token"], "query"
        return None, None

    def _path_page(self, path: str) -> str | None:
        first = path.strip("/").split("/")[0]
        return first if first in self.server.state.pages else None

    # -- Graph endpoints ---------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str], fields: dict[str, str],
               files: dict[str, Upload], token: str | None, source: str | None,
               entry: JSON) -> tuple[int, JSON, Page | None]:
        state = self.server.state
        params = {**query, **fields}
        parts = [p for p in path.split("/") if p]
        if parts == ["debug_token"] and method == "GET":
            return 200, self._debug_token(params, token), None
        proof = params.get("appsecret_proof")
        page = state.authenticate(token, proof)
        entry["page"] = page.id
        state.check_throttle(page.id)
        if not parts:
            raise err_param("(#100) Unsupported request: no node given")
        node_id = page.id if parts[0] == "me" else parts[0]
        node = state.node(node_id, read=(method == "GET"))
        if node is None:
            raise err_no_object(method, node_id)
        if len(parts) > 2:
            raise GraphError(2500, f"Unknown path components: /{'/'.join(parts[2:])}")
        state.owner_check(page, node)
        if len(parts) == 2:
            return self._edge(method, page, node, parts[1], params, files)
        if method == "GET":
            return 200, self._node_json(node, params), page
        if method == "DELETE" and isinstance(node, (Post, Photo)):
            return 200, state.delete_node(page, node), page
        if method == "POST" and isinstance(node, (Post, Photo)):
            return 200, state.update_post(page, node, params), page
        raise err_no_object(method, node_id)

    def _node_json(self, node: Page | Post | Photo, params: Mapping[str, str]) -> JSON:
        state = self.server.state
        if isinstance(node, Page):
            return state.page_node(node, split_fields(params.get("fields"), ("id", "name")))
        if isinstance(node, Photo):
            return state.photo_node(node, split_fields(params.get("fields"), ("id", "created_time", "name")))
        return state.post_node(node, split_fields(params.get("fields"), ("id", "message", "created_time")))

    def _edge(self, method: str, page: Page, node: Page | Post | Photo, edge: str, params: dict[str, str],
              files: dict[str, Upload]) -> tuple[int, JSON, Page]:
        state = self.server.state
        if not isinstance(node, Page):
            raise GraphError(100, f"(#100) Tried accessing nonexisting field ({edge}) on node type "
                                  f"({'Photo' if isinstance(node, Photo) else 'PagePost'})")
        if method == "POST" and edge == "feed":
            return 200, state.create_feed_post(page, params), page
        if method == "POST" and edge == "photos":
            return 200, state.upload_photo(page, params, files), page
        if method == "GET" and edge in ("feed", "published_posts", "posts", "scheduled_posts"):
            return 200, self._list(page, edge, params), page
        if edge in ("feed", "photos", "published_posts", "posts", "scheduled_posts"):
            raise GraphError(100, f"(#100) Unsupported {method.lower()} request on edge {edge}")
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({edge}) on node type (Page)")

    def _list(self, page: Page, edge: str, params: dict[str, str]) -> JSON:
        state = self.server.state
        default = ("id", "message", "scheduled_publish_time") if edge == "scheduled_posts" else \
            ("id", "message", "created_time")
        fields = split_fields(params.get("fields"), default)
        try:
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise err_param("(#100) Param limit must be an integer") from None
        limit = max(1, min(MAX_LIMIT, limit))
        since = parse_time(params["since"], "since") if params.get("since") else None
        until = parse_time(params["until"], "until") if params.get("until") else None
        data, first, last, newer, older = state.list_posts(page, "scheduled_posts" if edge == "scheduled_posts"
                                                           else "feed", fields, since=since, until=until,
                                                           limit=limit, after=params.get("after"),
                                                           before=params.get("before"))
        answer: JSON = {"data": data}
        if first is None or last is None:
            return answer
        paging: JSON = {"cursors": {"before": first, "after": last}}
        keep = {k: v for k, v in params.items() if k not in ("after", "before", "access_token")}
        if self._query_token():
            keep["access_token"] = self._query_token() or ""
        keep["limit"] = str(limit)
        base = f"http://{self.headers.get('Host') or '127.0.0.1'}{urlsplit(self.path).path}"
        if older:
            paging["next"] = f"{base}?{urlencode({**keep, 'after': last})}"
        if newer:
            paging["previous"] = f"{base}?{urlencode({**keep, 'before': first})}"
        answer["paging"] = paging
        return answer

    def _query_token(self) -> str | None:
        return dict(parse_qsl(urlsplit(self.path).query)).get("access_token")

    def _debug_token(self, params: Mapping[str, str], token: str | None) -> JSON:
        state = self.server.state
        app_token = state.app_token()
        if app_token is not None:
            if not token:
                raise err_token_required()
            if token != app_token and state.page_of_token(token) is None:
                raise err_invalid_token()
        input_token = params.get("input_token")
        if not input_token:
            raise err_param("(#100) The parameter input_token is required")
        return state.debug_token(input_token)

    # -- control endpoints -------------------------------------------------------------------------
    def _control(self, method: str, path: str, raw_query: str) -> None:
        state = self.server.state
        try:
            raw = self._read_body()
            args = json.loads(raw) if raw.strip() else {}
            if not isinstance(args, dict):
                raise ValueError("the body must be a JSON object")
            query = dict(parse_qsl(raw_query))
            route = (method, path.rstrip("/"))
            if route == ("GET", "/_fake/health"):
                answer: Any = {"ok": True}
            elif route == ("POST", "/_fake/faults"):
                answer = state.add_fault(**args).record()
            elif route == ("GET", "/_fake/faults"):
                answer = {"data": state.faults_snapshot()}
            elif route == ("DELETE", "/_fake/faults"):
                state.clear_faults()
                answer = {"success": True}
            elif route == ("POST", "/_fake/tokens"):
                page = str(args["page"])
                if args.get("token"):
                    state.rotate_token(page, str(args["token"]))
                if args.get("expire"):
                    state.expire_token(page)
                answer = {"success": True}
            elif route == ("GET", "/_fake/posts"):
                answer = {"data": state.posts_snapshot(query.get("page"))}
            elif route == ("GET", "/_fake/photos"):
                answer = {"data": state.photos_snapshot(query.get("page"))}
            elif route == ("GET", "/_fake/requests"):
                answer = {"data": state.requests_snapshot()}
            elif route == ("POST", "/_fake/config"):
                state.configure(**args)
                answer = {"success": True}
            elif route == ("POST", "/_fake/reset"):
                state.reset()
                answer = {"success": True}
            else:
                self._send(404, {"error": f"no control endpoint {method} {path}"})
                return
        except (ValueError, TypeError, KeyError, re.error) as exc:
            self._send(400, {"error": str(exc)})
            return
        self._send(200, answer)


class FakeGraph:
    """The fake Graph API server; ``with FakeGraph(pages=...) as fake: ... fake.url``.

    *pages* maps a page id to ``{"name", "token"[, "scopes"]}``.  Every other
    argument is described in :class:`tests.fakegraph_state.GraphState`
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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeGraph:
        """Bind (a free port unless one was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._server = _Server(self._address, self.state)
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
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
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
        return self.state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.state.configure(latency=seconds)

    @property
    def lag(self) -> float:
        return self.state.lag

    @lag.setter
    def lag(self, seconds: float) -> None:
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
        self.state.clear_faults()

    def faults(self) -> list[JSON]:
        return self.state.faults_snapshot()

    def rotate_token(self, page: str, token: str) -> None:
        """New token for *page*; the old one fails with 190/460 from now on."""
        self.state.rotate_token(page, token)

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


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakegraph --port 0 --pages pages.json``: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakegraph", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pages", type=Path, help='JSON file: {"<page id>": {"name": ..., "token": ...}}')
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--lag", type=float, default=0.0)
    parser.add_argument("--duplicate-window", type=float, default=0.0)
    parser.add_argument("--calls-per-window", type=int, default=10**9)
    parser.add_argument("--usage-window", type=float, default=3600.0)
    parser.add_argument("--throttle-code", type=int, default=80001)
    parser.add_argument("--app-id")
    parser.add_argument("--app-secret")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    pages = json.loads(args.pages.read_text(encoding="utf-8")) if args.pages else \
        {"111": {"name": "UBND tỉnh Thử", "token": "EAAB-fake-111"}}
    fake = FakeGraph(pages, latency=args.latency, lag=args.lag, duplicate_window=args.duplicate_window,
                     calls_per_window=args.calls_per_window, usage_window=args.usage_window,
                     throttle_code=args.throttle_code, app_id=args.app_id, app_secret=args.app_secret,
                     seed=args.seed, host=args.host, port=args.port)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    fake.start()
    print(fake.url, flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
