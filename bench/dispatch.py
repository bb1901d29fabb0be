"""Benchmark: how close dispatching gets to the limit its concurrency sets.

N deliveries (default 2,000) to Pages on the fake Graph API, which answers
every call after LATENCY seconds (default 0.05).  With C consumers per Page
and P Pages the limit is P × C ÷ LATENCY deliveries per second; the run
drains the queue with one Dispatcher (as one daemon would) and reports the
rate reached.  Everything must be published exactly once: the script exits
non-zero otherwise.

    python bench/dispatch.py                 # N=2000, 2 Pages × concurrency 4, 50 ms
    python bench/dispatch.py 500 --pages 1   # smaller

Last line: ``deliveries_per_s=<float> limit_per_s=<float> ratio=<float>``.

WordPress mode: N articles, each with its infographic as featured image, to
the real local WordPress of the tests (started with tests/wordpress/setup.sh,
stopped again afterwards if it was not running), drained the same way.  Every
HTTP call of the channel is timed (``requests.Session.request``), so the run
tells how the wall time splits between waiting on WordPress and our own code
(claims, journal, reading the image, building requests).  Each article must
exist exactly once, with its featured image (exit 1 otherwise).

    python bench/dispatch.py --wordpress 50                     # concurrency 1
    python bench/dispatch.py --wordpress 50 --wp-concurrency 4  # PHP's server has 4 workers

Last line: ``wp_articles_per_s=<float> own_share=<float>``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher import posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.dispatch import Dispatcher  # noqa: E402
from publisher.store.engine import read  # noqa: E402
from publisher.store.schema import deliveries  # noqa: E402

CONFIG = """
[storage]
data_dir = "data"
[daemon]
batch_size = 40
threads = {threads}
[agencies.tinh]
name = "Ủy ban nhân dân tỉnh"
"""
CHANNEL = """
[channels.fb-{i}]
type = "facebook"
agency = "tinh"
format = "facebook"
page_id = "{page}"
token_file = "fb-{i}.token"
base_url = "{url}"
concurrency = {concurrency}
"""


def main() -> int:
    args = _args()
    if args.wordpress is not None:
        return wordpress(args)
    pages = {str(100000 + i): {"name": f"Trang {i}", "token": f"EAAB-bench-token-{i:04d}"} for i in range(args.pages)}
    with tempfile.TemporaryDirectory() as folder, _fake_graph(Path(folder), pages, args.latency) as fake_url:
        os.chdir(folder)
        app = _app(Path(folder), fake_url, pages, args)
        names = list(app.config.channels)
        print(f"queueing {args.n} deliveries on {len(names)} Pages ...", file=sys.stderr)
        _queue(app, names, args.n)
        dispatcher = Dispatcher(app, "bench")
        started = time.perf_counter()
        outcome = dispatcher.run_once()
        elapsed = time.perf_counter() - started
        dispatcher.close()
        ok = _verify(app, fake_url, args.n)
        app.close()
    rate = args.n / elapsed
    limit = args.pages * args.concurrency / args.latency
    print(f"{args.n} deliveries in {elapsed:.2f} s; outcomes {dict(outcome)}", file=sys.stderr)
    print(f"deliveries_per_s={rate:.1f} limit_per_s={limit:.1f} ratio={rate / limit:.3f}")
    return 0 if ok else 1


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=2000)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--wordpress", type=int, metavar="N", help="publish N articles to the local WordPress instead")
    parser.add_argument("--wp-concurrency", type=int, default=1, help="WordPress mode: channel concurrency")
    parser.add_argument("--wp-site", default=os.environ.get("PUBLISHER_WP_SITE", "/tmp/publisher-wp"),
                        help="WordPress mode: site folder for tests/wordpress/setup.sh")
    return parser.parse_args()


def _app(folder: Path, url: str, pages: dict[str, dict[str, str]], args: argparse.Namespace) -> App:
    text = CONFIG.format(threads=args.pages * args.concurrency)
    for i, (page, info) in enumerate(pages.items()):
        (folder / f"fb-{i}.token").write_text(info["token"], encoding="utf-8")
        text += CHANNEL.format(i=i, page=page, url=url, concurrency=args.concurrency)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    (folder / "templates").mkdir()
    return App.open(folder / "config.toml")


def _queue(app: App, names: list[str], n: int) -> None:
    service.add_policy(app, "bench", {"code": "BENCH-1", "title": "Chính sách đo tốc độ", "summary": "Tóm tắt"})
    for i in range(0, n, len(names)):
        channels = names[: min(len(names), n - i)]
        post = posts.new_post(app, "bien-tap", {"policy": "BENCH-1", "template": "thong-tin", "channels": channels,
                                                "at": "now", "variables": {"noi_dung": f"Bài đo số {i}"}})
        posts.approve(app, "duyet", post.id)


@contextmanager
def _fake_graph(folder: Path, pages: dict[str, dict[str, str]], latency: float) -> Iterator[str]:
    """The fake Graph API in a process of its own, so it does not share our interpreter lock."""
    (folder / "pages.json").write_text(json.dumps(pages), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakegraph", "--port", "0", "--pages",
                             str(folder / "pages.json"), "--latency", str(latency)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _verify(app: App, fake_url: str, n: int) -> bool:
    with read(app.engine) as conn:
        states = [s for (s,) in conn.execute(deliveries.select().with_only_columns(deliveries.c.state))]
    live = [p for p in requests.get(f"{fake_url}/_fake/posts", timeout=30).json()["data"] if not p["deleted"]]
    distinct = {(p["page"], p["message"]) for p in live}
    ok = states.count("published") == n and len(live) == n and len(distinct) == n
    if not ok:
        print(f"NOT exactly once: {states.count('published')} published of {n}, {len(live)} posts on the "
              f"fake, {len(distinct)} distinct", file=sys.stderr)
    return ok


# --- WordPress mode ------------------------------------------------------------------------------------------------
WP_CHANNEL = """
[channels.portal-wp]
type = "wordpress"
agency = "tinh"
format = "portal"
base_url = "{url}"
user_file = "wp.user"
password_file = "wp.password"
categories = ["Đo tốc độ"]
tags = ["Chính sách"]
concurrency = {concurrency}
"""


class HttpTimer:
    """Time spent inside ``requests.Session.request`` (every call the channel makes), summed over threads."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.routes: dict[str, list[float]] = {}  # "POST /media" -> [calls, seconds]
        self._lock = threading.Lock()
        self._original = requests.Session.request

    def __enter__(self) -> HttpTimer:
        timer, original = self, self._original

        def timed(session: requests.Session, method: str, url: str, **kwargs: object) -> requests.Response:
            started = time.perf_counter()
            try:
                return original(session, method, url, **kwargs)  # type: ignore[arg-type]
            finally:
                spent = time.perf_counter() - started
                route = f"{method} {url.split('?')[0].split('/wp/v2', 1)[-1].rstrip('0123456789')}"
                with timer._lock:
                    timer.seconds += spent
                    timer.calls += 1
                    entry = timer.routes.setdefault(route, [0, 0.0])
                    entry[0] += 1
                    entry[1] += spent

        requests.Session.request = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        requests.Session.request = self._original  # type: ignore[method-assign]


