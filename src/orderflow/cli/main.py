"""The ``orderflow`` command: root options, error-to-exit-code mapping, and the command groups.

Each command group lives in its own module and only parses, calls one library function and renders. A run of
one command loads only that command's module (:data:`COMMANDS`); ``app``, the whole command line, loads them
all when first asked for (help, the reference, tests).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from orderflow import __version__
from orderflow.cli.context import AppContext, LogFormat, emit, log_handler
from orderflow.errors import ExitCode, OrderflowError


class OrderflowGroup(TyperGroup):
    """Turns every error into one line on stderr and its exit code; a traceback only with ``--debug``."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(CLOSED_PIPE_STATUS) from None
        except OrderflowError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except Exception as exc:  # the last line of defence: one line, not a traceback
            message, code = _describe_foreign(exc)
            _fail(ctx, message, code)
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


def _describe_foreign(exc: Exception) -> tuple[str, ExitCode]:
    from orderflow.db.engine import database_error

    explained = database_error(exc)
    if explained is not None:
        return str(explained), explained.exit_code
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return f"internal error: {type(exc).__name__}: {first} (run with --debug for the traceback)", ExitCode.INTERNAL


CLOSED_PIPE_STATUS = 141
"""What a shell reports for a writer whose reader went away (128 + SIGPIPE), as for ``git log | head``."""


def _silence_stdout() -> None:
    """The reader of stdout went away (``orderflow notifications | head -1``): the command stops quietly, as
    other tools do, and later writes, the interpreter's last flush included, go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(ctx: Any, message: str, code: ExitCode) -> None:
    obj = ctx.obj
    if isinstance(obj, AppContext) and obj.debug:
        traceback.print_exc()
    emit(obj if isinstance(obj, AppContext) else AppContext(), message)
    raise typer.Exit(int(code))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orderflow {__version__}")
        raise typer.Exit()


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    from orderflow.clock import parse_instant

    try:
        return parse_instant(value)
    except OrderflowError as exc:
        raise typer.BadParameter(str(exc)) from None


def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="ORDERFLOW_CONFIG", help="Configuration file [default: ./orderflow.toml]."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Database URL; overrides the configuration and ORDERFLOW_DATABASE_URL."
    ),
    now: str | None = typer.Option(
        None, "--now", envvar="ORDERFLOW_NOW", help="Pretend it is this ISO-8601 time (tests, simulations)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Progress on stderr."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    utc: bool = typer.Option(False, "--utc", help="Show times in UTC instead of the shop's time zone."),
    log_format: LogFormat = typer.Option(
        LogFormat.TEXT, "--log-format", envvar="ORDERFLOW_LOG_FORMAT", case_sensitive=False,
        help="stderr lines as text, or each one a JSON object (time, level, command, message).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Root options shared by every command."""
    ctx.obj = AppContext(
        config_path=config, database_url=db, now=_parse_now(now), quiet=quiet, verbose=verbose, debug=debug,
        log_format=log_format, utc=utc, command=ctx.invoked_subcommand,
    )
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, handlers=[log_handler(ctx.obj)])
    # paramiko logs its own tracebacks for failures we already report as one line.
    logging.getLogger("paramiko").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    # stamina logs a bare "stamina.retry_scheduled" warning per retry; a failure that outlasts the retries is
    # reported as one line anyway, and one that does not is no problem at all.
    logging.getLogger("stamina").setLevel(logging.DEBUG if debug else logging.ERROR)
    # httpx logs every request's URL at INFO, and a URL can hold a secret (the health-check ping URL).
    logging.getLogger("httpx").setLevel(logging.WARNING)


COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("db", "init"), "db": ("db", "app"), "catalog": ("catalog", "app"), "import": ("orders", "import_orders"),
    "order": ("orders", "order"), "orders": ("orders", "orders"), "dispatch": ("vendors", "dispatch"),
    "fetch": ("vendors", "fetch"), "inspect": ("inspect", "inspect"), "track": ("tracking", "track"),
    "customers": ("customers", "app"), "vendors": ("vendors", "vendors"), "rules": ("rules", "app"),
    "notifications": ("notifications", "app"), "report": ("report", "app"), "jobs": ("jobs", "jobs"),
    "sync": ("sync", "sync"), "demo": ("demo", "demo"), "check": ("check", "check"),
}
"""Each command, in the order help lists them: the module of ``orderflow.cli`` that holds it, and its name there
(a ``typer.Typer`` for a group of commands)."""
COMPLETION_VARIABLE = "_ORDERFLOW_COMPLETE"


