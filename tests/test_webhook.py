"""The webhook channel against a real local receiver that verifies what a portal vendor must verify.

The receiver (``http.server`` on 127.0.0.1) checks the HMAC signature and the
timestamp's freshness, refuses replays, deduplicates by Idempotency-Key, stores
what it accepted, and injects faults on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from publisher import posts, redact
from publisher.config import load
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import AuthError, ConfigError
from publisher.models import DeliveryState, utcnow
from publisher.store.engine import read
from publisher.store.schema import attempts, journal

from .conftest import channel_config
from .helpers import Clock, add_policy, delivery, outcomes, write_png

S = DeliveryState
SECRET = "k7Qw-cong-rieng-hmac-secret-2026"
CHANNEL = "cong-rieng"


# -- the receiver ----------------------------------------------------------------------------------
class Receiver:
    """A portal's push endpoint (POST /api/bai-viet, GET /health), as a vendor would write it."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.now: Callable[[], float] = time.time
        self.faults: list[dict[str, Any]] = []  # consumed one per accepted POST, in order
        self.items: list[dict[str, Any]] = []  # what was stored
        self.requests: list[dict[str, Any]] = []  # every request: headers, body, status
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}  # Idempotency-Key -> first answer
        self.seen: set[tuple[str, str]] = set()  # (timestamp, signature) pairs already used
        self.conflict_on_duplicate = False  # answer a known key with 409 instead of the first answer
        self.health_status = 200
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.receiver = self  # type: ignore[attr-defined]
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(self, kind: str, **params: Any) -> None:
        self.faults.append({"kind": kind, **params})

    def verify(self, headers: Any, body: bytes, replay_check: bool = True) -> str | None:
        """Why the request is refused (401), or None."""
        stamp, signature = headers.get("X-Publisher-Timestamp", ""), headers.get("X-Publisher-Signature", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not stamp.isdigit() or not hmac.compare_digest(signature, expected):
            return "bad signature"
        if abs(self.now() - int(stamp)) > 300:
            return "stale timestamp"
        if replay_check:
            if (stamp, signature) in self.seen:
                return "replayed request"
            self.seen.add((stamp, signature))
        return None

    def post(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any], dict[str, str], bool]:
        """(status, answer, extra headers, cut the connection instead of answering)."""
        with self.lock:
            refused = self.verify(headers, body)
            if refused:
                return 401, {"message": refused}, {}, False
            key = headers.get("Idempotency-Key")
            if not key:
                return 400, {"message": "Idempotency-Key is required"}, {}, False
            if key in self.answers:
                status, answer = self.answers[key]
                if self.conflict_on_duplicate:
                    return 409, {"message": "already received", "idempotency_key": key, **answer}, {}, False
                return status, answer, {}, False
            fault = self.faults.pop(0) if self.faults else {"kind": None}
            kind = fault["kind"]
            if kind == "500":
                return 500, {"message": "cơ sở dữ liệu tạm ngừng"}, {}, False
            if kind == "400":
                return 400, {"message": fault["message"]}, {}, False
            if kind == "401":
                return 401, {"message": "token revoked"}, {}, False
            if kind == "429":
                return 429, {"message": "too many requests"}, {"Retry-After": str(fault["seconds"])}, False
            item = {"id": f"bai-{len(self.items) + 1}", "key": key, "body": json.loads(body)}
            self.items.append(item)
            answer = {"data": {"id": item["id"], "link": f"https://cong.example.gov.vn/tin/{item['id']}"}}
            if kind == "no_id":
                answer = {"ok": True}
            self.answers[key] = (201, answer)
            return 201, answer, {}, kind == "cut"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, answer, extra, cut = receiver.post(self.headers, body)
        receiver.requests.append({"method": "POST", "headers": dict(self.headers), "body": body,
                                  "status": None if cut else status})
        if cut:  # stored, then the connection is lost before the answer
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self._answer(status, answer, extra)

    def do_GET(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        refused = receiver.verify(self.headers, b"", replay_check=False)
        receiver.requests.append({"method": "GET", "headers": dict(self.headers), "body": b""})
        if refused:
            self._answer(401, {"message": refused})
        else:
            self._answer(receiver.health_status, {"status": "ok" if receiver.health_status == 200 else "down"})

    def _answer(self, status: int, answer: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                            **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


# -- the project -----------------------------------------------------------------------------------
def webhook_config(project: Path, url: str, *, secret: str = SECRET, extra: str = "") -> Path:
    """BASE_CONFIG plus a [channels.cong-rieng] webhook channel (its HMAC key in a file)."""
    (project / f"{CHANNEL}.secret").write_text(secret + "\n", encoding="utf-8")
    channel = (f'\n[channels.{CHANNEL}]\ntype = "webhook"\nagency = "tinh"\nformat = "portal"\n'
               f'url = "{url}/api/bai-viet"\nsecret_file = "{CHANNEL}.secret"\nid_path = "data.id"\n'
               f'url_path = "data.link"\nread_timeout = 2.0\n{extra}')
    return channel_config(project, channel)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _open(project: Path, receiver: Receiver, extra: str = "") -> App:
    opened = App.open(webhook_config(project, receiver.url, extra=extra))
    add_policy(opened)
    return opened


@pytest.fixture
def app(project: Path, receiver: Receiver) -> Iterator[App]:
    opened = _open(project, receiver)
    yield opened
    opened.close()


def _queue(app: App, **extra: Any) -> int:
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                            "channels": [CHANNEL], "at": "now", **extra})
    [did] = posts.approve(app, "truong-phong", post.id)
    return did


