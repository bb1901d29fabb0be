"""Benchmark: the web UI under load, with 10,000 deliveries in the database.

A real ``publisher web --workers N`` (uvicorn, SQLite; N = CPU cores unless given) on a loopback port; the
database holds one policy, 10,000 approved posts and their 10,000 deliveries
(queued quickly through ``enqueue.enqueue`` with one real approved post's
frozen content, as ``bench/scale.py`` does; a tenth marked published and a
hundredth failed, due from a week ago to a month ahead) and one draft post
waiting for approval.  Logged in as an admin, Debian's ``wrk`` (8
connections, 2 threads, on loopback) loads for DURATION seconds each:

* the dashboard, ``GET /``;
* the preview, ``POST /compose/preview``: the compose page's live preview
  as its script posts it (the form as urlencoded data, the CSRF token in the
  ``X-CSRF-Token`` header) for the draft's policy, the fanpage channel and
  the square infographic, with a different text typed on every request:
  each channel's text rendered afresh, the infographic (which shows only
  the policy) drawn once and reused while staff type, as
  ``web/preview_images.py`` does;
* and, for the record (not in the last line), the approval page of the
  draft, ``GET /approvals/{post_id}``.

    python bench/web.py              # 15 s per page, `publisher web --workers <CPU cores>`
    python bench/web.py 30 1         # 30 s per page, one server process

Last line: ``dashboard_p99_ms=<float> preview_p99_ms=<float>`` (targets: 200 and 300 ms).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _daemon import CONFIG  # noqa: E402

from publisher import accounts, enqueue, posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.models import DeliveryState, PostState, utcnow  # noqa: E402
from publisher.store.engine import write  # noqa: E402
from publisher.store.schema import deliveries  # noqa: E402
from publisher.store.schema import posts as posts_table  # noqa: E402

TOTAL = 10_000
CODE = "01/2027/NQ-HĐND"
SECRET = "bench-web-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "Mật-khẩu đo tải 2027"
CONNECTIONS, THREADS = 8, 2
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def fill(app: App) -> tuple[int, int]:
    """The data (not timed); returns the draft post's id and its policy's."""
    service.add_policy(app, "bien-tap", {"agency": "tinh", "code": CODE, "impact": "high",
                                         "title": "Nghị quyết hỗ trợ học phí", "summary": "Hỗ trợ học phí.",
                                         "consultation_opens": "2027-01-01", "consultation_closes": "2027-02-01"})
    sample = posts.new_post(app, "bien-tap", {"policy": CODE, "agency": "tinh", "channels": ["fanpage"]})
    posts.approve(app, "truong-phong", sample.id)
    content = posts.frozen(app, sample.id)["fanpage"]
    now, made = utcnow(), []
    with write(app.engine) as conn:
        for i in range(TOTAL - 1):
            at = now + timedelta(minutes=(i * 7) % (37 * 24 * 60) - 7 * 24 * 60)  # a week ago .. a month ahead
            values = {"policy_id": sample.policy_id, "template": sample.template, "variables": {},
                      "channels": ["fanpage"], "media": [], "infographics": [], "publish_at": at,
                      "deadline_at": at + timedelta(days=7), "state": PostState.APPROVED, "author": "bien-tap",
                      "approver": "truong-phong", "approved_at": now, "created_at": now}
            pid = conn.execute(insert(posts_table).values(**values)).inserted_primary_key[0]
            made.append(posts.Post(id=pid, policy_id=sample.policy_id, template=sample.template, variables={},
                                   channels=("fanpage",), publish_at=at, author="bien-tap",
                                   state=PostState.APPROVED, deadline_at=at + timedelta(days=7)))
    for start in range(0, len(made), 5000):
        with write(app.engine) as conn:
            batch = [enqueue.Item(p, CODE, "fanpage", content) for p in made[start:start + 5000]]
            enqueue.enqueue(conn, "bench", batch, utcnow())
    with write(app.engine) as conn:  # some history: published and failed ones
        conn.execute(update(deliveries).where(deliveries.c.id % 10 == 0, deliveries.c.due_at < now)
                     .values(state=DeliveryState.PUBLISHED, published_at=deliveries.c.due_at, attempts=1))
        conn.execute(update(deliveries).where(deliveries.c.id % 100 == 1, deliveries.c.due_at < now)
                     .values(state=DeliveryState.FAILED, attempts=3, last_error="trang đã bị khóa"))
    draft = posts.new_post(app, "bien-tap", {"policy": CODE, "agency": "tinh", "channels": ["fanpage"],
                                             "at": (now + timedelta(days=3)).isoformat()})
    accounts.add_user(app, "bench", "quan-tri", "admin", PASSWORD)
    return draft.id, draft.policy_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(PUBLISHER_WEB_SECRET=SECRET, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "publisher", "web", "--port", str(port), "--workers", str(workers)],
                            cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("publisher web did not start")


def login(base: str) -> str:
    """The session cookie of a logged-in admin."""
    session = requests.Session()
    token = _CSRF.search(session.get(f"{base}/login").text).group(1)
    done = session.post(f"{base}/login", data={"username": "quan-tri", "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False)
    assert done.status_code == 303, done.text
    return session.cookies["publisher_session"]


#: wrk's script for the preview: the same POST on every request (wrk sends GETs otherwise).
_POST_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-CSRF-Token"] = "{token}"
typed = 0
request = function()
  typed = typed + 1  -- a different text on every request, as someone typing
  return wrk.format(nil, nil, nil, (string.gsub("{body}", "TYPED", tostring(typed))))
end
"""


