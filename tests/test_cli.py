"""The command line as cron and staff see it: commands, exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from sqlalchemy.engine import make_url
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from orderflow.cli.main import app
from orderflow.db import migrate
from orderflow.errors import ExitCode
from tests.support.cli import orderflow

runner = CliRunner()


Command = TyperCommand | TyperGroup


def registered(group: TyperGroup, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every visible command and sub-command registered under ``group``, with its path of names."""
    for name, command in group.commands.items():
        assert isinstance(command, Command), f"{name}: {type(command).__name__} is not a Typer command"
        if not command.hidden:
            yield (*path, name), command
            if isinstance(command, TyperGroup):
                yield from registered(command, (*path, name))


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
COMMANDS = dict(registered(ROOT))
GROUPS = {(): ROOT} | {path: command for path, command in COMMANDS.items() if isinstance(command, TyperGroup)}
CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def listed(help_text: str) -> set[str]:
    """The command names a --help page lists under "Commands:"."""
    section = help_text.split("\nCommands:\n")[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line[2] != " "}


class TestRootCommand:
    def test_every_registered_command_is_found(self) -> None:
        """The walk below reaches the top-level commands and the nested ones (three levels deep)."""
        assert {("init",), ("db",), ("jobs",), ("db", "upgrade"), ("notifications", "silences", "end")} <= set(COMMANDS)

    @pytest.mark.parametrize("path", list(GROUPS), ids=lambda path: " ".join(("orderflow", *path)))
    def test_help_lists_exactly_the_registered_commands(self, path: tuple[str, ...]) -> None:
        """Each group's --help lists every command registered under it, and nothing else."""
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, result.output
        assert listed(result.output) == set(GROUPS[path].commands)

    @pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
    def test_every_command_explains_itself_and_is_in_the_reference(self, path: tuple[str, ...]) -> None:
        """Each registered command and sub-command has help text, answers --help, and has its docs/cli.md entry."""
        command = COMMANDS[path]
        assert (command.help or "").strip(), f"orderflow {' '.join(path)} has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"Usage: orderflow {' '.join(path)} ")
        assert f"\n## `orderflow {' '.join(path)}`\n" in CLI_MD.read_text(encoding="utf-8")

    def test_version(self) -> None:
        """--version prints the version and exits 0."""
        result = orderflow("--version")
        assert (result.returncode, result.stdout.strip()) == (0, "orderflow 0.1.0")

    def test_a_process_of_its_own_ends_with_everything_written(self, tmp_path: Path) -> None:
        """``python -m orderflow`` ends as soon as the command returns: the output and the exit code are those of
        orderflow run inside another program, which goes on after it (as a test or an embedding script does)."""
        embedded = ("import sys\nfrom orderflow.cli.main import main\nsys.argv = ['orderflow', *sys.argv[1:]]\n"
                    "try:\n    main()\nexcept SystemExit as stop:\n    print('went on', file=sys.stderr)\n"
                    "    raise\n")
        missing = str(tmp_path / "missing.toml")
        for arguments, code in ((["--help"], 0), (["--config", missing, "jobs"], ExitCode.CONFIG)):
            alone = subprocess.run([sys.executable, "-m", "orderflow", *arguments], capture_output=True, text=True,
                                   check=False)
            inside = subprocess.run([sys.executable, "-c", embedded, *arguments], capture_output=True, text=True,
                                    check=False)
            assert (alone.returncode, alone.stdout) == (code, inside.stdout)
            assert inside.returncode == code
            assert alone.stderr + "went on\n" == inside.stderr

    def test_heavy_libraries_stay_off_the_start_up_path(self) -> None:
        """Building the CLI and showing help imports neither pandas, paramiko, alembic nor SQLAlchemy's ORM."""
        probe = (
            "import sys\nfrom orderflow.cli.main import app\nfrom typer.testing import CliRunner\n"
            "CliRunner().invoke(app, ['--help'])\n"
            "print(sorted(m for m in ('pandas', 'paramiko', 'alembic', 'sqlalchemy.orm') if m in sys.modules))"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "[]"

    def test_a_command_loads_its_own_module_only(self) -> None:
        """``orderflow notifications`` loads the notifications commands' module and no other command's; the
        root's help, asked before a command, still lists every command."""
        probe = (
            "import sys\nfrom orderflow.cli.main import COMMANDS, main\nsys.argv = ['orderflow', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted({module for module, _ in COMMANDS.values()} & {name.rsplit('.', 1)[-1] for name in "
            "sys.modules if name.startswith('orderflow.cli.')}), file=sys.stderr)\n"
        )
        alone = subprocess.run([sys.executable, "-c", probe, "notifications", "--help"], capture_output=True,
                               text=True, check=True)
        assert alone.stderr.strip() == "['notifications']"
        root_help = subprocess.run([sys.executable, "-c", probe, "--help", "notifications"], capture_output=True,
                                   text=True, check=True)
        assert listed(root_help.stdout) == set(ROOT.commands)

    def test_bad_now_is_a_usage_error(self) -> None:
        """--now must be an ISO-8601 time."""
        result = runner.invoke(app, ["--now", "yesterday", "jobs"])
        assert result.exit_code == ExitCode.USAGE
        assert "not an ISO-8601 time: 'yesterday'" in result.output


class TestConfigErrors:
    @pytest.mark.parametrize(("toml", "message"), [
        ("bogus = 1\n", "bogus: unknown key"),
        ("po_prefix = 7\n", "po_prefix: Input should be a valid string"),
        ("[database\n", "not valid TOML"),
    ])
    def test_broken_config_gives_one_line_and_the_config_code(self, tmp_path: Path, toml: str, message: str) -> None:
        """A broken orderflow.toml: exit code 3, one stderr line naming the key, no traceback."""
        config = tmp_path / "orderflow.toml"
        config.write_text(toml)
        result = orderflow("--config", str(config), "jobs")
        assert result.returncode == ExitCode.CONFIG
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith(f"orderflow: {config}: ")
        assert message in line
        assert "Traceback" not in result.stderr

    def test_debug_shows_the_traceback(self, tmp_path: Path) -> None:
        """--debug adds the traceback for the same error."""
        config = tmp_path / "orderflow.toml"
        config.write_text("bogus = 1\n")
        result = orderflow("--debug", "--config", str(config), "jobs")
        assert result.returncode == ExitCode.CONFIG
        assert "Traceback" in result.stderr

    def test_uninitialised_database_says_what_to_do(self, tmp_path: Path) -> None:
        """A command on an empty database tells the user to run db upgrade."""
        result = orderflow("--db", f"sqlite:///{tmp_path / 'empty.db'}", "jobs")
        assert result.returncode == ExitCode.CONFIG
        assert "run `orderflow db upgrade`" in result.stderr
        assert len(result.stderr.splitlines()) == 1

    def test_a_driver_that_is_not_installed_is_a_configuration_error(self, tmp_path: Path) -> None:
        """sqlite+nosuchdriver:// names the driver and what to write instead: exit 3, not an internal error."""
        result = orderflow("--db", f"sqlite+nosuchdriver:///{tmp_path / 'x.db'}", "jobs")
        assert (result.returncode, result.stderr.splitlines()) == (ExitCode.CONFIG, [
            "orderflow: database.url: cannot use the driver 'sqlite+nosuchdriver': Can't load plugin: "
            "sqlalchemy.dialects:sqlite.nosuchdriver; write sqlite:///... or postgresql+psycopg://..."])

    def test_a_missing_postgresql_role_is_not_an_uninitialised_database(self, postgres_url: str) -> None:
        """A role PostgreSQL does not know: exit 3, 'cannot log in', never 'run db upgrade'."""
        url = make_url(postgres_url).set(username="orderflow_no_such_role").render_as_string(hide_password=False)
        result = orderflow("--db", url, "jobs")
        assert result.returncode == ExitCode.CONFIG
        [line] = result.stderr.splitlines()
        assert line.startswith("orderflow: cannot log in to the database as configured (")
        assert 'role "orderflow_no_such_role" does not exist' in line
        assert "db upgrade" not in line

    def test_unreachable_database_is_remote_unavailable(self) -> None:
        """A database that cannot be reached gives the remote-unavailable code and no password."""
        result = orderflow("--db", "postgresql+psycopg://u:sekrit@127.0.0.1:1/x", "jobs")
        assert result.returncode == ExitCode.REMOTE_UNAVAILABLE
        assert result.stderr.startswith("orderflow: database unavailable:")
        assert "sekrit" not in result.stderr


class TestDatabaseCommands:
    def test_upgrade_current_downgrade(self, database_url: str) -> None:
        """db upgrade reaches head, db current says so, db downgrade base empties it."""
        assert runner.invoke(app, ["--db", database_url, "db", "upgrade"]).exit_code == 0
        current = runner.invoke(app, ["--db", database_url, "db", "current"])
        assert current.output.strip() == f"{migrate.head()} (head)"
        assert runner.invoke(app, ["--db", database_url, "db", "downgrade", "base", "--yes"]).exit_code == 0
        assert runner.invoke(app, ["--db", database_url, "db", "current"]).output.startswith("base (head is")
        assert runner.invoke(app, ["--db", database_url, "db", "upgrade"]).exit_code == 0

    def test_downgrade_off_a_terminal_needs_yes(self, database_url: str) -> None:
        """Without --yes and without a terminal to ask on, db downgrade refuses (exit 3) and drops nothing."""
        runner.invoke(app, ["--db", database_url, "db", "upgrade"])
        result = runner.invoke(app, ["--db", database_url, "db", "downgrade", "base"])
        assert result.exit_code == ExitCode.CONFIG
        assert "pass --yes" in result.output
        assert migrate.current(database_url) == migrate.head()

    def test_downgrade_on_a_terminal_asks_and_a_no_keeps_everything(self, tmp_path: Path) -> None:
        """On a terminal db downgrade asks first; answering no leaves the schema as it was."""
        import pty

        url = f"sqlite:///{tmp_path / 'orderflow.db'}"
        migrate.upgrade(url)
        primary, secondary = pty.openpty()
        with os.fdopen(primary, "r+b", buffering=0) as terminal:
            process = subprocess.Popen([sys.executable, "-m", "orderflow", "--db", url, "db", "downgrade", "base"],
                                       stdin=secondary, stdout=secondary, stderr=secondary)
            os.close(secondary)
            asked = b""
            while b"[y/N]" not in asked:
                chunk = terminal.read(1024)  # the process ending first shows as an OSError here
                assert chunk, asked
                asked += chunk
            terminal.write(b"n\n")
            assert process.wait(timeout=60) == 1  # click's answer to a refused confirmation: Aborted!
        assert b"will be dropped" in asked
        assert migrate.current(url) == migrate.head()

    def test_current_exits_3_while_behind(self, database_url: str) -> None:
        """db current names both revisions and exits 3 while the database is behind the code."""
        migrate.upgrade(database_url, "0001")
        result = runner.invoke(app, ["--db", database_url, "db", "current"])
        assert result.exit_code == ExitCode.CONFIG
        assert result.stdout.startswith(f"0001 (head is {migrate.head()})")

    @pytest.mark.parametrize("command", [["jobs"], ["notifications"], ["rules", "run"], ["sync"]])
    def test_commands_refuse_a_database_behind_the_code(self, database_url: str, command: list[str]) -> None:
        """Every working command refuses a database behind the code: exit 3, one line saying to upgrade,
        and nothing written (no job run recorded)."""
        migrate.upgrade(database_url, "0001")
        result = orderflow("--db", database_url, *command)
        assert result.returncode == ExitCode.CONFIG
        assert result.stderr == (f"orderflow: database schema is at revision 0001, behind this orderflow's "
                                 f"{migrate.head()}; run `orderflow db upgrade`\n")
        migrate.upgrade(database_url)
        assert json.loads(orderflow("--db", database_url, "jobs", "--format", "json").stdout) == []

    def test_init_writes_a_private_config_and_never_overwrites(self, tmp_path: Path) -> None:
        """init writes orderflow.toml (mode 0600) and the database; a second init keeps the file."""
        result = orderflow("init", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        config = tmp_path / "orderflow.toml"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert (tmp_path / "orderflow.db").exists()
        config.write_text(config.read_text() + "\n# mine\n")
        again = orderflow("init", cwd=tmp_path)
        assert again.returncode == 0
        assert "exists, kept as it is" in again.stderr
        assert config.read_text().endswith("# mine\n")

    def test_init_makes_the_folders_and_says_what_next(self, tmp_path: Path) -> None:
        """init creates every folder the example names and prints the next steps; check then passes and the
        first sync finds its inbox."""
        result = orderflow("init", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        for folder in ("inbox/shopify/archive", "vendors/acme/to_vendor", "vendors/acme/from_vendor", "reports"):
            assert (tmp_path / folder).is_dir(), folder
        assert result.stdout.startswith("Next steps:\n1. Edit orderflow.toml")
        assert "2. Run `orderflow check`" in result.stdout
        assert "crontab.example" in result.stdout
        checked = orderflow("check", cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout
        assert orderflow("--now", "2026-11-03T15:00:00Z", "sync", cwd=tmp_path).returncode == 0

    def test_jobs_json(self, database_url: str) -> None:
        """jobs --format json prints one JSON document listing recent runs."""
        runner.invoke(app, ["--db", database_url, "db", "upgrade"])
        from orderflow.clock import Clock, parse_instant
        from orderflow.db.engine import make_engine
        from orderflow.jobs import WorkResult, run_job

        engine = make_engine(database_url)
        run_job("import", engine=engine, clock=Clock(parse_instant("2026-11-03T12:00:00Z")),
                work=lambda: WorkResult(counts={"stored": 2}))
        engine.dispose()
        result = runner.invoke(app, ["--db", database_url, "jobs", "--format", "json"])
        assert result.exit_code == 0
        [run] = json.loads(result.output)
        assert (run["command"], run["outcome"], run["counts"], run["started_at"]) == (
            "import", "ok", {"stored": 2}, "2026-11-03T12:00:00+00:00")
