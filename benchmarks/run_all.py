"""Run every benchmark and write ``docs/benchmarks.md``: each goal's figure, its baseline from the same run, the
ratio, the machine and the exact command.

    .venv/bin/python benchmarks/run_all.py [--full] [--only NAME[,NAME]] [--note TEXT] [--out PATH] [--keep DIR]

Each benchmark script runs in a child process of its own, from the repository root, one after the other, at its
quick scale (``--quick``; the CLI start-up with fewer runs) or, with ``--full``, at the scale its goal is set at.
Its output goes on showing as it runs; run_all then reads the figures out of the table the script printed and
keeps that output, verbatim, in the page. A benchmark that fails, or whose figures cannot be read, is listed as
such in the page, the others still run, and run_all exits 1. A goal not met does not change the exit status.

The page carries its own data, in a comment at its end. Without ``--only`` the page is written anew. With
``--only dispatch,fetch`` just those run, and every other benchmark keeps its entry from the page as it was,
each row naming the run (date, scale, machine) it comes from.

``rules`` and ``report`` each generate a shop's database first, not timed (at full scale a million orders,
about ten gigabytes, 8 to 25 minutes for both as the machine goes). ``--keep DIR`` keeps them in ``DIR/full``
(or ``DIR/quick``) and later runs with the same ``--keep`` reuse them.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shlex
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
DATA_OPENING = "<!-- run_all data (read back when run_all re-runs only some benchmarks; do not edit):"
DATA_FORMAT = 1
STDERR_LINES_KEPT = 30
NUMBER = r"[\d,]*\.?\d+"


class Unreadable(Exception):
    """The benchmark's output does not hold a figure where its printing code puts it."""


@dataclass(frozen=True)
class Figure:
    """One goal's figures from one benchmark run, as text for the page, and whether the goal was met."""

    orderflow: str
    baseline: str
    ratio: str
    met: bool


@dataclass(frozen=True)
class Goal:
    key: str
    benchmark: str
    measure: str
    goal: str


@dataclass(frozen=True)
class Benchmark:
    name: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    parse: Callable[[str], dict[str, Figure]]
    kept: tuple[str, str] | None = None
    """(option, name): with ``--keep DIR`` the script is given ``option DIR/name``, where it keeps the databases
    it generates and reuses them on a later run."""

    @property
    def script(self) -> Path:
        return ROOT / "benchmarks" / f"{self.name}.py"


@dataclass
class Result:
    """One benchmark's run: its command, how it went, its output verbatim and the figures read from it."""

    name: str
    run: str
    scale: str
    command: str
    seconds: float
    exit_code: int
    load_before: float
    load_after: float
    output: str
    errors: str
    figures: dict[str, Figure] = field(default_factory=dict)
    problem: str = ""


@dataclass
class Run:
    """One invocation of run_all: when, how, how long, and on what machine."""

    started: str
    command: str
    scale: str
    note: str
    machine: dict[str, str]
    cpus: int
    load_start: float
    load_end: float = 0.0
    seconds: float = 0.0


# --- reading the benchmarks' tables ---------------------------------------------------------------------------

GOAL_LINE = re.compile(rf"^(?P<label>.*?):?\s+(?P<value>{NUMBER})(?:\s*(?:MB|s))?\s+goal\s+(?P<op><=|>=|<|>)\s*"
                       rf"(?P<limit>{NUMBER})(?:\s*(?:MB|s))?\s+(?P<verdict>met|NOT met)\b")


def goal_line(output: str, label: str) -> tuple[float, bool]:
    """The value and verdict on the line that starts with ``label`` and states a goal (``... goal >= 0.5  met``)."""
    for line in output.splitlines():
        if line.startswith(label) and (found := GOAL_LINE.match(line)):
            return number(found["value"]), found["verdict"] == "met"
    raise Unreadable(f"no goal line starting {label!r}")


def row(output: str, name: str) -> list[float]:
    """The numbers of the table row named ``name``: the row is the name, then only numbers."""
    for line in output.splitlines():
        if line.startswith(name):
            cells = line[len(name):].split()
            if cells and all(re.fullmatch(NUMBER, cell) for cell in cells):
                return [number(cell) for cell in cells]
    raise Unreadable(f"no table row {name!r}")


def search(output: str, pattern: str) -> re.Match[str]:
    if found := re.search(pattern, output, re.MULTILINE):
        return found
    raise Unreadable(f"nothing matches {pattern!r}")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def share_of_limit(value: float, limit: float) -> str:
    return f"{value / limit:.2f} of the limit"


