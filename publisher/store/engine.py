"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys,
and ``BEGIN IMMEDIATE`` for write transactions so two writers queue on the
lock instead of failing half-way with "database is locked".  PostgreSQL:
pre-ping, so a restarted server costs one failed check, not a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from ..errors import ConfigError, StorageError

_READONLY = "publisher_readonly"


def make_engine(url: str, busy_timeout_ms: int = 10000) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("config.bad_database_url", path="storage.database_url") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we depend on
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite(parsed, busy_timeout_ms)
        return create_engine(parsed, pool_pre_ping=True, future=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError("config.db_driver", path="storage.database_url", detail=str(exc)) from None


def _sqlite(url, busy_timeout_ms: int) -> Engine:  # type: ignore[no-untyped-def]
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, fast
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: a big queue's indexes stay in memory
        cur.execute("PRAGMA mmap_size=268435456")  # and reads beyond it come from the OS cache, no syscalls
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get(_READONLY) else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A short write transaction: commit on success, roll back on error.

    On SQLite, threads of one process queue on a lock of their own first:
    SQLite's busy handler sleeps in coarse steps (up to 100 ms) while it
    waits, which would cost publishing threads far more than the write.
    """
    with _unavailable_as_error(engine), _process_lock(engine):
        with engine.begin() as conn:
            yield conn


_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def _process_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield  # PostgreSQL's row locks and SKIP LOCKED need no help
        return
    with _locks_guard:
        lock = _locks.setdefault(id(engine), threading.Lock())
    with lock:
        yield


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (never takes SQLite's write lock)."""
    with _unavailable_as_error(engine):
        with engine.connect() as conn:
            conn = conn.execution_options(**{_READONLY: True})
            with conn.begin():
                yield conn


@contextmanager
def _unavailable_as_error(engine: Engine) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        detail = (str(exc.orig).strip().splitlines() or ["?"])[0]
        if engine.url.password:  # a URL from the environment may carry one: never show it
            detail = detail.replace(str(engine.url.password), "***")
        raise StorageError("store.unavailable", detail=detail) from None
