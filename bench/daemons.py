"""Throughput of two daemons vs one on one PostgreSQL, against the fake Graph API.

    python bench/daemons.py                  # N=2000 per run, 4 Pages x concurrency 2, 50 ms per Graph call
    python bench/daemons.py 600 --pages 2    # quicker

Each run gets a fresh scratch database on the machine's PostgreSQL: N
deliveries (one post per 4 Pages, rendered and approved for real) are queued
due a few seconds ahead; then one, or two, ``publisher daemon`` processes
are started and wait for that moment.  The rate is N divided by the time from
the due moment to the last ``published_at``, so start-up does not count.
Every delivery must be published exactly once, each text once on its Page
(exit 1 otherwise); the two-daemon run must use both workers.

With latency L per call and concurrency C per Page, one daemon's limit is
Pages x C / L; a second daemon brings its own consumers, so the ideal ratio
is 2 until CPU (two cores here, shared with PostgreSQL and the fake) binds.

Last line: ``one_daemon_per_s=<float> two_daemons_per_s=<float> ratio=<float>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _daemon  # noqa: E402
from dispatch import CHANNEL, CONFIG, _fake_graph, _verify  # noqa: E402

from publisher import posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.models import utcnow  # noqa: E402
from publisher.store.engine import read  # noqa: E402
from publisher.store.schema import attempts, deliveries  # noqa: E402

LEAD = timedelta(seconds=8)  # daemons start (imports, migrations check) before the work is due


def project(folder: Path, url: str, pages: dict[str, dict[str, str]], concurrency: int) -> Path:
    text = CONFIG.format(threads=len(pages) * concurrency).replace("batch_size = 40", "batch_size = 8")
    for i, (page, info) in enumerate(pages.items()):
        (folder / f"fb-{i}.token").write_text(info["token"], encoding="utf-8")
        text += CHANNEL.format(i=i, page=page, url=url, concurrency=concurrency)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    (folder / "templates").mkdir(exist_ok=True)
    return folder / "config.toml"


def queue(app: App, n: int, tag: str) -> object:
    """N deliveries due LEAD from now (one post fans out to every Page); returns the due time."""
    names, due = list(app.config.channels), utcnow() + LEAD
    service.add_policy(app, "bench", {"code": f"BENCH-{tag}", "title": "Chính sách đo tốc độ", "summary": "Tóm tắt"})
    for i in range(0, n, len(names)):
        post = posts.new_post(app, "bien-tap", {
            "policy": f"BENCH-{tag}", "template": "thong-tin", "channels": names[: min(len(names), n - i)],
            "at": due.isoformat(), "variables": {"noi_dung": f"Bài đo {tag} số {i}"}})
        posts.approve(app, "duyet", post.id)
    return due


def drain(app: App, folder: Path, workers: int, n: int) -> float:
    """Start *workers* daemons, wait until all N are published; the rate from the due moment."""
    env = {"PUBLISHER_DATABASE_URL": os.environ["PUBLISHER_DATABASE_URL"]}
    procs = [_daemon.start(folder, f"bench-{w}", env) for w in range(workers)]
    try:
        while _published(app) < n:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a daemon stopped: " + "".join(p.stderr.read() for p in procs if p.stderr))
            time.sleep(0.2)
    finally:
        for proc in procs:
            _daemon.stop(proc)
    with read(app.engine) as conn:
        first_due = conn.execute(select(func.min(deliveries.c.due_at))).scalar()
        last = conn.execute(select(func.max(deliveries.c.published_at))).scalar()
        used = conn.execute(select(func.count(func.distinct(attempts.c.worker)))).scalar()
    if used != workers:
        raise SystemExit(f"{workers} daemons but {used} workers made attempts")
    return n / (last - first_due).total_seconds()


def _published(app: App) -> int:
    with read(app.engine) as conn:
        return conn.execute(select(func.count()).where(deliveries.c.state == "published")).scalar()


def run(workers: int, args: argparse.Namespace) -> float:
    pages = {str(100000 + i): {"name": f"Trang {i}", "token": f"EAAB-bench-token-{i:04d}"} for i in range(args.pages)}
    url = _daemon.scratch_postgres(f"publisher_bench_daemons_{workers}")
    with tempfile.TemporaryDirectory() as tmp, _fake_graph(Path(tmp), pages, args.latency) as fake_url:
        folder = Path(tmp)
        os.chdir(folder)
        os.environ["PUBLISHER_DATABASE_URL"] = url
        app = App.open(project(folder, fake_url, pages, args.concurrency))
        queue(app, args.n, str(workers))
        rate = drain(app, folder, workers, args.n)
        ok = _verify(app, fake_url, args.n)
        app.close()
    print(f"{workers} daemon(s): {rate:.1f} deliveries/s", file=sys.stderr)
    if not ok:
        raise SystemExit(1)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=2000)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    one, two = run(1, args), run(2, args)
    print(f"one_daemon_per_s={one:.1f} two_daemons_per_s={two:.1f} ratio={two / one:.2f}")


if __name__ == "__main__":
    main()
