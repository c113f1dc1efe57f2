"""How long ``orderflow --help`` takes against the bare imports it cannot avoid.

Runs both commands in turn, several times, in fresh processes, and prints the median wall time of each and
their ratio (goal: at most 1.2). The floor is ``python -c "import typer, rich, sqlalchemy"``: orderflow's
start-up should cost little beyond the libraries every command needs.

    .venv/bin/python benchmarks/cli_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL = 1.2


def wall_time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    commands = {
        "orderflow --help": [sys.executable, "-m", "orderflow", "--help"],
        "import typer, rich, sqlalchemy": [sys.executable, "-c", "import typer, rich, sqlalchemy"],
    }
    for command in commands.values():  # warm the file cache and bytecode
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    ratios = []
    for _ in range(runs):
        pair = {name: wall_time(command) for name, command in commands.items()}
        for name, seconds in pair.items():
            times[name].append(seconds)
        ratios.append(pair["orderflow --help"] / pair["import typer, rich, sqlalchemy"])
    print(f"{'command':<34}{'median s':>10}{'min s':>10}{'max s':>10}")
    for name, samples in times.items():
        print(f"{name:<34}{statistics.median(samples):>10.3f}{min(samples):>10.3f}{max(samples):>10.3f}")
    ratio = statistics.median(ratios)
    print(f"\nratio orderflow/floor (median of {runs} paired runs): {ratio:.2f}  goal <= {GOAL}  "
          f"{'met' if ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
