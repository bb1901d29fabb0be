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
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


if __name__ == "__main__":
    sys.exit(main())
