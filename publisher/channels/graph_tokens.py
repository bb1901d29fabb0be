"""When a Page token expires, from Graph's ``debug_token`` — asked through a batch request.

``GET /debug_token`` documents the token to inspect as ``?input_token=`` in
the query string, and a URL is what logs and proxies keep.  The token is a
secret that never goes in a URL here, so the call is sent as the single
operation of a Graph batch request
(https://developers.facebook.com/docs/graph-api/batch-requests)::

    POST {base_url}/{version}/      Authorization: Bearer <token>
    batch=[{"method": "GET", "relative_url": "debug_token?input_token=<token>"}]
    include_headers=false           (+ appsecret_proof, as for every call)

The token then travels only in the POST body and the ``Authorization``
header.  The answer is a JSON list with one ``{"code", "body"}`` item whose
``body`` is the operation's answer as a JSON string; an item with code ≥ 400
carries a Graph error, mapped through :mod:`.graph_errors` like any other.

``data.expires_at`` is the token's expiry (0: never).  ``data_access_expires_at``
is not used: it ends the app's access to a person's data, which a Page token
does not need to publish (Meta: "Data Access Expiration").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from ..errors import PublishError
from . import graph_errors

#: ``call(method, path, *, data=..., write=...)`` — the channel's own ``_call`` (token, proof, errors).
Call = Callable[..., Any]


def token_expiry(call: Call, token: str, now: datetime) -> datetime | None:
    """When *token* expires (UTC); None if it never does.  Raises a PublishError if Graph does not say."""
    operation = {"method": "GET", "relative_url": "debug_token?" + urlencode({"input_token": token})}
    answer = call("POST", "", data={"batch": json.dumps([operation]), "include_headers": "false"}, write=False)
    data = _body(_only_item(answer, now), now).get("data")
    if not isinstance(data, dict) or not isinstance(data.get("expires_at"), int):
        raise _malformed("debug_token gave no expires_at", now)
    if data["expires_at"] == 0:
        return None
    return datetime.fromtimestamp(data["expires_at"], timezone.utc)


def _only_item(answer: Any, now: datetime) -> dict[str, Any]:
    """The one answer item of the batch; a Graph error in it raised as a PublishError."""
    if not isinstance(answer, list) or len(answer) != 1 or not isinstance(answer[0], dict):
        raise _malformed("the batch answer is not a list of one item", now)  # a null item: Graph timed it out
    item = answer[0]
    code = item.get("code")
    body = item.get("body") if isinstance(item.get("body"), str) else ""
    if not isinstance(code, int):
        raise _malformed("the batch answer item has no code", now)
    if code >= 400:
        raise graph_errors.classify(graph_errors.parse_error(code, body), write=False, now=now)
    return {"code": code, "body": body}


def _body(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    try:
        body = json.loads(item["body"])
    except ValueError:
        raise _malformed("the batch answer body is not JSON", now) from None
    if not isinstance(body, dict):
        raise _malformed("the batch answer body is not a JSON object", now)
    return body


def _malformed(what: str, now: datetime) -> PublishError:
    # an answer Graph should never give: a read, so a transient error (the check reports it, nothing waits)
    return graph_errors.classify(graph_errors.GraphError(502, None, None, what), write=False, now=now)
