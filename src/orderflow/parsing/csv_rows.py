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
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from pathlib import Path
from typing import IO

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


@dataclass(frozen=True)
class CsvRow:
    """One data row. ``line`` is the physical line (1-based, header = 1) where the row starts."""

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
        for _cells in _cells_after_header(stream, file=file, check_header=check_header, key=key,
                                          delimiter=delimiter):
            pass
        stream.seek(start)
    yield from _rows(stream, file=file, check_header=check_header, key=key, delimiter=delimiter)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (OSError, ValueError):
        return False


def _rows(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
          key: Callable[[str], str], delimiter: str) -> Iterator[CsvRow]:
    header: CsvHeader | None = None
    last_line = 1
    for line, cells in _cells_after_header(stream, file=file, check_header=check_header, key=key,
                                           delimiter=delimiter):
        if header is None:
            header = CsvHeader.from_cells(cells, key)
        # A row starts on the line after the previous row ended; blank rows only move the count on.
        elif any(map(str.strip, cells)):
            yield CsvRow(line=last_line + 1, cells=cells, header=header)
        last_line = line


def _cells_after_header(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
                        key: Callable[[str], str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The header's cells once ``check_header`` accepted them, then every row's, each with its last line."""
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
        check_header(CsvHeader.from_cells(header_cells, key))
        yield reader.line_num, header_cells
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", file=file, line=reader.line_num) from exc


def sniffed_delimiter(header_line: str) -> str:
    """The separator of a header row: the most frequent of comma, semicolon, tab and ``|`` outside quotes;
    a comma when none appears, or on a tie."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    best = max(_DELIMITERS, key=outside.count)
    return best if outside.count(best) else ","


def _text_lines(stream: IO[bytes], *, file: str) -> Iterator[str]:
    """Decode line by line, so an undecodable byte is reported on its own physical line."""
    number = 0
    while True:
        try:
            raw = stream.readline(_MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=file, line=number + 1) from exc
        if not raw:
            return
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if len(raw) > _MAX_LINE_BYTES:
            raise InputError(f"a line longer than {_MAX_LINE_BYTES} bytes: not a CSV export", file=file,
                             line=number)
        if b"\x00" in raw:
            raise InputError("binary content (NUL bytes): not a UTF-8 CSV file", file=file, line=number)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start + 1} of the line)", file=file,
                             line=number) from exc
