"""Schema migrations: the migrated schema is the declared one; versions are guarded."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from publisher.store import migrate
from publisher.store.engine import make_engine
from publisher.store.schema import metadata

from .conftest import run_cli


def test_migrations_build_exactly_the_declared_schema(backend):
    engine = make_engine(backend)
    before, after = migrate.upgrade(engine)
    assert before is None and after == migrate.head()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert migrate.upgrade(engine) == (after, after)  # idempotent
    engine.dispose()


def _stamp(project, revision):
    engine = create_engine(f"sqlite:///{project / 'data' / 'publisher.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_the_cli_refuses_a_database_newer_than_itself(project):
    assert run_cli("db", "upgrade", cwd=project).returncode == 0
    _stamp(project, "9999_from_the_future")
    result = run_cli("queue", cwd=project)
    assert result.returncode == 5
    assert "mới hơn" in result.stderr and "Traceback" not in result.stderr
    assert run_cli("db", "upgrade", cwd=project).returncode == 5  # and will not "upgrade" it either


def test_the_cli_refuses_an_unknown_database(project):
    engine = create_engine(f"sqlite:///{project / 'stranger.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER)"))
    engine.dispose()
    result = run_cli("queue", cwd=project, env={"PUBLISHER_DATABASE_URL": f"sqlite:///{project / 'stranger.db'}"})
    assert result.returncode == 5 and "publisher" in result.stderr


def test_db_upgrade_reports_the_revision(project):
    first = run_cli("db", "upgrade", cwd=project)
    assert first.returncode == 0 and migrate.head() in first.stdout
    current = run_cli("db", "current", cwd=project)
    assert current.stdout.count(migrate.head()) == 2


def test_an_unreachable_database_is_a_clear_error_without_the_password(project):
    url = "postgresql+psycopg://nobody:s3cr3t-pw@127.0.0.1:1/none"
    result = run_cli("queue", cwd=project, env={"PUBLISHER_DATABASE_URL": url})
    assert result.returncode == 6 and "Traceback" not in result.stderr
    assert "cơ sở dữ liệu" in result.stderr and "s3cr3t-pw" not in result.stderr + result.stdout


def test_upgrading_an_older_database_keeps_its_data(project):
    url = f"sqlite:///{project / 'data' / 'publisher.db'}"
    engine = make_engine(url)
    from alembic import command

    command.upgrade(migrate._config(engine), "0001")  # a database made by the first release
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies VALUES ('tinh', 'UBND tỉnh', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO policies (id, agency, code, title, summary, impact, created_by, created_at) "
                          "VALUES (1, 'tinh', 'KH-1', 'Chính sách cũ', 'Tóm tắt', 'high', 'x', '2026-01-01')"))
    engine.dispose()
    refused = run_cli("policy", "list", cwd=project)
    assert refused.returncode == 5 and "publisher db upgrade" in refused.stderr  # never migrates silently
    upgraded = run_cli("db", "upgrade", cwd=project)
    assert upgraded.returncode == 0 and "0001" in upgraded.stdout
    listed = run_cli("policy", "show", "KH-1", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert '"key_points": []' in listed.stdout and "Chính sách cũ" in listed.stdout
