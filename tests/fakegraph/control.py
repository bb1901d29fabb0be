"""The ``/_fake/`` control endpoints: steer the fake over HTTP (never counted as Graph calls).

``POST/GET/DELETE /_fake/faults``, ``POST /_fake/tokens``, ``GET /_fake/posts``,
``GET /_fake/photos``, ``GET /_fake/requests``, ``POST /_fake/config``,
``POST /_fake/reset``, ``GET /_fake/health``.  Arguments are a JSON object in
the body (``page`` in the query for posts and photos); a bad one gets a 400.
``/_fake/tokens`` takes ``page`` and any of ``token`` (rotate), ``expires_at``
(unix seconds or null: the new or current token's expiry) and ``expire``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from .server import BaseHandler


class ControlEndpoints(BaseHandler):
    """The control endpoint method of :class:`~tests.fakegraph.handler.Handler`."""

    def _control(self, method: str, path: str, raw_query: str) -> None:
        """Run one ``/_fake/`` call on the state and answer it in JSON."""
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
                    state.rotate_token(page, str(args["token"]), args.get("expires_at"))
                elif "expires_at" in args:
                    state.set_token_expiry(page, args["expires_at"])
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
