"""Hypothesis strategies that damage real input files the way transfers, spreadsheets and people do.

Three levels, from blunt to precise::

    damaged = data.draw(mutated_bytes(SAMPLE))                 # flipped, inserted, dropped and cut bytes/lines
    damaged = data.draw(mutated_fields(SAMPLE, sep=b"*"))      # one element of one segment replaced or swapped
    document = data.draw(mutated_json(json.loads(SAMPLE)))     # one node of the JSON tree replaced or removed

The values planted are :data:`NASTY_TEXT`: the strings that break careless parsers (empty cells, huge and
non-ASCII numbers, impossible dates, spreadsheet formulas, separators, byte-order marks) mixed with arbitrary
text, so hypothesis explores around them.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

NASTY_TEXT = (
    "", " ", "0", "-0", "-1", "+1", "1.5", "01", "1e400", "-1e400", "1E+2", "NaN", "nan", "Infinity", "-Infinity",
    "9" * 25, "4" * 400, "0x1F", "1_000", "\u00b2", "\u00b9\u00b2", "\u0661\u0662\u0663", "\U0001d7d9",
    "\u2167", "12,5", "$24.00", "24.00 USD", " 24.00 ", "true", "null", "None", "[]", "{}",
    "2026-02-30", "2026-13-01", "0000-00-00", "00000000", "99999999", "20261399", "2401", "2599",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "0001-01-01 00:00:00 +0100",
    "9999-12-31 23:59:59 -1400", "2026-03-12T09:41:02", "2026-03-12 09:41:02 +9999", "1970-01-01",
    "=1+1", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "'04101",
    "*", "~", ">", ",", ";", "|", "\"", "\"\"", "'", "\\", "\t", "\r", "\n", "\r\n", "\ufeff", "\u200b",
    "\u202e", "\x7f", "\x1b[31m", "#", "##1042", "TB1042-ACME", "\u00e9", "\U0001f600", "a" * 300,
)
"""Values that have broken parsers before: each is planted in cells, elements and JSON strings."""

text_values = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=30))
"""A nasty value or arbitrary text (which may hold surrogates and NULs: a parser must cope with them too)."""

printable_values = st.one_of(
    st.sampled_from([value for value in NASTY_TEXT if "\x00" not in value]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30),
)
"""Values a UTF-8 text file can hold as a field (no lone surrogates, no NUL)."""

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e300, -1e300, 1e20, 2**63, -(2**63)]),
    text_values,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=10), children, max_size=3)),
    max_leaves=8,
)
"""Any JSON value, with NaN, infinities and numbers too big for a C integer or a timestamp."""


# --- bytes and lines ----------------------------------------------------------------------------------------------

def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _flip(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]


def _insert(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    planted = draw(st.one_of(st.binary(min_size=1, max_size=8),
                             text_values.map(lambda text: text.encode("utf-8", "surrogatepass"))))
    return data[:at] + planted + data[at:]


def _delete(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + data[at + draw(st.integers(1, 16)):]


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[:draw(st.integers(0, len(data)))]


def _drop_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"".join(lines)


def _repeat_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    at = draw(st.integers(0, len(lines) - 1))
    lines.insert(draw(st.integers(0, len(lines))), lines[at])
    return b"".join(lines)


def _swap_lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if len(lines) < 2:
        return data
    first, second = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[first], lines[second] = lines[second], lines[first]
    return b"".join(lines)


def _line_endings(draw: st.DrawFn, data: bytes) -> bytes:
    ending = draw(st.sampled_from([b"\r\n", b"\r", b"", b"\n\n"]))
    return ending.join(line.rstrip(b"\r\n") for line in _lines(data))


_BYTE_MUTATIONS: tuple[Callable[[st.DrawFn, bytes], bytes], ...] = (
    _flip, _insert, _delete, _truncate, _drop_line, _repeat_line, _swap_lines, _line_endings,
)


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes, *, max_mutations: int = 4) -> bytes:
    """``data`` after one to ``max_mutations`` byte or line mutations (flip, insert, delete, cut, line moves)."""
    for _ in range(draw(st.integers(1, max_mutations))):
        data = draw(st.sampled_from(_BYTE_MUTATIONS))(draw, data)
    return data


@st.composite
def mutated_fields(draw: st.DrawFn, data: bytes, *, sep: bytes, max_mutations: int = 3) -> bytes:
    """``data`` with fields of its lines (split on ``sep``) replaced by nasty values, swapped or dropped."""
    lines = _lines(data)
    if not lines:
        return data
    for _ in range(draw(st.integers(1, max_mutations))):
        at = draw(st.integers(0, len(lines) - 1))
        body = lines[at].rstrip(b"\r\n")
        ending = lines[at][len(body):]
        fields = body.split(sep)
        index = draw(st.integers(0, len(fields) - 1))
        action = draw(st.sampled_from(["replace", "swap", "drop", "repeat"]))
        if action == "replace":
            fields[index] = draw(printable_values).encode()
        elif action == "swap":
            other = draw(st.integers(0, len(fields) - 1))
            fields[index], fields[other] = fields[other], fields[index]
        elif action == "drop" and len(fields) > 1:
            del fields[index]
        else:
            fields.insert(index, fields[index])
        lines[at] = sep.join(fields) + ending
    return b"".join(lines)


# --- CSV cells, keeping the file well formed ------------------------------------------------------------------------

def csv_rows(data: bytes) -> list[list[str]]:
    """The rows of a UTF-8 CSV (a byte-order mark dropped)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    """Rows written back as CSV, quoted where needed, so any cell value keeps the file well formed."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


# --- JSON trees ------------------------------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def json_paths(node: Any, path: Path = ()) -> list[Path]:
    """Every place in a JSON tree, the root (``()``) first."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += json_paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += json_paths(child, (*path, index))
    return found


def _parent(document: Any, path: Path) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_json(draw: st.DrawFn, document: Any, *, max_mutations: int = 3,
                 within: Path = ()) -> Any:
    """A deep copy of ``document`` with nodes (at or under ``within``) replaced, removed or repeated."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        places = [path for path in json_paths(document) if path[:len(within)] == within]
        path = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "replace", "remove", "repeat"]))
        if not path:
            document = draw(json_values)
            continue
        parent, key = _parent(document, path), path[-1]
        if action == "replace" or (action == "repeat" and not isinstance(parent, list)):
            parent[key] = draw(json_values)
        elif action == "remove" and len(path) > len(within):
            del parent[key]
        elif action == "repeat":
            parent.insert(int(key), copy.deepcopy(parent[key]))
    return document


def json_bytes(document: Any) -> bytes:
    """JSON as a careless producer writes it: NaN and Infinity allowed, any unicode escaped."""
    return json.dumps(document, allow_nan=True).encode()
