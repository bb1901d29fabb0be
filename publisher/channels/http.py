"""HTTP transport errors mapped to the publish error tree (for every HTTP channel).

Whether a failed request may have taken effect decides everything:

- the connection was never made (refused, DNS, connect timeout) → nothing was
  sent → :class:`TransientError`, safe to retry;
- it failed after the request may have been sent (read timeout, reset,
  broken response) → :class:`AmbiguousError` for a write (look before
  retrying), :class:`TransientError` for a read (reads change nothing).
"""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ..errors import AmbiguousError, TransientError


def send(session: requests.Session, method: str, url: str, *, write: bool, **kwargs: Any) -> requests.Response:
    """``session.request`` with transport failures raised as PublishErrors."""
    try:
        return session.request(method, url, **kwargs)
    except requests.ConnectTimeout as exc:
        raise TransientError(f"{method} {_path(url)}: connect timeout ({_reason(exc)})") from None
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise TransientError(f"{method} {_path(url)}: cannot connect ({_reason(exc)})") from None
        raise _after_sending(method, url, f"connection lost ({_reason(exc)})", write) from None
    except requests.Timeout:
        raise _after_sending(method, url, "no answer before the read timeout", write) from None
    except requests.RequestException as exc:
        raise _after_sending(method, url, _reason(exc), write) from None


def _after_sending(method: str, url: str, what: str, write: bool) -> Exception:
    cls = AmbiguousError if write else TransientError
    return cls(f"{method} {_path(url)}: {what}")


def _never_connected(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _reason(exc: BaseException) -> str:
    inner = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(inner or exc).__name__


def _path(url: str) -> str:
    # no query string in messages: nothing secret is ever put there, but keep errors short
    return url.split("?", 1)[0]
