"""One request from start to end: token, log, latency, faults, usage headers, error answers.

:class:`Handler` is the request handler class the server uses: plumbing from
:class:`~tests.fakegraph.server.BaseHandler`, Graph endpoints from
:class:`~tests.fakegraph.routes.GraphRoutes` (behind the batch endpoint of
:class:`~tests.fakegraph.batch.BatchRoutes`), ``/_fake/`` endpoints from
:class:`~tests.fakegraph.control.ControlEndpoints`.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .batch import BatchRoutes, is_batch
from .control import ControlEndpoints
from .errors import JSON, GraphError, trace_id
from .multipart import parse_body
from .records import Upload
from .server import Reset

_VERSION = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
DEFAULT_VERSION = "v26.0"


class Handler(BatchRoutes, ControlEndpoints):
    """One connection: Graph calls and ``/_fake/`` control calls."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Handle a GET request."""
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        """Handle a POST request."""
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        """Handle a DELETE request."""
        self._handle("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        """Handle a PUT request."""
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        """Send ``/_fake/`` calls to the control endpoints, the rest to Graph; reset on request."""
        split = urlsplit(self.path)
        if split.path.startswith("/_fake/") or split.path == "/_fake":
            self._control(method, split.path, split.query)
            return
        try:
            self._graph(method, split.path, split.query)
        except Reset:
            self._reset()

    def _graph(self, method: str, raw_path: str, raw_query: str) -> None:
        """One Graph call: body, token, log, latency, usage, faults before and after, the answer."""
        state = self.server.state
        match = _VERSION.match(raw_path)
        version, path = (match.group(1), match.group(2) or "/") if match else (None, raw_path or "/")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        entry: JSON = {"method": method, "path": raw_path, "graph_path": path, "version": version,
                       "query": raw_query, "headers": list(self.headers.keys())}
        body_error: GraphError | None = None
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
        if not is_batch(method, path, {**query, **fields}):  # Meta counts a batch's operations, each once
            state.record_call(usage_page)
        extra = {"facebook-api-version": version or DEFAULT_VERSION, "x-fb-trace-id": trace_id()}
        status, body, usage_page, error = self._execute(method, path, query, fields, files, token, source, entry,
                                                        usage_page, body_error)
        if error is not None:
            self._answer_error(entry, error, usage_page, extra, body)
            return
        state.finish_request(entry, status=status)
        self._send(status, body, {**state.usage_headers(usage_page), **extra})

    def _execute(self, method: str, path: str, query: dict[str, str], fields: dict[str, str],
                 files: dict[str, Upload], token: str | None, source: str | None, entry: JSON,
                 usage_page: str | None, body_error: GraphError | None = None
                 ) -> tuple[int, Any, str | None, GraphError | None]:
        """Faults "before", the endpoint, faults "after": ``(status, body, usage page, error or None)``.

        A direct request and each operation of a batch run through here, so both
        meet the same faults, authentication and rules.  A reset raises
        :class:`~tests.fakegraph.server.Reset` (the whole connection drops).
        """
        state = self.server.state
        error: GraphError | None
        fault = state.take_fault(method, path)
        if fault is not None and fault.phase == "before":
            state.finish_request(entry, fault=fault.kind, page=usage_page)
            if fault.kind == "reset_before":
                state.finish_request(entry, status=None)
                raise Reset
            error = fault.error()
            return error.status, error.body(), usage_page, error
        try:
            if body_error is not None:
                raise body_error
            status, body, page = self._route(method, path, query, fields, files, token, source, entry)
        except GraphError as exc:
            status, body, page, error = exc.status, exc.body(), None, exc
        except Reset:  # a fault in an operation of a batch drops the batch's connection
            raise
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
                raise Reset
            if fault.kind == "slow_after":
                self._wait(fault.seconds)
            else:
                error = fault.error()
                status, body = error.status, error.body()
        return status, body, usage_page, error

    def _answer_error(self, entry: JSON, error: GraphError, page_id: str | None, extra: Mapping[str, str],
                      body: JSON | None = None) -> None:
        """Answer *error* with usage headers (100% while throttled) and log its status."""
        state = self.server.state
        headers = {**state.usage_headers(page_id, error.regain_minutes), **extra, **self._auth_header(error)}
        state.finish_request(entry, status=error.status)
        self._send(error.status, body or error.body(), headers)

    @staticmethod
    def _auth_header(error: GraphError | None) -> dict[str, str]:
        """``WWW-Authenticate`` for token errors (104, 190), as Graph sends it."""
        if error is not None and error.code in (104, 190):
            return {"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'}
        return {}

    def _token(self, query: Mapping[str, str], fields: Mapping[str, str]) -> tuple[str | None, str | None]:
        """The access token and where it came from: ``header``, ``body`` or ``query``."""
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
        """The page id the path starts with, if it is one of ours (to count usage by)."""
        first = path.strip("/").split("/")[0]
        return first if first in self.server.state.pages else None
