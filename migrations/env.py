"""Alembic environment: the same database URL and models as the rest of orderflow."""

from __future__ import annotations

from alembic import context

from orderflow.config import load_settings
from orderflow.crashpoints import crash_point
from orderflow.db.engine import make_engine
from orderflow.db.models import Base

config = context.config
url = config.attributes.get("database_url") or load_settings().database.url
engine = make_engine(url)

try:
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies tables; foreign keys must be off for that, and SQLite only
            # lets that pragma change outside a transaction.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
            # A step's changes and its version row are applied; the commit has not happened yet.
            on_version_apply=lambda **_: crash_point("migrate.mid_step"),
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
