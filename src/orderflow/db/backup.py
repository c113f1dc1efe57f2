"""``orderflow db backup``: a consistent copy of the database, taken while cron keeps running.

SQLite: SQLite's online backup API copies every page inside one read transaction, so the copy is the database
as of one instant even while ``sync`` writes (WAL mode lets writers carry on meanwhile). PostgreSQL: the
backup is ``pg_dump``'s custom format, which ``pg_restore`` reads back; without ``pg_dump`` on this machine the
command line to run elsewhere is returned instead.

Restore: SQLite, stop cron, then copy the backup over the database file (and remove its ``-wal`` and ``-shm``
files); PostgreSQL, ``pg_restore --no-owner --dbname <url> <backup>`` into an empty database.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orderflow.errors import ConfigError, OrderflowError


@dataclass(frozen=True)
class Backup:
    """What ``db backup`` did: the file written, or the command that would write it."""

    path: Path
    written: bool
    command: list[str]


def backup(database_url: str, target: Path) -> Backup:
    """Back the database up to ``target`` (never over an existing file)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if target.exists():
        raise ConfigError(f"{target}: already exists; a backup never overwrites a file")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError("an in-memory SQLite database has nothing to back up")
        return _sqlite_backup(Path(url.database), target)
    if url.get_backend_name() == "postgresql":
        return _pg_dump(database_url, target)
    raise ConfigError(f"cannot back up a {url.get_backend_name()} database")


def _sqlite_backup(source: Path, target: Path) -> Backup:
    if not source.exists():
        raise ConfigError(f"{source}: no such database file")
    partial = target.with_name(f".{target.name}.partial")
    # The copy holds customers' addresses and carrier tokens: readable by its owner only, from its first byte.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        reading, writing = sqlite3.connect(source, timeout=30), sqlite3.connect(partial)
        try:
            reading.backup(writing)  # all pages in one step: one read transaction, one consistent instant
        finally:
            writing.close()
            reading.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise OrderflowError(f"backup of {source} failed: {exc}") from exc
    return Backup(target, written=True, command=[])


def pg_dump_command(database_url: str, target: Path) -> list[str]:
    """The ``pg_dump`` that backs this database up (a ``search_path`` in the URL limits it to that schema).

    The password, if the URL has one, is left out: pg_dump reads it from ``PGPASSWORD`` or ``~/.pgpass``.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    options = url.query.get("options", "")
    schema = next((part.removeprefix("-csearch_path=") for part in shlex.split(str(options))
                   if part.startswith("-csearch_path=")), None)
    plain = url.set(drivername="postgresql", password=None).difference_update_query(["options"])
    command = ["pg_dump", "--format=custom", f"--file={target}", f"--dbname={plain.render_as_string()}"]
    return command + ([f"--schema={schema}"] if schema else [])


def _pg_dump(database_url: str, target: Path) -> Backup:
    from sqlalchemy.engine import make_url

    command = pg_dump_command(database_url, target)
    if shutil.which("pg_dump") is None:
        return Backup(target, written=False, command=command)
    password = make_url(database_url).password
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise OrderflowError(f"pg_dump failed ({result.returncode}): {result.stderr.strip()}")
    target.chmod(0o600)
    return Backup(target, written=True, command=command)
