"""The command-line reference (``docs/cli.md``), built from the commands' own help.

The Markdown is generated, never written by hand, so it cannot drift from what ``--help`` says::

    from orderflow.cli.reference import generate, missing_help
    text = generate()        # the whole reference, deterministic for a given set of commands
    problems = missing_help()  # ["orderflow notifications ack: argument ID has no help", ...]

``scripts/cli-reference`` rewrites ``docs/cli.md``; ``tests/test_docs.py`` fails when it is stale.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import typer
import typer.main
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

PROGRAM = "orderflow"
REGENERATE = "scripts/cli-reference"

_Command = TyperCommand | TyperGroup
_Parameter = TyperOption | TyperArgument


@dataclass(frozen=True)
class CommandDoc:
    """One command (or group) as the reference shows it: its path, context and visible parameters."""

    path: str
    command: _Command
    context: typer.Context
    parameters: tuple[_Parameter, ...]

    @property
    def anchor(self) -> str:
        """The heading's anchor as GitHub computes it (lower case, spaces to hyphens)."""
        return self.path.lower().replace(" ", "-")


def _narrow(command: object, path: str) -> _Command:
    if not isinstance(command, TyperCommand | TyperGroup):
        raise TypeError(f"{path}: {type(command).__name__} is not a Typer command")
    return command


def walk(app: typer.Typer | None = None) -> Iterator[CommandDoc]:
    """Every visible command, the root first, then depth first with sub-commands in alphabetical order."""
    if app is None:
        from orderflow.cli.main import app as orderflow_app

        app = orderflow_app
    root = _narrow(typer.main.get_command(app), PROGRAM)
    yield from _walk(root, typer.Context(root, info_name=PROGRAM), PROGRAM)


def _walk(command: _Command, context: typer.Context, path: str) -> Iterator[CommandDoc]:
    parameters = tuple(p for p in command.params if isinstance(p, _Parameter) and not p.hidden)
    yield CommandDoc(path=path, command=command, context=context, parameters=parameters)
    if isinstance(command, TyperGroup):
        for name in sorted(command.commands):
            child = _narrow(command.commands[name], f"{path} {name}")
            if not child.hidden:
                yield from _walk(child, typer.Context(child, parent=context, info_name=name), f"{path} {name}")


def help_text(command: _Command) -> str:
    """The command's help as ``--help`` shows it: dedented, cut at a form feed, without trailing space."""
    return inspect.cleandoc(command.help or "").partition("\f")[0].strip()


def missing_help(app: typer.Typer | None = None) -> list[str]:
    """One line per command, option or argument without help text; empty when everything is documented."""
    problems: list[str] = []
    for doc in walk(app):
        if not help_text(doc.command):
            problems.append(f"{doc.path}: the command has no help")
        problems.extend(f"{doc.path}: {_kind(p)} {_label(p)} has no help"
                        for p in doc.parameters if not (p.help or "").strip())
    return problems


