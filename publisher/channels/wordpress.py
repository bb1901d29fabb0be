"""WordPress portals (Trang Thông tin điện tử) through the REST API, published exactly once.

- the article goes to ``<base_url>/wp-json/wp/v2/posts``: the title, the
  sanitised HTML body, an excerpt (plain text of the first paragraph), the
  configured categories and tags (by slug, created when missing), the first
  image as featured image, and a deterministic slug ``<policy code>-d<delivery
  id>`` (``06-kh-ubnd-d42``) by which ``find`` recognises it in any status;
- the image goes to ``/wp/v2/media`` as a raw body under a stable name that is
  looked up before any upload (:mod:`.wp_media`), so a retry never uploads twice;
- the user and its Application Password come from ``*_env`` / ``*_file`` (re-read
  on every call: a new password needs no restart), travel only in the Basic
  ``Authorization`` header, and are registered for redaction;
- what WordPress silently drops (the featured image, categories, tags) is read
  back from its answer: such a post is moved to the trash and the delivery
  fails with the reason, so a half-made article never stays live;
- ``native_scheduling``: a delivery due later is created ``future`` with its
  ``date_gmt`` (WordPress's cron publishes it); cancelling trashes it;
- every answer is classified in :mod:`.wp_errors` (one table); redirects are
  never followed (a POST redirected to https would silently become a GET).

Publishing is here; ``find`` and ``check`` are in ``wp_reads.py``; every
request goes through ``wp_transport.py`` (authentication, errors).
"""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import requests

from ..config_checks import shown
from ..errors import ConfigError, ContentRejected, PermanentError, PublishError
from ..models import Delivery, Receipt, Setting, nfc
from . import wp_errors, wp_media, wp_terms
from .base import Channel
from .wp_reads import WordPressReads

log = logging.getLogger(__name__)
_SITE = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
_FIRST_P = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.S | re.I)
EXCERPT_LIMIT = 300
SCHEDULE_MARGIN = timedelta(minutes=1)  # due sooner than this: published at once, not handed to WP-Cron


class WordPressChannel(WordPressReads, Channel):
    """A WordPress portal: publishing here, reading back in WordPressReads, requests in WordPressTransport."""

    type = "wordpress"
    options = (
        Setting("base_url", str, None, "wordpress: the portal's address, e.g. https://tinh.gov.vn "
                "(REST API at <base_url>/wp-json/)."),
        Setting("user_env", str, "", "wordpress: environment variable holding the WordPress user name."),
        Setting("user_file", str, "", "wordpress: file holding the WordPress user name.", is_path=True),
        Setting("password_env", str, "", "wordpress: environment variable holding the user's Application Password."),
        Setting("password_file", str, "", "wordpress: file holding the user's Application Password "
                "(re-read on every call).", is_path=True),
        Setting("categories", list, [], "wordpress: category names given to every article (created if missing)."),
        Setting("tags", list, [], "wordpress: tag names given to every article (created if missing)."),
        Setting("native_scheduling", bool, False,
                "wordpress: create posts due later as scheduled ('future') posts that WordPress publishes."),
        Setting("connect_timeout", float, 5.0, "wordpress: seconds to connect.", minimum=0.1),
        Setting("read_timeout", float, 60.0, "wordpress: seconds to wait for an answer (uploads make thumbnails).",
                minimum=0.1),
    )

    @classmethod
    def validate(cls, options: dict[str, Any], path: str) -> None:
        if not _SITE.fullmatch(options["base_url"]):
            raise ConfigError("config.wp_base_url", path=f"{path}.base_url", value=shown(options["base_url"]))
        for key in ("user", "password"):
            env, file = options[f"{key}_env"], options[f"{key}_file"]
            if not (env or file):
                raise ConfigError("config.secret_missing", path=f"{path}.{key}_env")
            if env and file:
                raise ConfigError("config.wp_secret_twice", path=f"{path}.{key}_env", name=key)
        for key in ("categories", "tags"):
            for name in options[key]:
                if not wp_terms.slugify(name):
                    raise ConfigError("config.wp_term", path=f"{path}.{key}", value=shown(name))

    def __init__(self, name: str, options: dict[str, Any], data_dir: Path) -> None:
        super().__init__(name, options, data_dir)
        self.api = f"{options['base_url'].rstrip('/')}/wp-json/wp/v2"
        self.timeout = (options["connect_timeout"], options["read_timeout"])
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "publisher (policy communication)"

    # -- publishing --------------------------------------------------------
    def publish(self, delivery: Delivery) -> Receipt:
        slug = wp_terms.post_slug(delivery)
        title = nfc(delivery.content.title).strip()
        categories = wp_terms.resolve(self._call, "categories", self.settings["categories"])
        tags = wp_terms.resolve(self._call, "tags", self.settings["tags"])
        image = wp_media.first_image(delivery.content.media)
        featured = None
        if image is not None:
            featured = wp_media.featured(self._call, image, self.media_path(image.path),
                                         wp_media.stable_name(slug, image), title)
        article: dict[str, Any] = {
            "title": html.escape(title, quote=False), "content": delivery.content.body, "slug": slug,
            "excerpt": html.escape(excerpt(delivery.content.body), quote=False), "status": "publish"}
        if featured is not None:
            article["featured_media"] = featured
        if categories:
            article["categories"] = categories
        if tags:
            article["tags"] = tags
        when = self._schedule_time(delivery)
        if when:
            article.update(status="future", date_gmt=when)
        post = self._call("POST", "/posts", json=article)
        self._check_kept(post, featured, categories, tags)
        if post.get("slug") != slug:  # another post holds our slug (another database?): ours is live anyway
            log.warning("channel %s: post %s got slug %r instead of %r", self.name, post.get("id"),
                        post.get("slug"), slug)
        return self._receipt(post)

    def _schedule_time(self, delivery: Delivery) -> str | None:
        if self.settings["native_scheduling"] and delivery.due_at - self.clock() > SCHEDULE_MARGIN:
            return delivery.due_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return None

    def _check_kept(self, post: dict[str, Any], featured: int | None, categories: list[int],
                    tags: list[int]) -> None:
        """WordPress answers 201 even when it dropped the featured image or a term: refuse that."""
        dropped = []
        if featured is not None and post.get("featured_media") != featured:
            dropped.append(f"the featured image (media {featured}; the theme may not support featured images)")
        for key, ids in (("categories", categories), ("tags", tags)):
            missing = sorted(set(ids) - set(post.get(key) or []))
            if missing:
                dropped.append(f"{key} {missing} (deleted meanwhile, or filtered by a plugin)")
        if not dropped:
            return
        try:
            self._call("DELETE", f"/posts/{post['id']}")
            fate = "it was moved to the trash"
        except PublishError as exc:
            fate = f"it could NOT be moved to the trash ({exc}): remove it by hand: {post.get('link')}"
        raise ContentRejected(f"WordPress created post {post.get('id')} but dropped {' and '.join(dropped)}; "
                              f"{fate}")

    def unschedule(self, delivery: Delivery) -> None:
        if not delivery.remote_id:
            return
        try:
            self._call("DELETE", f"/posts/{delivery.remote_id}")  # to the trash: reversible, slug freed
        except PermanentError as exc:
            if wp_errors.status_of(exc) not in (404, 410):  # gone, or already in the trash
                raise

    def close(self) -> None:
        self.session.close()


def excerpt(body: str, limit: int = EXCERPT_LIMIT) -> str:
    """Plain text of the article's first paragraph (the whole body if it has no <p>), at most *limit* chars."""
    first = _FIRST_P.search(body)
    text = wp_errors.plain(first.group(1) if first else body)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text
