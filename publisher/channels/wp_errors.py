"""WordPress REST answers mapped to the publish error tree, in one table.

=============================================  ================  ==========================================
WordPress answer                               class             what happens
=============================================  ================  ==========================================
3xx (http → https, www, moved site)            PermanentError    failed: set base_url to the final address
401, 403 (bad Application Password, no right)  AuthError         waits for staff (retry.auth_wait_seconds);
                                                                 the message lists the usual causes
429 (a host's or plugin's rate limit)          RateLimited       waits for Retry-After, else back-off
400, 413, 415, 422 (``rest_invalid_param``…)   ContentRejected   failed, with WordPress's message
404 ``rest_no_route`` or not JSON              PermanentError    failed: no REST API at base_url
other 4xx                                      PermanentError    failed
5xx, or a 2xx that is not JSON: a write        AmbiguousError    find() before any retry
5xx, or a 2xx that is not JSON: a read         TransientError    retried
=============================================  ================  ==========================================

Every error carries ``status``, ``wp_code`` and ``wp_data`` (the ``data`` of
WordPress's answer) so callers can act on one code (``term_exists``, 404).
Messages name the method and route only: never a query string, never a header.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import requests

from ..errors import (
    AmbiguousError,
    AuthError,
    ContentRejected,
    PermanentError,
    PublishError,
    RateLimited,
    TransientError,
)

AUTH_HINT = (
    "WordPress refused the user or its rights. Usual causes: a wrong or revoked Application Password or "
    "user name (user_*/password_*; make a new one in Users → Profile → Application Passwords); Application "
    "Passwords work only over HTTPS (or on a site with WP_ENVIRONMENT_TYPE 'local'); the web server strips the "
    "Authorization header (Apache with PHP-FPM/CGI: add 'CGIPassAuth On' or pass HTTP_AUTHORIZATION on); the "
    "user lacks a capability (publish_posts, upload_files, and manage_categories to create categories or tags: "
    "give it the Editor role); a firewall or security plugin blocks the REST API."
)
_TAG = re.compile(r"<[^>]+>")


def classify(response: requests.Response, what: str, *, write: bool, now: datetime) -> PublishError:
    """The PublishError for an answer with status >= 300 (the table above, in code)."""
    status = response.status_code
    code, message, data = _parse(response)
    text = f"WordPress {what}: HTTP {status}{' ' + code if code else ''}: {message}{_params(data)}"
    exc: PublishError
    if 300 <= status < 400:
        where = response.headers.get("Location", "?").split("?", 1)[0]
        exc = PermanentError(f"WordPress {what}: redirected (HTTP {status}) to {where}; set base_url to the "
                             "site's final address (https://, with or without www)")
    elif status in (401, 403):
        exc = AuthError(f"{text} — {AUTH_HINT}")
    elif status == 429:
        wait = response.headers.get("Retry-After", "")
        exc = RateLimited(text, retry_at=now + timedelta(seconds=int(wait)) if wait.isdigit() else None)
    elif status >= 500:
        exc = AmbiguousError(text) if write else TransientError(text)
    elif status == 404 and code in ("", "rest_no_route"):
        exc = PermanentError(f"{text} — no such REST route: check base_url (the API is at <base_url>/wp-json/, "
                             "which needs pretty permalinks, not 'Plain')")
    elif status in (400, 413, 415, 422):
        exc = ContentRejected(text)
    else:
        exc = PermanentError(text)
    vars(exc).update(status=status, wp_code=code, wp_data=data)
    return exc


def not_json(response: requests.Response, what: str, *, write: bool) -> PublishError:
    """A success whose body is not JSON (a PHP notice, a cache page): the work may be done."""
    text = f"WordPress {what}: HTTP {response.status_code} but the answer is not JSON ({_snippet(response.text)})"
    return AmbiguousError(text) if write else TransientError(text)


def status_of(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


def _parse(response: requests.Response) -> tuple[str, str, dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("code"):
        data = body.get("data")
        return str(body["code"]), plain(str(body.get("message") or "")), data if isinstance(data, dict) else {}
    return "", f"not a WordPress answer ({_snippet(response.text)})", {}


def _params(data: dict[str, Any]) -> str:
    params = data.get("params")
    if not isinstance(params, dict) or not params:
        return ""
    return " (" + "; ".join(f"{k}: {plain(str(v))}" for k, v in params.items()) + ")"


def plain(text: str) -> str:
    """HTML (WordPress messages may hold tags and entities) as one line of text."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _snippet(text: str) -> str:
    short = plain(text)[:120]
    return f"starts with {short!r}" if short else "empty"
