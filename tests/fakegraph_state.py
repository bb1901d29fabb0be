"""What the fake Graph API knows: Pages, tokens, posts, photos, faults, usage, the request log.

This is the state behind :mod:`tests.fakegraph` (the HTTP side, and the module
docstring that lists which Graph behaviours are modelled and where they are
documented).  Everything here is plain Python guarded by one re-entrant lock,
so handler threads and the test thread can use it at once.  Nothing here sleeps
or touches a socket: latency, slow answers and connection resets are the HTTP
layer's business; this module only decides *what* the answer is.

Two clocks are used on purpose:

- ``clock`` (default :func:`time.time`, injectable) is the wall clock the Graph
  API shows: ``created_time``, ``scheduled_publish_time`` checks, token expiry;
- :func:`time.monotonic` measures durations the tests tune in seconds:
  read-after-write ``lag``, the usage window, fault windows, duplicate window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

JSON = dict[str, Any]

MAX_PHOTO_BYTES = 4 * 1024 * 1024  # Page Photos reference: photos up to 4 MB
SCHEDULE_MIN_SECONDS = 10 * 60  # Pages API "Posts" guide: 10 minutes ...
SCHEDULE_MAX_SECONDS = 30 * 24 * 3600  # ... to 30 days after the API request
MAX_MESSAGE_CHARS = 63206  # Facebook's status length limit
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
DEFAULT_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "public_profile")
FAKE_USER_ID = "10000000000001"
DEFAULT_APP_ID = "1000000000000"

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

#: Fault kinds and when they strike: "before" answers (or resets) without
#: running the request; "after" runs it (the post IS created) and then spoils
#: the answer.
FAULT_KINDS: dict[str, str] = {
    "5xx_before": "before",
    "code2_before": "before",
    "reset_before": "before",
    "rate_limit": "before",
    "expired_token": "before",
    "blocked": "before",
    "duplicate": "before",
    "invalid": "before",
    "rejected_media": "before",
    "5xx_after": "after",
    "code1_after": "after",
    "slow_after": "after",
    "reset_after": "after",
}


# -- errors --------------------------------------------------------------------


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
    return GraphError(1, "An unknown error has occurred.")


def err_service() -> GraphError:
    return GraphError(2, "An unexpected error has occurred. Please retry your request later.")


def err_param(message: str = "(#100) Invalid parameter", subcode: int | None = None) -> GraphError:
    return GraphError(100, message, subcode=subcode)


def err_invalid_token() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def err_session_invalidated() -> GraphError:
    return GraphError(190, "Error validating access token: The session has been invalidated because the user "
                           "changed their password or Facebook has changed the session for security reasons.",
                      subcode=460)


def _pacific(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone(timedelta(hours=-8))).strftime("%A, %d-%b-%y %H:%M:%S PST")


def err_expired(expired_at: float, now: float) -> GraphError:
    return GraphError(190, f"Error validating access token: Session has expired on {_pacific(expired_at)}. "
                           f"The current time is {_pacific(now)}.", subcode=463)


def err_token_required() -> GraphError:
    return GraphError(104, "An access token is required to request this resource.")


def err_permission(message: str = "(#200) Permissions error") -> GraphError:
    return GraphError(200, message)


def err_no_object(method: str, node_id: str) -> GraphError:
    return GraphError(100, f"Unsupported {method.lower()} request. Object with ID '{node_id}' does not exist, "
                           "cannot be loaded due to missing permissions, or does not support this operation. "
                           "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                      subcode=33, type_="GraphMethodException")


def err_bad_proof() -> GraphError:
    return GraphError(100, "Invalid appsecret_proof provided in the API argument", type_="GraphMethodException")


def err_proof_required() -> GraphError:
    return GraphError(100, "API calls from the server require an appsecret_proof argument",
                      type_="GraphMethodException")


def err_rate_limit(code: int, regain_minutes: int, message: str | None = None) -> GraphError:
    return GraphError(code, message or RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Rate limit reached"),
                      regain_minutes=max(1, regain_minutes))


def err_blocked(subcode: int | None = None) -> GraphError:
    if subcode == 1390008:
        return GraphError(368, "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                          subcode=1390008, user_title="You can't use this feature right now",
                          user_msg="We limit how often you can post, comment or do other things in a given amount "
                                   "of time in order to help protect the community from spam. You can try again later.")
    return GraphError(368, "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                      subcode=subcode)


def err_duplicate() -> GraphError:
    return GraphError(506, "(#506) Duplicate status message", user_title="Duplicate Status Update",
                      user_msg="This status update is identical to the last one you posted. Try posting something "
                               "different, or delete your previous update.")


def err_media(code: int = 324, message: str | None = None) -> GraphError:
    if code == 1609005:
        return GraphError(1609005, message or "(#1609005) Error Posting Link")
    return GraphError(code, message or "(#324) Requires upload file")


def err_field(name: str, node_type: str) -> GraphError:
    return err_param(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")


# -- records -------------------------------------------------------------------


def graph_time(ts: float) -> str:
    """Graph's time format: ``2026-11-29T10:00:00+0000``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str, name: str) -> float:
    """A Graph time argument: unix seconds or ISO 8601 (``strtotime`` phrases are not modelled)."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise err_param(f"(#100) The parameter {name} must be a valid unix time or ISO 8601 date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def parse_bool(value: str | None, default: bool, name: str) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise err_param(f"(#100) Param {name} must be a boolean")


@dataclass
class Upload:
    """One file part of a multipart body."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Page:
    id: str
    name: str
    token: str
    scopes: list[str]
    initial_token: str
    issued_at: float
    expired_at: float | None = None
    old_tokens: set[str] = field(default_factory=set)


