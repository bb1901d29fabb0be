"""Graph batch requests: ``POST /`` with ``batch=[{"method", "relative_url", "body"}, ...]``.

Documented at https://developers.facebook.com/docs/graph-api/batch-requests:
the ``batch`` form field is a JSON array of at most 50 operations; the answer
is a JSON array, in the same order, of ``{"code", "headers", "body"}`` where
``body`` is the operation's JSON answer *as a string* (``headers`` left out
with ``include_headers=false``).  An operation that fails does not fail the
batch: its item carries the error's status and error JSON.  Every operation
counts as one call against the usage limits.

Each operation is run by :meth:`~tests.fakegraph.handler.Handler._execute`,
exactly like a direct request (faults, authentication, throttling, the
endpoints), with the batch's access token and ``appsecret_proof`` unless the
operation carries its own ``access_token`` (in its ``relative_url`` or
``body``).  The request log keeps one entry for the batch, whose ``batch`` list
has one record per operation (method, path, token source, status, fault) —
never the operation's query, which may hold a token (``debug_token``).

Approximations: the texts of the code-100 errors for a malformed batch; the
``name``/``depends_on`` JSONPath references, ``omit_response_on_success`` and
``attached_files`` are not modelled (such operations run independently).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import JSON, err_param
from .records import Page, Upload
from .routes import GraphRoutes

MAX_OPERATIONS = 50  # Meta: "Batch requests are limited to 50 requests per batch"
METHODS = frozenset({"GET", "POST", "DELETE", "PUT"})


class BatchRoutes(GraphRoutes):
    """The batch endpoint in front of :class:`~tests.fakegraph.routes.GraphRoutes`."""

    _execute: Any  # Handler._execute: faults, then the endpoint, then "after" faults

    def _route(self, method: str, path: str, query: dict[str, str], fields: dict[str, str],
               files: dict[str, Upload], token: str | None, source: str | None,
               entry: JSON) -> tuple[int, Any, Page | None]:
        """A ``POST /`` with a ``batch`` field is a batch; anything else is an ordinary endpoint."""
        params = {**query, **fields}
        if is_batch(method, path, params) and not entry.get("in_batch"):
            return 200, self._batch(params, token, entry), None
        return super()._route(method, path, query, fields, files, token, source, entry)

    def _batch(self, params: Mapping[str, str], token: str | None, entry: JSON) -> list[JSON]:
        """Run every operation in order; one answer item each."""
        operations = parse_batch(params.get("batch", ""))
        headers = (params.get("include_headers") or "true").lower() != "false"
        records: list[JSON] = []
        entry["batch"] = records
        return [self._operation(op, token, params.get("appsecret_proof"), headers, records) for op in operations]

    def _operation(self, op: JSON, token: str | None, proof: str | None, with_headers: bool,
                   records: list[JSON]) -> JSON:
        """One operation, through the same code as a direct request, as a batch answer item."""
        state = self.server.state
        method, path, query, fields = split_operation(op)
        own = query.get("access_token") or fields.get("access_token")
        source = ("query" if query.get("access_token") else "body") if own else "batch"
        if not own and proof and "appsecret_proof" not in query and "appsecret_proof" not in fields:
            fields["appsecret_proof"] = proof  # the batch's proof goes with the batch's token
        record: JSON = {"method": method, "graph_path": path, "token_source": source, "in_batch": True}
        records.append(record)
        known = state.page_of_token(own or token)
        usage_page = known.id if known else self._path_page(path)
        state.record_call(usage_page)
        status, body, usage_page, _ = self._execute(method, path, query, fields, {}, own or token, source,
                                                    record, usage_page)
        state.finish_request(record, status=status)
        item: JSON = {"code": status}
        if with_headers:
            item["headers"] = [{"name": "Content-Type", "value": "text/javascript; charset=UTF-8"},
                               *({"name": k, "value": v} for k, v in state.usage_headers(usage_page).items())]
        item["body"] = json.dumps(body)
        return item


def is_batch(method: str, path: str, params: Mapping[str, str]) -> bool:
    """A batch request: ``POST /`` with a ``batch`` field (counted by its operations, not itself)."""
    return method == "POST" and not path.strip("/") and "batch" in params


def parse_batch(raw: str) -> list[JSON]:
    """The operations of a ``batch`` field, or Graph's code-100 error for a malformed one."""
    try:
        operations = json.loads(raw)
    except ValueError:
        raise err_param("(#100) The parameter batch must be a JSON array") from None
    if not isinstance(operations, list) or not operations:
        raise err_param("(#100) The parameter batch must be a non-empty JSON array")
    if len(operations) > MAX_OPERATIONS:
        raise err_param(f"(#100) Too many requests in batch message. Maximum batch size is {MAX_OPERATIONS}")
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("relative_url"), str):
            raise err_param("(#100) Each request in the batch must be an object with a relative_url")
        if str(op.get("method") or "GET").upper() not in METHODS:
            raise err_param(f"(#100) Unsupported method in batch: {op.get('method')!r}")
        if op.get("body") is not None and not isinstance(op["body"], str):
            raise err_param("(#100) The body of a batch request must be a URL-encoded string")
    return operations


def split_operation(op: JSON) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """``(method, graph path without version, query, body fields)`` of one operation."""
    method = str(op.get("method") or "GET").upper()
    url = urlsplit("/" + str(op["relative_url"]).lstrip("/"))
    parts = [p for p in url.path.split("/") if p]
    if parts and parts[0].startswith("v") and parts[0][1:].replace(".", "").isdigit():
        parts = parts[1:]  # "v26.0/me": the version is the batch's
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    fields = dict(parse_qsl(op.get("body") or "", keep_blank_values=True))
    return method, "/" + "/".join(parts), query, fields

