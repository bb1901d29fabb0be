"""A portal's own API that accepts a signed JSON push (``type = "webhook"``).

Each publication is one ``POST url`` whose body is rendered from the Jinja2
template ``webhooks/<template>.json`` (``template_dir`` first, then the
built-in ``templates/``), checked to be JSON and sent compact, in UTF-8::

    X-Publisher-Timestamp: 1767225600                  (Unix seconds)
    X-Publisher-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
    Idempotency-Key:       publisher-<delivery id>-<content sha256[:16]>

The receiver recomputes the HMAC over the exact body bytes (constant-time
compare), refuses a timestamp more than 5 minutes off and a timestamp+signature
pair already seen, and answers a key it already knows with its first answer
(or a 409 naming the key): the key is the same on every retry, so :meth:`find`
needs no lookup.  Answers: 2xx → published (remote id and URL read at
``id_path`` / ``url_path``; no id is an error); 409 naming our key → already
published; 400/422 → rejected; 401/403 → the secret is refused (the delivery
waits); 429 → wait for Retry-After; 5xx or a connection lost after sending →
ambiguous, retried with the same key; any other status fails.

The body is rendered in ``webhook_body.py``; the answer is read in
``webhook_answers.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import requests

from .. import resources, secrets
from ..config_checks import code
from ..errors import AmbiguousError, AuthError, ConfigError, ContentRejected, PermanentError, PublishError, RateLimited
from ..models import Delivery, Health, Receipt, Setting
from ..render.text import environment
from . import webhook_body
from .base import Channel
from .http import send
from .webhook_answers import at as _at
from .webhook_answers import json_of as _json
from .webhook_answers import message as _message
from .webhook_answers import retry_at as _retry_at
from .webhook_body import Media

__all__ = ["Media", "WebhookChannel", "idempotency_key"]

_MIN_SECRET = 16  # a shorter HMAC key is guessable


class WebhookChannel(Channel):
    type = "webhook"
    options = (
        Setting("url", str, None, "webhook: address the JSON is POSTed to (http or https)."),
        Setting("template", str, "mac-dinh", "webhook: body template, webhooks/<name>.json."),
        Setting("template_dir", str, "templates", "webhook: folder searched for webhooks/<name>.json before the "
                "built-in templates.", is_path=True),
        Setting("secret_env", str, "", "webhook: environment variable holding the HMAC key."),
        Setting("secret_file", str, "", "webhook: file holding the HMAC key (re-read on every call).", is_path=True),
        Setting("signature_header", str, "X-Publisher-Signature", "webhook: header carrying sha256=<hex HMAC>."),
        Setting("timestamp_header", str, "X-Publisher-Timestamp", "webhook: header carrying the Unix timestamp."),
        Setting("id_path", str, "id", "webhook: dotted JSON path of the remote id in the answer."),
        Setting("url_path", str, "url", "webhook: dotted JSON path of the published page's URL in the answer."),
        Setting("health_url", str, "", "webhook: optional address GET by `channels check` (signed)."),
        Setting("connect_timeout", float, 5.0, "webhook: seconds to connect.", minimum=0.1),
        Setting("read_timeout", float, 30.0, "webhook: seconds to wait for an answer.", minimum=0.1),
    )

    @classmethod
    def validate(cls, options: dict[str, Any], path: str) -> None:
        for key in ("url", "health_url"):
            url = urlsplit(options[key])
            if (options[key] or key == "url") and (url.scheme not in ("http", "https") or not url.hostname
                                                  or url.password is not None):
                raise ConfigError("config.bad_webhook_url", path=f"{path}.{key}", value=options[key])
        if bool(options["secret_env"]) == bool(options["secret_file"]):
            raise ConfigError("config.secret_missing", path=f"{path}.secret_env")
        for key in ("signature_header", "timestamp_header"):
            if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", options[key]):
                raise ConfigError("config.bad_header_name", path=f"{path}.{key}", value=options[key])
        for key in ("id_path", "url_path"):
            if not all(options[key].split(".")):
                raise ConfigError("config.bad_json_path", path=f"{path}.{key}", value=options[key])
        _check_template(options, path)

    def __init__(self, name: str, options: dict[str, Any], data_dir: Path) -> None:
        super().__init__(name, options, data_dir)
        self.timeout = (options["connect_timeout"], options["read_timeout"])
        self.template = f"webhooks/{options['template']}.json"
        folders = [Path(options["template_dir"])] if options["template_dir"] else []
        self.dirs = tuple(dict.fromkeys(p.resolve() for p in [*folders, resources.builtin_templates()] if p.is_dir()))
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "publisher (policy communication)"

    def publish(self, delivery: Delivery) -> Receipt:
        key = idempotency_key(delivery)
        body = self.render(delivery, key)
        headers = {**self._signed(body), "Idempotency-Key": key, "Content-Type": "application/json; charset=utf-8"}
        response = send(self.session, "POST", self.settings["url"], write=True, data=body, headers=headers,
                        timeout=self.timeout, allow_redirects=False)
        status, answer = response.status_code, _json(response)
        if 200 <= status < 300:
            return self._receipt(answer, status, response.text)
        if status == 409 and key in (response.headers.get("Idempotency-Key"), _at(answer, "idempotency_key")):
            return self._receipt(answer, status, response.text, default_id=key)  # the receiver already has it
        raise self._refusal(response, answer)

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        """Always None: a webhook has no standard lookup, and needs none.

        The retry that follows carries the same Idempotency-Key, and the
        receiver answers it with the original result instead of storing twice.
        """
        return None

    def check(self) -> Health:
        try:
            environment(self.dirs).get_template(self.template)
            headers = self._signed(b"")  # also proves the secret can be read
        except jinja2.TemplateError as exc:
            return Health(ok=False, detail=f"template {self.template}: {type(exc).__name__}: {exc}")
        except (ConfigError, PublishError) as exc:
            return Health(ok=False, detail=str(exc))
        if not self.settings["health_url"]:
            return Health(ok=True, detail="no health URL configured")
        return self._health(headers)

    def close(self) -> None:
        self.session.close()

    def render(self, delivery: Delivery, key: str) -> bytes:
        """The JSON body of *delivery*; a broken template is ContentRejected naming its file and line."""
        return webhook_body.render(self.dirs, self.template, webhook_body.context(delivery, key, self.media_path))

    def _health(self, headers: dict[str, str]) -> Health:
        """GET the health URL, signed: 2xx is healthy."""
        try:
            response = send(self.session, "GET", self.settings["health_url"], write=False, headers=headers,
                            timeout=self.timeout, allow_redirects=False)
        except PublishError as exc:
            return Health(ok=False, detail=str(exc))
        ok = 200 <= response.status_code < 300
        return Health(ok=ok, detail=f"HTTP {response.status_code}" + ("" if ok else f": {_message(response)}"))

    def _refusal(self, response: requests.Response, answer: Any) -> PublishError:
        """What a status other than 2xx (or 409 naming our key) means for the delivery."""
        status = response.status_code
        what = f"webhook {self.name}: HTTP {status}: {_message(response, answer)}"
        if status in (401, 403):
            return AuthError(f"{what} (the signature or timestamp was refused: check the secret and the clock)")
        if status in (400, 422):
            return ContentRejected(what)
        if status == 429:
            return RateLimited(what, retry_at=_retry_at(response.headers.get("Retry-After"), self.clock()))
        return AmbiguousError(what) if status >= 500 else PermanentError(what)

    def _signed(self, body: bytes) -> dict[str, str]:
        secret = secrets.secret(self.settings, "secret", f"channels.{self.name}")  # registered for redaction
        if len(secret) < _MIN_SECRET:
            raise AuthError(f"webhook {self.name}: the HMAC secret is shorter than {_MIN_SECRET} characters")
        stamp = str(int(self.clock().timestamp()))
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {self.settings["timestamp_header"]: stamp, self.settings["signature_header"]: f"sha256={digest}"}

    def _receipt(self, answer: Any, status: int, text: str, default_id: str | None = None) -> Receipt:
        remote_id = _at(answer, self.settings["id_path"]) or default_id
        if remote_id is None:
            raise PermanentError(f"webhook {self.name}: HTTP {status} but no id at '{self.settings['id_path']}' in "
                                 f"the answer ({text[:200]!r}); the receiver may hold the post")
        return Receipt(remote_id=remote_id, permalink=_at(answer, self.settings["url_path"]), extra={"status": status})


def idempotency_key(delivery: Delivery) -> str:
    """Stable for a delivery across retries and workers; another content gets another key."""
    return f"publisher-{delivery.id}-{delivery.content_sha256[:16]}"


def _check_template(options: dict[str, Any], path: str) -> None:
    """The body template must exist where it can be checked now (a relative folder is checked later)."""
    name = f"webhooks/{code(options['template'], f'{path}.template')}.json"
    folder = Path(options["template_dir"])  # a relative folder is not resolved yet: check() reports it
    places = [resources.builtin_templates()] + ([folder] if folder.is_absolute() else [])
    if (folder.is_absolute() or not options["template_dir"]) and not any((p / name).is_file() for p in places):
        raise ConfigError("config.missing_webhook_template", path=f"{path}.template", value=options["template"])
