"""Facebook Pages through the Graph API, published exactly once.

- text (+ link) posts on ``/{page}/feed``; one image on ``/{page}/photos``
  (multipart upload of our frozen file); several images uploaded unpublished,
  then attached to one ``/feed`` post (``attached_media``);
- the Page token comes from ``token_env`` / ``token_file`` (re-read on every
  call, so a renewed token needs no restart) and travels only in the
  ``Authorization`` header — never in a URL; ``appsecret_proof`` is added when
  an app secret is configured; both are registered for redaction;
- ``check`` asks ``/me`` whether the token works for this Page, then when the
  token expires (``debug_token``, sent as a batch request so that the token
  stays out of the URL: :mod:`.graph_tokens`);
- every response's usage headers are read: past ``usage_limit_percent`` the
  Page pauses (RateLimited before sending anything) until Meta's estimate;
- ``find`` looks for our exact text among the Page's recent and scheduled
  posts, and looks once more after ``recheck_seconds`` (read-after-write lag)
  before concluding it is not there.

Publishing is here; ``find`` and ``check`` are in ``graph_reads.py``; every
request goes through ``graph_transport.py`` (token, proof, usage, errors).
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from ..errors import ConfigError
from ..models import Delivery, MediaFile, Receipt, Setting
from .base import Channel
from .graph_reads import GraphReads

_URL = re.compile(r"https?://\S+")
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


class FacebookChannel(GraphReads, Channel):
    """A Facebook Page: publishing here, reading back in GraphReads, requests in GraphTransport."""

    type = "facebook"
    options = (
        Setting("page_id", str, None, "facebook: the Page's numeric id."),
        Setting("token_env", str, "", "facebook: environment variable holding the Page access token."),
        Setting("token_file", str, "", "facebook: file holding the Page access token (re-read on every call).",
                is_path=True),
        Setting("app_secret_env", str, "", "facebook: optional app secret (for appsecret_proof), from this variable."),
        Setting("app_secret_file", str, "", "facebook: optional app secret (for appsecret_proof), from this file.",
                is_path=True),
        Setting("graph_version", str, "v26.0", "facebook: Graph API version."),
        Setting("base_url", str, "https://graph.facebook.com", "facebook: Graph API address (tests, staging)."),
        Setting("connect_timeout", float, 5.0, "facebook: seconds to connect.", minimum=0.1),
        Setting("read_timeout", float, 30.0, "facebook: seconds to wait for an answer.", minimum=0.1),
        Setting("usage_limit_percent", float, 90.0, "facebook: pause the Page when its API usage passes this.",
                minimum=1),
        Setting("recheck_seconds", float, 2.0, "facebook: after an ambiguous failure, look again this much later.",
                minimum=0),
        Setting("native_scheduling", bool, False,
                "facebook: hand posts due 15 minutes to 29 days ahead to Facebook's own scheduler."),
        Setting("token_warn_days", int, 14,
                "facebook: warn (journal, dashboard) this many days before the Page token expires; 0: never.",
                minimum=0),
    )

    @classmethod
    def validate(cls, options: dict[str, Any], path: str) -> None:
        if not re.fullmatch(r"\d{1,30}", options["page_id"]):
            raise ConfigError("config.bad_page_id", path=f"{path}.page_id")
        if bool(options["token_env"]) == bool(options["token_file"]):
            raise ConfigError("config.secret_missing", path=f"{path}.token_env")

    def __init__(self, name: str, options: dict[str, Any], data_dir: Path) -> None:
        super().__init__(name, options, data_dir)
        self.page = options["page_id"]
        self.api = f"{options['base_url'].rstrip('/')}/{options['graph_version']}"
        self.timeout = (options["connect_timeout"], options["read_timeout"])
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "publisher (policy communication)"
        self._cool_until: datetime | None = None
        self._lock = threading.Lock()

    # -- publishing --------------------------------------------------------
    def publish(self, delivery: Delivery) -> Receipt:
        self._respect_usage()
        message = delivery.content.body.strip()
        images = [m for m in delivery.content.media if _mime(m)]
        schedule = self._schedule_time(delivery)
        if len(images) == 1 and schedule is None:
            answer = self._call("POST", f"{self.page}/photos", data={"message": message},
                                files=self._file(images[0]))
            return self._receipt(answer["post_id"])
        data: dict[str, str] = {"message": message}
        for i, image in enumerate(images):  # several images: upload unpublished, then attach
            uploaded = self._call("POST", f"{self.page}/photos", data={"published": "false"}, files=self._file(image))
            data[f"attached_media[{i}]"] = json.dumps({"media_fbid": uploaded["id"]})
        link = _URL.search(message)
        if link and not images:
            data["link"] = link.group(0).rstrip(".,);")
        if schedule is not None:  # Facebook publishes it at due_at; cancelling deletes it there
            data.update(published="false", scheduled_publish_time=str(schedule))
        return self._receipt(self._call("POST", f"{self.page}/feed", data=data)["id"], scheduled=schedule is not None)

    def unschedule(self, delivery: Delivery) -> None:
        if delivery.remote_id:
            self._call("DELETE", delivery.remote_id)

    def _schedule_time(self, delivery: Delivery) -> int | None:
        # Graph accepts 10 minutes .. 30 days ahead; keep a margin on both sides
        ahead = delivery.due_at - self.clock()
        if self.settings["native_scheduling"] and timedelta(minutes=11) <= ahead <= timedelta(days=29, hours=23):
            return int(delivery.due_at.timestamp())
        return None

    def close(self) -> None:
        self.session.close()

    # -- helpers -----------------------------------------------------------
    def _file(self, item: MediaFile) -> dict[str, tuple[str, bytes, str]]:
        data = self.media_path(item.path).read_bytes()
        ascii_name = item.name.encode("ascii", "ignore").decode() or "image"
        return {"source": (ascii_name, data, _mime(item) or "application/octet-stream")}


def _mime(item: MediaFile) -> str | None:
    return _IMAGE_TYPES.get(Path(item.name).suffix.lower())
