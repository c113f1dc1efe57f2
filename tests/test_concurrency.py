"""Several cron hosts at once over one database: nothing duplicated, nothing stuck, every lock released.

On PostgreSQL, eight processes start together at the same ``--now``, round after round (the vendors
answering in between) until the vendors have nothing left to answer; then the whole shop is verified with
:meth:`tests.support.pipeline_world.PipelineWorld.verify`. Work items are claimed with ``FOR UPDATE SKIP LOCKED``
and each job takes its advisory lock, so the processes share the work or step aside (exit code 7), never
collide. On SQLite two processes at once: one waits for the other's write or steps aside; ``database is
locked`` never reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from orderflow.errors import ExitCode
from orderflow.testing.sshd import SshServer
from tests.support.pipeline_world import FINE, Finished, PipelineWorld, pipeline_world

HOSTS = 8
MIXED = ("sync", "sync", "dispatch", "dispatch", "import", "fetch", "customers notify", "rules run")
"""Eight hosts whose crontabs differ: two run the whole sync, the others one step each."""
ROUNDS = 4


@pytest.fixture
def postgres_world(postgres_url: str, tmp_path: Path, sshd: SshServer,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    with pipeline_world(tmp_path, postgres_url, sshd=sshd, monkeypatch=monkeypatch) as world:
        yield world


@pytest.fixture
def sqlite_world(tmp_path: Path, sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    with pipeline_world(tmp_path, f"sqlite:///{tmp_path / 'orderflow.db'}", sshd=sshd,
                        monkeypatch=monkeypatch) as world:
        yield world


def at_once(world: PipelineWorld, commands: Sequence[str]) -> list[Finished]:
    """Start one process per command together; wait for all of them."""
    running = [world.start(*command.split()) for command in commands]
    return [world.finish(process) for process in running]


def until_quiet(world: PipelineWorld, commands: Sequence[str]) -> list[Finished]:
    """Rounds of ``commands`` at once, the vendors answering in between, until they have nothing new to answer."""
    finished: list[Finished] = []
    for _ in range(ROUNDS):
        finished += at_once(world, commands)
        if not world.vendor_side():
            return finished
    raise AssertionError(f"still busy after {ROUNDS} rounds")


def misbehaved(finished: Sequence[Finished]) -> list[tuple[tuple[str, ...], int, str]]:
    """Processes that failed, or showed a traceback or a raw lock error: (command, exit code, stderr)."""
    return [(run.args, run.returncode, run.stderr) for run in finished
            if run.returncode not in FINE
            or "Traceback" in run.stderr or "database is locked" in run.stderr]


@pytest.mark.postgres
class TestEightCronHostsOnPostgres:
    def test_eight_syncs_at_once(self, postgres_world: PipelineWorld) -> None:
        """Eight syncs at once, round after round: every process ends 0, 6 or 7; the shop verifies clean."""
        postgres_world.add_orders(12)
        finished = until_quiet(postgres_world, ["sync"] * HOSTS)
        assert misbehaved(finished) == []
        assert any(run.returncode != ExitCode.LOCK_HELD for run in finished)
        assert postgres_world.verify() == []

    def test_hosts_running_different_steps(self, postgres_world: PipelineWorld) -> None:
        """Syncs, lone dispatchers and single steps at once: claims divide the work, locks keep one run per
        job; every process ends 0, 6 or 7 and the shop verifies clean."""
        postgres_world.add_orders(12)
        finished = until_quiet(postgres_world, MIXED)
        assert misbehaved(finished) == []
        assert postgres_world.verify(settled=False) == []
        postgres_world.settle()  # the steps of one round ran in any order: a last clean sync finishes the chain
        assert postgres_world.verify() == []


class TestTwoProcessesOnSqlite:
    def test_two_syncs_at_once(self, sqlite_world: PipelineWorld) -> None:
        """Two syncs at once: one waits for the other's writes or steps aside, never "database is locked"."""
        sqlite_world.add_orders(12)
        finished = until_quiet(sqlite_world, ["sync"] * 2)
        assert misbehaved(finished) == []
        assert sqlite_world.verify() == []

    def test_a_sync_and_a_dispatch_at_once(self, sqlite_world: PipelineWorld) -> None:
        """A sync and a lone dispatch at once claim vendor orders through SQLite's write queue: each sent once."""
        sqlite_world.add_orders(12)
        finished = until_quiet(sqlite_world, ["sync", "dispatch"])
        assert misbehaved(finished) == []
        assert sqlite_world.verify() == []