def _clocked(app: App, receiver: Receiver) -> tuple[Clock, Dispatcher]:
    """One test clock for the dispatcher, the channel's timestamps and the receiver's freshness check."""
    clock = Clock()
    app.channel(CHANNEL).clock = clock
    receiver.now = clock.unix
    return clock, Dispatcher(app, "w", clock=clock)


def _drain(app: App, receiver: Receiver, rounds: int = 4, step: timedelta = timedelta(minutes=1)) -> None:
    clock, dispatcher = _clocked(app, receiver)
    for _ in range(rounds):
        dispatcher.run_once()
        clock.now += step


def _posts(receiver: Receiver) -> list[dict[str, Any]]:
    return [r for r in receiver.requests if r["method"] == "POST"]


# -- publishing ------------------------------------------------------------------------------------
def test_published_with_the_remote_id_and_url_read_at_the_configured_paths(app, receiver):
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    d = delivery(app, did)
    assert (d.remote_id, d.permalink) == ("bai-1", "https://cong.example.gov.vn/tin/bai-1")
    [item] = receiver.items
    key = f"publisher-{did}-{d.content_sha256[:16]}"
    assert item["key"] == key and item["body"]["idempotency_key"] == key
    body = item["body"]
    assert body["delivery_id"] == did and body["policy_code"] == "12/2026/NQ-HĐND" and body["channel"] == CHANNEL
    assert body["title"] == d.content.title and body["body"] == d.content.body and body["media"] == []
    assert body["content_sha256"] == d.content_sha256 and body["due_at"] == d.due_at.isoformat()
    [request] = _posts(receiver)
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert "Nghị quyết".encode() in request["body"]  # compact UTF-8, not \\u escapes


def test_media_travel_as_base64_with_their_hash_and_size(app, receiver, project):
    image = write_png(project / "anh.png")
    did = _queue(app, media=[str(image)])
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    [sent] = receiver.items[0]["body"]["media"]
    data = base64.b64decode(sent["base64"])
    assert sent["sha256"] == delivery(app, did).content.media[0].sha256 == hashlib.sha256(data).hexdigest()
    assert sent["size"] == len(data) == image.stat().st_size and sent["name"] == "anh.png"


def test_a_wrong_secret_is_refused_and_the_delivery_waits_until_it_is_fixed(app, receiver, project):
    (project / f"{CHANNEL}.secret").write_text("a-different-secret-of-some-length", encoding="utf-8")
    did = _queue(app)
    clock, dispatcher = _clocked(app, receiver)
    assert dispatcher.run_once() == {"waiting": 1}
    assert outcomes(app, did) == ["auth"] and "bad signature" in delivery(app, did).last_error
    assert receiver.items == []
    (project / f"{CHANNEL}.secret").write_text(SECRET, encoding="utf-8")  # re-read on every call
    clock.now += timedelta(seconds=2)
    assert dispatcher.run_once() == {"published": 1}
    assert len(receiver.items) == 1


def test_a_stale_timestamp_is_refused(app, receiver):
    did = _queue(app)
    channel = app.channel(CHANNEL)
    channel.clock = lambda: utcnow() - timedelta(minutes=10)
    with pytest.raises(AuthError, match="stale timestamp"):
        channel.publish(delivery(app, did))
    assert receiver.items == []


def test_a_replayed_request_is_refused(app, receiver):
    _queue(app)
    Dispatcher(app, "w").run_once()
    [original] = _posts(receiver)
    headers = {k: v for k, v in original["headers"].items() if k.lower() not in ("host", "content-length")}
    again = requests.post(f"{receiver.url}/api/bai-viet", data=original["body"], headers=headers, timeout=5)
    assert again.status_code == 401 and again.json()["message"] == "replayed request"
    forged = {**headers, "X-Publisher-Timestamp": str(int(time.time()) + 1)}  # old signature, new time
    assert requests.post(f"{receiver.url}/api/bai-viet", data=original["body"], headers=forged,
                         timeout=5).json()["message"] == "bad signature"
    assert len(receiver.items) == 1


