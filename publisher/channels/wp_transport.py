"""One WordPress REST call: Basic authentication with the Application Password, answers classified.

- the user and its Application Password are re-read on every call (a new
  password needs no restart), travel only in the ``Authorization`` header,
  and are registered for redaction;
- redirects are never followed (a POST redirected to https would silently
  become a GET): :mod:`.wp_errors` turns them into a clear error, as every
  other answer with status >= 300.

:class:`WordPressTransport` is a mixin of :class:`~.wordpress.WordPressChannel`,
which sets the attributes declared below in its ``__init__``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from .. import redact, secrets
from . import wp_errors
from .http import send


class WordPressTransport:
    """REST requests to ``<base_url>/wp-json/wp/v2`` as the configured user."""

    # set by Channel.__init__ and WordPressChannel.__init__
    name: str
    settings: dict[str, Any]
    clock: Callable[[], datetime]
    api: str
    timeout: tuple[float, float]
    session: requests.Session

    def _call(self, method: str, route: str, **kwargs: Any) -> Any:
        write = method != "GET"
        headers = {**kwargs.pop("headers", {}), "Authorization": self._authorization()}
        response = send(self.session, method, self.api + route, write=write, headers=headers,
                        timeout=self.timeout, allow_redirects=False, **kwargs)
        if response.status_code >= 300:
            raise wp_errors.classify(response, f"{method} {route}", write=write, now=self.clock())
        try:
            return response.json()
        except ValueError:
            raise wp_errors.not_json(response, f"{method} {route}", write=write) from None

    def _authorization(self) -> str:
        where = f"channels.{self.name}"
        user = secrets.secret(self.settings, "user", where)
        password = secrets.secret(self.settings, "password", where)
        redact.register(password.replace(" ", ""))  # WordPress shows it in groups; either form is secret
        basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return f"Basic {redact.register(basic)}"