@dataclass
class Photo:
    id: str
    page_id: str
    seq: int
    created_ts: float
    published: bool
    caption: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    url: str | None
    visible_at: float
    post_id: str | None = None
    attached_to: list[str] = field(default_factory=list)
    deleted: bool = False

    def record(self, mono: float) -> JSON:
        return {"id": self.id, "page": self.page_id, "published": self.published, "caption": self.caption,
                "content_type": self.content_type, "size": self.size, "sha256": self.sha256, "url": self.url,
                "post_id": self.post_id, "attached_to": list(self.attached_to), "deleted": self.deleted,
                "created_time": graph_time(self.created_ts), "visible": self.visible_at <= mono}


@dataclass
class Post:
    id: str
    page_id: str
    seq: int
    kind: str  # "status" (feed) or "photo" (a published /photos upload)
    message: str | None
    link: str | None
    media_ids: list[str]
    created_ts: float
    published: bool
    scheduled_publish_time: int | None
    visible_at: float
    updated_ts: float
    deleted: bool = False

    def live(self, now: float) -> bool:
        """Published, or scheduled and its time has come (Meta publishes it then)."""
        return self.published or (self.scheduled_publish_time is not None and self.scheduled_publish_time <= now)

    def shown_ts(self, now: float) -> float:
        """``created_time`` as Graph shows it: a scheduled post takes its publish time."""
        if not self.published and self.scheduled_publish_time is not None and self.scheduled_publish_time <= now:
            return float(self.scheduled_publish_time)
        return self.created_ts

    def record(self, now: float, mono: float) -> JSON:
        return {"id": self.id, "page": self.page_id, "kind": self.kind, "message": self.message, "link": self.link,
                "attached_media": list(self.media_ids), "created_time": graph_time(self.created_ts),
                "created_ts": self.created_ts, "published": self.live(now),
                "scheduled": self.scheduled_publish_time is not None and not self.published,
                "scheduled_publish_time": self.scheduled_publish_time, "deleted": self.deleted,
                "visible": self.visible_at <= mono, "updated_time": graph_time(self.updated_ts)}


