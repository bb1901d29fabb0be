"""Two real daemons on one PostgreSQL database share 2,000 deliveries, each published exactly once.

The daemons are ``publisher daemon`` processes with different ``--worker-id``;
the Facebook channels point at the fake Graph API running as a process of its
own (the daemons, being other processes, must reach it over HTTP).  Work is
queued with the library (a post per agency fans out to several channels),
then both daemons drain it at once.  What is checked is what matters to
staff and auditors: one outbox file per outbox delivery, each text once on
its Page, every attempt in the log under the worker that made it, both
workers used, nothing left ``publishing``, the journal's chain intact.

The helpers here (the fake as a process, a daemon process, reading the
database) are used by ``test_chaos.py`` too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from publisher import posts
from publisher.context import App
from publisher.store.schema import attempts, deliveries

from .conftest import PAGES, ROOT, facebook_config, run_cli, set_daemon_options
from .helpers import add_policy

#: Pages of the fake, and which channel publishes to which.
FB_PAGES = {"fb-tinh": "111111", "fb-xa": "222222"}
#: Channels of a post of each agency (facebook_config: outbox portal, fanpage, xa-fanpage + two Pages).
AGENCY_CHANNELS = {"tinh": ("portal", "fanpage", "fb-tinh"), "xa": ("xa-fanpage", "fb-xa")}
UNFINISHED = ("queued", "waiting", "publishing")


# --- helpers (shared with test_chaos.py) ---------------------------------------------------------------------
@contextmanager
def fake_graph_process(folder: Path, *, latency: float = 0.0, seed: int | None = None) -> Iterator[str]:
    """``python -m tests.fakegraph`` as a process of its own (as bench/dispatch.py does); yields its URL."""
    pages = folder / "pages.json"
    pages.write_text(json.dumps(PAGES), encoding="utf-8")
    args = [sys.executable, "-m", "tests.fakegraph", "--port", "0", "--pages", str(pages), "--latency", str(latency)]
    if seed is not None:
        args += ["--seed", str(seed)]
    log = (folder / "fakegraph.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), f"the fake printed {url!r}; see {folder / 'fakegraph.log'}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def daemon_env(database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    if database_url:
        env["PUBLISHER_DATABASE_URL"] = database_url
    return env


def start_daemon(project: Path, worker: str, database_url: str | None, log_name: str | None = None
                 ) -> subprocess.Popen[bytes]:
    """``publisher daemon --worker-id WORKER``; its output goes to a file (a full pipe would block it)."""
    log = (project / (log_name or f"daemon-{worker}.log")).open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "publisher", "daemon", "--worker-id", worker], cwd=project,
                                env=daemon_env(database_url), stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()  # the child has its own copy


def handles_sigterm(pid: int) -> bool:
    """Has process *pid* installed its SIGTERM handler yet?  (Linux: the caught-signals mask in /proc.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # no /proc (or gone): nothing to wait for
    caught = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:")), None)
    return caught is None or bool(caught & (1 << (signal.SIGTERM - 1)))


def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM (once the daemon handles it: earlier, Python's default just ends it), then wait; the exit code."""
    if proc.poll() is None:
        wait_until(lambda: proc.poll() is not None or handles_sigterm(proc.pid), timeout=20, every=0.05)
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def queue_posts(app: App, n_posts: int, tag: str,
                channels_of: dict[str, tuple[str, ...]] = AGENCY_CHANNELS) -> list[int]:
    """*n_posts* approved posts per agency, each to the channels *channels_of* gives it; returns the delivery ids."""
    ids: list[int] = []
    for i in range(n_posts):
        for agency, channels in channels_of.items():
            post = posts.new_post(app, "bien-tap", {
                "policy": f"{tag}-{agency}", "agency": agency, "template": "thong-tin", "channels": list(channels),
                "at": "now", "variables": {"noi_dung": f"{tag}: bài số {i} của {agency}"}})
            ids += posts.approve(app, "truong-phong", post.id)
    return ids


def add_policies(app: App, tag: str) -> None:
    for agency in AGENCY_CHANNELS:
        add_policy(app, code=f"{tag}-{agency}", agency=agency)


def state_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(deliveries.c.state, func.count()).group_by(deliveries.c.state)).all())


def wait_until(predicate: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def all_deliveries(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(deliveries).order_by(deliveries.c.id)).all()


def attempt_rows(engine: Engine) -> dict[int, list[Any]]:
    """Each delivery's attempt rows, in the order they were written."""
    found: dict[int, list[Any]] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(attempts).order_by(attempts.c.id)):
            found.setdefault(row.delivery_id, []).append(row)
    return found


def live_fake_posts(url: str) -> list[dict[str, Any]]:
    """Every post on the fake that is there (not deleted), as ``/_fake/posts`` shows it."""
    answer = requests.get(f"{url}/_fake/posts", timeout=30)
    answer.raise_for_status()
    return [p for p in answer.json()["data"] if not p["deleted"]]


