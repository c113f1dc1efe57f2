"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``ORDERFLOW_TEST_POSTGRES_URL`` (default: the local server, database ``test``); each
test gets its own schema, dropped afterwards. When ``CI`` is set an unreachable PostgreSQL fails the run;
elsewhere those tests skip and say why. SFTP tests need OpenSSH's sshd likewise: missing, they skip and say
why, except under ``CI``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from orderflow.clock import Clock
from orderflow.db.engine import make_engine
from orderflow.db.migrate import stamp_latest
from orderflow.db.models import Base
from orderflow.testing.sshd import SshServer, SshServerMissing

if TYPE_CHECKING:
    from tests.pipeline_world import PipelineWorld

POSTGRES_URL = os.environ.get(
    "ORDERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_postgres_problem: str | None = None
_postgres_checked = False


def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it can (checked once per session)."""
    global _postgres_checked, _postgres_problem  # noqa: PLW0603 - one probe per test session
    if not _postgres_checked:
        _postgres_checked = True
        try:
            engine = make_engine(POSTGRES_URL)
            with engine.connect():
                pass
            engine.dispose()
        except Exception as exc:  # any failure means "not usable here"; the message says which
            _postgres_problem = f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
    return _postgres_problem


def postgres_schema_url(schema: str) -> str:
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    problem = _postgres_unreachable()
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


def cannot_run(problem: str, what: str) -> NoReturn:
    """Skip a test whose real server is missing here and say why; under CI, fail it instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI requires the {what} tests to run)")
    pytest.skip(problem)


@contextmanager
def running_sshd(base_dir: Path, **options: Any) -> Iterator[SshServer]:
    """A started :class:`SshServer`; without OpenSSH installed the test skips (fails under CI)."""
    try:
        server = SshServer(base_dir, **options).start()
    except SshServerMissing as exc:
        cannot_run(str(exc), "SFTP")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orderflow.db'}"
    return str(request.getfixturevalue("postgres_url"))


def create_schema(engine: Engine) -> None:
    """Every table straight from the models (quicker than migrating), recorded as the latest revision so that
    commands run on it."""
    Base.metadata.create_all(engine)
    stamp_latest(engine)


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
    """The whole pipeline's world (tests/pipeline_world.py) on the test database: sync's crash, soak and
    concurrency tests."""
    from tests.pipeline_world import pipeline_world

    with pipeline_world(tmp_path, database_url, sshd=sshd, monkeypatch=monkeypatch) as built:
        yield built