@dataclass
class Fault:
    """One injected fault; see :data:`FAULT_KINDS` and :meth:`GraphState.add_fault`."""

    id: int
    kind: str
    path: str | None
    method: str | None
    times: int | None
    probability: float
    seconds: float
    code: int | None
    subcode: int | None
    message: str | None
    until: float | None  # monotonic; a window fault (``times=None`` with ``seconds``) ends here
    fired: int = 0

    @property
    def phase(self) -> str:
        return FAULT_KINDS[self.kind]

    def active(self, mono: float) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        return self.until is None or mono < self.until

    def matches(self, method: str, path: str) -> bool:
        if self.path is None:
            return method == (self.method or "POST")
        if self.method is not None and method != self.method:
            return False
        return re.search(self.path, path) is not None

    def error(self) -> GraphError:
        """The answer a 'before' error fault (or a 5xx 'after' fault) gives."""
        kind = self.kind
        if kind == "5xx_before" or kind == "code1_after":
            error = err_unknown()
        elif kind == "code2_before" or kind == "5xx_after":
            error = err_service()
        elif kind == "rate_limit":
            error = err_rate_limit(self.code or 32, math.ceil(self.seconds / 60) if self.seconds else 1)
        elif kind == "expired_token":
            now = time.time()
            error = err_expired(now - 60, now)
        elif kind == "blocked":
            error = err_blocked(self.subcode)
        elif kind == "duplicate":
            error = err_duplicate()
        elif kind == "invalid":
            error = err_param(subcode=self.subcode)
        elif kind == "rejected_media":
            error = err_media(self.code or 324)
        else:
            raise ValueError(f"fault {kind} has no error answer")
        if self.message:
            error.message = self.message
        if self.code is not None and kind not in ("rate_limit", "rejected_media"):
            error.code = self.code
            error.status = status_for(self.code)
        if self.subcode is not None and kind != "blocked":
            error.subcode = self.subcode
        if kind in ("5xx_before", "code2_before", "5xx_after", "code1_after"):
            error.status = 500  # whatever code was asked for, these are server errors
        return error

    def record(self) -> JSON:
        return {"id": self.id, "kind": self.kind, "path": self.path, "method": self.method, "times": self.times,
                "probability": self.probability, "seconds": self.seconds, "code": self.code,
                "subcode": self.subcode, "message": self.message, "fired": self.fired}


# -- the state -------------------------------------------------------------------


