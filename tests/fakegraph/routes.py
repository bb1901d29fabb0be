"""The Graph endpoints: nodes, the ``feed``/``photos``/``posts`` edges, ``/me``, ``/debug_token``.

:class:`GraphRoutes` turns a parsed, authenticated request into a call on the
state and builds the answer (paging links included).  Faults, latency, the log
and usage headers are :class:`~tests.fakegraph.handler.Handler`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from .errors import JSON, GraphError, err_invalid_token, err_no_object, err_param, err_token_required
from .params import DEFAULT_LIMIT, MAX_LIMIT, parse_time, split_fields
from .records import Page, Photo, Post, Upload
from .server import BaseHandler


class GraphRoutes(BaseHandler):
    """Graph endpoint methods of :class:`~tests.fakegraph.handler.Handler`."""

    def _route(self, method: str, path: str, query: dict[str, str], fields: dict[str, str],
               files: dict[str, Upload], token: str | None, source: str | None,
               entry: JSON) -> tuple[int, JSON, Page | None]:
        """Authenticate, find the node, and run the endpoint: ``(status, body, acting page)``."""
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
        """``GET /{node}``: the requested fields of a page, post or photo."""
        state = self.server.state
        if isinstance(node, Page):
            return state.page_node(node, split_fields(params.get("fields"), ("id", "name")))
        if isinstance(node, Photo):
            return state.photo_node(node, split_fields(params.get("fields"), ("id", "created_time", "name")))
        return state.post_node(node, split_fields(params.get("fields"), ("id", "message", "created_time")))

    def _edge(self, method: str, page: Page, node: Page | Post | Photo, edge: str, params: dict[str, str],
              files: dict[str, Upload]) -> tuple[int, JSON, Page]:
        """``/{page}/{edge}``: post to ``feed`` or ``photos``, or list posts."""
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
        """``GET /{page}/feed`` and friends: one page of posts, with cursors and paging links."""
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
        """The ``access_token`` in the request's query string, if any."""
        return dict(parse_qsl(urlsplit(self.path).query)).get("access_token")

    def _debug_token(self, params: Mapping[str, str], token: str | None) -> JSON:
        """``GET /debug_token?input_token=``: needs an app or page token."""
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
