"""How outside text is quoted in a message: short, on one line, never able to flood a log."""

from __future__ import annotations

_SHOWN_CHARS = 40


def shown(text: str) -> str:
    """The text as a refusal quotes it: in quotes, cut short so one bad cell cannot flood a log line."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


def named(text: str) -> str:
    """An id (order or PO number) as a message names it: as it is when short and printable, else :func:`shown`.

    A line break in a cell must not split a refusal over two log lines.
    """
    return text if text.isprintable() and len(text) <= _SHOWN_CHARS else shown(text)
