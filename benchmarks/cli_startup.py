"""How long orderflow's start-up and its staff queue take against the bare imports they cannot avoid.

The floor is ``python -c "import typer, rich, sqlalchemy"``: the libraries every command needs. Each command
below runs in a fresh process, in turn with the floor (the order alternating), several times, and the table
gives the median wall time of each and the median of the per-pair ratios.

- ``orderflow --help`` (goal: at most 1.2 of the floor): start-up alone.
- ``orderflow notifications`` with ``--open`` (5,000) open notifications (goal: at most 1.3 of the floor):
  the staff queue, the ranked table written to a file, on a SQLite database generated once, not timed, by
  ``history`` (the live work of ``--open`` x 3/5 orders, no history) and topped up with open notifications
  inserted directly, as ``benchmarks/rules.py`` does for its queue measurement (which also times it, on a
  database with two years of history; this one takes seconds to set up instead of minutes).

Beside the queue, for scale and with no goal, a Typer command of the floor's libraries given one option and
nothing of orderflow, ending as orderflow ends (without tearing the interpreter down): Typer turns each option's
value through a pydantic type adapter, so that command already imports pydantic. The checkouts' modules are
compiled to bytecode once first, as installing orderflow does.

``--steps`` then times the queue step by step, by subtraction: a Typer command given one option, then the same
command also making Rich's console, then also loading the settings, then also opening the database and reading
and ranking the queue, then ``orderflow notifications`` itself (the table drawn), each in fresh processes in
alternating rounds.

``--before DIR`` also times another checkout of orderflow (``DIR/src``, e.g. one made with ``git worktree add``
or ``git archive``) in the same rounds, so a change is measured before and after on the same machine at the
same time. ``--quick``: 5 rounds instead of 21.

Where ``notifications`` spends its time beyond the floor (5,000 open, 2026-12-07, wall time of one process
on the 2-core machine at load 5-6, where the floor's imports took 0.35 s): loading ``orderflow.cli.main``
0.05 s; Typer turning the options' values into Python ones 0.19-0.21 s, through a pydantic type adapter per
option, whose first one imports pydantic and its schema builder (0.07 s of it is Typer's own: with the
settings imported first, the parse takes 0.07 s); the settings 0.10-0.12 s (pydantic-settings and building
the settings models); the database engine 0.02 s; reading and ranking the 5,000 rows 0.15 s (documents were
made by reading each row's fields by name, as much again as the read: now by position); the table 0.03 s;
and, after the output, tearing the interpreter down (0.1-0.2 s: now skipped). The five time columns and the
labels are now read as stored and converted in one call a value (the types' own conversion was 0.15 s of
the read). Paired, 9 rounds, load 3 (``--runs 9 --before``): 0.756 -> 0.612 s against a floor of 0.271 s,
ratio 2.79 -> 2.24; then loading only the command's own module, not every command's: 0.602 -> 0.582 s,
ratio 2.23 -> 2.15 (9 rounds, load 2.6-3.2). What is left is mostly pydantic, which both Typer's option
conversion and the settings need (0.2-0.3 s together), and the read (0.1 s): the goal needs the queue's path
without pydantic. Later the same day the table read whole only the rows it draws (0.07 s of CPU less); the
rules benchmark also times a Typer command of the floor's libraries with one option, which alone is 1.2-1.4
of the floor (its docstring has the account). That command ended by tearing the interpreter down, which
orderflow skips; ended alike, it is 1.05 of the floor, and Typer's share is small:

Step by step (``--steps``, 21 rounds, quiet machine, 2026-12-07; the floor 0.176 s): Typer given one option
+0.009 s (1.05 of the floor), Rich's console +0.020, the settings (pydantic-settings, the settings models, the
file) +0.030, the engine and the 5,000 rows read and ranked +0.032, the table drawn +0.025; the command 0.293 s,
1.66. The goal of 1.3 leaves 0.053 s beyond the floor: Rich's console and drawing the table take about that,
and loading the settings and reading the queue as much again.

    .venv/bin/python benchmarks/cli_startup.py [--runs 21] [--quick] [--open 5000] [--steps] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from history import NOW, add_open_notifications, generate, shop_toml
from paired import TYPER_ALONE, compile_sources

HELP_GOAL = 1.2
QUEUE_GOAL = 1.3
QUICK_RUNS = 5
FLOOR = "import typer, rich, sqlalchemy"
FLOOR_NAME = FLOOR


def wall_time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def queue_shop(folder: Path, wanted: int) -> tuple[Path, str]:
    """A configuration and a database with ``wanted`` open notifications (generated, not timed)."""
    config = folder / "orderflow.toml"
    config.write_text(shop_toml(), encoding="utf-8")
    database = folder / "queue.db"
    generate(database, orders=max(wanted * 3 // 5, 100), active_fraction=1.0, history=False)
    url = f"sqlite:///{database}"
    add_open_notifications(url, wanted=wanted, now=NOW)
    return config, url


def measure(label: str, arguments: list[str], sources: dict[str, Path], *, runs: int, goal: float,
            ratio_label: str, for_scale: dict[str, list[str]] | None = None) -> None:
    """``orderflow ARGUMENTS`` of each checkout, any ``for_scale`` commands and the floor, in rounds (the order
    alternating); the table."""
    commands = {f"{name}{label}": ([sys.executable, "-m", "orderflow", *arguments],
                                   {**os.environ, "PYTHONPATH": str(src)}) for name, src in sources.items()}
    commands |= {name: (command, dict(os.environ)) for name, command in (for_scale or {}).items()}
    commands[FLOOR_NAME] = ([sys.executable, "-c", FLOOR], dict(os.environ))
    times = in_rounds(commands, runs)
    print(f"{'command':<50}{'median s':>10}{'min s':>10}{'max s':>10}")
    for name, samples in times.items():
        print(f"{name:<50}{statistics.median(samples):>10.3f}{min(samples):>10.3f}{max(samples):>10.3f}")
    ratios = {name: statistics.median(ours / base for ours, base in zip(times[name], times[FLOOR_NAME], strict=True))
              for name in list(commands)[:-1]}
    first, *others = ratios
    print(f"\n{ratio_label} (median of {runs} paired runs): {ratios[first]:.2f}  goal <= {goal}  "
          f"{'met' if ratios[first] <= goal else 'NOT met'}")
    for name in others:
        print(f"  the same ratio, {name}: {ratios[name]:.2f}")
    print()


def in_rounds(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, list[float]]:
    """Each command's wall times over ``runs`` rounds, the order alternating, after one run each to warm the file
    cache (a command that fails stops the benchmark there)."""
    for command, env in commands.values():
        wall_time(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(runs):
        for name in list(commands) if index % 2 == 0 else list(reversed(commands)):
            times[name].append(wall_time(*commands[name]))
    return times


def queue_steps(config: Path, url: str, at: str, *, runs: int) -> None:
    """Where the queue's time goes beyond the floor, by subtraction: a ladder of commands, each a Typer command
    given one option that does what the one before did and one step more of what ``orderflow notifications``
    does, then the command itself; each in a fresh process, in alternating rounds with the others. A step's
    cost is its median less the one before's."""
    head = ("import os, sys, typer, rich, sqlalchemy\nfrom pathlib import Path\napp = typer.Typer()\n@app.command()\n"
            "def queue(sort: str = typer.Option('type', '--sort')) -> None:\n    pass\n")
    # Each step ends as orderflow does: as soon as its output is written, without tearing the interpreter down.
    tail = "try:\n    app(['--sort', 'type'])\nexcept SystemExit:\n    sys.stdout.flush()\n    os._exit(0)\n"
    steps = [
        ("Rich's console made", "    from rich.console import Console\n    console = Console(file=sys.stdout)\n"),
        ("the settings loaded", "    from orderflow.config import load_settings\n"
                                f"    settings = load_settings(Path({str(config)!r}), database_url={url!r})\n"),
        ("the engine; the rows read and ranked",
         "    from orderflow.db.engine import make_engine, reader\n"
         "    from orderflow.db.migrate import require_latest\n"
         "    from orderflow.rules.listing import QueueFilter, queue_shown\n"
         "    engine = make_engine(settings.database.url)\n    require_latest(engine)\n"
         "    with reader(engine).connect() as connection:\n"
         "        queue_shown(connection, filters=QueueFilter(), sort=sort, per_type=25)\n"),
    ]
    env = dict(os.environ)
    commands = {"the floor's imports": ([sys.executable, "-c", FLOOR], env),
                "a Typer command given one option": ([sys.executable, "-c", head + tail], env)}
    body = head
    for label, code in steps:
        body += code
        commands[label] = ([sys.executable, "-c", body + tail], env)
    commands["the table drawn: orderflow notifications"] = ([
        sys.executable, "-m", "orderflow", "--config", str(config), "--db", url, "--now", at, "notifications"], env)
    times = in_rounds(commands, runs)
    print(f"{'the queue, step by step (each adds one step)':<50}{'median s':>10}{'step s':>10}{'x floor':>10}")
    floor = statistics.median(times["the floor's imports"])
    before = 0.0
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<50}{median:>10.3f}{median - before if before else median:>10.3f}{median / floor:>10.2f}")
        before = median
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} rounds")
    parser.add_argument("--open", type=int, default=5000, help="open notifications for the queue (0: leave it out)")
    parser.add_argument("--before", type=Path, help="another checkout of orderflow, timed in the same rounds")
    parser.add_argument("--steps", action="store_true", help="then time the queue step by step (where it goes)")
    options = parser.parse_args()
    runs = QUICK_RUNS if options.quick else options.runs
    sources = {"orderflow": Path(__file__).resolve().parents[1] / "src"}
    if options.before:
        sources["before: orderflow"] = options.before.resolve() / "src"
    for src in sources.values():
        compile_sources(src)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start\n")
    measure(" --help", ["--help"], sources, runs=runs, goal=HELP_GOAL, ratio_label="ratio orderflow/floor")
    if options.open:
        with tempfile.TemporaryDirectory(prefix="orderflow-startup-bench-") as scratch:
            config, url = queue_shop(Path(scratch), options.open)
            at = NOW.isoformat().replace("+00:00", "Z")
            measure(f" notifications ({options.open:,} open)",
                    ["--config", str(config), "--db", url, "--now", at, "notifications"], sources, runs=runs,
                    goal=QUEUE_GOAL, ratio_label="ratio notifications/floor",
                    for_scale={"for scale: Typer alone, one option given": TYPER_ALONE})
            if options.steps:
                queue_steps(config, url, at, runs=runs)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
