"""The real servers tests stand on (PostgreSQL, OpenSSH's sshd), and an empty database's schema.

PostgreSQL comes from ``ORDERFLOW_TEST_POSTGRES_URL`` (default: the local server, database ``test``). When
``CI`` is set a missing server fails the test; elsewhere it skips and says why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from orderflow.db.engine import make_engine
from orderflow.db.migrate import stamp_latest
from orderflow.db.models import Base
from orderflow.testing.sshd import SshServer, SshServerMissing

POSTGRES_URL = os.environ.get(
    "ORDERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_postgres_problem: str | None = None
_postgres_checked = False


def postgres_unreachable() -> str | None:
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


def create_schema(engine: Engine) -> None:
    """Every table straight from the models (quicker than migrating), recorded as the latest revision so that
    commands run on it."""
    Base.metadata.create_all(engine)
    stamp_latest(engine)
