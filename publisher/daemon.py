"""The long-running daemon: APScheduler drives one dispatch job.

The dispatch job runs every ``daemon.poll_seconds`` (to see work queued by
other processes) and, after each run, is pulled forward to the next due time
or lease expiry it knows of: an idle daemon wakes a couple of times a minute
for one indexed query, and a due delivery goes out on time, not at the next
poll.  SIGTERM/SIGINT stop claiming, let the attempt in flight finish (up to
``daemon.grace_seconds``) and release claimed deliveries not yet started.

At start the daemon journals ``config.seen`` (a fingerprint of the settings
it runs with, and which keys changed) when they differ from the last ones
seen, so auditors can tell which configuration published what.  The daemon
reads its configuration once, at start: a change takes effect on restart.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import fields, is_dataclass
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import URL, make_url

from . import health, heartbeat, journal, notify
from .dispatch import Dispatcher
from .errors import StorageError
from .models import canonical_json, sha256_text, utcnow
from .settings import is_secret_key
from .store.engine import write

if TYPE_CHECKING:
    from .config import Config
    from .context import App

log = logging.getLogger(__name__)
_JOB = "dispatch"
CONFIG_SEEN = "config.seen"


def config_view(config: Config) -> dict[str, str]:
    """Every setting the daemon runs with, as key path -> canonical JSON of its value, secrets left out.

    config.toml only names where secrets are (``*_env``, ``*_file``); the one
    value that may hold one, a database URL from the environment, keeps only
    its driver, user, host, port and database.
    """
    settings = {f.name: getattr(config, f.name) for f in fields(config) if f.name != "database_url"}
    url = make_url(config.database_url)  # (URL.set ignores None: build it anew, without password or query)
    settings["database_url"] = URL.create(url.drivername, url.username, None, url.host, url.port,
                                          url.database).render_as_string(hide_password=False)
    flat: dict[str, str] = {}
    _flatten(settings, "", flat)
    return flat


def _flatten(value: Any, path: str, out: dict[str, str]) -> None:
    """Tables (dicts, dataclasses) become dotted key paths, so a change is named by its key."""
    if is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not is_secret_key(str(key)):  # never set (config.py refuses them), and never journalled
                _flatten(item, f"{path}.{key}" if path else str(key), out)
    else:
        out[path] = canonical_json(sorted(value) if isinstance(value, (set, frozenset)) else value)


def journal_config(app: App, actor: str) -> bool:
    """Journal ``config.seen`` unless the last one has the same fingerprint; True if journalled."""
    view = config_view(app.config)
    fingerprint = sha256_text(canonical_json(view))
    with write(app.engine) as conn:
        journal.lock(conn)  # two daemons starting together journal one change, not two
        last = journal.find(conn, event=CONFIG_SEEN)
        if last is not None and last.payload.get("fingerprint") == fingerprint:
            return False
        journal.append(conn, actor, CONFIG_SEEN, f"config:{fingerprint[:16]}", _seen(view, fingerprint, last))
    return True


def _seen(view: dict[str, str], fingerprint: str, last: journal.Entry | None) -> dict[str, Any]:
    """The payload: fingerprint, a short digest per key (to tell the next change) and the keys changed."""
    keys = {key: sha256_text(value)[:16] for key, value in view.items()}
    before = last.payload.get("keys", {}) if last else {}
    changed = sorted(k for k in keys.keys() | before.keys() if keys.get(k) != before.get(k))
    return {"fingerprint": fingerprint, "previous": last.payload.get("fingerprint") if last else None,
            "changed": changed, "keys": keys}


class Daemon:
    def __init__(self, app: App, worker: str) -> None:
        self.app = app
        self.poll = app.config.daemon["poll_seconds"]
        self.grace = app.config.daemon["grace_seconds"]
        self.dispatcher = Dispatcher(app, worker)
        self.scheduler = BackgroundScheduler(timezone=timezone.utc)
        self.stop_requested = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self._db_down = False
        self.listener = notify.Listener(app.engine, self.wake)

    def run(self) -> bool:
        """Run until SIGTERM/SIGINT; True if in-flight work finished within the grace period."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_requested.set())
        if journal_config(self.app, self.dispatcher.worker):
            log.info("configuration changed since the last daemon start: journalled (config.seen)")
        self.scheduler.add_job(self._dispatch, "interval", seconds=self.poll, id=_JOB, next_run_time=utcnow(),
                               coalesce=True, max_instances=1, misfire_grace_time=None)
        self.scheduler.add_job(self._check_channels, "interval", minutes=self.app.config.daemon["check_minutes"],
                               id="channels", next_run_time=utcnow(), coalesce=True, max_instances=1)
        heartbeat.beat(self.app, self.dispatcher.worker, starting=True)
        self.scheduler.add_job(heartbeat.beat, "interval", seconds=self.app.config.daemon["heartbeat_seconds"],
                               args=(self.app, self.dispatcher.worker), id="heartbeat", coalesce=True,
                               max_instances=1, misfire_grace_time=None)
        self.scheduler.start()
        self.listener.start()
        log.info("daemon %s started (poll every %ss)", self.dispatcher.worker, self.poll)
        self.stop_requested.wait()
        return self.shutdown()

    def shutdown(self) -> bool:
        log.info("stopping: no new claims; waiting up to %ss for work in flight", self.grace)
        self.dispatcher.stopping.set()
        self.listener.stop()
        finished = self.idle.wait(self.grace)
        self.scheduler.shutdown(wait=False)
        self.dispatcher.close(wait=finished)
        heartbeat.stopped(self.app, self.dispatcher.worker)
        if not finished:
            log.warning("grace period over with an attempt in flight; its lease will expire and it "
                        "will be reconciled by the next worker")
        return finished

    def _dispatch(self) -> None:
        self.idle.clear()
        try:
            while not self.dispatcher.stopping.is_set():
                outcomes = self.dispatcher.run_once()
                if outcomes:
                    log.info("dispatched: %s", dict(outcomes))
                if self._db_down:
                    log.info("database reachable again; resuming")
                    self._db_down = False
                wake = self.dispatcher.next_wakeup()
                if wake is None or wake > utcnow():
                    self._wake_at(wake)
                    return
                if not outcomes:  # due but claimed by another daemon this instant: don't spin
                    self._wake_at(utcnow() + timedelta(seconds=1))
                    return
        except StorageError as exc:
            if not self._db_down:
                log.error("database unavailable, pausing until it is back: %s", exc)
                self._db_down = True
        finally:
            self.idle.set()

    def _check_channels(self) -> None:
        try:
            for found in health.check_all(self.app, self.dispatcher.worker, enabled_only=True):
                if not found.ok:
                    log.warning("channel %s cannot publish: %s", found.channel, found.detail)
        except StorageError as exc:
            log.error("channel check skipped, database unavailable: %s", exc)

    def wake(self) -> None:
        """Run the dispatch job now (new work was announced)."""
        if not self.dispatcher.stopping.is_set():
            self.scheduler.modify_job(_JOB, next_run_time=utcnow())

    def _wake_at(self, when) -> None:  # type: ignore[no-untyped-def]
        """Pull the dispatch job forward to *when* if that is before the next poll."""
        poll_at = utcnow() + timedelta(seconds=self.poll)
        target = poll_at if when is None else min(when, poll_at)
        if not self.dispatcher.stopping.is_set():
            self.scheduler.modify_job(_JOB, next_run_time=target)
