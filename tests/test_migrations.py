"""The Alembic migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from orderflow.db import migrate
from orderflow.db.engine import make_engine
from orderflow.db.models import Base

EVERY_TABLE = set(Base.metadata.tables)


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


class TestMigrations:
    def test_design_tables_are_all_modelled(self) -> None:
        """Every table of the data model (orders to job runs) exists in the models."""
        assert {
            "orders", "order_lines", "vendors", "catalog", "vendor_orders", "vendor_order_lines", "shipments",
            "shipment_lines", "tracking_events", "inventory", "notifications", "notification_events", "silences",
            "ingested_files", "job_runs", "carrier_tokens", "rate_budgets", "circuit_state",
        } <= EVERY_TABLE

    def test_upgrade_creates_every_table(self, database_url: str) -> None:
        """Upgrading an empty database to head creates every modelled table."""
        migrate.upgrade(database_url)
        assert table_names(database_url) == EVERY_TABLE
        assert migrate.current(database_url) == migrate.head()

    def test_downgrade_to_base_then_upgrade_again(self, database_url: str) -> None:
        """Down to base removes every table; up again restores them."""
        migrate.upgrade(database_url)
        migrate.downgrade(database_url, "base")
        assert table_names(database_url) == set()
        assert migrate.current(database_url) is None
        migrate.upgrade(database_url)
        assert table_names(database_url) == EVERY_TABLE

    def test_models_and_migrations_agree(self, database_url: str) -> None:
        """An autogenerate comparison after upgrading finds nothing to change."""
        migrate.upgrade(database_url)
        assert migrate.schema_differences(database_url) == []

    def test_the_quick_schema_check_names_the_newest_migration(self) -> None:
        """The revision the start-up check compares with one query is Alembic's head: a new migration that
        forgets to update it fails here, not as every command refusing a current database."""
        assert migrate.head() == migrate.LATEST_REVISION
