"""Alembic environment: the engine comes from publisher, not from an ini file."""

from alembic import context

from publisher.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    # SQLite needs batch mode to alter tables; render_as_batch is harmless elsewhere
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
