"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``ORDERFLOW_TEST_POSTGRES_URL`` (default: the local server, database ``test``); each
test gets its own schema, dropped afterwards. When ``CI`` is set an unreachable PostgreSQL fails the run;
elsewhere those tests skip and say why. SFTP tests need OpenSSH's sshd likewise: missing, they skip and say
why, except under ``CI``, where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.db.engine import make_engine
from orderflow.testing.sshd import SshServer
from tests.support.servers import (
    POSTGRES_URL,
    cannot_run,
    create_schema,
    postgres_schema_url,
    postgres_unreachable,
    running_sshd,
)

if TYPE_CHECKING:
    from tests.support.pipeline_world import PipelineWorld


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    problem = postgres_unreachable()
    if problem:
        cannot_run(problem, "PostgreSQL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orderflow.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with every table created from the models."""
    engine = make_engine(database_url)
    create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """A fixed instant: a Tuesday afternoon in New York."""
    return Clock(fixed=datetime(2026, 11, 3, 19, 30, tzinfo=UTC))


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A real OpenSSH sshd on 127.0.0.1 with throw-away keys, shared by the session's SFTP tests."""
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def own_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """An sshd this test alone may kill, pause or restart."""
    with running_sshd(tmp_path_factory.mktemp("own-sshd")) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Retries happen, but without their backoff waits: time is not slept through in tests."""
    import stamina

    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture
def world(database_url: str, tmp_path: Path, sshd: SshServer,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    """The whole pipeline's world (tests/support/pipeline_world.py) on the test database: sync's crash, soak and
    concurrency tests."""
    from tests.support.pipeline_world import pipeline_world

    with pipeline_world(tmp_path, database_url, sshd=sshd, monkeypatch=monkeypatch) as built:
        yield built