def parse_cli_startup(output: str) -> dict[str, Figure]:
    ours, floor = row(output, "orderflow --help"), row(output, "import typer, rich, sqlalchemy")
    ratio, met = goal_line(output, "ratio orderflow/floor")
    runs = search(output, r"median of (\d+) paired runs")[1]
    return {"cli_startup": Figure(f"{ours[0]:.3f} s (median of {runs})", f"{floor[0]:.3f} s", f"{ratio:.2f}", met)}


def parse_import_orders(output: str) -> dict[str, Figure]:
    ours, floor = row(output, "orderflow import"), row(output, "csv + sqlite3.executemany")
    ratio, ratio_met = goal_line(output, "ratio orderflow/floor")
    peak, peak_met = goal_line(output, "orderflow peak memory")
    lines = int(ours[0])
    alone = search(output, rf"^for scale: SQLite storing .*?: ({NUMBER}) s; the floor over that: ({NUMBER})")
    return {
        "import_rate": Figure(f"{ours[2]:,.0f} lines/s ({lines:,} lines in {ours[1]:.2f} s)",
                              f"{floor[2]:,.0f} lines/s ({floor[1]:.2f} s); SQLite alone storing the rows orderflow "
                              f"stored: {number(alone[1]):.2f} s, so at best {number(alone[2]):.2f}",
                              f"{ratio:.2f}", ratio_met),
        "import_memory": Figure(f"{peak:.0f} MB peak", f"{floor[-1]:.0f} MB peak (the floor, for scale)",
                                share_of_limit(peak, 400), peak_met),
    }


def paired_figure(output: str, ours_name: str, floor_name: str, unit: str) -> Figure:
    """A table from ``paired.print_pairs``: per side median, min, max seconds, rate, CPU seconds."""
    ours, floor = row(output, ours_name), row(output, floor_name)
    ratio, met = goal_line(output, "ratio (median of")
    work = search(output, r"^command \(([^)]*)\)")[1]
    return Figure(f"{ours[3]:,.0f} {unit}/s ({work} in {ours[0]:.2f} s)",
                  f"{floor[3]:,.0f} {unit}/s ({floor[0]:.2f} s)", f"{ratio:.2f}", met)


def parse_dispatch(output: str) -> dict[str, Figure]:
    return {"dispatch": paired_figure(output, "orderflow dispatch", "paramiko putfo loop (floor)", "files")}


def parse_fetch(output: str) -> dict[str, Figure]:
    return {"fetch": paired_figure(output, "orderflow fetch", "paramiko download loop (floor)", "rows")}


def parse_track(output: str) -> dict[str, Figure]:
    parcels = search(output, r"^orderflow track: ([\d,]+) parcels")[1]
    wall = row(output, "wall s (whole process)")
    bound = search(output, rf"^bound: slowest carrier ({NUMBER}) s -> ({NUMBER}) parcels/s")
    ratio, met = goal_line(output, "ratio measured/bound (whole process")
    return {"track": Figure(f"{parcels} parcels in {wall[0]:.2f} s (median wall)",
                            f"{number(bound[1]):.2f} s, the slowest carrier's bound ({bound[2]} parcels/s)",
                            f"{ratio:.3f}", met)}


def rules_row(output: str, label: str) -> tuple[list[float], list[float], float, bool]:
    """A row of ``rules.print_rows``: the first side with the ratio and verdict, the second side on the next line."""
    lines = output.splitlines()
    first = re.compile(rf"^{re.escape(label)}.*?\s(?:history|orderflow)\s+(?P<cells>(?:{NUMBER}\s+){{5}})<=\s*"
                       rf"{NUMBER}\s+(?P<verdict>met|NOT met)\s*$")
    second = re.compile(rf"^\s+(?:live only|floor)\s+(?P<cells>(?:{NUMBER}\s*){{4}})$")
    for index, line in enumerate(lines[:-1]):
        if (ours := first.match(line)) and (floor := second.match(lines[index + 1])):
            cells = [number(cell) for cell in ours["cells"].split()]
            return cells[:4], [number(cell) for cell in floor["cells"].split()], cells[4], ours["verdict"] == "met"
    raise Unreadable(f"no rules table row {label!r}")


