"""Typed records: policies, posts, deliveries, their content and receipts.

A *policy* has *posts*; an approved post becomes one *delivery* per channel,
whose rendered content is frozen (``content_sha256``); each try to publish a
delivery is an *attempt*.  Times are aware UTC datetimes everywhere below the
faces; they are converted to the display zone only when shown.  The delivery
state machine is :mod:`publisher.states` (re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any

# the state machine has its own module; every name stays importable from here
from .states import DUE_STATES, TERMINAL_STATES, TRANSITIONS, DeliveryState, PostState, S, sources_of

__all__ = ["DUE_STATES", "TERMINAL_STATES", "TRANSITIONS", "Agency", "Content", "Delivery", "DeliveryState", "Health",
           "Impact", "MediaFile", "Policy", "Post", "PostState", "Receipt", "S", "Setting", "canonical_json", "nfc",
           "sha256_text", "sources_of", "utcnow"]


class Impact(StrEnum):
    HIGH = "high"  # "chính sách có tác động lớn": counts toward the coverage target
    NORMAL = "normal"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def nfc(text: str) -> str:
    """Vietnamese typed with combining marks renders wrongly: normalise to NFC."""
    return unicodedata.normalize("NFC", text)


# One encoder for every call: json.dumps with options builds a new one each time,
# which was a third of the cost of journalling a million queued deliveries.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    """One byte-exact JSON form for hashing: sorted keys, no spaces, UTF-8."""
    return _CANONICAL.encode(value)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    logo: str | None = None  # absolute path of the agency's logo (PNG), if configured


@dataclass(frozen=True)
class Policy:
    id: int
    agency: str
    code: str
    title: str
    summary: str
    impact: Impact
    consultation_opens: date | None = None
    consultation_closes: date | None = None
    passed_on: date | None = None
    issued_on: date | None = None
    draft_url: str | None = None
    key_points: tuple[str, ...] = ()  # 3–5 short points for infographics and articles
    affected: str | None = None  # who is affected (đối tượng chịu tác động)
    comment_how: str | None = None  # how citizens send comments
    created_by: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class MediaFile:
    """A frozen media file: content-addressed under the data folder."""

    name: str  # the name staff gave it (shown, used by channels)
    path: str  # relative to the data folder
    sha256: str


@dataclass(frozen=True)
class Content:
    """What a delivery publishes, byte for byte; hashed at approval."""

    title: str
    body: str
    media: tuple[MediaFile, ...] = ()

    def sha256(self) -> str:
        media = [{"name": m.name, "sha256": m.sha256} for m in self.media]
        return sha256_text(canonical_json({"title": self.title, "body": self.body, "media": media}))


@dataclass(frozen=True)
class Post:
    id: int
    policy_id: int
    template: str
    variables: dict[str, Any]
    channels: tuple[str, ...]
    publish_at: datetime
    author: str
    state: PostState
    deadline_at: datetime | None = None
    media: tuple[MediaFile, ...] = ()  # frozen when the post is written
    infographics: tuple[str, ...] = ()  # layout names, drawn and frozen on approval
    moment: str | None = None  # campaign step this post serves, if made by a campaign
    approver: str | None = None
    approved_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    id: int
    post_id: int
    policy_id: int
    agency: str
    channel: str
    state: DeliveryState
    due_at: datetime
    content: Content
    content_sha256: str
    attempts: int = 0
    deadline_at: datetime | None = None
    next_attempt_at: datetime | None = None
    needs_reconcile: bool = False
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    first_attempt_at: datetime | None = None
    remote_id: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    last_error: str | None = None
    policy_code: str = ""


@dataclass(frozen=True)
class Receipt:
    """Proof that a channel published a delivery."""

    remote_id: str
    permalink: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Setting:
    """One configuration key, declared once: type, default and help.

    The README's configuration table is checked against these declarations.
    """

    key: str  # dotted path inside its section, e.g. "lease_seconds"
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    is_path: bool = False  # a relative value is relative to the config file, not the cwd
