"""Graph API error answers: :class:`GraphError` and the errors Meta documents.

The error object (Handling Errors page) is ``{"error": {"message", "type",
"code", "error_subcode", "is_transient", "error_user_title", "error_user_msg",
"fbtrace_id"}}``; the helpers below build the ones the fake gives, in Meta's
words where they are documented.  :data:`JSON` is the type of every JSON
object the fake reads or answers.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

JSON = dict[str, Any]

#: Throttling codes (Rate Limits page) and the message Graph sends with each.
RATE_LIMIT_MESSAGES: dict[int, str] = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    341: "(#341) Application limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again. "
    "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}
TRANSIENT_CODES = frozenset({1, 2, *RATE_LIMIT_MESSAGES})


def trace_id() -> str:
    """A random ``fbtrace_id`` (Graph uses 11+ url-safe characters)."""
    return secrets.token_urlsafe(9)


def status_for(code: int) -> int:
    """The HTTP status Graph uses with an error code."""
    if code in (1, 2):
        return 500
    if code == 10 or 200 <= code <= 299:
        return 403
    return 400


class GraphError(Exception):
    """A Graph API error answer: ``{"error": {"message", "type", "code", ...}}``."""

    def __init__(self, code: int, message: str, *, status: int | None = None, subcode: int | None = None,
                 type_: str = "OAuthException", user_title: str | None = None, user_msg: str | None = None,
                 regain_minutes: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else status_for(code)
        self.subcode = subcode
        self.type = type_
        self.user_title = user_title
        self.user_msg = user_msg
        self.regain_minutes = regain_minutes  # > 0: a throttle; usage headers show 100%

    def body(self) -> JSON:
        """The JSON body Graph sends, with a fresh ``fbtrace_id``."""
        error: JSON = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.code in TRANSIENT_CODES
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = trace_id()
        return {"error": error}


def err_unknown() -> GraphError:
    """Code 1, the generic transient error (HTTP 500)."""
    return GraphError(1, "An unknown error has occurred.")


def err_service() -> GraphError:
    """Code 2, a temporary service error (HTTP 500)."""
    return GraphError(2, "An unexpected error has occurred. Please retry your request later.")


def err_param(message: str = "(#100) Invalid parameter", subcode: int | None = None) -> GraphError:
    """Code 100, an invalid or missing parameter."""
    return GraphError(100, message, subcode=subcode)


def err_invalid_token() -> GraphError:
    """Code 190, a token Graph cannot parse or does not know."""
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def err_session_invalidated() -> GraphError:
    """Code 190/460, a token replaced by a newer one."""
    return GraphError(190, "Error validating access token: The session has been invalidated because the user "
                           "changed their password or Facebook has changed the session for security reasons.",
                      subcode=460)


def pacific_time(ts: float) -> str:
    """*ts* as Graph's token messages write it (Pacific time)."""
    return datetime.fromtimestamp(ts, timezone(timedelta(hours=-8))).strftime("%A, %d-%b-%y %H:%M:%S PST")


def err_expired(expired_at: float, now: float) -> GraphError:
    """Code 190/463, an expired token; Meta's message names both times."""
    return GraphError(190, f"Error validating access token: Session has expired on {pacific_time(expired_at)}. "
                           f"The current time is {pacific_time(now)}.", subcode=463)


def err_token_required() -> GraphError:
    """Code 104, no access token at all."""
    return GraphError(104, "An access token is required to request this resource.")


def err_permission(message: str = "(#200) Permissions error") -> GraphError:
    """Code 200, a missing permission or another Page's node."""
    return GraphError(200, message)


def err_no_object(method: str, node_id: str) -> GraphError:
    """Code 100/33, no such node (or none this token may see)."""
    return GraphError(100, f"Unsupported {method.lower()} request. Object with ID '{node_id}' does not exist, "
                           "cannot be loaded due to missing permissions, or does not support this operation. "
                           "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                      subcode=33, type_="GraphMethodException")


def err_bad_proof() -> GraphError:
    """Code 100, an ``appsecret_proof`` that does not match the token."""
    return GraphError(100, "Invalid appsecret_proof provided in the API argument", type_="GraphMethodException")


def err_proof_required() -> GraphError:
    """Code 100, ``appsecret_proof`` missing where the app requires it."""
    return GraphError(100, "API calls from the server require an appsecret_proof argument",
                      type_="GraphMethodException")


def err_rate_limit(code: int, regain_minutes: int, message: str | None = None) -> GraphError:
    """A throttle (*code* 4, 17, 32, 341, 613, 80001); access regained after *regain_minutes*."""
    return GraphError(code, message or RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Rate limit reached"),
                      regain_minutes=max(1, regain_minutes))


def err_blocked(subcode: int | None = None) -> GraphError:
    """Code 368, an action deemed abusive (subcode 1390008: posting too fast)."""
    if subcode == 1390008:
        return GraphError(368, "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                          subcode=1390008, user_title="You can't use this feature right now",
                          user_msg="We limit how often you can post, comment or do other things in a given amount "
                                   "of time in order to help protect the community from spam. You can try again later.")
    return GraphError(368, "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                      subcode=subcode)


def err_duplicate() -> GraphError:
    """Code 506, the same status text posted again."""
    return GraphError(506, "(#506) Duplicate status message", user_title="Duplicate Status Update",
                      user_msg="This status update is identical to the last one you posted. Try posting something "
                               "different, or delete your previous update.")


def err_media(code: int = 324, message: str | None = None) -> GraphError:
    """A rejected photo or link: 324 (file missing, invalid, too large) or 1609005 (link)."""
    if code == 1609005:
        return GraphError(1609005, message or "(#1609005) Error Posting Link")
    return GraphError(code, message or "(#324) Requires upload file")


def err_field(name: str, node_type: str) -> GraphError:
    """Code 100, a ``fields`` name the node type does not have."""
    return err_param(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")
