"""How text goes into a message: outside text quoted short, on one line, never able to flood a log; a list of
names as a sentence says it."""

from __future__ import annotations

from collections.abc import Iterable

_SHOWN_CHARS = 40


def shown(text: str) -> str:
    """The text as a refusal quotes it: in quotes, cut short so one bad cell cannot flood a log line."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


def named(text: str) -> str:
    """An id (order or PO number) as a message names it: as it is when short and printable, else :func:`shown`.

    A line break in a cell must not split a refusal over two log lines.
    """
    return text if text.isprintable() and len(text) <= _SHOWN_CHARS else shown(text)


def in_words(names: Iterable[str]) -> str:
    """Names as a sentence lists them: "A", "A and B", "A, B and C"."""
    listed = list(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
