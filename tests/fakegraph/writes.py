"""Graph writes: feed posts, photo uploads, post updates and deletes, with Meta's checks.

:class:`WritesMixin` is that part of :class:`~tests.fakegraph.state.GraphState`:
scopes, the ``scheduled_publish_time`` window, ``attached_media``, photo type
and size, duplicate status messages.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from .errors import JSON, err_duplicate, err_media, err_param, err_permission
from .params import parse_bool, parse_time
from .records import MAX_MESSAGE_CHARS, Page, Photo, Post, Upload


class WritesMixin:
    """Write methods of :class:`~tests.fakegraph.state.GraphState`."""

    lock: threading.RLock
    clock: Callable[[], float]
    lag: float
    duplicate_window: float
    max_photo_bytes: int
    schedule_min: float
    schedule_max: float
    posts: dict[str, Post]
    photos: dict[str, Photo]
    _ids: Iterator[int]
    _post_numbers: Iterator[int]
    _photo_numbers: Iterator[int]

    def _require_scope(self, page: Page, scope: str = "pages_manage_posts") -> None:
        """Code 200 unless the page's token has *scope*."""
        if scope not in page.scopes:
            raise err_permission("(#200) If posting to a page, requires both pages_read_engagement and "
                                 "pages_manage_posts permission with page token")

    def _schedule(self, value: str) -> int:
        """A ``scheduled_publish_time`` inside the allowed window, as unix seconds."""
        when = parse_time(value, "scheduled_publish_time")
        ahead = when - self.clock()
        if not self.schedule_min <= ahead <= self.schedule_max:
            raise err_param("(#100) The specified scheduled publish time is invalid.")
        return int(when)

    def _publish_options(self, params: Mapping[str, str]) -> tuple[bool, int | None]:
        """``(published, scheduled_publish_time)`` of a feed post or photo."""
        published = parse_bool(params.get("published"), True, "published")
        raw = params.get("scheduled_publish_time")
        if raw in (None, ""):
            return published, None
        if published:
            raise err_param("(#100) Cannot specify a scheduled publish time on a published post")
        return published, self._schedule(str(raw))

    def _new_post(self, page: Page, kind: str, message: str | None, link: str | None, media: list[str],
                  published: bool, scheduled: int | None) -> Post:
        """Create and keep a post (visible to reads after ``lag``)."""
        now = self.clock()
        number = next(self._post_numbers)
        post = Post(f"{page.id}_{number}", page.id, number, kind, message, link, media, now, published, scheduled,
                    time.monotonic() + self.lag, now)
        self.posts[post.id] = post
        return post

    def _check_duplicate(self, page: Page, message: str | None) -> None:
        """Code 506 for the same text on the same page within ``duplicate_window``."""
        if not self.duplicate_window or not message:
            return
        since = self.clock() - self.duplicate_window
        for post in self.posts.values():
            if post.page_id == page.id and not post.deleted and post.message == message and post.created_ts >= since:
                raise err_duplicate()

    def _attached_media(self, page: Page, params: Mapping[str, str]) -> list[str]:
        """The photo ids of ``attached_media[i]`` (or the JSON-array form), in order."""
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
