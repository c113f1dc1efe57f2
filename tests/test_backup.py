"""Backups, restores and the move to another database: what `db backup` writes reads back as the same data,
and `db copy` gives a PostgreSQL (or SQLite) database that sync and the queue run on."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from orderflow.cli.main import app
from orderflow.db.engine import make_engine
from orderflow.db.models import Base, JobRun
from orderflow.errors import ExitCode
from tests.support.servers import POSTGRES_URL, cannot_run

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A populated shop: two simulated days of the demo, on its embedded SQLite database; and its last hour."""
    home = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--dir", str(home / "shop"), "--days", "2", "--orders-per-day", "5",
                                 "--seed", "3"])
    assert result.exit_code == 0, result.output
    end = re.search(r"the simulated clock stopped at (\S+)\)", result.stdout)
    assert end is not None
    return home / "shop", end.group(1)


@pytest.fixture(scope="module")
def demo(demo_run: tuple[Path, str]) -> Path:
    return demo_run[0]


@pytest.fixture(scope="module")
def end_of_demo(demo_run: tuple[Path, str]) -> str:
    return demo_run[1]


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def orderflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderflow", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


class TestSqliteBackup:
    def test_a_backup_taken_during_a_write_restores_the_committed_data(self, demo: Path, end_of_demo: str,
                                                                       tmp_path: Path) -> None:
        """While another process holds an open write, the backup has every committed row and not the pending
        one; copied back over a database, the shop reads the same."""
        source = tmp_path / "live.db"
        source.write_bytes((demo / "orderflow.db").read_bytes())
        url = f"sqlite:///{source}"
        before = counts(url)
        writer = sqlite3.connect(source, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM job_runs")
        try:
            result = runner.invoke(app, ["--db", url, "db", "backup", str(tmp_path / "backup.db")])
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert result.exit_code == 0, result.output
        assert oct((tmp_path / "backup.db").stat().st_mode & 0o777) == "0o600"
        restored = tmp_path / "restored.db"
        restored.write_bytes((tmp_path / "backup.db").read_bytes())
        assert counts(f"sqlite:///{restored}") == before
        listed = runner.invoke(app, ["--db", f"sqlite:///{restored}", "--now", end_of_demo, "notifications",
                                     "--format", "json"])
        assert listed.exit_code == 0
        assert json.loads(listed.stdout)

    def test_never_overwrites_a_file(self, demo: Path, tmp_path: Path) -> None:
        """An existing file at PATH is refused (exit 3) and left as it was."""
        existing = tmp_path / "backup.db"
        existing.write_text("mine")
        result = runner.invoke(app, ["--db", f"sqlite:///{demo / 'orderflow.db'}", "db", "backup", str(existing)])
        assert result.exit_code == ExitCode.CONFIG
        assert "never overwrites" in result.output
        assert existing.read_text() == "mine"


@pytest.mark.postgres
class TestPostgresBackup:
    def test_pg_dump_then_pg_restore_gives_the_same_rows(self, demo: Path, postgres_url: str,
                                                         tmp_path: Path) -> None:
        """A copied shop on PostgreSQL backed up with pg_dump restores into an empty database with every row."""
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            cannot_run("pg_dump and pg_restore not found (package postgresql-client)", "PostgreSQL backup")
        assert runner.invoke(app, ["--config", str(demo / "orderflow.toml"), "db", "copy",
                                   "--to", postgres_url]).exit_code == 0
        dump = tmp_path / "shop.dump"
        result = runner.invoke(app, ["--db", postgres_url, "db", "backup", str(dump)])
        assert result.exit_code == 0, result.output
        database = f"restore_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        try:
            target = make_url(postgres_url).set(database=database).render_as_string(hide_password=False)
            plain = make_url(target).set(drivername="postgresql").difference_update_query(["options"])
            restored = subprocess.run(["pg_restore", "--no-owner", f"--dbname={plain.render_as_string()}", str(dump)],
                                      capture_output=True, text=True, check=False)
            assert restored.returncode == 0, restored.stderr
            assert counts(target) == counts(postgres_url)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE "{database}" WITH (FORCE)')
            admin.dispose()

    def test_without_pg_dump_it_prints_the_command(self, postgres_url: str, tmp_path: Path) -> None:
        """No pg_dump on PATH: the command to run elsewhere on stdout, exit 3, no password in it."""
        result = orderflow("--db", postgres_url, "db", "backup", str(tmp_path / "shop.dump"),
                           env={"PATH": str(Path(sys.executable).parent)})
        assert result.returncode == ExitCode.CONFIG
        schema = postgres_url.rpartition("search_path%3D")[2] or postgres_url.rpartition("search_path=")[2]
        assert result.stdout.startswith(f"pg_dump --format=custom --file={tmp_path / 'shop.dump'} --dbname=postgresql://")
        assert f"--schema={schema}" in result.stdout
        assert "pg_dump is not installed here" in result.stderr


class TestCopy:
    def test_copies_every_row_verified_and_sync_runs_on_the_copy(self, demo: Path, end_of_demo: str,
                                                                 database_url: str) -> None:
        """The demo's SQLite copied to an empty database: equal counts and checksums per table; sync and the
        queue then run on the copy, its new rows taking ids after the copied ones."""
        config = str(demo / "orderflow.toml")
        result = runner.invoke(app, ["--config", config, "db", "copy", "--to", database_url])
        assert result.exit_code == 0, result.output
        source = counts(f"sqlite:///{demo / 'orderflow.db'}")
        assert counts(database_url) == source
        assert min(source["orders"], source["tracking_events"], source["notifications"]) > 0
        assert result.stdout.count("(equal)") == len(source)
        copied_jobs = source["job_runs"]
        synced = runner.invoke(app, ["--config", config, "--db", database_url, "--now", end_of_demo, "sync"])
        assert "internal error" not in synced.output  # its vendors' and carriers' servers are gone: exit 3 or 5
        engine = make_engine(database_url)
        try:
            with engine.connect() as connection:
                new_runs = connection.scalars(select(JobRun.id).where(JobRun.id > copied_jobs)).all()
        finally:
            engine.dispose()
        assert len(new_runs) >= 6  # sync and each of its steps
        queue = runner.invoke(app, ["--config", config, "--db", database_url, "--now", end_of_demo,
                                    "notifications", "--format", "json"])
        assert queue.exit_code == 0
        assert json.loads(queue.stdout)

    def test_refuses_a_target_with_rows(self, demo: Path, database_url: str) -> None:
        """A second copy into the same database is refused (exit 3) and changes nothing."""
        config = str(demo / "orderflow.toml")
        assert runner.invoke(app, ["--config", config, "db", "copy", "--to", database_url]).exit_code == 0
        before = counts(database_url)
        again = runner.invoke(app, ["--config", config, "db", "copy", "--to", database_url])
        assert again.exit_code == ExitCode.CONFIG
        assert "not empty" in again.output
        assert counts(database_url) == before