def preview_script(folder: Path, base: str, cookie: str, policy_id: int) -> Path:
    """The Lua file making wrk post the compose form; checks once that the answer has text and a PNG."""
    token = _CSRF.search(requests.get(f"{base}/compose", cookies={"publisher_session": cookie}).text).group(1)
    body = urlencode({"policy": policy_id, "template": "thong-tin", "channels": "fanpage", "infographics": "vuong",
                      "var_noi_dung": "Mời người dân góp ý trước ngày 01/02/2027 (lần TYPED)."})
    answer = requests.post(f"{base}/compose/preview", data=body, cookies={"publisher_session": cookie},
                           headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"})
    if answer.status_code != 200 or "data:image/png;base64," not in answer.text:
        raise RuntimeError(f"the preview did not answer with an image: {answer.status_code} {answer.text[:500]}")
    script = folder / "preview.lua"
    script.write_text(_POST_LUA.format(body=body, token=token), encoding="utf-8")
    return script


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, cookie: str, seconds: int, script: Path | None = None) -> tuple[float, float, float]:
    """wrk on *url* (with *script*: its requests): (requests/s, p50 ms, p99 ms); every answer must be a 200."""
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", *extra,
                          "-H", f"Cookie: publisher_session={cookie}", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: some answers were not 200:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(*re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups())
    p99 = _ms(*re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups())
    return rate, p50, p99


def main() -> int:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
        (folder / "templates").mkdir()
        os.chdir(folder)
        os.environ.pop("PUBLISHER_DATABASE_URL", None)
        app = App.open(folder / "config.toml")
        started = time.perf_counter()
        draft, policy_id = fill(app)
        app.close()
        print(f"{TOTAL} deliveries in the database ({time.perf_counter() - started:.1f} s to make)", file=sys.stderr)
        port = free_port()
        server = serve(folder, port, workers)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = login(base)
            script = preview_script(folder, base, cookie, policy_id)
            approval = f"{base}/approvals/{draft}"
            for url in (f"{base}/", approval):  # warm: templates compiled, caches filled
                requests.get(url, cookies={"publisher_session": cookie})
            results = {}
            for name, url, lua in (("dashboard", f"{base}/", None), ("preview", f"{base}/compose/preview", script),
                                   ("approval", approval, None)):
                rate, p50, p99 = load(url, cookie, seconds, lua)
                results[name] = p99
                print(f"{name}: {'POST' if lua else 'GET'} {url.removeprefix(base)}  {rate:.1f} requests/s  "
                      f"p50 {p50:.1f} ms  p99 {p99:.1f} ms  "
                      f"({CONNECTIONS} connections, {seconds} s, {workers} workers)", file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"dashboard_p99_ms={results['dashboard']:.1f} preview_p99_ms={results['preview']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
