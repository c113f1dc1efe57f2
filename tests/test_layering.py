"""The package layering holds: reading outside text at the bottom, the order domain under vendors and
carriers, storefront intake beside vendor intake, and no import cycle anywhere.

Imports are read from the source with ``ast`` (module level, under ``TYPE_CHECKING`` and inside functions
alike), so a rule broken by a lazy import fails as surely as one broken at the top of a file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

INTAKE = "orderflow.storefronts"
DOMAIN = "orderflow.orders"
PARSING = "orderflow.parsing"
QUEUE_API = ("orderflow.rules.queue", "orderflow.rules.vocabulary")
"""What of the rules others may read: the staff queue and its words; never the engine or a rule."""

BELOW_THE_PARSERS = ("orderflow.errors",)
"""All the reading of outside text may lean on: it sits under every parser."""


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, modules: Iterable[str], src: Path = SRC) -> set[str]:
    """The orderflow modules ``path`` imports, wherever in the file the import stands."""
    known = set(modules)
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # ``from .records import x`` inside orderflow.orders: orderflow.orders.records
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            # ``from orderflow.carriers import usps`` imports the module usps; ``from x import name`` imports x.
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
    return {name for name in found if name in known}


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Each module under ``src/orderflow`` and the orderflow modules it imports."""
    modules = {module_name(path, src): path for path in sorted((src / "orderflow").rglob("*.py"))}
    return {name: imported(path, modules, src) - {name} for name, path in modules.items()}


def within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def breaches(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that runs against the layering, as ``importer -> imported: the rule``."""
    found = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            rule = _broken_rule(importer, target)
            if rule:
                found.append(f"{importer} -> {target}: {rule}")
    return found


def _broken_rule(importer: str, target: str) -> str | None:
    if within(importer, PARSING) and not within(target, PARSING, *BELOW_THE_PARSERS):
        return "reading outside text sits under everything else"
    if within(target, INTAKE) and within(importer, "orderflow.vendors", "orderflow.carriers", "orderflow.rules",
                                          "orderflow.reports", DOMAIN):
        return "storefront intake is beside vendor intake, above the order domain and the rules"
    if within(importer, DOMAIN) and within(target, "orderflow.vendors", "orderflow.carriers", "orderflow.customers",
                                           "orderflow.reports", "orderflow.sync", "orderflow.demo", "orderflow.cli"):
        return "the order domain sits below vendors and carriers"
    if (within(importer, DOMAIN, "orderflow.reports") and within(target, "orderflow.rules")
            and not within(target, *QUEUE_API)):
        return "the rules are read only through the queue"
    return None


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import cycles (strongly connected groups of more than one module), each sorted, smallest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups, key=len)


class TestTheCheckItself:
    """The checks see what they must: a test that cannot fail guards nothing."""

    def test_a_vendor_module_reading_storefront_intake_is_a_breach(self) -> None:
        graph = {"orderflow.vendors.fetch": {"orderflow.storefronts.mapped_csv"}}
        assert breaches(graph) == ["orderflow.vendors.fetch -> orderflow.storefronts.mapped_csv: storefront intake "
                                   "is beside vendor intake, above the order domain and the rules"]

    def test_a_report_reading_the_engine_is_a_breach_and_the_queue_is_not(self) -> None:
        graph = {"orderflow.reports.daily": {"orderflow.rules.engine", "orderflow.rules.queue"}}
        assert breaches(graph) == ["orderflow.reports.daily -> orderflow.rules.engine: the rules are read only "
                                   "through the queue"]

    def test_the_domain_reaching_up_and_parsing_reaching_out_are_breaches(self) -> None:
        graph = {"orderflow.orders.records": {"orderflow.vendors.records"},
                 "orderflow.parsing.csv_rows": {"orderflow.orders.records", "orderflow.errors"}}
        assert [line.split(":")[0] for line in breaches(graph)] == [
            "orderflow.orders.records -> orderflow.vendors.records",
            "orderflow.parsing.csv_rows -> orderflow.orders.records"]

    def test_a_cycle_through_a_lazy_or_type_checking_import_is_found(self, tmp_path: Path) -> None:
        """Two modules that import each other, one only for type checking and the other inside a function."""
        demo = tmp_path / "orderflow" / "demo"
        demo.mkdir(parents=True)
        for package in (tmp_path / "orderflow", demo):
            (package / "__init__.py").write_text("")
        (demo / "a.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                                   "    from orderflow.demo.b import B\n")
        (demo / "b.py").write_text("def f() -> None:\n    from orderflow.demo import a\n")
        graph = import_graph(tmp_path)
        assert (graph["orderflow.demo.a"], graph["orderflow.demo.b"]) == ({"orderflow.demo.b"}, {"orderflow.demo.a"})
        assert cycles(graph) == [["orderflow.demo.a", "orderflow.demo.b"]]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


class TestTheTree:
    def test_the_graph_is_read(self, graph: dict[str, set[str]]) -> None:
        """The reader finds the imports it must (or every other check here passes by seeing nothing)."""
        assert "orderflow.orders.records" in graph["orderflow.vendors.records"]
        assert "orderflow.rules.listing" in graph["orderflow.cli.notifications"]  # an import inside a function

    def test_no_import_runs_against_the_layering(self, graph: dict[str, set[str]]) -> None:
        assert breaches(graph) == []

    def test_no_import_cycle(self, graph: dict[str, set[str]]) -> None:
        """Not even through an import inside a function or under ``TYPE_CHECKING``: a type two modules share
        gets a module of its own."""
        assert cycles(graph) == []
