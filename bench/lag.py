"""Benchmark: how late the daemon starts an attempt after its due time.

Deliveries fall due every second for five minutes (default); one daemon with
the default ``poll_seconds`` (30) publishes them to the outbox.  The lag of
each is (attempt start − due time); the daemon wakes at the next due time,
so it should not depend on the poll interval.

    python bench/lag.py          # 300 deliveries, one per second
    python bench/lag.py 60       # one minute

Last line: ``lag_p50_s=<float> lag_p99_s=<float>`` (target p99 ≤ 1 s).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _daemon import project, start, stop  # noqa: E402
from sqlalchemy import select  # noqa: E402

from publisher import posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.models import utcnow  # noqa: E402
from publisher.store.engine import read  # noqa: E402
from publisher.store.schema import attempts, deliveries  # noqa: E402

LEAD = 15.0  # seconds to queue everything and start the daemon before the first is due


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as folder:
        app = App.open(project(Path(folder)))
        first_due = utcnow() + timedelta(seconds=LEAD)
        service.add_policy(app, "bench", {"code": "LAG-1", "title": "Chính sách đo", "summary": "Tóm tắt"})
        for i in range(n):
            post = posts.new_post(app, "bien-tap", {
                "policy": "LAG-1", "template": "thong-tin", "channels": ["fanpage"],
                "at": (first_due + timedelta(seconds=i)).isoformat(), "variables": {"noi_dung": f"Bài {i}"}})
            posts.approve(app, "duyet", post.id)
        daemon = start(Path(folder))
        try:
            time.sleep(max(0.0, (first_due - utcnow()).total_seconds()) + n + 5)
        finally:
            stop(daemon)
        lags = _lags(app)
        app.close()
    if len(lags) != n:
        print(f"only {len(lags)} of {n} deliveries were attempted", file=sys.stderr)
        return 1
    p50, p99 = statistics.median(lags), statistics.quantiles(lags, n=100)[98]
    print(f"{n} deliveries, one due per second: lag max {max(lags):.3f} s", file=sys.stderr)
    print(f"lag_p50_s={p50:.3f} lag_p99_s={p99:.3f}")
    return 0


def _lags(app: App) -> list[float]:
    query = select(attempts.c.started_at, deliveries.c.due_at).join(deliveries)
    with read(app.engine) as conn:
        return [(started - due).total_seconds() for started, due in conn.execute(query)]


if __name__ == "__main__":
    sys.exit(main())
