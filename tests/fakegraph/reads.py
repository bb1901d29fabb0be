"""Graph reads: node lookup (lag, deletes, owners), node fields, the ``feed`` and ``scheduled_posts`` edges.

:class:`ReadsMixin` is that part of :class:`~tests.fakegraph.state.GraphState`.
Reads see a new post only once the read-after-write ``lag`` has passed, and a
scheduled post as live once its time has come on ``clock``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import JSON, err_field, err_permission
from .params import DEFAULT_LIMIT, decode_cursor, encode_cursor, graph_time
from .records import Page, Photo, Post


class ReadsMixin:
    """Read methods of :class:`~tests.fakegraph.state.GraphState`."""

    lock: threading.RLock
    clock: Callable[[], float]
    pages: dict[str, Page]
    posts: dict[str, Post]
    photos: dict[str, Photo]

    def _visible(self, item: Post | Photo) -> bool:
        """Not deleted, and the read-after-write ``lag`` has passed."""
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
        """Code 200 unless *node* is *page* or one of its posts or photos."""
        owner = node.id if isinstance(node, Page) else node.page_id
        if owner != page.id:
            raise err_permission()

    POST_FIELDS = ("id", "message", "created_time", "updated_time", "permalink_url", "is_published",
                   "scheduled_publish_time", "status_type", "from", "attachments")
    PHOTO_FIELDS = ("id", "name", "created_time", "from", "page_story_id", "link")
    PAGE_FIELDS = ("id", "name", "link")

    def post_node(self, post: Post, fields: list[str]) -> JSON:
        """The requested *fields* of a post, as Graph shows them."""
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
        """The ``attachments`` field: photo, album of photos, or shared link."""
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
        """The requested *fields* of a photo."""
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
        """The requested *fields* of a page."""
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