@pytest.mark.parametrize("conflict", [False, True], ids=["same-answer", "409-naming-the-key"])
def test_a_cut_after_storing_is_retried_with_the_same_key_and_deduplicated(app, receiver, conflict):
    receiver.conflict_on_duplicate = conflict
    receiver.fault("cut")
    did = _queue(app)
    _drain(app, receiver)
    assert outcomes(app, did) == ["ambiguous", "published"]
    assert len(receiver.items) == 1
    keys = {r["headers"]["Idempotency-Key"] for r in _posts(receiver)}
    assert len(_posts(receiver)) == 2 and len(keys) == 1
    d = delivery(app, did)
    assert d.state == S.PUBLISHED and d.remote_id == "bai-1" and d.permalink.endswith("/bai-1")
    with read(app.engine) as conn:
        events = conn.execute(select(journal.c.event).where(journal.c.subject == f"delivery:{did}")
                              .order_by(journal.c.seq)).scalars().all()
    assert "delivery.not_found" in events  # find() could not look: the key did the work


def test_a_5xx_before_storing_is_ambiguous_then_published_once(app, receiver):
    receiver.fault("500")
    did = _queue(app)
    _drain(app, receiver)
    assert outcomes(app, did) == ["ambiguous", "published"] and len(receiver.items) == 1


def test_a_400_fails_with_the_receivers_message(app, receiver):
    receiver.fault("400", message="Tiêu đề vượt quá 200 ký tự")
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert outcomes(app, did) == ["rejected"]
    assert "HTTP 400: Tiêu đề vượt quá 200 ký tự" in delivery(app, did).last_error


def test_a_401_makes_the_delivery_wait_for_staff(app, receiver):
    receiver.fault("401")
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"waiting": 1}
    assert outcomes(app, did) == ["auth"] and "token revoked" in delivery(app, did).last_error


def test_a_429_waits_until_retry_after(app, receiver):
    receiver.fault("429", seconds=120)
    did = _queue(app)
    clock, dispatcher = _clocked(app, receiver)
    assert dispatcher.run_once() == {"waiting": 1}
    assert delivery(app, did).next_attempt_at == clock.now + timedelta(seconds=120)
    clock.now += timedelta(seconds=60)
    assert dispatcher.run_once() == {}  # not due yet
    clock.now += timedelta(seconds=61)
    assert dispatcher.run_once() == {"published": 1}
    assert outcomes(app, did) == ["rate_limited", "published"]


def test_an_answer_without_an_id_is_an_error_not_a_success(app, receiver):
    receiver.fault("no_id")
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert "no id at 'data.id'" in delivery(app, did).last_error and delivery(app, did).remote_id is None


def test_the_secret_never_appears_in_requests_stored_errors_or_logs(app, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact.RedactingFilter())
    receiver.fault("400", message=f"chữ ký sai với khóa {SECRET}")  # a receiver that echoes the key back
    _queue(app)
    receiver.fault("cut")
    _queue(app)
    _drain(app, receiver)
    sent = " ".join(f"{r['headers']} {r['body'].decode()}" for r in receiver.requests)
    assert receiver.requests and SECRET not in sent
    assert SECRET not in caplog.text
    with read(app.engine) as conn:
        stored = " ".join(str(v) for row in conn.execute(select(attempts)) for v in row)
        stored += " ".join(str(v) for row in conn.execute(select(journal)) for v in row)
    assert "chữ ký sai với khóa ***" in stored and SECRET not in stored


# -- check() ---------------------------------------------------------------------------------------
def test_check_without_a_health_url(app, receiver):
    health = app.channel(CHANNEL).check()
    assert health.ok and health.detail == "no health URL configured"
    assert receiver.requests == []


def test_check_with_a_health_url_is_signed(project, receiver):
    app = _open(project, receiver, extra=f'health_url = "{receiver.url}/health"\n')
    channel = app.channel(CHANNEL)
    assert channel.check().ok and receiver.requests[-1]["method"] == "GET"
    receiver.health_status = 503
    health = channel.check()
    assert not health.ok and "503" in health.detail
    receiver.health_status = 200
    (project / f"{CHANNEL}.secret").write_text("a-different-secret-of-some-length", encoding="utf-8")
    health = channel.check()
    assert not health.ok and "bad signature" in health.detail
    (project / f"{CHANNEL}.secret").unlink()
    assert not channel.check().ok
    app.close()


