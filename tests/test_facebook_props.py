"""Property: under any mix of Graph faults, every delivery is published exactly once.

Hypothesis draws a fault plan (kinds, which requests they strike); the
dispatcher drains deliveries to two Pages with two consumers each, moving
its clock instead of sleeping.  Afterwards each delivery's text appears on
its Page exactly once, every delivery is published, and each attempt that
did not publish says why in the attempt log.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from publisher import posts
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import DeliveryState
from publisher.store import deliveries as store
from publisher.store.engine import read
from publisher.store.schema import attempts

from .conftest import PAGES, facebook_config
from .fakegraph import FakeGraph
from .helpers import Clock, add_policy

RETRYABLE = ["5xx_before", "5xx_after", "code1_after", "code2_before", "reset_before", "reset_after",
             "slow_after", "rate_limit"]
faults = st.lists(st.tuples(st.sampled_from(RETRYABLE), st.integers(1, 3), st.sampled_from(["feed", "photos"])),
                  max_size=6)




@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=faults, n=st.integers(4, 10))
def test_every_delivery_is_published_exactly_once(tmp_path_factory, plan, n):
    project = tmp_path_factory.mktemp("props")
    (project / "templates").mkdir()
    with FakeGraph(PAGES, lag=0.05) as fake:
        config = facebook_config(project, fake.url, concurrency=2)
        # the faults, not the retry budget, are under test: enough attempts for the worst plan
        config.write_text(config.read_text(encoding="utf-8").replace("max_attempts = 3", "max_attempts = 40"),
                          encoding="utf-8")
        app = App.open(config)
        try:
            _run(app, fake, plan, n)
        finally:
            app.close()


def _run(app, fake, plan, n):
    for agency in ("tinh", "xa"):
        add_policy(app, agency=agency)
    ids = []
    for i in range(n):
        agency, channel = (("tinh", "fb-tinh"), ("xa", "fb-xa"))[i % 2]
        post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": agency, "channels": [channel],
                                                "at": "now", "variables": {}, "template": "thong-tin"} |
                              {"variables": {"noi_dung": f"Bài số {i}: nội dung riêng để đếm."}})
        ids += posts.approve(app, "truong-phong", post.id)
    for kind, times, edge in plan:
        code = {"code": 32} if kind == "rate_limit" else {}
        fake.add_fault(kind, path=rf"/{edge}$", method="POST", times=times, seconds=1.5, **code)
    clock = Clock()
    for name in ("fb-tinh", "fb-xa"):
        app.channel(name).clock = clock
    dispatcher = Dispatcher(app, "w", clock=clock)
    for _ in range(60):
        dispatcher.run_once()
        if _all_done(app, ids):
            break
        clock.now += timedelta(minutes=10)
    dispatcher.close()
    _check(app, fake, ids)


def _all_done(app, ids):
    with read(app.engine) as conn:
        return all(store.get(conn, i).state == DeliveryState.PUBLISHED for i in ids)


def _check(app, fake, ids):
    live = [p for page in PAGES for p in fake.posts(page) if not p["deleted"]]
    with read(app.engine) as conn:
        found = [store.get(conn, i) for i in ids]
        log = conn.execute(select(attempts)).all()
    assert [d.state for d in found] == [DeliveryState.PUBLISHED] * len(ids)
    for d in found:
        same = [p for p in live if (p["message"] or "").strip() == d.content.body.strip()]
        assert len(same) == 1, (d.id, len(same))  # exactly once
        assert d.remote_id == same[0]["id"]
    for row in log:
        if row.outcome not in ("published", "reconciled"):
            assert row.error, row  # every retry explained