def parse_rules(output: str) -> dict[str, Figure]:
    scale = search(output, r"^rules run: ([\d,]+) orders .*? against the same ([\d,]+) live orders")
    figures = {}
    for key, label in (("rules_first", "rules run, first"), ("rules_repeat", "rules run, repeat")):
        ours, floor, ratio, met = rules_row(output, label)
        runs = search(output, rf"^{re.escape(label)}.*?median of (\d+)\)")[1]
        figures[key] = Figure(f"{ours[0]:.3f} s on {scale[1]} orders (median of {runs})",
                              f"{floor[0]:.3f} s on the {scale[2]} live orders alone", f"{ratio:.2f}", met)
    ours, floor, ratio, met = rules_row(output, "notifications,")
    shown = search(output, r"^notifications, ([\d,]+) open \(median of (\d+)\)")
    typer = search(output, rf"^\s*for scale: Typer alone.*?\sTyper\s+(?:{NUMBER}\s+){{4}}({NUMBER})\s+no goal")
    figures["notifications"] = Figure(f"{ours[0]:.3f} s, {shown[1]} open (median of {shown[2]})",
                                      f"{floor[0]:.3f} s; a Typer command with one option and nothing of "
                                      f"orderflow: {number(typer[1]):.2f} of it", f"{ratio:.2f}", met)
    return figures


def parse_report(output: str) -> dict[str, Figure]:
    seconds, seconds_met = goal_line(output, "median wall time")
    peak, peak_met = goal_line(output, "peak memory")
    runs = len(re.findall(rf"^\d+\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s*$", output, re.MULTILINE))
    return {
        "report_time": Figure(f"{seconds:.2f} s (median of {runs})", "none: an absolute goal",
                              share_of_limit(seconds, 30), seconds_met),
        "report_memory": Figure(f"{peak:.0f} MB peak (largest of {runs})", "none: an absolute goal",
                                share_of_limit(peak, 1024), peak_met),
    }


def parse_signal(output: str) -> dict[str, Figure]:
    naive = number(search(output, rf"^naive 'no tracking by ship-by' precision \(worst seed\): ({NUMBER})")[1])
    figures = {}
    for key, label in (("signal_precision", "precision"), ("signal_urgent", "urgent precision"),
                       ("signal_recall", "recall"), ("signal_per_problem", "alerts per problem"),
                       ("signal_late_uploads", "late-upload parcels alarmed")):
        value, met = goal_line(output, f"{label} (worst of")
        baseline = f"naive rule: {naive:.2f}" if key == "signal_precision" else "none: an absolute goal"
        figures[key] = Figure(f"{value:.2f} (worst seed)", baseline, f"{value:.2f}", met)
    return figures


BENCHMARKS = {benchmark.name: benchmark for benchmark in [
    Benchmark("cli_startup", ("--runs", "11"), (), parse_cli_startup),
    Benchmark("import_orders", ("--quick",), (), parse_import_orders),
    Benchmark("dispatch", ("--quick",), (), parse_dispatch),
    Benchmark("fetch", ("--quick",), (), parse_fetch),
    Benchmark("track", ("--quick",), (), parse_track),
    Benchmark("rules", ("--quick",), (), parse_rules, kept=("--keep", "rules")),
    Benchmark("report", ("--quick",), (), parse_report, kept=("--db", "report.db")),
    Benchmark("signal_quality", ("--seeds", "1,2,3"), ("--seeds", "1,2,3,4,5"), parse_signal),
]}