# -- templates and configuration ---------------------------------------------------------------------
@pytest.mark.parametrize(("template", "expected"), [
    ('{"title": {{ title | tojson }},\n "x": {{ khong_co }}}', "hong.json, line 2: UndefinedError"),
    ('{"title": {{ title }}}', "hong.json did not produce valid JSON"),
    ('{"title": {{ title | tojson }\n}', "hong.json, line 1"),
], ids=["undefined", "not-json", "syntax"])
def test_a_bad_body_template_fails_with_a_clear_error(project, receiver, template, expected):
    (project / "templates" / "webhooks").mkdir(parents=True)
    (project / "templates" / "webhooks" / "hong.json").write_text(template, encoding="utf-8")
    app = _open(project, receiver, extra='template = "hong"\n')
    did = _queue(app)
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    assert outcomes(app, did) == ["rejected"] and expected in delivery(app, did).last_error
    assert receiver.requests == []
    app.close()


def test_a_template_in_template_dir_overrides_the_built_in_one(project, receiver):
    (project / "templates" / "webhooks").mkdir(parents=True)
    (project / "templates" / "webhooks" / "mac-dinh.json").write_text(
        '{"tieu_de": {{ title | tojson }}, "tep": [{% for m in media %}{{ m.name | tojson }}{% endfor %}]}',
        encoding="utf-8")
    app = _open(project, receiver)
    did = _queue(app)
    Dispatcher(app, "w").run_once()
    assert receiver.items[0]["body"] == {"tieu_de": delivery(app, did).content.title, "tep": []}
    app.close()


@pytest.mark.parametrize(("extra", "key", "path"), [
    ('url = "ftp://cong.example/api"\n', "config.bad_webhook_url", "url"),
    ('url = "https://user:pw@cong.example/api"\n', "config.bad_webhook_url", "url"),
    ('health_url = "cong.example/health"\n', "config.bad_webhook_url", "health_url"),
    ('template = "khong-co"\ntemplate_dir = "/nonexistent"\n', "config.missing_webhook_template", "template"),
    ('template = "../posts/x"\n', "config.bad_code", "template"),
    ('id_path = "data..id"\n', "config.bad_json_path", "id_path"),
    ('signature_header = "X Chu Ky"\n', "config.bad_header_name", "signature_header"),
    ('secret_env = "WEBHOOK_KEY"\n', "config.secret_missing", "secret_env"),
    ('secret = "inline"\n', "config.inline_secret", "secret"),
])
def test_configuration_mistakes_name_the_key(project, extra, key, path):
    config = webhook_config(project, "http://127.0.0.1:9")
    base, channel = config.read_text(encoding="utf-8").split(f"[channels.{CHANNEL}]\n")
    replaced = {line.split(" = ")[0] for line in extra.splitlines()}
    kept = [line for line in channel.splitlines() if line.split(" = ")[0] not in replaced]
    config.write_text(f"{base}[channels.{CHANNEL}]\n" + "\n".join(kept) + "\n" + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert caught.value.key == key and caught.value.params["path"] == f"channels.{CHANNEL}.{path}"


def test_a_missing_template_is_refused_on_load_and_a_broken_one_by_check(project, receiver):
    with pytest.raises(ConfigError, match="chua-co"):  # caught by config check, before anything runs
        _open(project, receiver, extra='template = "chua-co"\n')
    (project / "templates" / "webhooks").mkdir(parents=True)
    (project / "templates" / "webhooks" / "chua-co.json").write_text("{{ title | tojson }", encoding="utf-8")
    app = _open(project, receiver, extra='template = "chua-co"\n')
    health = app.channel(CHANNEL).check()
    assert not health.ok and "chua-co.json" in health.detail
    app.close()


def test_the_default_template_is_valid_json_for_a_sample_delivery(app):
    did = _queue(app)
    channel = app.channel(CHANNEL)
    body = json.loads(channel.render(delivery(app, did), "k"))
    assert set(body) == {"delivery_id", "idempotency_key", "policy_code", "agency", "channel", "title", "body",
                         "content_sha256", "due_at", "deadline_at", "media"}


def test_retry_after_as_an_http_date():
    from publisher.channels.webhook import _retry_at

    now = utcnow()
    assert _retry_at("Wed, 21 Oct 2026 07:28:00 GMT", now).isoformat() == "2026-10-21T07:28:00+00:00"
    assert _retry_at("90", now) == now + timedelta(seconds=90)
    assert _retry_at("soon", now) is None and _retry_at(None, now) is None
