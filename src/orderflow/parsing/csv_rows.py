"""CSV rows as a stream, each with the physical line where it starts, for every parser of outside CSV.

::

    def check_header(header: CsvHeader) -> None:
        if header.missing(["PO Number"]):
            raise InputError("no PO Number column", file="acks.csv")

    for row in read_csv_rows(Path("acks.csv"), file="acks.csv", check_header=check_header):
        row.line, row.get("PO Number")

UTF-8, with or without a byte-order mark; any line ends (LF, CRLF) and quoted cells spanning lines; a header
row, its names compared by a key the caller picks (:func:`header_key_loose`, :func:`header_key_exact`); the
separator given, or sniffed from the header row (:data:`SNIFF`). Binary content, bytes that are not UTF-8, a
line too long to be a row and broken CSV (a stray quote, or a file cut off inside a quoted cell) raise
:class:`~orderflow.errors.InputError` naming the file and line. Line numbers are physical lines (the header
is line 1; a quoted cell spanning lines counts each line).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress
from pathlib import Path
from typing import IO, Any, NamedTuple

from orderflow.errors import InputError

CsvSource = IO[bytes] | str | os.PathLike[str]
"""A CSV to read: an open binary stream (left open) or a path (opened and closed here)."""

_BOM = b"\xef\xbb\xbf"
# A physical line longer than this is not a row anyone exports (and must not be read into memory whole).
_MAX_LINE_BYTES = 1 << 20
SNIFF = "auto"
"""The delimiter setting that has the separator read from the file's header row."""
_DELIMITERS = ",;\t|"



def header_key_exact(name: str) -> str:
    """Column names compared as written (surrounding spaces aside): Shopify's headers are fixed."""
    return name.strip()


def header_key_loose(name: str) -> str:
    """Column names compared ignoring case, spaces, ``_`` and ``.``: ``Ship Zip`` = ``ship_zip``."""
    return re.sub(r"[\s_.]+", "", name).casefold()


@dataclass(frozen=True)
class CsvHeader:
    """The header row: which cell holds which column (the first, if a name repeats)."""

    names: tuple[str, ...]
    key: Callable[[str], str]
    index: dict[str, int]
    # Columns asked for by name, resolved once: a big import asks millions of times.
    _resolved: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_cells(cls, cells: Sequence[str], key: Callable[[str], str]) -> CsvHeader:
        index: dict[str, int] = {}
        for position, name in enumerate(cells):
            index.setdefault(key(name), position)
        return cls(names=tuple(cells), key=key, index=index)

    def position(self, column: str) -> int | None:
        """Which cell holds ``column``; ``None`` when the file has no such column."""
        try:
            return self._resolved[column]
        except KeyError:
            found = self._resolved[column] = self.index.get(self.key(column))
            return found

    def missing(self, columns: Sequence[str]) -> list[str]:
        return [column for column in columns if self.position(column) is None]


class CsvRow(NamedTuple):
    """One data row. ``line`` is the physical line (1-based, header = 1) where the row starts.

    A named tuple: made once per row of a file, a frozen dataclass cost more than reading the row.
    """

    line: int
    cells: Sequence[str]
    header: CsvHeader

    def get(self, column: str) -> str:
        """The cell under ``column``; ``""`` when the file has no such column or the row stops short."""
        position = self.header.position(column)
        if position is None or position >= len(self.cells):
            return ""
        return self.cells[position]

    def filled(self) -> dict[str, str]:
        """The non-empty cells by column name: what an order keeps as its raw payload."""
        return dict(compress(zip(self.header.names, self.cells, strict=False), self.cells))


def read_csv_rows(source: CsvSource, *, file: str, check_header: Callable[[CsvHeader], None],
                  key: Callable[[str], str] = header_key_loose, delimiter: str = ",") -> Iterator[CsvRow]:
    """Stream the data rows of a CSV, after ``check_header`` accepted its header (it raises ``InputError``).

    Whole-file problems (binary content, bytes that are not UTF-8, broken CSV) raise ``InputError``. A stream
    that can seek (every file on disk) is checked for them end to end first, so such a file yields nothing at
    all; a stream that cannot seek raises where the problem is met. Blank rows are skipped.
    """
    if isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as stream:
                yield from _checked_rows(stream, file=file, check_header=check_header, key=key,
                                         delimiter=delimiter)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
    else:
        yield from _checked_rows(source, file=file, check_header=check_header, key=key, delimiter=delimiter)


def _checked_rows(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
                  key: Callable[[str], str], delimiter: str) -> Iterator[CsvRow]:
    if _seekable(stream):
        start = stream.tell()
        with _csv_reader(stream, file=file, check_header=check_header, key=key, delimiter=delimiter) as (reader, _):
            deque(reader, maxlen=0)  # every row parsed, none kept: the rows are read again below
        stream.seek(start)
    yield from _rows(stream, file=file, check_header=check_header, key=key, delimiter=delimiter)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (OSError, ValueError):
        return False