def generate(app: typer.Typer | None = None) -> str:
    """The whole reference as Markdown: an index, then one section per command path."""
    docs = list(walk(app))
    lines = [
        f"# `{PROGRAM}` command-line reference",
        "",
        f"Generated from the commands' own help by `{REGENERATE}`; do not edit by hand. "
        "`tests/test_docs.py` fails when this page is stale.",
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{doc.path}`](#{doc.anchor}) | {_cell(_escape(_summary(doc.command)))} |" for doc in docs),
    ]
    for doc in docs:
        lines.extend(["", *_section(doc)])
    return "\n".join(lines) + "\n"


def write(path: Path, app: typer.Typer | None = None) -> bool:
    """Write the reference to ``path``; True when its content changed."""
    text = generate(app)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _section(doc: CommandDoc) -> list[str]:
    usage = " ".join([doc.path, "[OPTIONS]", *(_usage(p) for p in doc.parameters if isinstance(p, TyperArgument))])
    if isinstance(doc.command, TyperGroup):
        usage += " [COMMAND [ARGS]...]" if doc.command.invoke_without_command else " COMMAND [ARGS]..."
    lines = [f"## `{doc.path}`", "", "```", usage, "```"]
    if text := help_text(doc.command):
        lines.extend(["", _escape(text)])
    arguments = [p for p in doc.parameters if isinstance(p, TyperArgument)]
    options = [p for p in doc.parameters if isinstance(p, TyperOption)]
    if arguments:
        lines.extend(["", "| argument | type | default | help |", "|---|---|---|---|"])
        lines.extend(_row(p, doc.context) for p in arguments)
    if options:
        lines.extend(["", "| option | type | default | help |", "|---|---|---|---|"])
        lines.extend(_row(p, doc.context) for p in options)
    if isinstance(doc.command, TyperGroup):
        children = [f"[`{doc.path} {name}`](#{doc.anchor}-{name.lower()})"
                    for name in sorted(doc.command.commands) if not doc.command.commands[name].hidden]
        if children:
            lines.extend(["", "Commands: " + ", ".join(children) + "."])
    return lines


def _row(parameter: _Parameter, context: typer.Context) -> str:
    help_cell = (parameter.help or "").strip()
    if isinstance(parameter.envvar, str):
        help_cell = f"{help_cell} Environment: {parameter.envvar}.".strip()
    return (f"| {_cell(_name(parameter))} | {_cell(_type(parameter, context))} | "
            f"{_cell(_default(parameter, context))} | {_cell(_escape(help_cell))} |")


def _argument_name(argument: TyperArgument) -> str:
    return argument.metavar or (argument.name or "").upper()


def _usage(argument: TyperArgument) -> str:
    name = _argument_name(argument)
    return (name if argument.required else f"[{name}]") + ("..." if argument.nargs != 1 else "")


def _kind(parameter: _Parameter) -> str:
    return "argument" if isinstance(parameter, TyperArgument) else "option"


def _label(parameter: _Parameter) -> str:
    """``ID`` or ``--quiet/-q``, as an error message names a parameter."""
    if isinstance(parameter, TyperArgument):
        return _argument_name(parameter)
    return "/".join([*parameter.opts, *parameter.secondary_opts])


def _name(parameter: _Parameter) -> str:
    """``ID``, ``FILES...`` or ``--quiet``, ``-q`` in code spans, as the tables show them."""
    if isinstance(parameter, TyperArgument):
        return f"`{_argument_name(parameter)}`" + ("..." if parameter.nargs != 1 else "")
    return ", ".join(f"`{opt}`" for opt in [*parameter.opts, *parameter.secondary_opts])


def _type(parameter: _Parameter, context: typer.Context) -> str:
    if isinstance(parameter, TyperOption) and parameter.is_flag:
        return "flag"
    label = parameter.display_type(context).removeprefix("<").removesuffix(">")
    choices = parameter.metavar or ""
    if choices.startswith("[") and choices.endswith("]") and "|" in choices:  # a value checked by cli.values
        return "one of " + ", ".join(f"`{choice}`" for choice in choices[1:-1].split("|"))
    if parameter.type_descriptor.is_choice:
        return "one of " + ", ".join(f"`{choice}`" for choice in label.split("|"))
    if label.startswith("list[") and label.endswith("]"):
        many = "repeatable" if isinstance(parameter, TyperOption) else "any number"
        return f"{label[5:-1].lower()}, {many}"
    if label.endswith(" range"):
        label = label.removesuffix(" range")
        bounds = [f"at least {parameter.min}" if parameter.min is not None else "",
                  f"at most {parameter.max}" if parameter.max is not None else ""]
        return ", ".join([label, *(bound for bound in bounds if bound)])
    return label


def _default(parameter: _Parameter, context: typer.Context) -> str:
    if parameter.required:
        return "required"
    value = parameter.get_default(context, call=False)
    if value is None or value is False or value in ((), []):
        return ""
    if isinstance(value, Enum):
        value = value.value
    return f"`{value}`"


def _summary(command: _Command) -> str:
    """The first sentence (or line) of the help, as the index shows it."""
    first_paragraph = help_text(command).split("\n\n")[0].replace("\n", " ")
    sentence, dot, _ = first_paragraph.partition(". ")
    return sentence + ("." if dot else "")


def _escape(text: str) -> str:
    """Help text shown as written: ``<date>`` is not an HTML tag, ``MAN*CP`` not emphasis."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def main(argv: list[str]) -> int:
    """``python -m orderflow.cli.reference [PATH]``: regenerate the reference (default ``docs/cli.md``)."""
    path = Path(argv[0]) if argv else Path("docs/cli.md")
    changed = write(path)
    sys.stderr.write(f"{path}: {'updated' if changed else 'up to date'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