FLOOR_IMPORTS = '`python -c "import typer, rich, sqlalchemy"`'
GOALS = [
    Goal("cli_startup", "cli_startup", f"CLI start-up: `orderflow --help` against {FLOOR_IMPORTS}, wall time",
         "<= 1.2"),
    Goal("import_rate", "import_orders", "Import of a 100,000-order Shopify export: lines/s against the csv module "
         "and `sqlite3.executemany`", ">= 0.5"),
    Goal("import_memory", "import_orders", "Import of a 100,000-order Shopify export: orderflow's peak memory",
         "< 400 MB"),
    Goal("dispatch", "dispatch", "Dispatch of 2,000 CSV purchase orders over SFTP: files/s against a bare paramiko "
         "`putfo` loop", ">= 0.7"),
    Goal("fetch", "fetch", "Fetch of 1,000 tracking files over SFTP: rows/s against a bare paramiko download loop",
         ">= 0.5"),
    Goal("track", "track", "Tracking 5,000 parcels: rate against the bound set by carrier latency and concurrency",
         ">= 0.85"),
    Goal("rules_first", "rules", "`rules run` on 1M orders, 1% active, first run: with history against the same "
         "live work alone", "<= 1.5"),
    Goal("rules_repeat", "rules", "`rules run` on 1M orders, 1% active, repeat runs: with history against the same "
         "live work alone", "<= 1.5"),
    Goal("notifications", "rules", f"`orderflow notifications` with 5,000 open against {FLOOR_IMPORTS}",
         "<= 1.3"),
    Goal("report_time", "report", "`report daily` on the 1M-order database: wall time", "< 30 s"),
    Goal("report_memory", "report", "`report daily` on the 1M-order database: peak memory", "< 1 GB"),
    Goal("signal_precision", "signal_quality", "A simulated month of the demo shop: precision of every alert shown",
         ">= 0.90"),
    Goal("signal_urgent", "signal_quality", "A simulated month: precision of high and critical alerts", ">= 0.98"),
    Goal("signal_recall", "signal_quality", "A simulated month: recall of every kind of real problem", ">= 1.00"),
    Goal("signal_per_problem", "signal_quality", "A simulated month: alerts per real problem caught", "<= 1.05"),
    Goal("signal_late_uploads", "signal_quality", "A simulated month: parcels scanned on time, tracking uploaded late, "
         "that raised lateness", "<= 0.05"),
]


# --- running -------------------------------------------------------------------------------------------------

