"""The documentation is tested like code: the CLI reference is current and every command explains itself."""

from __future__ import annotations

import difflib
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orderflow.cli.reference import REGENERATE, generate, missing_help, walk, write

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def toy_app() -> typer.Typer:
    """A small app with a nested group, documented except where the names say otherwise."""
    app = typer.Typer(help="A toy.", rich_markup_mode=None)
    paint = typer.Typer(help="Paint things.")
    brushes = typer.Typer(help="Brushes.")

    @app.callback()
    def root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more.")] = False) -> None:
        """A toy."""

    @app.command("mix")
    def mix(
        name: Annotated[str, typer.Argument(help="The mix's name.")],
        label: Annotated[list[str], typer.Option("--label", help="A label; give several.")],
        colour: Annotated[Colour, typer.Option("--colour", envvar="TOY_COLOUR", help="Which | what colour.")] = (
            Colour.RED),
        coats: Annotated[int, typer.Option("--coats", min=1, help="Coats of <paint>.")] = 2,
    ) -> None:
        """Mix a colour. Stir well.

        A second paragraph.
        """

    @paint.command("wall")
    def wall(undocumented_argument: Annotated[str, typer.Argument()],
             undocumented_option: Annotated[str, typer.Option("--quietly")] = "x") -> None:
        """Paint a wall."""

    @brushes.command("clean")
    def clean() -> None:
        pass

    brushes.command("hidden", hidden=True)(clean)
    paint.add_typer(brushes, name="brushes")
    app.add_typer(paint, name="paint")
    return app


class TestCliReference:
    def test_docs_cli_md_is_current(self) -> None:
        """docs/cli.md is exactly what the registered commands' help generates today."""
        expected = generate()
        actual = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
        diff = "".join(list(difflib.unified_diff(actual.splitlines(True), expected.splitlines(True),
                                                 "docs/cli.md", "generated"))[:40])
        assert actual == expected, f"docs/cli.md is stale: run `{REGENERATE}` and commit the result.\n{diff}"

    def test_every_command_option_and_argument_has_help(self) -> None:
        """No registered command, option or argument leaves its --help empty."""
        problems = missing_help()
        assert not problems, "add help text to:\n" + "\n".join(problems)

    def test_missing_help_is_found_at_every_depth(self) -> None:
        """Undocumented commands, options and arguments are named with their path, however deep."""
        assert missing_help(toy_app()) == [
            "orderflow paint brushes clean: the command has no help",
            "orderflow paint wall: argument UNDOCUMENTED_ARGUMENT has no help",
            "orderflow paint wall: option --quietly has no help",
        ]

    def test_every_visible_command_gets_a_section_root_first(self) -> None:
        """Root first, then each group's commands depth first in alphabetical order; hidden ones are left out."""
        assert [doc.path for doc in walk(toy_app())] == [
            "orderflow", "orderflow mix", "orderflow paint", "orderflow paint brushes",
            "orderflow paint brushes clean", "orderflow paint wall",
        ]

    def test_commands_registered_later_are_picked_up(self) -> None:
        """A command added to the app appears in the reference without touching the generator."""
        app = toy_app()

        @app.command("dry")
        def dry() -> None:
            """Let it dry."""

        text = generate(app)
        assert "## `orderflow dry`" in text
        assert "| [`orderflow dry`](#orderflow-dry) | Let it dry. |" in text

    def test_section_shows_usage_help_and_tables(self) -> None:
        """Each section has the usage, the whole help, and rows of option, type, default and help."""
        text = generate(toy_app())
        section = text.split("## `orderflow mix`\n")[1].split("\n## ")[0]
        assert section == (
            "\n```\norderflow mix [OPTIONS] NAME\n```\n\n"
            "Mix a colour. Stir well.\n\nA second paragraph.\n\n"
            "| argument | type | default | help |\n|---|---|---|---|\n"
            "| `NAME` | str | required | The mix's name. |\n\n"
            "| option | type | default | help |\n|---|---|---|---|\n"
            "| `--label` | str, repeatable | required | A label; give several. |\n"
            "| `--colour` | one of `red`, `blue` | `red` | Which \\| what colour. Environment: TOY_COLOUR. |\n"
            "| `--coats` | int, at least 1 | `2` | Coats of &lt;paint&gt;. |\n"
        )

    def test_root_options_come_first(self) -> None:
        """The reference opens with the index and then the root command's shared options."""
        text = generate()
        first = text.split("\n## ")[1]
        assert first.startswith("`orderflow`\n\n```\norderflow [OPTIONS] COMMAND [ARGS]...\n```")
        for option in ("`--config`", "`--db`", "`--now`", "`--quiet`, `-q`", "`--debug`", "`--version`"):
            assert f"| {option} |" in first

    def test_groups_link_their_commands(self) -> None:
        """A group's section ends with links to its commands' sections."""
        text = generate(toy_app())
        assert ("Commands: [`orderflow paint brushes`](#orderflow-paint-brushes), "
                "[`orderflow paint wall`](#orderflow-paint-wall).") in text

    def test_write_reports_whether_anything_changed(self, tmp_path: Path) -> None:
        """Writing twice changes the file once."""
        target = tmp_path / "docs" / "cli.md"
        assert write(target, toy_app()) is True
        assert write(target, toy_app()) is False
        assert target.read_text(encoding="utf-8") == generate(toy_app())

    def test_module_entry_point_writes_the_file(self, tmp_path: Path) -> None:
        """`python -m orderflow.cli.reference PATH` (what scripts/cli-reference runs) writes the reference."""
        target = tmp_path / "cli.md"
        result = subprocess.run([sys.executable, "-m", "orderflow.cli.reference", str(target)],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert target.read_text(encoding="utf-8") == generate()
        assert (ROOT / REGENERATE).stat().st_mode & 0o111