class TimedDispatcher(Dispatcher):
    """Adds up the time each consumer spends draining (with several, the wall time hides idle consumers)."""

    busy = 0.0
    _lock = threading.Lock()

    def _drain(self, channel: str):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super()._drain(channel)
        finally:
            with self._lock:
                self.busy += time.perf_counter() - started


def wordpress(args: argparse.Namespace) -> int:
    n, concurrency = args.wordpress, args.wp_concurrency
    with tempfile.TemporaryDirectory() as folder, _local_wordpress(args.wp_site) as (url, user, password):
        os.chdir(folder)
        (Path(folder) / "wp.user").write_text(user, encoding="utf-8")
        (Path(folder) / "wp.password").write_text(password, encoding="utf-8")
        (Path(folder) / "config.toml").write_text(
            CONFIG.format(threads=max(concurrency, 2)) + WP_CHANNEL.format(url=url, concurrency=concurrency),
            encoding="utf-8")
        (Path(folder) / "templates").mkdir()
        app = App.open(Path(folder) / "config.toml")
        code = f"BENCH-WP-{uuid.uuid4().hex[:6]}"  # the site outlives the run: fresh slugs every time
        print(f"queueing {n} articles with an infographic (rendered at approval) ...", file=sys.stderr)
        service.add_policy(app, "bench", {"code": code, "title": "Chính sách đo tốc độ", "summary": "Tóm tắt"})
        for i in range(n):
            post = posts.new_post(app, "bien-tap", {"policy": code, "template": "thong-tin", "channels": ["portal-wp"],
                                                    "at": "now", "infographics": ["vuong"],
                                                    "variables": {"noi_dung": f"Bài đo số {i}"}})
            posts.approve(app, "duyet", post.id)
        dispatcher = TimedDispatcher(app, "bench")
        with HttpTimer() as http:
            started = time.perf_counter()
            outcome = dispatcher.run_once()
            elapsed = time.perf_counter() - started
        dispatcher.close()
        ok = _verify_wordpress(app, url, (user, password), n)
        app.close()
    rate = n / elapsed
    busy = dispatcher.busy if concurrency > 1 else elapsed  # the consumers' time; with one, the wall time
    own = max(0.0, 1 - http.seconds / busy)
    print(f"{n} articles in {elapsed:.2f} s; outcomes {dict(outcome)}; {http.calls} HTTP calls, "
          f"{http.seconds:.2f} s inside them of {busy:.2f} s of consumer time; our code "
          f"{(busy - http.seconds) / n * 1000:.1f} ms per article", file=sys.stderr)
    for route, (calls, seconds) in sorted(http.routes.items(), key=lambda r: -r[1][1]):
        print(f"  {route:<20} {calls:4d} calls  {seconds / calls * 1000:7.1f} ms each", file=sys.stderr)
    print(f"wp_articles_per_s={rate:.2f} own_share={own:.3f}")
    return 0 if ok else 1


