"""The WordPress channel against a REAL local WordPress (tests/wordpress/setup.sh), faults made by a real proxy.

The WordPress database lives for the whole session: every test uses its own
policy codes (with a per-session suffix) and term names, so nothing collides.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from publisher import posts
from publisher.channels import wp_terms
from publisher.channels.wordpress import excerpt
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ConfigError
from publisher.models import Delivery, DeliveryState
from publisher.store.engine import read
from publisher.store.schema import attempts, journal

from .conftest import channel_config
from .helpers import Clock, add_policy, delivery, outcomes

S = DeliveryState
RUN = uuid.uuid4().hex[:4]  # this session's suffix for policy codes and term names
CHANNEL = "portal-wp"


# --- helpers ---------------------------------------------------------------------------------------------------
def wordpress_config(project: Path, wp, *, base_url: str | None = None, password: str | None = None,
                     extra: str = "") -> Path:
    """BASE_CONFIG plus a [channels.portal-wp] of type wordpress; credentials in files of the project."""
    (project / "wp.user").write_text(wp.user + "\n", encoding="utf-8")
    (project / "wp.password").write_text((password or wp.app_password) + "\n", encoding="utf-8")
    channel = (f'\n[channels.{CHANNEL}]\ntype = "wordpress"\nagency = "tinh"\nformat = "portal"\n'
               f'base_url = "{base_url or wp.url}"\nuser_file = "wp.user"\npassword_file = "wp.password"\n'
               f"read_timeout = 20.0\n{extra}")
    return channel_config(project, channel)


def rest(wp, method: str, route: str, **kwargs):
    """WordPress's REST API, read by the test itself (admin credentials)."""
    response = requests.request(method, f"{wp.url}/wp-json/wp/v2{route}", auth=(wp.user, wp.app_password),
                                timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def open_app(project, wp, code: str, **options) -> App:
    app = App.open(wordpress_config(project, wp, **options))
    add_policy(app, code=code, title=f"Nghị quyết hỗ trợ học phí {code}")
    return app


def queue(app, code: str, at: str = "now", **extra) -> int:
    post = posts.new_post(app, "bien-tap", {"policy": code, "agency": "tinh", "channels": [CHANNEL], "at": at,
                                            "infographics": ["vuong"], **extra})
    [did] = posts.approve(app, "truong-phong", post.id)
    return did


def drain(app, clock, rounds=3, step=timedelta(seconds=2)):
    dispatcher = Dispatcher(app, "w", clock=clock)
    app.channel(CHANNEL).clock = clock
    results = []
    for _ in range(rounds):
        results.append(dict(dispatcher.run_once()))
        clock.now += step
    dispatcher.close()
    return results


def posts_with_slug(wp, slug: str, status: str = "any") -> list[dict]:
    return rest(wp, "GET", "/posts", params={"slug": slug, "status": status, "context": "edit"})


def code_for(number: int) -> str:
    return f"{number:02d}/KH-UBND-{RUN}"


def slug_for(number: int, did: int) -> str:
    return f"{number:02d}-kh-ubnd-{RUN}-d{did}"


class Proxy:
    """A real TCP proxy on 127.0.0.1 in front of WordPress.

    Each connection carries one request (PHP's server answers ``Connection:
    close``). A rule ``(method, path regex)`` can cut the connection before
    forwarding the request, cut it after WordPress answered (the answer is
    lost), or rewrite the request body; each rule fires ``times`` times.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.rules: list[dict] = []
        self.seen: list[tuple[str, str, str]] = []  # (method, path, action)
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def on(self, method: str, path: str, action: str, old: bytes = b"", new: bytes = b"", times: int = 1) -> None:
        self.rules.append({"method": method, "path": re.compile(path), "action": action, "old": old, "new": new,
                           "times": times})

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.seen if m == method and re.search(path, p))

    def close(self) -> None:
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _rule(self, method: str, path: str) -> dict | None:
        with self._lock:
            for rule in self.rules:
                if rule["times"] and rule["method"] == method and rule["path"].search(path):
                    rule["times"] -= 1
                    return rule
        return None

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head, body = _read_request(conn)
            if head is None:
                return
            method, target = head.split(b" ", 2)[:2]
            path = target.split(b"?", 1)[0].decode()
            rule = self._rule(method.decode(), path)
            action = rule["action"] if rule else "forward"
            self.seen.append((method.decode(), path, action))
            if action == "cut_before":
                return
            if action == "rewrite":
                body = re.sub(rule["old"], rule["new"], body)
            head = re.sub(rb"(?im)^content-length:.*$", b"Content-Length: %d" % len(body), head)
            head = re.sub(rb"(?im)^connection:.*$", b"Connection: close", head)
            with socket.create_connection(self.upstream, timeout=30) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                answer = b"".join(iter(lambda: up.recv(65536), b""))
            if action == "cut_after":  # WordPress did the work; the answer is lost
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            conn.sendall(answer)


def _read_request(conn: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


@pytest.fixture
def proxy(wordpress):
    server = Proxy(wordpress.url)
    yield server
    server.close()


# --- pure helpers and configuration (no WordPress) -----------------------------------------------------------------
def test_slugs_are_ascii_and_deterministic():
    assert wp_terms.slugify("Đề nghị xây dựng Nghị quyết") == "de-nghi-xay-dung-nghi-quyet"
    assert wp_terms.slugify("12/2026/NQ-HĐND") == "12-2026-nq-hdnd"
    assert wp_terms.slugify("Lấy ý kiến  người dân!") == "lay-y-kien-nguoi-dan"
    decomposed = "Chi\u0301nh sa\u0301ch"  # typed with combining marks
    assert wp_terms.slugify(decomposed) == "chinh-sach"
    d = Delivery(id=42, post_id=1, policy_id=1, agency="tinh", channel=CHANNEL, state=S.QUEUED, due_at=None,
                 content=None, content_sha256="", policy_code="06/KH-UBND")
    assert wp_terms.post_slug(d) == "06-kh-ubnd-d42"


def test_the_excerpt_is_the_plain_text_of_the_first_paragraph():
    body = "<p>Ủy ban <strong>mời góp ý</strong> &amp; kiến nghị.</p>\n<p>Đoạn hai.</p>"
    assert excerpt(body) == "Ủy ban mời góp ý & kiến nghị."
    assert excerpt("<div>không có đoạn</div>") == "không có đoạn"
    long = excerpt("<p>" + "chữ " * 200 + "</p>")
    assert len(long) <= 301 and long.endswith("…")


@pytest.mark.parametrize(("change", "path"), [
    ('base_url = "tinh.gov.vn"', "channels.portal-wp.base_url"),
    ('password_env = "WP_PASS"', "channels.portal-wp.password_env"),  # both password_env and password_file
    ('categories = ["!!!"]', "channels.portal-wp.categories"),
])
def test_bad_options_are_one_clear_config_error(project, change, path):
    class Site:
        url, user, app_password = "https://tinh.example.gov.vn", "bientap", "x" * 24

    config = wordpress_config(project, Site, extra=change + "\n")
    if change.startswith("base_url"):
        config.write_text(config.read_text(encoding="utf-8").replace(
            'base_url = "https://tinh.example.gov.vn"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        App.open(config)
    assert caught.value.params["path"] == path


def test_an_inline_password_is_refused(project):
    class Site:
        url, user, app_password = "https://tinh.example.gov.vn", "bientap", "x" * 24

    config = wordpress_config(project, Site, extra='password = "abcd efgh"\n')
    with pytest.raises(ConfigError) as caught:
        App.open(config)
    assert caught.value.key == "config.inline_secret"


# --- against the real WordPress ------------------------------------------------------------------------------------
def test_an_article_with_its_featured_image_categories_and_tags(project, wordpress):
    wp = wordpress
    existing = rest(wp, "POST", "/categories", json={"name": f"Chính sách {RUN}"})  # adopted by slug
    renamed = rest(wp, "POST", "/tags", json={"name": f"Góp ý {RUN}", "slug": f"gop-y-cu-{RUN}"})  # term_exists
    categories = [f"Chính sách {RUN}", f"Lấy ý kiến {RUN}"]
    tags = [f"Góp ý {RUN}", f"Học phí {RUN}"]
    app = open_app(project, wp, code_for(6),
                   extra=f"categories = {_toml(categories)}\ntags = {_toml(tags)}\n")
    did = queue(app, code_for(6))
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    sent = delivery(app, did)
    [post] = posts_with_slug(wp, slug_for(6, did))
    assert sent.remote_id == str(post["id"]) and sent.permalink == post["link"] and post["status"] == "publish"
    assert html.unescape(post["title"]["raw"]) == sent.content.title
    assert post["content"]["raw"] == sent.content.body
    assert post["excerpt"]["raw"] == excerpt(sent.content.body) and "Ủy ban nhân dân" in post["excerpt"]["raw"]
    image = rest(wp, "GET", f"/media/{post['featured_media']}", params={"context": "edit"})
    frozen = sent.content.media[0]
    assert image["alt_text"] == sent.content.title and image["mime_type"] == "image/png"
    assert image["slug"] == f"{slug_for(6, did)}-{frozen.sha256[:12]}"
    assert requests.get(image["source_url"], timeout=30).content == (app.data_dir / frozen.path).read_bytes()
    got_categories = rest(wp, "GET", "/categories", params={"include": ",".join(map(str, post["categories"]))})
    assert sorted(c["slug"] for c in got_categories) == sorted([f"chinh-sach-{RUN}", f"lay-y-kien-{RUN}"])
    assert existing["id"] in post["categories"]
    got_tags = rest(wp, "GET", "/tags", params={"include": ",".join(map(str, post["tags"]))})
    assert sorted(t["slug"] for t in got_tags) == sorted([f"gop-y-cu-{RUN}", f"hoc-phi-{RUN}"])
    assert renamed["id"] in post["tags"]
    page = requests.get(post["link"], timeout=30)
    assert page.status_code == 200 and "Ủy ban nhân dân" in page.text
    again = queue(app, code_for(6))  # a second article reuses the terms, creates none
    assert Dispatcher(app, "w").run_once() == {"published": 1}
    [second] = posts_with_slug(wp, slug_for(6, again))
    assert second["categories"] == post["categories"] and sorted(second["tags"]) == sorted(post["tags"])
    assert len(rest(wp, "GET", "/tags", params={"search": RUN, "per_page": 100})) >= 2
    assert len(rest(wp, "GET", "/categories", params={"search": f"Lấy ý kiến {RUN}"})) == 1
    app.close()


def test_native_scheduling_hands_the_post_to_wordpress_and_cancelling_trashes_it(project, wordpress):
    app = open_app(project, wordpress, code_for(7), extra="native_scheduling = true\n")
    clock = Clock()
    due = (clock.now + timedelta(hours=2)).replace(microsecond=0)
    did = queue(app, code_for(7), at=due.isoformat())
    assert drain(app, clock, rounds=1)[0] == {"scheduled": 1}
    [post] = posts_with_slug(wordpress, slug_for(7, did))
    assert post["status"] == "future" and post["date_gmt"] == due.strftime("%Y-%m-%dT%H:%M:%S")
    scheduled = delivery(app, did)
    assert scheduled.state == S.SCHEDULED and scheduled.remote_id == str(post["id"])
    assert outcomes(app, did) == ["scheduled"]
    assert app.channel(CHANNEL).find(scheduled, None).extra == {"scheduled": True}
    posts.cancel(app, "truong-phong", scheduled.post_id, "dự thảo thay đổi")
    assert delivery(app, did).state == S.CANCELLED
    assert rest(wordpress, "GET", f"/posts/{post['id']}", params={"context": "edit"})["status"] == "trash"
    now = queue(app, code_for(7))  # due now: published at once, even with native scheduling
    assert drain(app, clock, rounds=1)[0] == {"published": 1}
    assert posts_with_slug(wordpress, slug_for(7, now))[0]["status"] == "publish"
    app.close()


def test_scheduled_posts_are_confirmed_live_or_failed_when_gone_from_the_site(project, wordpress):
    app = open_app(project, wordpress, code_for(16), extra="native_scheduling = true\n")
    clock = Clock()
    due = clock.now + timedelta(hours=3)
    live, gone = queue(app, code_for(16), at=due.isoformat()), queue(app, code_for(16), at=due.isoformat())
    assert drain(app, clock, rounds=1)[0] == {"scheduled": 2}
    early = (clock.now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")  # an editor publishes it now
    rest(wordpress, "POST", f"/posts/{delivery(app, live).remote_id}", json={"status": "publish", "date_gmt": early})
    rest(wordpress, "DELETE", f"/posts/{delivery(app, gone).remote_id}")  # and trashes the other one
    clock.now = due + timedelta(minutes=1)
    assert drain(app, clock, rounds=1)[0] == {"published": 1, "failed": 1}
    assert outcomes(app, live) == ["scheduled", "went_live"] and delivery(app, live).permalink.startswith("http")
    assert delivery(app, gone).state == S.FAILED and "no longer" in delivery(app, gone).last_error
    app.close()


@pytest.mark.parametrize(("number", "path", "action", "expected", "post_requests"), [
    (8, r"/wp/v2/posts$", "cut_after", ["ambiguous", "reconciled"], 1),  # made, answer lost: adopted
    (9, r"/wp/v2/posts$", "cut_before", ["ambiguous", "published"], 2),  # never reached WordPress: made once
    (10, r"/wp/v2/media$", "cut_after", ["ambiguous", "published"], 1),  # image uploaded, answer lost: reused
])
def test_a_cut_connection_is_reconciled_never_posted_or_uploaded_twice(project, wordpress, proxy, number, path,
                                                                        action, expected, post_requests):
    proxy.on("POST", path, action)
    app = open_app(project, wordpress, code_for(number), base_url=proxy.url)
    did = queue(app, code_for(number))
    drain(app, Clock(), rounds=3)
    assert outcomes(app, did) == expected and delivery(app, did).state == S.PUBLISHED
    slug = slug_for(number, did)
    [post] = posts_with_slug(wordpress, slug)
    assert posts_with_slug(wordpress, f"{slug}-2") == []
    assert delivery(app, did).remote_id == str(post["id"])
    frozen = delivery(app, did).content.media[0]
    [image] = rest(wordpress, "GET", "/media", params={"slug": f"{slug}-{frozen.sha256[:12]}"})
    assert post["featured_media"] == image["id"]
    assert proxy.count("POST", r"/wp/v2/media$") == 1  # found again, not uploaded again
    assert proxy.count("POST", r"/wp/v2/posts$") == post_requests
    app.close()


def test_a_wrong_application_password_waits_and_explains_then_resumes(project, wordpress):
    wrong = "AbCd EfGh IjKl MnOp QrSt UvWx"
    app = open_app(project, wordpress, code_for(11), password=wrong)
    did = queue(app, code_for(11))
    clock = Clock()
    assert drain(app, clock, rounds=2) == [{"waiting": 1}, {"waiting": 1}]
    waiting = delivery(app, did)
    assert waiting.state == S.WAITING and outcomes(app, did) == ["auth", "auth"]
    for cause in ("HTTP 401", "Application Password", "HTTPS", "WP_ENVIRONMENT_TYPE", "Authorization header",
                  "publish_posts"):
        assert cause in waiting.last_error
    health = app.channel(CHANNEL).check()
    assert not health.ok and "Application Password" in health.detail
    (project / "wp.password").write_text(wordpress.app_password, encoding="utf-8")  # staff renew it
    assert drain(app, clock, rounds=1) == [{"published": 1}]
    with read(app.engine) as conn:
        stored = " ".join(str(v) for row in conn.execute(select(attempts)) for v in row)
        stored += " ".join(str(v) for row in conn.execute(select(journal)) for v in row)
    assert wrong not in stored and wrong.replace(" ", "") not in stored and wordpress.app_password not in stored
    app.close()


def test_an_invalid_parameter_fails_with_wordpress_message(project, wordpress, proxy):
    # nothing in a frozen delivery can make a bad status: the proxy changes it on the wire
    proxy.on("POST", r"/wp/v2/posts$", "rewrite", old=rb'"status": "publish"', new=b'"status": "en-attente"')
    app = open_app(project, wordpress, code_for(12), base_url=proxy.url)
    did = queue(app, code_for(12))
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    failed = delivery(app, did)
    assert outcomes(app, did) == ["rejected"]
    assert "HTTP 400 rest_invalid_param: Invalid parameter(s): status" in failed.last_error
    assert "status is not one of publish" in failed.last_error
    assert posts_with_slug(wordpress, slug_for(12, did)) == []
    app.close()


@pytest.mark.parametrize(("number", "old", "new", "what"), [
    (13, rb'"featured_media": \d+', b'"featured_media": 987654', "the featured image"),
    (14, rb'"categories": \[[\d, ]+\]', b'"categories": [987654]', "categories [987654]"),
])
def test_what_wordpress_silently_drops_fails_the_delivery_and_trashes_the_post(project, wordpress, proxy, number,
                                                                               old, new, what):
    proxy.on("POST", r"/wp/v2/posts$", "rewrite", old=old, new=new)
    extra = f'categories = ["Bị bỏ {RUN}"]\n'
    app = open_app(project, wordpress, code_for(number), base_url=proxy.url, extra=extra)
    did = queue(app, code_for(number))
    assert Dispatcher(app, "w").run_once() == {"failed": 1}
    failed = delivery(app, did)
    assert outcomes(app, did) == ["rejected"] and "dropped" in failed.last_error
    assert ("featured image" in failed.last_error) if "featured" in what else ("categories" in failed.last_error)
    assert "moved to the trash" in failed.last_error
    assert posts_with_slug(wordpress, slug_for(number, did)) == []  # nothing half-made stays live
    trashed = rest(wordpress, "GET", "/posts", params={"status": "trash", "search": code_for(number),
                                                       "context": "edit"})
    assert len(trashed) == 1
    app.close()


def test_check_reports_the_user_or_why_not(project, wordpress):
    app = open_app(project, wordpress, code_for(15))
    health = app.channel(CHANNEL).check()
    assert health.ok and health.detail.endswith("(administrator)")
    app.close()
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    down = App.open(wordpress_config(project, wordpress, base_url=f"http://127.0.0.1:{port}"))
    health = down.channel(CHANNEL).check()
    assert not health.ok and "cannot connect" in health.detail
    down.close()
    lost = App.open(wordpress_config(project, wordpress, base_url=f"{wordpress.url}/khong-co"))
    health = lost.channel(CHANNEL).check()
    assert not health.ok and "404" in health.detail and "base_url" in health.detail
    lost.close()


def _toml(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"
