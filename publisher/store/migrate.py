"""Schema migrations with Alembic, run from code (no alembic.ini to ship).

``ensure()`` is called before every command: a brand-new database is created
at the newest revision; one older than this program must be upgraded on
purpose (``publisher db upgrade``, after a backup); one newer is refused, since
this program would misread it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from ..errors import SchemaError
from .engine import read, write

_SCRIPTS = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    heads = ScriptDirectory(str(_SCRIPTS)).get_heads()
    assert len(heads) == 1, "the migration history must be linear"
    return heads[0]


def known() -> set[str]:
    return {s.revision for s in ScriptDirectory(str(_SCRIPTS)).walk_revisions()}


def current(engine: Engine) -> str | None:
    with read(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after)."""
    before = current(engine)
    _refuse_newer(before)
    if before != head():
        with write(engine):  # fail early and clearly if the database is unreachable
            pass
        command.upgrade(_config(engine), "head")
    return before, head()


def ensure(engine: Engine) -> None:
    """Create a fresh database; refuse an older or newer one with a clear message."""
    revision = current(engine)
    _refuse_newer(revision)
    if revision is None:
        with read(engine) as conn:
            if inspect(conn).get_table_names():
                raise SchemaError("schema.unknown_tables")
        upgrade(engine)
    elif revision != head():
        raise SchemaError("schema.older", current=revision, head=head())


def _refuse_newer(revision: str | None) -> None:
    if revision is not None and revision not in known():
        raise SchemaError("schema.newer", current=revision, head=head())