def command_line(names: list[str] | None = None) -> typer.Typer:
    """The ``orderflow`` command with the commands ``names`` (None: every command), each module loaded here."""
    line = typer.Typer(
        cls=OrderflowGroup,
        name="orderflow",
        help="Run a multi-vendor fulfilment operation from cron: orders to vendors, parcels to delivered, "
        "problems to staff.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        rich_markup_mode=None,
    )
    line.callback()(root)
    for name, (module_name, attribute) in COMMANDS.items():
        if names is not None and name not in names:
            continue
        module = importlib.import_module(f"orderflow.cli.{module_name}")
        found = getattr(module, attribute)
        if isinstance(found, typer.Typer):
            line.add_typer(found, name=name)
        else:
            line.command(name, help=getattr(module, f"{name.upper()}_HELP", None))(found)
    return line


def _named(args: list[str]) -> list[str] | None:
    """The commands a command line can run: those it names, unless it asks for the root's help first, or
    for completion, or names none (None: every command)."""
    named = [index for index, word in enumerate(args) if word in COMMANDS]
    if not named or COMPLETION_VARIABLE in os.environ or "--help" in args[:named[0]]:
        return None
    return [args[index] for index in named]


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole command line, built on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    whole = globals()["app"] = command_line()
    return whole


def hoist_root_options(command: Any, args: list[str]) -> list[str]:
    """``args`` with the root options given after a command moved in front of it, so ``orderflow sync -v``
    means ``orderflow -v sync``. Each word is read as the command it stands in reads it: an option's value is
    never taken for a root option, and an option the command has of its own keeps its own meaning."""
    root_options = {name: not param.is_flag for param in command.params if hasattr(param, "is_flag")
                    for name in param.opts + param.secondary_opts}
    hoisted: list[str] = []
    kept: list[str] = []
    current = command
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            kept += args[index:]
            break
        name = word.split("=", 1)[0]
        if word.startswith("-") and current is not command:
            own = _own_option(current, name)
            if own is None and name in root_options:
                width = 1 + (root_options[name] and "=" not in word)
                hoisted += args[index:index + width]
                index += width
                continue
            width = 1 + (own is not None and not own.is_flag and not own.count and "=" not in word)
            kept += args[index:index + width]
            index += width
            continue
        if word.startswith("-") and name in root_options:
            width = 1 + (root_options[name] and "=" not in word)
            kept += args[index:index + width]
            index += width
            continue
        subcommands = getattr(current, "commands", {})
        if not word.startswith("-") and word in subcommands:
            current = subcommands[word]
        kept.append(word)
        index += 1
    return hoisted + kept


def _own_option(command: Any, name: str) -> Any:
    return next((param for param in command.params
                 if hasattr(param, "is_flag") and name in param.opts + param.secondary_opts), None)


def main() -> None:
    """Console-script entry point."""
    command = typer.main.get_command(command_line(_named(sys.argv[1:])))
    try:
        try:
            command.main(args=hoist_root_options(command, sys.argv[1:]), prog_name="orderflow")
        finally:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                _silence_stdout()
                raise SystemExit(CLOSED_PIPE_STATUS) from None
    except SystemExit as stop:
        if _process_is_ours():
            _end_now(stop.code)
        raise


def _process_is_ours() -> bool:
    """Whether this process runs orderflow and nothing else (``python -m orderflow``, the ``orderflow`` script),
    with no other thread still at work: then nothing is left to do once the command has returned."""
    started_as = sys.modules.get("__main__")
    spec = getattr(started_as, "__spec__", None)
    ours = (spec is not None and spec.name == "orderflow.__main__") or \
        Path(getattr(started_as, "__file__", None) or "-").name == "orderflow"
    return ours and all(thread.daemon or thread is threading.main_thread() for thread in threading.enumerate())


def _end_now(code: object) -> NoReturn:
    """End the process with ``code`` as soon as the command is done: its work is stored and its output written,
    and tearing the interpreter down (freeing every loaded module's objects one by one) costs a short command
    a good part of its time. Output still buffered is written first, as the interpreter would."""
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone away takes nothing more, as at any exit
            stream.flush()
    os._exit(code or 0)