def _rows(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
          key: Callable[[str], str], delimiter: str) -> Iterator[CsvRow]:
    with _csv_reader(stream, file=file, check_header=check_header, key=key, delimiter=delimiter) as (reader, header):
        last_line = reader.line_num
        for cells in reader:
            # A row starts on the line after the previous row ended; blank rows only move the count on.
            if any(map(str.strip, cells)):
                yield CsvRow(last_line + 1, cells, header)
            last_line = reader.line_num


@contextmanager
def _csv_reader(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
                key: Callable[[str], str], delimiter: str) -> Iterator[tuple[Any, CsvHeader]]:
    """A CSV reader past the header row ``check_header`` accepted, and that header; broken CSV met while it is
    read raises ``InputError`` naming the line."""
    # Strict: a stray quote would otherwise swallow the rows up to the next quote into one cell, and the
    # orders on those rows would vanish without a refusal; an unclosed quote means a file cut off mid-cell.
    lines = _text_lines(stream, file=file)
    first = next(lines, None)
    if delimiter == SNIFF:
        delimiter = sniffed_delimiter(first or "")
    reader = csv.reader(chain(() if first is None else (first,), lines), delimiter=delimiter, strict=True)
    try:
        header_cells = next(reader, None)
        if header_cells is None:
            raise InputError("the file is empty: no header row", file=file)
        header = CsvHeader.from_cells(header_cells, key)
        check_header(header)
        yield reader, header
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", file=file, line=reader.line_num) from exc


def sniffed_delimiter(header_line: str) -> str:
    """The separator of a header row: the most frequent of comma, semicolon, tab and ``|`` outside quotes;
    a comma when none appears, or on a tie."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    best = max(_DELIMITERS, key=outside.count)
    return best if outside.count(best) else ","


def _text_lines(stream: IO[bytes], *, file: str) -> Iterator[str]:
    """The file's lines, decoded. A line that cannot be a row (too long, NUL bytes, not UTF-8) raises
    ``InputError`` naming it, once the lines before it were read (a broken row before it is reported first)."""
    return chain.from_iterable(_text_blocks(stream, file=file))


def _text_blocks(stream: IO[bytes], *, file: str) -> Iterator[Iterable[str]]:
    # A block of whole lines is checked, decoded and split at once, keeping the work per line in C: an export
    # has millions of lines. A block holds what one read adds to the partial line the read before left, so only
    # its first line can be longer than a read; a partial line that long is refused before more is read.
    # A stream that cannot seek (one read as it arrives) gives what it has, so its first rows come out early.
    read = stream.read if _seekable(stream) else getattr(stream, "read1", stream.read)
    number = 0  # lines before the block
    carry = b""
    started = False
    while True:
        try:
            data = read(_MAX_LINE_BYTES)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=file, line=number + 1) from exc
        buffer = carry + data
        if not started:
            if data and _BOM.startswith(buffer) and buffer != _BOM:
                carry = buffer  # a read shorter than the byte-order mark
                continue
            buffer, started = buffer.removeprefix(_BOM), True
        end = buffer.rfind(b"\n") + 1 if data else len(buffer)
        block, carry = buffer[:end], buffer[end:]
        if block:
            lines, problem = _decoded(block, file=file, number=number)
            yield lines
            if problem is not None:
                raise problem
            number += block.count(b"\n")
        if len(carry) > _MAX_LINE_BYTES:
            raise InputError(_LONG_LINE, file=file, line=number + 1)
        if not data:
            return


_LONG_LINE = f"a line longer than {_MAX_LINE_BYTES} bytes: not a CSV export"


def _decoded(block: bytes, *, file: str, number: int) -> tuple[io.StringIO, InputError | None]:
    """Whole lines, the first of them line ``number + 1``, as text to read line by line; or those before the
    first that cannot be a row, and the error naming it."""
    first_end = block.find(b"\n") + 1 or len(block)
    nul = block.find(b"\x00")
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad: int | None = exc.start
    else:
        if first_end <= _MAX_LINE_BYTES and nul < 0:
            return io.StringIO(text, newline="\n"), None
        bad = None
    # The first line that cannot be a row; on one line, its length is named first, then NUL bytes, then UTF-8.
    problems = []
    if first_end > _MAX_LINE_BYTES:
        problems.append((0, 0, _LONG_LINE))
    if nul >= 0:
        problems.append((block.rfind(b"\n", 0, nul) + 1, 1, "binary content (NUL bytes): not a UTF-8 CSV file"))
    if bad is not None:
        start = block.rfind(b"\n", 0, bad) + 1
        problems.append((start, 2, f"not UTF-8 text (byte {bad - start + 1} of the line)"))
    start, _, reason = min(problems)
    return (io.StringIO(block[:start].decode("utf-8"), newline="\n"),
            InputError(reason, file=file, line=number + block.count(b"\n", 0, start) + 1))
