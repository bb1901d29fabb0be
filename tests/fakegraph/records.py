"""What the fake keeps: Pages, posts, photos, uploads, and Graph's documented limits on them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import JSON
from .params import graph_time

MAX_PHOTO_BYTES = 4 * 1024 * 1024  # Page Photos reference: photos up to 4 MB
SCHEDULE_MIN_SECONDS = 10 * 60  # Pages API "Posts" guide: 10 minutes ...
SCHEDULE_MAX_SECONDS = 30 * 24 * 3600  # ... to 30 days after the API request
MAX_MESSAGE_CHARS = 63206  # Facebook's status length limit
DEFAULT_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "public_profile")


@dataclass
class Upload:
    """One file part of a multipart body."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Page:
    """A Facebook Page and its Page access token (current, initial, replaced)."""

    id: str
    name: str
    token: str
    scopes: list[str]
    initial_token: str
    issued_at: float
    expired_at: float | None = None  # set by expire_token: refused from then on
    expires_at: float | None = None  # the current token's own expiry (None: never), see set_token_expiry
    old_tokens: set[str] = field(default_factory=set)


@dataclass
class Photo:
    """An uploaded photo; an unpublished one waits to be attached to a feed post."""

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
        """What ``/_fake/photos`` shows (*mono*: now on :func:`time.monotonic`)."""
        return {"id": self.id, "page": self.page_id, "published": self.published, "caption": self.caption,
                "content_type": self.content_type, "size": self.size, "sha256": self.sha256, "url": self.url,
                "post_id": self.post_id, "attached_to": list(self.attached_to), "deleted": self.deleted,
                "created_time": graph_time(self.created_ts), "visible": self.visible_at <= mono}


@dataclass
class Post:
    """A Page post: a ``feed`` post (status, link, photos) or the post a published photo makes."""

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
        """What ``/_fake/posts`` shows (*now*: Graph's clock; *mono*: :func:`time.monotonic`)."""
        return {"id": self.id, "page": self.page_id, "kind": self.kind, "message": self.message, "link": self.link,
                "attached_media": list(self.media_ids), "created_time": graph_time(self.created_ts),
                "created_ts": self.created_ts, "published": self.live(now),
                "scheduled": self.scheduled_publish_time is not None and not self.published,
                "scheduled_publish_time": self.scheduled_publish_time, "deleted": self.deleted,
                "visible": self.visible_at <= mono, "updated_time": graph_time(self.updated_ts)}
