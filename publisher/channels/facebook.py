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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from .. import secrets
from ..errors import ConfigError, PublishError, RateLimited
from ..models import Delivery, Health, MediaFile, Receipt, Setting
from . import graph_errors, graph_tokens
from .base import Channel
from .http import send

_URL = re.compile(r"https?://\S+")
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


class FacebookChannel(Channel):
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

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
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

    def close(self) -> None:
        self.session.close()

    # -- helpers -----------------------------------------------------------
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

    def _call(self, method: str, path: str, *, write: bool | None = None, **kwargs: Any) -> Any:
        """One Graph call with the token in the header; *write* defaults to "not a GET" (a batch of reads is not)."""
        write = method != "GET" if write is None else write
        token = self._token()
        headers = {"Authorization": f"Bearer {token}"}
        proof = self._proof(token)
        if proof:
            target = "params" if method == "GET" else "data"  # in a POST, the body
            kwargs[target] = {**kwargs.get(target, {}), "appsecret_proof": proof}
        response = send(self.session, method, f"{self.api}/{path}", write=write, headers=headers,
                        timeout=self.timeout, **kwargs)
        self._track_usage(response.headers)
        if response.status_code >= 400:
            error = graph_errors.parse_error(response.status_code, response.text)
            regain = graph_errors.usage(response.headers, self.page).regain_seconds
            raise graph_errors.classify(error, write=write, now=self.clock(), regain_seconds=regain)
        try:
            return response.json()
        except ValueError:
            raise graph_errors.classify(graph_errors.GraphError(502, None, None, "answer is not JSON"),
                                        write=write, now=self.clock()) from None

    def _token(self) -> str:
        return secrets.secret(self.settings, "token", f"channels.{self.name}")

    def _proof(self, token: str) -> str | None:
        if not (self.settings["app_secret_env"] or self.settings["app_secret_file"]):
            return None
        app_secret = secrets.secret(self.settings, "app_secret", f"channels.{self.name}")
        return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    def _track_usage(self, headers: Any) -> None:
        usage = graph_errors.usage(headers, self.page)
        if usage.percent >= self.settings["usage_limit_percent"]:
            pause = max(usage.regain_seconds, 60.0)  # Meta gives no estimate until it blocks
            with self._lock:
                self._cool_until = self.clock() + timedelta(seconds=pause)

    def _respect_usage(self) -> None:
        with self._lock:
            until = self._cool_until
        if until and self.clock() < until:
            raise RateLimited(f"page {self.page}: API usage above {self.settings['usage_limit_percent']}%, "
                              f"paused until {until.isoformat()}", retry_at=until)

    def _file(self, item: MediaFile) -> dict[str, tuple[str, bytes, str]]:
        data = self.media_path(item.path).read_bytes()
        ascii_name = item.name.encode("ascii", "ignore").decode() or "image"
        return {"source": (ascii_name, data, _mime(item) or "application/octet-stream")}

    def _receipt(self, post_id: str, scheduled: bool = False) -> Receipt:
        return Receipt(remote_id=str(post_id), permalink=f"https://www.facebook.com/{post_id}",
                       extra={"scheduled": True} if scheduled else {})

    @staticmethod
    def _sleep(seconds: float) -> None:
        threading.Event().wait(seconds)


def _mime(item: MediaFile) -> str | None:
    return _IMAGE_TYPES.get(Path(item.name).suffix.lower())