class GraphState:
    """Pages, tokens, posts, photos, faults, usage and the request log, behind one lock."""

    def __init__(self, pages: Mapping[str, Mapping[str, Any]], *, lag: float = 0.0, latency: float = 0.0,
                 duplicate_window: float = 0.0, calls_per_window: int = 10**9, usage_window: float = 3600.0,
                 throttle_code: int = 80001, app_id: str | None = None, app_secret: str | None = None,
                 require_appsecret_proof: bool = False, max_photo_bytes: int = MAX_PHOTO_BYTES,
                 schedule_min: float = SCHEDULE_MIN_SECONDS, schedule_max: float = SCHEDULE_MAX_SECONDS,
                 clock: Callable[[], float] = time.time, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.random = random.Random(seed)
        self.lag = lag
        self.latency = latency
        self.duplicate_window = duplicate_window
        self.calls_per_window = calls_per_window
        self.usage_window = usage_window
        self.throttle_code = throttle_code
        self.app_id = app_id
        self.app_secret = app_secret
        self.require_appsecret_proof = require_appsecret_proof
        self.max_photo_bytes = max_photo_bytes
        self.schedule_min = schedule_min
        self.schedule_max = schedule_max
        self._page_config = {str(k): dict(v) for k, v in pages.items()}
        self.reset()

    # -- configuration -----------------------------------------------------------
    def reset(self) -> None:
        """Back to the start: initial tokens; no posts, photos, faults, usage or log."""
        with self.lock:
            now = self.clock()
            self.pages: dict[str, Page] = {}
            for page_id, conf in self._page_config.items():
                token = str(conf["token"])
                self.pages[page_id] = Page(page_id, str(conf.get("name", f"Page {page_id}")), token,
                                           list(conf.get("scopes", DEFAULT_SCOPES)), token, now)
            self.posts: dict[str, Post] = {}
            self.photos: dict[str, Photo] = {}
            self.faults: list[Fault] = []
            self.log: list[JSON] = []
            self.calls: dict[str, deque[float]] = {}
            self.app_calls: deque[float] = deque()
            self._ids = itertools.count(1)
            self._fault_ids = itertools.count(1)
            self._post_numbers = itertools.count(100000000000001)
            self._photo_numbers = itertools.count(200000000000001)

    def configure(self, **settings: Any) -> None:
        """Change ``lag``, ``latency``, ``duplicate_window``, ``calls_per_window``, ... at run time."""
        allowed = {"lag", "latency", "duplicate_window", "calls_per_window", "usage_window", "throttle_code",
                   "require_appsecret_proof", "max_photo_bytes", "schedule_min", "schedule_max"}
        with self.lock:
            for name, value in settings.items():
                if name not in allowed:
                    raise ValueError(f"unknown setting {name!r} (one of {sorted(allowed)})")
                setattr(self, name, value)

    # -- faults --------------------------------------------------------------------
    def add_fault(self, kind: str, path: str | None = None, times: int | None = 1, probability: float = 1.0,
                  seconds: float = 0.0, code: int | None = None, subcode: int | None = None,
                  method: str | None = None, message: str | None = None) -> Fault:
        """Inject a fault; the first active matching fault (in order added) strikes a request."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {sorted(FAULT_KINDS)})")
        if path is not None:
            re.compile(path)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None (forever)")
        until = time.monotonic() + seconds if (times is None and kind == "rate_limit" and seconds > 0) else None
        with self.lock:
            fault = Fault(next(self._fault_ids), kind, path, method.upper() if method else None, times,
                          float(probability), float(seconds), code, subcode, message, until)
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault that strikes this request, if any (counted as fired)."""
        mono = time.monotonic()
        with self.lock:
            for fault in self.faults:
                if fault.active(mono) and fault.matches(method, path):
                    if fault.probability < 1.0 and self.random.random() >= fault.probability:
                        continue
                    fault.fired += 1
                    return fault
        return None

    # -- tokens ----------------------------------------------------------------------
    def page(self, page_id: str) -> Page:
        try:
            return self.pages[str(page_id)]
        except KeyError:
            raise KeyError(f"no page {page_id!r} (pages: {sorted(self.pages)})") from None

    def rotate_token(self, page_id: str, token: str) -> None:
        """Give *page_id* a new token; the old one now fails with 190/460."""
        with self.lock:
            page = self.page(page_id)
            page.old_tokens.add(page.token)
            page.old_tokens.discard(token)
            page.token = token
            page.expired_at = None
            page.issued_at = self.clock()

    def expire_token(self, page_id: str) -> None:
        """The page's current token has expired: 190/463 until rotated."""
        with self.lock:
            self.page(page_id).expired_at = self.clock() - 1

    def page_of_token(self, token: str | None) -> Page | None:
        """The page whose current token this is (valid or expired), else None."""
        if not token:
            return None
        with self.lock:
            for page in self.pages.values():
                if hmac.compare_digest(page.token, token):
                    return page
        return None

    def authenticate(self, token: str | None, proof: str | None) -> Page:
        """The page acting, or the GraphError Meta gives for this token."""
        if not token:
            raise err_token_required()
        with self.lock:
            if self.app_secret and proof is not None:
                expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, proof):
                    raise err_bad_proof()
            elif self.app_secret and self.require_appsecret_proof:
                raise err_proof_required()
            page = self.page_of_token(token)
            if page is None:
                if any(token in p.old_tokens for p in self.pages.values()):
                    raise err_session_invalidated()
                if self.app_token() == token:
                    raise err_permission("(#200) A page access token is required to request this resource.")
                raise err_invalid_token()
            if page.expired_at is not None:
                raise err_expired(page.expired_at, self.clock())
            return page

    def app_token(self) -> str | None:
        return f"{self.app_id}|{self.app_secret}" if self.app_id and self.app_secret else None

    # -- usage -------------------------------------------------------------------------
    def _trim(self, calls: deque[float], mono: float) -> None:
        while calls and calls[0] <= mono - self.usage_window:
            calls.popleft()

    def record_call(self, page_id: str | None) -> None:
        """Count one Graph call against the app and (if known) the page."""
        mono = time.monotonic()
        with self.lock:
            self.app_calls.append(mono)
            if page_id is not None:
                self.calls.setdefault(page_id, deque()).append(mono)

    def page_percent(self, page_id: str) -> int:
        mono = time.monotonic()
        with self.lock:
            calls = self.calls.get(page_id, deque())
            self._trim(calls, mono)
            return min(100, (100 * len(calls)) // max(1, self.calls_per_window))

    def check_throttle(self, page_id: str) -> None:
        """Raise the page-level throttle once its calls in the window pass ``calls_per_window``."""
        mono = time.monotonic()
        with self.lock:
            calls = self.calls.get(page_id, deque())
            self._trim(calls, mono)
            if len(calls) > self.calls_per_window:
                excess = len(calls) - self.calls_per_window
                frees_at = calls[excess - 1] + self.usage_window
                raise err_rate_limit(self.throttle_code, math.ceil((frees_at - mono) / 60))

    def usage_headers(self, page_id: str | None, regain_minutes: int = 0) -> dict[str, str]:
        """``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (percentages; 100 while throttled)."""
        mono = time.monotonic()
        with self.lock:
            self._trim(self.app_calls, mono)
            app_cap = max(1, self.calls_per_window * max(1, len(self.pages)))
            app = min(100, (100 * len(self.app_calls)) // app_cap)
            page = self.page_percent(page_id) if page_id is not None else 0
        if regain_minutes > 0:
            app = page = 100
        app_usage = {"call_count": app, "total_cputime": app // 2, "total_time": (app * 3) // 4}
        buc: JSON = {}
        if page_id is not None:
            buc[page_id] = [{"type": "pages", "call_count": page, "total_cputime": page // 2,
                             "total_time": (page * 3) // 4, "estimated_time_to_regain_access": regain_minutes}]
        return {"X-App-Usage": json.dumps(app_usage), "X-Business-Use-Case-Usage": json.dumps(buc)}

    # -- request log -------------------------------------------------------------------
    def log_request(self, entry: JSON) -> JSON:
        with self.lock:
            entry["seq"] = next(self._ids)
            entry["time"] = self.clock()
            self.log.append(entry)
            return entry

    def finish_request(self, entry: JSON, **outcome: Any) -> None:
        with self.lock:
            entry.update(outcome)

    # -- nodes -------------------------------------------------------------------------
    def _visible(self, item: Post | Photo) -> bool:
        return not item.deleted and item.visible_at <= time.monotonic()

    def node(self, node_id: str, *, read: bool) -> Page | Post | Photo | None:
        """A page, post or photo by id; reads do not see deleted or not-yet-visible (lag) ones."""
        with self.lock:
            if node_id in self.pages:
                return self.pages[node_id]
            item: Post | Photo | None = self.posts.get(node_id) or self.photos.get(node_id)
            if item is None or item.deleted or (read and not self._visible(item)):
                return None
            return item

    def owner_check(self, page: Page, node: Page | Post | Photo) -> None:
        owner = node.id if isinstance(node, Page) else node.page_id
        if owner != page.id:
            raise err_permission()

    # -- writes ------------------------------------------------------------------------
    def _require_scope(self, page: Page, scope: str = "pages_manage_posts") -> None:
        if scope not in page.scopes:
            raise err_permission("(#200) If posting to a page, requires both pages_read_engagement and "
                                 "pages_manage_posts permission with page token")

    def _schedule(self, value: str) -> int:
        when = parse_time(value, "scheduled_publish_time")
        ahead = when - self.clock()
        if not self.schedule_min <= ahead <= self.schedule_max:
            raise err_param("(#100) The specified scheduled publish time is invalid.")
        return int(when)

    def _publish_options(self, params: Mapping[str, str]) -> tuple[bool, int | None]:
        published = parse_bool(params.get("published"), True, "published")
        raw = params.get("scheduled_publish_time")
        if raw in (None, ""):
            return published, None
        if published:
            raise err_param("(#100) Cannot specify a scheduled publish time on a published post")
        return published, self._schedule(str(raw))

    def _new_post(self, page: Page, kind: str, message: str | None, link: str | None, media: list[str],
                  published: bool, scheduled: int | None) -> Post:
        now = self.clock()
        number = next(self._post_numbers)
        post = Post(f"{page.id}_{number}", page.id, number, kind, message, link, media, now, published, scheduled,
                    time.monotonic() + self.lag, now)
        self.posts[post.id] = post
        return post

    def _check_duplicate(self, page: Page, message: str | None) -> None:
        if not self.duplicate_window or not message:
            return
        since = self.clock() - self.duplicate_window
        for post in self.posts.values():
            if post.page_id == page.id and not post.deleted and post.message == message and post.created_ts >= since:
                raise err_duplicate()

    def _attached_media(self, page: Page, params: Mapping[str, str]) -> list[str]:
        items: list[tuple[int, str, str]] = []
        for name, value in params.items():
            match = re.fullmatch(r"attached_media\[(\d+)\]", name)
            if match:
                items.append((int(match.group(1)), name, value))
        if "attached_media" in params:  # the JSON-array form SDKs send
            try:
                values = json.loads(params["attached_media"])
            except ValueError:
                raise err_param("(#100) param attached_media must be an array") from None
            if not isinstance(values, list):
                raise err_param("(#100) param attached_media must be an array")
            items.extend((i, f"attached_media[{i}]", json.dumps(v)) for i, v in enumerate(values))
        ids: list[str] = []
        for _, name, value in sorted(items):
            try:
                spec = json.loads(value)
                media_id = str(spec["media_fbid"])
            except (ValueError, KeyError, TypeError):
                raise err_param(f"(#100) param {name} must be a JSON object with a media_fbid") from None
            photo = self.photos.get(media_id)
            if photo is None or photo.deleted or photo.page_id != page.id or photo.published:
                raise err_param(f"(#100) {name}: media_fbid {media_id} is not an unpublished photo of this Page")
            ids.append(media_id)
        return ids

    def create_feed_post(self, page: Page, params: Mapping[str, str]) -> JSON:
        """``POST /{page}/feed``: a status, link or multi-photo post; published, unpublished or scheduled."""
        with self.lock:
            self._require_scope(page)
            message = params.get("message") or None
            link = params.get("link") or None
            if message and len(message) > MAX_MESSAGE_CHARS:
                raise err_param("(#100) The message is too long")
            if link and not re.match(r"https?://[^\s/]+", link):
                raise err_param("(#100) The parameter link must be a valid URL")
            media = self._attached_media(page, params)
            if not (message or link or media):
                raise err_param("(#100) Missing message or attachment")
            published, scheduled = self._publish_options(params)
            self._check_duplicate(page, message)
            post = self._new_post(page, "status", message, link, media, published, scheduled)
            for media_id in media:
                self.photos[media_id].attached_to.append(post.id)
            return {"id": post.id}

    def upload_photo(self, page: Page, params: Mapping[str, str], files: Mapping[str, Upload]) -> JSON:
        """``POST /{page}/photos``: one JPEG/PNG; published makes a post, ``published=false`` keeps it for later."""
        with self.lock:
            self._require_scope(page)
            source = files.get("source")
            url = params.get("url") or None
            if source is None and url is None:
                raise err_media(324, "(#324) Requires upload file")
            content_type = size = digest = None
            if source is not None:
                data = source.data
                if not data:
                    raise err_media(324, "(#324) Requires upload file")
                if data.startswith(b"\xff\xd8\xff"):
                    content_type = "image/jpeg"
                elif data.startswith(b"\x89PNG\r\n\x1a\n"):
                    content_type = "image/png"
                else:
                    raise err_media(324, "(#324) Missing or invalid image file")
                if len(data) > self.max_photo_bytes:
                    raise err_media(324, f"(#324) The photo file is too large (limit {self.max_photo_bytes} bytes)")
                size, digest = len(data), hashlib.sha256(data).hexdigest()
            caption = params.get("message") or params.get("caption") or None
            published, scheduled = self._publish_options(params)
            now = self.clock()
            photo = Photo(str(next(self._photo_numbers)), page.id, next(self._ids), now, published, caption,
                          content_type, size, digest, url, time.monotonic() + self.lag)
            self.photos[photo.id] = photo
            answer: JSON = {"id": photo.id}
            if published or scheduled is not None:
                post = self._new_post(page, "photo", caption, None, [photo.id], published, scheduled)
                photo.post_id = post.id
                answer["post_id"] = post.id
            return answer

    def update_post(self, page: Page, node: Post | Photo, params: Mapping[str, str]) -> JSON:
        """``POST /{post}``: change ``message``, ``scheduled_publish_time``, or publish with ``is_published``."""
        with self.lock:
            self._require_scope(page)
            if isinstance(node, Photo):
                if "message" in params or "name" in params:
                    node.caption = params.get("message", params.get("name"))
                    return {"success": True}
                raise err_param("(#100) No valid fields to update")
            now = self.clock()
            changed = False
            if "message" in params:
                node.message = params["message"] or None
                changed = True
            if params.get("scheduled_publish_time"):
                if node.live(now):
                    raise err_param("(#100) Only a scheduled post can be rescheduled")
                node.scheduled_publish_time = self._schedule(params["scheduled_publish_time"])
                changed = True
            if parse_bool(params.get("is_published"), False, "is_published") and not node.live(now):
                node.published, node.scheduled_publish_time, node.created_ts = True, None, now
                changed = True
            if not changed:
                raise err_param("(#100) No valid fields to update")
            node.updated_ts = now
            return {"success": True}

    def delete_node(self, page: Page, node: Post | Photo) -> JSON:
        """``DELETE /{post or photo}``: gone from every read; kept (flagged) for ``/_fake/posts``."""
        with self.lock:
            self._require_scope(page)
            node.deleted = True
            if isinstance(node, Photo) and node.post_id and node.post_id in self.posts:
                self.posts[node.post_id].deleted = True
            return {"success": True}

    # -- reads ---------------------------------------------------------------------------
    POST_FIELDS = ("id", "message", "created_time", "updated_time", "permalink_url", "is_published",
                   "scheduled_publish_time", "status_type", "from", "attachments")
    PHOTO_FIELDS = ("id", "name", "created_time", "from", "page_story_id", "link")
    PAGE_FIELDS = ("id", "name", "link")

    def post_node(self, post: Post, fields: list[str]) -> JSON:
        now = self.clock()
        node: JSON = {}
        for name in fields:
            if name not in self.POST_FIELDS:
                raise err_field(name, "PagePost")
            if name == "id":
                node["id"] = post.id
            elif name == "message" and post.message is not None:
                node["message"] = post.message
            elif name == "created_time":
                node["created_time"] = graph_time(post.shown_ts(now))
            elif name == "updated_time":
                node["updated_time"] = graph_time(post.updated_ts)
            elif name == "permalink_url":
                node["permalink_url"] = f"https://www.facebook.com/{post.page_id}/posts/{post.seq}"
            elif name == "is_published":
                node["is_published"] = post.live(now)
            elif name == "scheduled_publish_time" and post.scheduled_publish_time is not None and not post.live(now):
                node["scheduled_publish_time"] = post.scheduled_publish_time
            elif name == "status_type":
                node["status_type"] = ("added_photos" if post.media_ids else
                                       "shared_story" if post.link else "mobile_status_update")
            elif name == "from":
                node["from"] = {"id": post.page_id, "name": self.pages[post.page_id].name}
            elif name == "attachments":
                node.update(self._attachments(post))
        return node

    def _attachments(self, post: Post) -> JSON:
        if post.media_ids:
            subs = [{"media_type": "photo", "type": "photo", "target": {"id": media_id}} for media_id in post.media_ids]
            if len(subs) == 1:
                return {"attachments": {"data": subs}}
            return {"attachments": {"data": [{"media_type": "album", "type": "album",
                                              "subattachments": {"data": subs}}]}}
        if post.link:
            return {"attachments": {"data": [{"media_type": "link", "type": "share", "url": post.link}]}}
        return {}

    def photo_node(self, photo: Photo, fields: list[str]) -> JSON:
        node: JSON = {}
        for name in fields:
            if name not in self.PHOTO_FIELDS:
                raise err_field(name, "Photo")
            if name == "id":
                node["id"] = photo.id
            elif name == "name" and photo.caption:
                node["name"] = photo.caption
            elif name == "created_time":
                node["created_time"] = graph_time(photo.created_ts)
            elif name == "from":
                node["from"] = {"id": photo.page_id, "name": self.pages[photo.page_id].name}
            elif name == "page_story_id" and photo.post_id:
                node["page_story_id"] = photo.post_id
            elif name == "link":
                node["link"] = f"https://www.facebook.com/photo.php?fbid={photo.id}"
        return node

    def page_node(self, page: Page, fields: list[str]) -> JSON:
        node: JSON = {}
        for name in fields:
            if name not in self.PAGE_FIELDS:
                raise err_field(name, "Page")
            node[name] = {"id": page.id, "name": page.name, "link": f"https://www.facebook.com/{page.id}"}[name]
        return node

    def list_posts(self, page: Page, edge: str, fields: list[str], *, since: float | None = None,
                   until: float | None = None, limit: int = DEFAULT_LIMIT, after: str | None = None,
                   before: str | None = None) -> tuple[list[JSON], str | None, str | None, bool, bool]:
        """One page of ``feed`` (live posts) or ``scheduled_posts``, newest first.

        Returns ``(data, before_cursor, after_cursor, has_newer, has_older)``.
        """
        for name in fields:
            if name not in self.POST_FIELDS:
                raise err_field(name, "PagePost")
        with self.lock:
            now = self.clock()
            if edge == "scheduled_posts":
                wanted = [p for p in self.posts.values() if p.page_id == page.id and self._visible(p)
                          and not p.published and p.scheduled_publish_time is not None and not p.live(now)]
            else:
                wanted = [p for p in self.posts.values() if p.page_id == page.id and self._visible(p) and p.live(now)]
            if since is not None:
                wanted = [p for p in wanted if p.shown_ts(now) >= since]
            if until is not None:
                wanted = [p for p in wanted if p.shown_ts(now) <= until]
            keyed = sorted(((p.shown_ts(now), p.seq), p) for p in wanted)[::-1]
            if after is not None:
                mark = decode_cursor(after)
                keyed = [(k, p) for k, p in keyed if k < mark]
                has_newer = True
                chosen = keyed[:limit]
                has_older = len(keyed) > limit
            elif before is not None:
                mark = decode_cursor(before)
                newer = [(k, p) for k, p in keyed if k > mark]
                chosen = newer[-limit:]
                has_newer = len(newer) > limit
                has_older = True
            else:
                chosen = keyed[:limit]
                has_newer, has_older = False, len(keyed) > limit
            data = [self.post_node(p, fields) for _, p in chosen]
            if not chosen:
                return data, None, None, False, False
            return data, encode_cursor(chosen[0][0]), encode_cursor(chosen[-1][0]), has_newer, has_older

    def debug_token(self, input_token: str) -> JSON:
        """``GET /debug_token``: what Meta says about *input_token*."""
        with self.lock:
            now = self.clock()
            page = self.page_of_token(input_token)
            if page is None:
                error: JSON = {"code": 190, "message": "Invalid OAuth access token."}
                if any(input_token in p.old_tokens for p in self.pages.values()):
                    error = {"code": 190, "subcode": 460, "message": err_session_invalidated().message}
                return {"data": {"error": error, "is_valid": False, "scopes": []}}
            data: JSON = {
                "app_id": self.app_id or DEFAULT_APP_ID, "type": "PAGE", "application": "publisher (fake)",
                "data_access_expires_at": int(now + 90 * 86400), "expires_at": 0, "is_valid": True,
                "issued_at": int(page.issued_at), "profile_id": page.id, "scopes": list(page.scopes),
                "granular_scopes": [{"scope": s, "target_ids": [page.id]}
                                    for s in page.scopes if s.startswith("pages_")],
                "user_id": FAKE_USER_ID,
            }
            if page.expired_at is not None:
                data.update(is_valid=False, expires_at=int(page.expired_at),
                            error={"code": 190, "subcode": 463,
                                   "message": f"Session has expired on {_pacific(page.expired_at)}."})
            return {"data": data}

    # -- snapshots -------------------------------------------------------------------------
    def posts_snapshot(self, page: str | None = None) -> list[JSON]:
        with self.lock:
            now, mono = self.clock(), time.monotonic()
            return [p.record(now, mono) for p in sorted(self.posts.values(), key=lambda p: p.seq)
                    if page is None or p.page_id == str(page)]

    def photos_snapshot(self, page: str | None = None) -> list[JSON]:
        with self.lock:
            mono = time.monotonic()
            return [p.record(mono) for p in self.photos.values() if page is None or p.page_id == str(page)]

    def requests_snapshot(self) -> list[JSON]:
        with self.lock:
            return [dict(entry) for entry in self.log]

    def faults_snapshot(self) -> list[JSON]:
        with self.lock:
            return [f.record() for f in self.faults]


def encode_cursor(key: tuple[float, int]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]!r}:{key[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, seq = raw.split(":")
        return float(ts), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise err_param("(#100) Invalid cursor") from None


def split_fields(value: str | None, default: Iterable[str]) -> list[str]:
    """Top-level names of a ``fields`` argument (``a,b{c,d},e.limit(1)`` gives a, b, e)."""
    if not value:
        return list(default)
    names, depth, current = [], 0, ""
    for char in value:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and char not in "})":
            current += char
    names.append(current)
    cleaned = [name.split(".")[0].strip() for name in names]
    return [name for name in cleaned if name]
