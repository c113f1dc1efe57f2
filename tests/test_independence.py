"""Each test module stands on its own: what tests share lives in ``tests/support`` (fixtures in ``conftest.py``).

A test module that imports from another one runs that module's set-up, ties the two together so that changing
one breaks the other, and hides where a helper really lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def unimportable(folder: Path = TESTS) -> set[str]:
    """The dotted names of every test module and of ``conftest``: nothing may import them."""
    return {".".join(("tests", *path.relative_to(folder).with_suffix("").parts)) for path in folder.rglob("*.py")
            if path.name.startswith("test_") or path.name == "conftest.py"}


def imports_of(path: Path, folder: Path = TESTS) -> set[str]:
    """Every module ``path`` imports, anywhere in it (relative imports resolved), with each name it takes from
    one (``from tests import test_x`` imports ``tests.test_x``)."""
    package = ("tests", *path.relative_to(folder).parent.parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


class TestTestsStandAlone:
    def test_no_test_module_imports_another_or_conftest(self) -> None:
        """No file under tests/ imports a test module or conftest: shared helpers come from tests/support."""
        forbidden = unimportable()
        crossings = sorted(f"{path.relative_to(TESTS.parent)} imports {module}" for path in TESTS.rglob("*.py")
                           for module in imports_of(path) & forbidden)
        assert crossings == []

    def test_the_guard_sees_every_form_of_import(self, tmp_path: Path) -> None:
        """Plain, from-, relative and nested imports of a test module are all caught; support modules are not."""
        (tmp_path / "support").mkdir()
        (tmp_path / "support" / "shops.py").write_text("", encoding="utf-8")
        (tmp_path / "test_a.py").write_text("", encoding="utf-8")
        (tmp_path / "conftest.py").write_text("", encoding="utf-8")
        module = tmp_path / "support" / "helper.py"
        module.write_text("import tests.test_a\nfrom tests import conftest\nfrom ..test_a import x\n"
                          "from .shops import shop\ndef f():\n    from tests.test_a import y\n", encoding="utf-8")
        assert imports_of(module, tmp_path) & unimportable(tmp_path) == {"tests.test_a", "tests.conftest"}
        assert "tests.support.shops" in imports_of(module, tmp_path)
