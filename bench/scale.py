"""Queue at scale: enqueue a million deliveries, and claim latency at 1,000 vs 1,000,000 queued.

    python bench/scale.py                      # SQLite, 1,000,000 deliveries
    python bench/scale.py --postgres           # the machine's PostgreSQL (a scratch database)
    python bench/scale.py --total 100000       # a quicker run

Setup (not timed): a project with 100 outbox channels, one policy, posts
inserted as rows, and one post approved for real whose frozen content every
delivery carries.  Timed: ``enqueue.enqueue`` (the path ``publisher post
approve`` takes: multi-row inserts plus one ``delivery.queued`` journal event
per delivery, hash-chained) in transactions of 10,000 deliveries (100 posts
× 100 channels), and the daemon's own claim transaction
(``Dispatcher.claim``: select with the partial index, lease, journal).

Claims are measured twice with the same 500 due deliveries (5 per channel):
first with 1,000 queued in all, then with 1,000,000 (the rest due later in
the year); each measure is the median of one claim per channel (limit 5).

Last line: ``enqueue_1m_s=<float> claim_ms_1k=<float> claim_ms_1m=<float> ratio=<float>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _daemon  # noqa: E402

from publisher import enqueue, posts, service  # noqa: E402
from publisher.context import App  # noqa: E402
from publisher.dispatch import Dispatcher  # noqa: E402
from publisher.models import DeliveryState, PostState, utcnow  # noqa: E402
from publisher.store.engine import write  # noqa: E402
from publisher.store.schema import deliveries  # noqa: E402
from publisher.store.schema import posts as posts_table  # noqa: E402

CHANNELS = [f"kenh{i:03d}" for i in range(100)]
PER_TX = 100  # posts per enqueue transaction (x 100 channels = 10,000 deliveries)
DUE_POSTS = 5


def config(folder: Path) -> Path:
    lines = ['[storage]\ndata_dir = "data"', '[agencies.tinh]\nname = "Ủy ban nhân dân tỉnh"']
    lines += [f'[channels.{c}]\ntype = "outbox"\nagency = "tinh"\nformat = "facebook"' for c in CHANNELS]
    (folder / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "templates").mkdir(exist_ok=True)
    return folder / "config.toml"


def sample(app: App) -> tuple[posts.Post, enqueue.Item]:
    """One post approved for real (rendered, frozen); its content is reused for every delivery."""
    service.add_policy(app, "bien-tap", {"agency": "tinh", "code": "01/2027/NQ-HĐND", "impact": "high",
                                         "title": "Nghị quyết hỗ trợ học phí", "summary": "Hỗ trợ học phí.",
                                         "consultation_opens": "2027-01-01", "consultation_closes": "2027-02-01"})
    post = posts.new_post(app, "bien-tap", {"policy": "01/2027/NQ-HĐND", "agency": "tinh", "channels": CHANNELS[:1]})
    posts.approve(app, "truong-phong", post.id)
    content = posts.frozen(app, post.id)[CHANNELS[0]]
    return post, enqueue.Item(post, "01/2027/NQ-HĐND", CHANNELS[0], content)


def add_posts(app: App, template: posts.Post, count: int, due: bool) -> list[posts.Post]:
    """Post rows (setup, not timed): due an hour ago, or spread over the coming year."""
    now, made = utcnow(), []
    with write(app.engine) as conn:
        for i in range(count):
            at = now - timedelta(hours=1) if due else now + timedelta(days=1, minutes=(i * 53) % 525_600)
            values = {"policy_id": template.policy_id, "template": template.template, "variables": {},
                      "channels": CHANNELS, "media": [], "infographics": [], "publish_at": at,
                      "deadline_at": at + timedelta(days=7), "state": PostState.APPROVED, "author": "bien-tap",
                      "approver": "truong-phong", "approved_at": now, "created_at": now}
            pid = conn.execute(insert(posts_table).values(**values)).inserted_primary_key[0]
            made.append(posts.Post(id=pid, policy_id=template.policy_id, template=template.template, variables={},
                                   channels=tuple(CHANNELS), publish_at=at, author="bien-tap",
                                   state=PostState.APPROVED, deadline_at=at + timedelta(days=7)))
    return made


def enqueue_all(app: App, made: list[posts.Post], item: enqueue.Item) -> float:
    """Timed: queue every channel of every post, PER_TX posts per transaction."""
    started = time.perf_counter()
    for start in range(0, len(made), PER_TX):
        batch = [enqueue.Item(p, item.policy_code, c, item.content)
                 for p in made[start:start + PER_TX] for c in CHANNELS]
        with write(app.engine) as conn:
            enqueue.enqueue(conn, "lap-ke-hoach", batch, utcnow())
    return time.perf_counter() - started


def claim_ms(app: App) -> float:
    """Median ms of one claim transaction per channel; the claims are undone afterwards."""
    dispatcher, times = Dispatcher(app, "bench"), []
    for channel in CHANNELS:
        started = time.perf_counter()
        got = dispatcher.claim(DUE_POSTS, [channel])
        times.append((time.perf_counter() - started) * 1000)
        assert len(got) == DUE_POSTS, (channel, len(got))
    with write(app.engine) as conn:  # give them back, so the second measure claims the same rows
        conn.execute(update(deliveries).where(deliveries.c.state == DeliveryState.PUBLISHING)
                     .values(state=DeliveryState.QUEUED, lease_owner=None, lease_expires_at=None))
    return statistics.median(times)


def run(folder: Path, database_url: str, total: int) -> str:
    os.chdir(folder)
    os.environ.pop("PUBLISHER_DATABASE_URL", None)
    if database_url:
        os.environ["PUBLISHER_DATABASE_URL"] = database_url
    app = App.open(config(folder))
    template, item = sample(app)
    small = add_posts(app, template, DUE_POSTS, due=True) + add_posts(app, template, DUE_POSTS, due=False)
    spent = enqueue_all(app, small, item)
    _analyze(app)
    ms_small = claim_ms(app)
    big = add_posts(app, template, total // len(CHANNELS) - len(small), due=False)
    spent += enqueue_all(app, big, item)
    _analyze(app)
    ms_big = claim_ms(app)
    print(f"queued={len(small + big) * len(CHANNELS)} enqueue_per_s={len(small + big) * len(CHANNELS) / spent:.0f}",
          file=sys.stderr)
    return f"enqueue_1m_s={spent * 1_000_000 / (total or 1):.2f} claim_ms_1k={ms_small:.3f} " \
           f"claim_ms_1m={ms_big:.3f} ratio={ms_big / ms_small:.2f}"


def _analyze(app: App) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or `publisher db upgrade` (SQLite) would leave them."""
    with write(app.engine) as conn:
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", action="store_true", help="use the machine's PostgreSQL (scratch database)")
    parser.add_argument("--total", type=int, default=1_000_000, help="deliveries to queue in all")
    args = parser.parse_args()
    url = _daemon.scratch_postgres("publisher_bench_scale") if args.postgres else ""
    with tempfile.TemporaryDirectory() as tmp:
        print(run(Path(tmp), url, args.total))


if __name__ == "__main__":
    main()
