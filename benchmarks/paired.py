"""What the paired benchmarks share: timing a child process, pairing orderflow with its floor, the table.

Each figure is a whole process's wall time and its own CPU time (the kernel's accounting for that one child),
so a server it talks to (sshd, a fake carrier) is not counted in its CPU.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[1] / "src"

TYPER_ALONE = [sys.executable, "-c", "import os, sys, typer, rich, sqlalchemy\napp = typer.Typer()\n@app.command()\n"
               "def queue(sort: str = typer.Option('type', '--sort')) -> None:\n    print(sort)\n"
               "try:\n    app(['--sort', 'age'])\nexcept SystemExit:\n    sys.stdout.flush()\n    os._exit(0)\n"]
"""The floor's imports and a Typer command given one option, nothing of orderflow, ending as orderflow ends (at
once when its output is written, without tearing the interpreter down): what a command of the floor's own
libraries costs at the least, for scale beside the floor. Typer turns every option's value through a pydantic
type adapter, so its first option imports pydantic."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    output: str = ""


@dataclass(frozen=True)
class Pair:
    orderflow: Sample
    floor: Sample

    @property
    def ratio(self) -> float:
        """orderflow's rate over the floor's for the same work: floor time over orderflow time."""
        return self.floor.seconds / self.orderflow.seconds


def compile_sources(sources: Path = SOURCES) -> None:
    """Compile a checkout's modules to bytecode once, as installing orderflow does. A timed process never writes
    bytecode where PYTHONDONTWRITEBYTECODE is set (some machines set it), so without this each one would compile
    every orderflow module from its source, a cost the installed command does not have and the floor, whose
    libraries were installed compiled, never pays."""
    if not compileall.compile_dir(sources, quiet=1):
        raise SystemExit(f"could not compile {sources}")


def run_quietly(command: list[str]) -> None:
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")


def timed(command: list[str]) -> Sample:
    """Wall time of the process, its own CPU time, and its stdout; a failure stops the benchmark."""
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if (code := os.waitstatus_to_exitcode(status)) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} exited {code}:\n{errors.read().decode()}")
        output.seek(0)
        return Sample(seconds, usage.ru_utime + usage.ru_stime, output.read().decode())


def print_pairs(pairs: list[Pair], *, work: str, amount: int, unit: str, names: tuple[str, str],
                goal: float) -> None:
    """The table: median/min/max seconds, rate and CPU per side, then the per-pair ratios and their median."""
    print(f"{f'command ({work})':<36}{'median s':>10}{'min s':>9}{'max s':>9}{unit + '/s':>9}{'cpu s':>8}")
    for name, samples in ((names[0], [pair.orderflow for pair in pairs]), (names[1], [pair.floor for pair in pairs])):
        seconds = [sample.seconds for sample in samples]
        median = statistics.median(seconds)
        print(f"{name:<36}{median:>10.3f}{min(seconds):>9.3f}{max(seconds):>9.3f}{amount / median:>9.0f}"
              f"{statistics.median(sample.cpu_seconds for sample in samples):>8.2f}")
    print(f"\nratio per pair (orderflow {unit}/s / floor {unit}/s): " + "  ".join(f"{p.ratio:.2f}" for p in pairs))
    ratio = statistics.median(pair.ratio for pair in pairs)
    print(f"ratio (median of {len(pairs)} pairs): {ratio:.2f}  goal >= {goal}  {'met' if ratio >= goal else 'NOT met'}")
