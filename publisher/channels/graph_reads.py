"""Reading a Facebook Page back: ``find`` (reconciliation) and ``check`` (is the token good for this Page).

- ``find`` looks for our exact text among the Page's recent and scheduled
  posts, and looks once more after ``recheck_seconds`` (read-after-write lag)
  before concluding it is not there;
- ``check`` asks ``/me`` whether the token works for this Page, then when the
  token expires (``debug_token``, sent as a batch request so that the token
  stays out of the URL: :mod:`.graph_tokens`).

:class:`GraphReads` is a mixin of :class:`~.facebook.FacebookChannel`; its
requests go through :class:`~.graph_transport.GraphTransport`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ..errors import ConfigError, PublishError
from ..models import Delivery, Health, Receipt
from . import graph_tokens
from .graph_transport import GraphTransport


class GraphReads(GraphTransport):
    """``find`` and ``check`` of the Facebook channel, and the receipt of a post."""

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        """Our post (same text) on the Page since shortly before *since* or the due time, else None."""
        wanted = delivery.content.body.strip()
        start = (since or delivery.due_at) - timedelta(minutes=10)
        for look in range(2):
            found = self._search(wanted, start)
            if found or look:
                return found
            self._sleep(self.settings["recheck_seconds"])  # read-after-write lag: look once more
        return None

    def check(self) -> Health:
        """The token works for this Page (``/me``), and when it expires (``debug_token``, by batch)."""
        try:
            me = self._call("GET", "me", params={"fields": "id,name"})
        except (PublishError, ConfigError) as exc:
            return Health(ok=False, detail=str(exc))
        if str(me.get("id")) != self.page:
            owner = f"{me.get('name')} ({me.get('id')})"
            return Health(ok=False, detail=f"the token belongs to {owner}, not page {self.page}")
        name = str(me.get("name", ""))
        try:
            expires = graph_tokens.token_expiry(self._call, self._token(), self.clock())
        except (PublishError, ConfigError) as exc:  # e.g. no permission for debug_token: the Page still works
            return Health(ok=True, detail=f"{name} (token expiry unknown: {exc})")
        return Health(ok=True, detail=name, expires_at=expires)

    def _search(self, wanted: str, start: datetime) -> Receipt | None:
        fields = {"fields": "id,message,created_time", "since": str(int(start.timestamp())), "limit": "100"}
        for edge, params in (("feed", fields), ("scheduled_posts", {"fields": "id,message", "limit": "100"})):
            scheduled = edge == "scheduled_posts"
            after = None
            for _ in range(5):  # at most 500 recent posts per edge
                cursor = {"after": after} if after else {}
                page = self._call("GET", f"{self.page}/{edge}", params={**params, **cursor})
                for post in page.get("data", []):
                    if (post.get("message") or "").strip() == wanted:
                        return self._receipt(post["id"], scheduled=scheduled)
                after = (page.get("paging") or {}).get("cursors", {}).get("after")
                if not after or not (page.get("paging") or {}).get("next"):
                    break
        return None

    def _receipt(self, post_id: str, scheduled: bool = False) -> Receipt:
        return Receipt(remote_id=str(post_id), permalink=f"https://www.facebook.com/{post_id}",
                       extra={"scheduled": True} if scheduled else {})

    @staticmethod
    def _sleep(seconds: float) -> None:
        threading.Event().wait(seconds)