def shown(path: str) -> str:
    """A path as the reader would type it from the repository root."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(ROOT))  # abspath: ".." out, symlinks (the venv) kept
    except ValueError:
        return path


def tee(source: IO[str], echo: IO[str], kept: list[str]) -> None:
    for line in source:
        kept.append(line)
        echo.write(line)
        echo.flush()


def run_benchmark(benchmark: Benchmark, *, run: Run, full: bool, keep: Path | None = None) -> Result:
    """The script in a child process, its output shown as it comes and kept; then its figures read from it."""
    arguments = benchmark.full if full else benchmark.quick
    if keep and benchmark.kept:
        option, name = benchmark.kept
        folder = keep / ("full" if full else "quick")
        folder.mkdir(parents=True, exist_ok=True)
        arguments = (*arguments, option, str(folder / name))
    command = [sys.executable, str(benchmark.script), *arguments]
    display = shlex.join([shown(sys.executable), shown(str(benchmark.script)), *arguments])
    print(f"\n== {benchmark.name}: {display}", flush=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stderr is not None
    output: list[str] = []
    errors: list[str] = []
    reader = threading.Thread(target=tee, args=(process.stderr, sys.stderr, errors), daemon=True)
    reader.start()
    tee(process.stdout, sys.stdout, output)
    reader.join()
    exit_code = process.wait()
    result = Result(name=benchmark.name, run=run.started, scale=run.scale, command=display,
                    seconds=time.perf_counter() - started, exit_code=exit_code, load_before=load_before,
                    load_after=os.getloadavg()[0], output="".join(output).rstrip(),
                    errors="".join(errors[-STDERR_LINES_KEPT:]).rstrip())
    if exit_code != 0:
        result.problem = f"failed: exit {exit_code}"
        return result
    try:
        result.figures = benchmark.parse(result.output)
    except Unreadable as unreadable:
        result.problem = f"figures unreadable ({unreadable}); see its output"
    return result


def machine() -> dict[str, str]:
    """What the figures were measured on, as the page shows it."""
    cpuinfo = read_text("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    meminfo = dict(line.split(":", 1) for line in read_text("/proc/meminfo").splitlines() if ":" in line)
    release = dict(line.split("=", 1) for line in read_text("/etc/os-release").splitlines() if "=" in line)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": f"{models[0] if models else platform.processor() or 'unknown'}; {os.cpu_count()} logical CPUs, "
               f"{usable} usable by this process",
        "memory": f"{gigabytes(meminfo.get('MemTotal'))} total, {gigabytes(meminfo.get('MemAvailable'))} available "
                  f"at start",
        "OS": f"{release.get('PRETTY_NAME', platform.system()).strip(chr(34))}, kernel {platform.release()} "
              f"({platform.machine()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()} ({shown(sys.executable)})",
        "SQLite": f"{sqlite3.sqlite_version} (the library Python's sqlite3 module uses)",
        "code": code_version(),
    }


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def gigabytes(kilobytes: str | None) -> str:
    return f"{int(kilobytes.split()[0]) / 1024 / 1024:.1f} GiB" if kilobytes else "unknown"


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (", with uncommitted changes" if changed else "")


def loads() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# --- the page's data -------------------------------------------------------------------------------------------

def previous(path: Path) -> tuple[dict[str, Run], dict[str, Result]]:
    """The runs and results the page at ``path`` was written from; nothing when it has none readable."""
    text = read_text(str(path))
    start = text.find(DATA_OPENING)
    end = text.find("-->", start)
    if start < 0 or end < 0:
        return {}, {}
    try:
        data = json.loads(text[start + len(DATA_OPENING):end])
        if data.get("format") != DATA_FORMAT:
            return {}, {}
        runs = {key: Run(**value) for key, value in data["runs"].items()}
        results = {}
        for name, value in data["results"].items():
            figures = {key: Figure(**figure) for key, figure in value.pop("figures").items()}
            results[name] = Result(**value, figures=figures)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        print(f"{shown(str(path))}: its data cannot be read ({error}); writing only this run's results",
              file=sys.stderr)
        return {}, {}
    return runs, results


def data_comment(runs: dict[str, Run], results: dict[str, Result]) -> str:
    data = json.dumps({"format": DATA_FORMAT, "runs": {key: asdict(run) for key, run in runs.items()},
                       "results": {name: asdict(result) for name, result in results.items()}}, indent=1)
    # A comment must not hold "--"; in JSON that pair only occurs inside strings, where \u002d reads back as "-".
    return f"{DATA_OPENING}\n{data.replace('--', '-' + chr(92) + 'u002d')}\n-->\n"


# --- the page --------------------------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{seconds:.1f} s"


def when(started: str) -> str:
    return started[:19].replace("T", " ")


def verdict(goal: Goal, results: dict[str, Result]) -> str:
    result = results.get(goal.benchmark)
    if result is None:
        return "not measured"
    if result.problem:
        return result.problem.split(" (")[0]
    if goal.key not in result.figures:
        return "not in its output"
    return "met" if result.figures[goal.key].met else "**NOT met**"


def goals_table(runs: dict[str, Run], results: dict[str, Result]) -> list[str]:
    several = len(runs) > 1
    head = "| goal | orderflow | baseline (same run) | ratio | goal | verdict | scale | command |"
    lines = [head + (" run |" if several else ""), "|---" * (9 if several else 8) + "|"]
    for goal in GOALS:
        result = results.get(goal.benchmark)
        figure = result.figures.get(goal.key) if result else None
        cells = [goal.measure, figure.orderflow if figure else "", figure.baseline if figure else "",
                 f"**{figure.ratio}**" if figure else "", goal.goal.replace("<", "&lt;").replace(">", "&gt;"),
                 verdict(goal, results), result.scale if result else "", f"`{result.command}`" if result else ""]
        if several:
            cells.append(when(result.run) if result else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine_section(run: Run, several: bool) -> list[str]:
    title = f"### Run of {when(run.started)}" if several else "## Machine and run"
    busy = run.load_start >= run.cpus / 2 or run.load_end >= run.cpus / 2
    lines = [title, "", "| | |", "|---|---|", f"| date | {run.started} |", f"| command | `{run.command}` |",
             f"| scale | {run.scale} |", f"| run_all took | {duration(run.seconds)} |"]
    lines += [f"| {key} | {value} |" for key, value in run.machine.items()]
    lines.append("")
    lines.append(f"This machine is shared: other work may run alongside the benchmarks, and every figure is a wall "
                 f"time taken in whatever else was going on. The load averages, here and with each benchmark below, "
                 f"say how busy it was{'; they were high for ' + str(run.cpus) + ' CPUs' if busy else ''}: on a busy "
                 f"machine the figures are slower and noisier than on an idle one, the ratios of paired runs (both "
                 f"sides measured in turn, in the same conditions) less so.")
    if run.note:
        lines += ["", f"Note from whoever ran it: {run.note}"]
    return [*lines, ""]


def benchmark_section(result: Result) -> list[str]:
    benchmark = BENCHMARKS[result.name]
    summary = ast.get_docstring(ast.parse(benchmark.script.read_text(encoding="utf-8"))) or ""
    lines = [f"### {result.name}", "", summary.split("\n\n")[0].replace("\n", " "), "",
             f"- command: `{result.command}` (from the repository root)",
             f"- run: {when(result.run)}, {result.scale} scale; took {duration(result.seconds)}; load average "
             f"{result.load_before:.2f} before, {result.load_after:.2f} after",
             f"- outcome: {result.problem or 'exit 0, figures read'}", "", "```text", result.output or "(no output)",
             "```", ""]
    if result.exit_code != 0 and result.errors:
        lines[-1:-1] = ["", "Last lines of its standard error:", "", "```text", result.errors, "```"]
    return lines


def page(runs: dict[str, Run], results: dict[str, Result], latest: Run) -> str:
    several = len(runs) > 1
    scales = {result.scale for result in results.values()}
    lines = ["# Benchmarks", "",
             f"Generated by `benchmarks/run_all.py` (last by `{latest.command}`, {when(latest.started)}); do not "
             f"edit by hand, run it again: `.venv/bin/python benchmarks/run_all.py` for the quick scale, `--full` for "
             f"the scale the goals are set at, `--only NAME[,NAME]` to re-run some benchmarks and keep the others' "
             f"entries from their own earlier run (each row then names its run).", ""]
    if "quick" in scales:
        lines += [f"**{'All' if scales == {'quick'} else 'Rows marked quick:'} figures at quick scale.** The goals "
                  f"are set at full scale (the sizes in the goal column); at quick scale each benchmark does less work "
                  f"(see its command and output below), so its ratios are indicative only: start-up and fixed costs "
                  f"weigh more, and a goal met or missed here may go the other way at full scale.", ""]
    lines += ["## Goals", "",
              "Each ratio compares orderflow with its baseline measured in the same benchmark run, as the benchmark "
              "computes it (median of paired runs where it pairs them); for an absolute goal it is the share of the "
              "limit used. Rates: orderflow over baseline (higher is better); times: orderflow over baseline "
              "(lower is better).", "", *goals_table(runs, results), ""]
    if several:
        lines += ["## Machines and runs", ""]
    for run in runs.values():
        lines += machine_section(run, several)
    lines += ["## Each benchmark", ""]
    for name in BENCHMARKS:
        if name in results:
            lines += benchmark_section(results[name])
    return "\n".join(lines) + "\n" + data_comment(runs, results)


# --- the command -----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--full", action="store_true", help="the scale the goals are set at (takes much longer)")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help=f"run just these ({', '.join(BENCHMARKS)}) and keep the others' entries from the page")
    parser.add_argument("--note", default="", help="a sentence for the page about this run (e.g. what else ran)")
    parser.add_argument("--out", type=Path, default=DOC, help=f"the page to write [{shown(str(DOC))}]")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the generated databases of rules and report in DIR and reuse them later "
                             "(generating the full-scale ones takes 8 to 25 minutes)")
    options = parser.parse_args()
    names = [name.strip() for name in options.only.split(",")] if options.only else list(BENCHMARKS)
    if unknown := [name for name in names if name not in BENCHMARKS]:
        parser.error(f"--only: no benchmark {', '.join(unknown)} (there are {', '.join(BENCHMARKS)})")
    started = time.perf_counter()
    run = Run(started=datetime.now().astimezone().isoformat(timespec="seconds"),
              command=shlex.join([shown(sys.executable), shown(__file__), *sys.argv[1:]]),
              scale="full" if options.full else "quick", note=options.note, machine=machine(),
              cpus=os.cpu_count() or 1, load_start=os.getloadavg()[0])
    run.machine["load average at start"] = f"{loads()} (1 / 5 / 15 min)"
    runs, results = previous(options.out) if options.only else ({}, {})
    for name in names:
        results[name] = run_benchmark(BENCHMARKS[name], run=run, full=options.full,
                                      keep=options.keep.resolve() if options.keep else None)
    run.seconds = time.perf_counter() - started
    run.load_end = os.getloadavg()[0]
    run.machine["load average at end"] = f"{loads()} (1 / 5 / 15 min)"
    runs[run.started] = run
    runs = {key: value for key, value in sorted(runs.items()) if any(r.run == key for r in results.values())}
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(page(runs, results, run), encoding="utf-8")
    problems = [f"{result.name}: {result.problem}" for result in results.values() if result.problem]
    print(f"\nwrote {shown(str(options.out))} in {duration(run.seconds)}"
          + ("".join(f"\n  {problem}" for problem in problems) if problems else ""))
    if any(results[name].problem for name in names):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
