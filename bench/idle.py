"""Benchmark: CPU time of an idle daemon with 100,000 future deliveries queued.

An idle daemon must cost about nothing: it wakes at the next due time and
every ``daemon.poll_seconds`` for one indexed query, plus a heartbeat.

    python bench/idle.py            # 100,000 deliveries, 60 s
    python bench/idle.py 10000 20   # smaller

Last line: ``idle_cpu_s=<float>`` (target < 0.5 over 60 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _daemon import cpu_seconds, project, start, stop  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from publisher import posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.models import utcnow  # noqa: E402
from publisher.store.engine import write  # noqa: E402
from publisher.store.schema import deliveries  # noqa: E402
from publisher.store.schema import posts as t_posts  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    with tempfile.TemporaryDirectory() as folder:
        app = App.open(project(Path(folder)))
        _queue_future(app, n)
        app.close()
        daemon = start(Path(folder))
        try:
            time.sleep(5)  # start-up (imports, first dispatch, first channel check) is not idling
            before = cpu_seconds(daemon.pid)
            time.sleep(seconds)
            used = cpu_seconds(daemon.pid) - before
        finally:
            stop(daemon)
    print(f"{n} future deliveries queued; daemon CPU over {seconds:.0f} s idle: {used:.3f} s", file=sys.stderr)
    print(f"idle_cpu_s={used:.3f}")
    return 0


def _queue_future(app: App, n: int) -> None:
    """One real approved post, then n copies of it and its frozen delivery, due over the coming months."""
    service.add_policy(app, "bench", {"code": "IDLE-1", "title": "Chính sách đo", "summary": "Tóm tắt"})
    post = posts.new_post(app, "bien-tap", {"policy": "IDLE-1", "template": "thong-tin", "channels": ["fanpage"],
                                            "at": (utcnow() + timedelta(days=1)).isoformat(),
                                            "variables": {"noi_dung": "Bài đo"}})
    posts.approve(app, "duyet", post.id)
    with write(app.engine) as conn:
        post_row = dict(conn.execute(select(t_posts)).mappings().one())
        row = dict(conn.execute(select(deliveries)).mappings().one())
        first = post_row["id"] + 1
        conn.execute(insert(t_posts), [{**post_row, "id": first + i} for i in range(n)])
        start_at = utcnow() + timedelta(days=2)
        row.pop("id")
        conn.execute(insert(deliveries), [{**row, "post_id": first + i, "due_at": start_at + timedelta(minutes=i)}
                                          for i in range(n)])

if __name__ == "__main__":
    sys.exit(main())
