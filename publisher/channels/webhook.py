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
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
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
from .base import Channel
from .http import send

_MIN_SECRET = 16  # a shorter HMAC key is guessable
_TEMPLATE_ERRORS = (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError, ArithmeticError, OSError)


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
        name = f"webhooks/{code(options['template'], f'{path}.template')}.json"
        folder = Path(options["template_dir"])  # a relative folder is not resolved yet: check() reports it
        places = [resources.builtin_templates()] + ([folder] if folder.is_absolute() else [])
        if (folder.is_absolute() or not options["template_dir"]) and not any((p / name).is_file() for p in places):
            raise ConfigError("config.missing_webhook_template", path=f"{path}.template", value=options["template"])

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
        what = f"webhook {self.name}: HTTP {status}: {_message(response, answer)}"
        if status in (401, 403):
            raise AuthError(f"{what} (the signature or timestamp was refused: check the secret and the clock)")
        if status in (400, 422):
            raise ContentRejected(what)
        if status == 429:
            raise RateLimited(what, retry_at=_retry_at(response.headers.get("Retry-After"), self.clock()))
        raise AmbiguousError(what) if status >= 500 else PermanentError(what)

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
        try:
            response = send(self.session, "GET", self.settings["health_url"], write=False, headers=headers,
                            timeout=self.timeout, allow_redirects=False)
        except PublishError as exc:
            return Health(ok=False, detail=str(exc))
        ok = 200 <= response.status_code < 300
        return Health(ok=ok, detail=f"HTTP {response.status_code}" + ("" if ok else f": {_message(response)}"))

    def close(self) -> None:
        self.session.close()

    def render(self, delivery: Delivery, key: str) -> bytes:
        """The JSON body of *delivery*; a broken template is ContentRejected naming its file and line."""
        c = delivery.content
        context = {
            "delivery_id": delivery.id, "post_id": delivery.post_id, "idempotency_key": key,
            "policy_code": delivery.policy_code, "agency": delivery.agency, "channel": delivery.channel,
            "title": c.title, "body": c.body, "content_sha256": delivery.content_sha256,
            "due_at": delivery.due_at.isoformat(),
            "deadline_at": delivery.deadline_at.isoformat() if delivery.deadline_at else None,
            "media": [Media(m.name, m.sha256, self.media_path(m.path)) for m in c.media],
        }
        file = self.template
        try:
            template = environment(self.dirs).get_template(self.template)
            file = template.filename or file  # the copy used: template_dir's or the built-in one
            value = json.loads(text := template.render(context))
        except jinja2.TemplateSyntaxError as exc:
            raise ContentRejected(f"webhook template {exc.filename or file}, line {exc.lineno}: "
                                  f"{exc.message}") from None
        except json.JSONDecodeError as exc:
            raise ContentRejected(f"webhook template {file} did not produce valid JSON: {exc} "
                                  f"(near {text[max(0, exc.pos - 30):exc.pos + 30]!r})") from None
        except _TEMPLATE_ERRORS as exc:
            raise ContentRejected(f"webhook template {file}{_line(exc, file)}: {type(exc).__name__}: {exc}") from None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

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


@dataclass(frozen=True)
class Media:
    """A frozen media file as a body template sees it; ``base64`` is read only if the template uses it."""

    name: str
    sha256: str
    file: Path

    @property
    def size(self) -> int:
        return self.file.stat().st_size

    @cached_property
    def base64(self) -> str:
        return base64.b64encode(self.file.read_bytes()).decode("ascii")


def idempotency_key(delivery: Delivery) -> str:
    """Stable for a delivery across retries and workers; another content gets another key."""
    return f"publisher-{delivery.id}-{delivery.content_sha256[:16]}"


def _at(value: Any, path: str) -> str | None:
    """The scalar at dotted *path* (``data.items.0.id``) as text, or None."""
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return None if value is None or value == "" or isinstance(value, (dict, list)) else str(value)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: requests.Response, answer: Any = None) -> str:
    answer = _json(response) if answer is None else answer
    found = next(filter(None, (_at(answer, p) for p in ("message", "error.message", "error", "detail", "title"))), "")
    return found[:500] or response.text.strip()[:300] or response.reason or "no message"


def _retry_at(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if value and value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _line(exc: BaseException, file: str) -> str:
    """', line N' of the innermost template frame (Jinja rewrites tracebacks to template lines)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == file else line
        tb = tb.tb_next
    return f", line {line}" if line else ""
