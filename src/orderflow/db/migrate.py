"""Schema migrations with Alembic, from the top-level ``migrations/`` folder.

Alembic is imported only here, inside the functions, so commands that never migrate do not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orderflow.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    if not (MIGRATIONS_DIR / "env.py").exists():
        raise ConfigError(f"migrations folder not found at {MIGRATIONS_DIR}; install orderflow from its source tree")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    return state(database_url).current


def state(database_url: str) -> SchemaState:
    from orderflow.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        return schema_state(engine)
    finally:
        engine.dispose()


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against the migrations this orderflow ships."""

    current: str | None
    head: str | None
    known: bool
    """``current`` is one of this orderflow's revisions (``False``: a newer orderflow upgraded it)."""

    @property
    def latest(self) -> bool:
        return self.current == self.head

    @property
    def problem(self) -> str | None:
        """Why commands must not run on this database, with what to do; ``None`` at the latest schema."""
        if self.latest:
            return None
        if self.current is None:
            return "database is not initialised (no schema yet); run `orderflow db upgrade`"
        if not self.known:
            return (f"database schema is at revision {self.current}, which this orderflow does not know "
                    "(a newer orderflow upgraded it?); install that version")
        return (f"database schema is at revision {self.current}, behind this orderflow's {self.head}; "
                "run `orderflow db upgrade`")


def schema_state(engine: Engine) -> SchemaState:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    try:
        known = revision is None or scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    return SchemaState(current=revision, head=scripts.get_current_head(), known=known)


LATEST_REVISION = "0006_indexes_for_rules_at_scale"
"""The newest migration's revision (a test ties it to the migrations folder). A database at it is current after
one plain query, so a quick command such as the staff queue does not load Alembic to learn so."""


def require_latest(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code was written for: half-migrated
    tables would fail mid-run, or worse, lose what a missing column should have kept."""
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as connection:
            current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:
        current = None  # no version table yet: Alembic says what to do below
    if current == LATEST_REVISION:
        return
    problem = schema_state(engine).problem
    if problem:
        raise ConfigError(problem)


def stamp_latest(engine: Engine) -> None:
    """Record a database whose tables were made straight from the models as being at the latest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    with engine.begin() as connection:
        MigrationContext.configure(connection).stamp(scripts, "head")


def schema_differences(database_url: str) -> list[Any]:
    """What an autogenerate run would change: empty when the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from orderflow.db.engine import make_engine
    from orderflow.db.models import Base

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()
