"""One Graph API call for the Facebook channel: the token, its proof, the usage headers, the errors.

- the Page token is re-read on every call (a renewed token needs no restart)
  and travels only in the ``Authorization`` header, never in a URL;
- ``appsecret_proof`` is added when an app secret is configured;
- every answer's usage headers are read: past ``usage_limit_percent`` the Page
  pauses until Meta's estimate, and :meth:`GraphTransport._respect_usage`
  refuses to send anything before then;
- an error answer is classified by :mod:`.graph_errors` (one table).

:class:`GraphTransport` is a mixin of :class:`~.facebook.FacebookChannel`,
which sets the attributes declared below in its ``__init__``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests

from .. import secrets
from ..errors import RateLimited
from . import graph_errors
from .http import send


class GraphTransport:
    """Graph requests with the Page's token, proof and usage pause (state kept on the channel)."""

    # set by Channel.__init__ and FacebookChannel.__init__
    name: str
    settings: dict[str, Any]
    clock: Callable[[], datetime]
    page: str
    api: str
    timeout: tuple[float, float]
    session: requests.Session
    _cool_until: datetime | None
    _lock: threading.Lock

    def _call(self, method: str, path: str, *, write: bool | None = None, **kwargs: Any) -> Any:
        """One Graph call with the token in the header; *write* defaults to "not a GET" (a batch of reads is not)."""
        write = method != "GET" if write is None else write
        token = self._token()
        headers = {"Authorization": f"Bearer {token}"}
        proof = self._proof(token)
        if proof:
            target = "params" if method == "GET" else "data"  # in a POST, the body
            kwargs[target] = {**kwargs.get(target, {}), "appsecret_proof": proof}
        response = send(self.session, method, f"{self.api}/{path}", write=write, headers=headers,
                        timeout=self.timeout, **kwargs)
        self._track_usage(response.headers)
        if response.status_code >= 400:
            error = graph_errors.parse_error(response.status_code, response.text)
            regain = graph_errors.usage(response.headers, self.page).regain_seconds
            raise graph_errors.classify(error, write=write, now=self.clock(), regain_seconds=regain)
        try:
            return response.json()
        except ValueError:
            raise graph_errors.classify(graph_errors.GraphError(502, None, None, "answer is not JSON"),
                                        write=write, now=self.clock()) from None

    def _token(self) -> str:
        return secrets.secret(self.settings, "token", f"channels.{self.name}")

    def _proof(self, token: str) -> str | None:
        if not (self.settings["app_secret_env"] or self.settings["app_secret_file"]):
            return None
        app_secret = secrets.secret(self.settings, "app_secret", f"channels.{self.name}")
        return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    def _track_usage(self, headers: Any) -> None:
        usage = graph_errors.usage(headers, self.page)
        if usage.percent >= self.settings["usage_limit_percent"]:
            pause = max(usage.regain_seconds, 60.0)  # Meta gives no estimate until it blocks
            with self._lock:
                self._cool_until = self.clock() + timedelta(seconds=pause)

    def _respect_usage(self) -> None:
        with self._lock:
            until = self._cool_until
        if until and self.clock() < until:
            raise RateLimited(f"page {self.page}: API usage above {self.settings['usage_limit_percent']}%, "
                              f"paused until {until.isoformat()}", retry_at=until)