def exactly_once_problems(project: Path, rows: list[Any], fake_posts: list[dict[str, Any]]) -> list[str]:
    """What is not published exactly once: outbox files, fake posts, remote ids (empty list: all good)."""
    problems: list[str] = []
    outbox = project / "data" / "outbox"
    for channel in sorted({r.channel for r in rows} - set(FB_PAGES)):
        wanted = {r.id for r in rows if r.channel == channel}
        files = Counter(int(p.stem) for p in (outbox / channel).glob("*.json"))
        if set(files) != wanted:
            problems.append(f"outbox {channel}: missing {sorted(wanted - set(files))[:10]}, "
                            f"extra {sorted(set(files) - wanted)[:10]}")
        leftovers = list((outbox / channel).glob(".*.tmp"))
        if leftovers:
            problems.append(f"outbox {channel}: half-written files {leftovers[:5]}")
    for channel, page in FB_PAGES.items():
        on_page = Counter(p["message"] for p in fake_posts if p["page"] == page)
        mine = [r for r in rows if r.channel == channel]
        wanted = Counter(r.body.strip() for r in mine)
        if any(n != 1 for n in wanted.values()):
            problems.append(f"{channel}: the test queued the same text twice")
        twice = [m for m, n in on_page.items() if n > 1]
        missing = [m for m in wanted if m not in on_page]
        extra = [m for m in on_page if m not in wanted]
        if twice or missing or extra:
            problems.append(f"{channel} (page {page}): {len(twice)} texts posted more than once {twice[:3]}, "
                            f"{len(missing)} never posted {missing[:3]}, {len(extra)} unknown {extra[:3]}")
        ids = {p["id"] for p in fake_posts if p["page"] == page}
        wrong = [r.id for r in mine if r.remote_id not in ids]
        if wrong:
            problems.append(f"{channel}: deliveries whose remote_id is no live post: {wrong[:10]}")
    not_published = [(r.id, r.state, r.last_error) for r in rows if r.state != "published"]
    if not_published:
        problems.append(f"{len(not_published)} deliveries not published: {not_published[:10]}")
    return problems


def daemon_logs(project: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(project.glob("*.log")))


# --- the test -----------------------------------------------------------------------------------------------------
N_DELIVERIES = 2000
POSTS_PER_AGENCY = N_DELIVERIES // sum(len(c) for c in AGENCY_CHANNELS.values())  # 400 posts × 5 channels


@pytest.mark.timeout(180)
def test_two_daemons_share_the_queue_and_publish_each_delivery_exactly_once(project, pg_url, monkeypatch):
    started = time.monotonic()
    with fake_graph_process(project, latency=0.005) as graph:
        config = facebook_config(project, graph, concurrency=3)
        text = config.read_text(encoding="utf-8").replace('type = "outbox"\n', 'type = "outbox"\nconcurrency = 2\n')
        config.write_text(text, encoding="utf-8")
        set_daemon_options(project, poll_seconds=0.2, lease_seconds=10, batch_size=12, threads=12)
        monkeypatch.setenv("PUBLISHER_DATABASE_URL", pg_url)
        app = App.open(config)
        try:
            add_policies(app, "MULTI")
            ids = queue_posts(app, POSTS_PER_AGENCY, "MULTI")
        finally:
            app.close()
        assert len(ids) == N_DELIVERIES
        queued_in = time.monotonic() - started

        engine = create_engine(pg_url)
        daemons = {w: start_daemon(project, w, pg_url) for w in ("daemon-a", "daemon-b")}
        try:
            drained = wait_until(lambda: not any(state_counts(engine).get(s) for s in UNFINISHED)
                                 or any(p.poll() is not None for p in daemons.values()), timeout=120)
            drained_in = time.monotonic() - started
        finally:
            codes = {w: stop_daemon(p) for w, p in daemons.items()}
        counts = state_counts(engine)
        assert drained and counts == {"published": N_DELIVERIES}, (counts, daemon_logs(project))
        assert codes == {"daemon-a": 0, "daemon-b": 0}, daemon_logs(project)

        rows = all_deliveries(engine)
        problems = exactly_once_problems(project, rows, live_fake_posts(graph))
        assert not problems, "\n".join(problems)

        log = attempt_rows(engine)
        engine.dispose()
    # every delivery: one attempt, published, by one of the two daemons, which both took part
    assert set(log) == set(ids)
    bad = {d: [(a.worker, a.outcome) for a in rows_] for d, rows_ in log.items()
           if [a.outcome for a in rows_] != ["published"]}
    assert not bad, list(bad.items())[:10]
    by_worker = Counter(rows_[0].worker for rows_ in log.values())
    assert set(by_worker) == {"daemon-a", "daemon-b"}, by_worker
    assert min(by_worker.values()) >= N_DELIVERIES // 20, by_worker  # a real share, not a token one
    assert all(r.remote_id == log[r.id][0].remote_id for r in rows)
    verify = run_cli("audit", "verify", cwd=project, env={"PUBLISHER_DATABASE_URL": pg_url})
    assert verify.returncode == 0, verify.stdout + verify.stderr  # two writers, one unbroken hash chain
    print(f"queued {N_DELIVERIES} in {queued_in:.1f} s, drained by {drained_in:.1f} s; shares {dict(by_worker)}")