@contextmanager
def _local_wordpress(site: str) -> Iterator[tuple[str, str, str]]:
    """The tests' WordPress (tests/wordpress/setup.sh); stopped afterwards unless it was already running."""
    pidfile = Path(site) / ".server.pid"
    running = pidfile.is_file() and _alive(pidfile.read_text().split()[0])
    proc = subprocess.run(["bash", str(ROOT / "tests" / "wordpress" / "setup.sh"), site], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != 3:
        raise SystemExit(f"tests/wordpress/setup.sh failed ({proc.returncode}):\n{proc.stderr.strip()}")
    try:
        yield lines[0], lines[1], lines[2]
    finally:
        if not running:
            subprocess.run(["bash", str(ROOT / "tests" / "wordpress" / "stop.sh"), site], capture_output=True,
                           timeout=60)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (ValueError, OSError):
        return False


def _verify_wordpress(app: App, url: str, auth: tuple[str, str], n: int) -> bool:
    from publisher.channels.wp_terms import post_slug
    from publisher.store import deliveries as store

    with read(app.engine) as conn:
        done = [store.get(conn, i) for (i,) in conn.execute(deliveries.select().with_only_columns(deliveries.c.id))]
    slugs = [post_slug(d) for d in done]
    found: list[dict[str, object]] = []
    for i in range(0, len(slugs), 50):
        found += requests.get(f"{url}/wp-json/wp/v2/posts", auth=auth, timeout=60, params={
            "slug": ",".join(slugs[i:i + 50]), "status": "any", "per_page": 100, "context": "edit",
            "_fields": "id,slug,featured_media"}).json()
    published = sum(d.state == "published" for d in done)
    with_image = sum(bool(p["featured_media"]) for p in found)
    ok = published == n and len(found) == n and {p["slug"] for p in found} == set(slugs) and with_image == n
    if not ok:
        print(f"NOT exactly once: {published} published of {n}, {len(found)} posts on WordPress, "
              f"{with_image} with a featured image", file=sys.stderr)
    return ok


if __name__ == "__main__":
    sys.exit(main())
