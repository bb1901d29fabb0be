"""Reading a WordPress portal back: ``find`` (reconciliation) and ``check`` (the user and its rights).

- ``find`` trusts a known post id (a scheduled post: its title may be edited
  since), else looks the deterministic slug up in any status and compares the
  raw title; only a published or scheduled post counts as ours;
- ``check`` asks ``/users/me`` who the user is and whether it may publish
  posts and upload files.

:class:`WordPressReads` is a mixin of :class:`~.wordpress.WordPressChannel`;
its requests go through :class:`~.wp_transport.WordPressTransport`.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from ..errors import ConfigError, PermanentError, PublishError
from ..models import Delivery, Health, Receipt, nfc
from . import wp_errors, wp_terms
from .wp_transport import WordPressTransport

_LIVE = ("publish", "future")


class WordPressReads(WordPressTransport):
    """``find`` and ``check`` of the WordPress channel, and the receipt of a post."""

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        """Our live post (by its id if known, else by slug and title), else None."""
        if delivery.remote_id:  # a scheduled post: its id is known and authoritative (its title may be edited)
            try:
                post = self._call("GET", f"/posts/{delivery.remote_id}", params={"context": "edit"})
            except PermanentError as exc:
                if wp_errors.status_of(exc) in (404, 410):
                    return None
                raise
            return self._receipt(post) if post.get("status") in _LIVE else None
        candidates = self._call("GET", "/posts", params={
            "slug": wp_terms.post_slug(delivery), "status": "any", "context": "edit"})
        title = nfc(delivery.content.title).strip()
        for post in candidates:
            if post.get("status") in _LIVE and _raw_title(post) == title:
                return self._receipt(post)
        return None

    def check(self) -> Health:
        """The user exists and may publish posts and upload files."""
        try:
            me = self._call("GET", "/users/me", params={"context": "edit"})
        except (PublishError, ConfigError) as exc:
            return Health(ok=False, detail=str(exc))
        who = f"{me.get('name') or me.get('slug')} ({', '.join(me.get('roles') or []) or 'no role'})"
        capabilities = me.get("capabilities") or {}
        lacking = [c for c in ("publish_posts", "upload_files") if not capabilities.get(c)]
        if lacking:
            return Health(ok=False, detail=f"{who} lacks {', '.join(lacking)}: give the user the Author role or "
                                           "higher (Editor to create categories and tags)")
        return Health(ok=True, detail=who)

    @staticmethod
    def _receipt(post: dict[str, Any]) -> Receipt:
        scheduled = post.get("status") == "future"
        return Receipt(remote_id=str(post["id"]), permalink=post.get("link"),
                       extra={"scheduled": True} if scheduled else {})


def _raw_title(post: dict[str, Any]) -> str:
    title = post.get("title")
    raw = str((title.get("raw") or title.get("rendered") or "") if isinstance(title, dict) else (title or ""))
    return nfc(html.unescape(raw)).strip()
