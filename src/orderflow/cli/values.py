"""Values typed on the command line, checked where they are typed.

A typo must never look like an answer: ``--type vendor_lat`` printing "Nothing needs a person right now" is a
false all-clear. Every option with a fixed set of values, and every name of a configured thing (a vendor, a
rule), is checked here; a wrong one exits 2 (a usage error) naming the valid values and the closest one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo

import typer

from orderflow.clock import parse_duration, parse_when

TABLE_CSV_JSON = ("table", "csv", "json")
TABLE_JSON = ("table", "json")


def checked(text: str, valid: Iterable[str], *, what: str, option: str | None = None) -> str:
    """``text`` when it is one of ``valid`` (case does not matter); otherwise a usage error naming them, and
    the closest one."""
    choices = list(valid)
    by_lower = {choice.lower(): choice for choice in choices}
    if text.lower() in by_lower:
        return by_lower[text.lower()]
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"; did you mean {by_lower[close[0]]!r}?" if close else ""
    listed = ", ".join(choices) if choices else "none are configured"
    raise typer.BadParameter(f"{text!r} is not a known {what} (valid: {listed}){hint}", param_hint=option)


def one_of(*valid: str, what: str = "value") -> Callable[[str], str]:
    """A Typer ``parser`` that accepts only ``valid``."""
    def parse(text: str) -> str:
        return checked(text, valid, what=what)
    return parse


def metavar(*valid: str) -> str:
    return "[" + "|".join(valid) + "]"


def when(text: str, *, now: datetime, zone: tzinfo, option: str) -> datetime:
    """A time typed for ``option`` (a day in the shop's zone, a time, today, +2d, ...), or a usage error."""
    try:
        return parse_when(text, now=now, zone=zone)
    except ValueError as exc:
        close = difflib.get_close_matches(text.strip().lower(), ["today", "tomorrow", "yesterday"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise typer.BadParameter(f"{exc}{hint}", param_hint=option) from None


def until(until_text: str | None, for_text: str | None, *, now: datetime, zone: tzinfo) -> datetime:
    """The end of a snooze or silence: ``--until WHEN`` or ``--for 2d``, exactly one of them."""
    if bool(until_text) == bool(for_text):
        raise typer.BadParameter("give --until WHEN or --for like 2d, 6h or 30m (one of them)")
    if until_text:
        return when(until_text, now=now, zone=zone, option="--until")
    try:
        span: timedelta = parse_duration(for_text or "")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--for") from None
    return now + span
