"""The shared CSV row reader reads a file a block of whole lines at a time: what it promises must not depend on
where a block ends (a problem past the first block, a line across two reads, a stream giving a byte a read)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from orderflow.errors import InputError
from orderflow.parsing.csv_rows import CsvHeader, read_csv_rows

LIMIT = 1 << 20  # the longest physical line the reader takes, in bytes


def accept(header: CsvHeader) -> None:
    """Any header will do."""


def rows_of(source: Any) -> list[tuple[int, list[str]]]:
    return [(row.line, list(row.cells)) for row in read_csv_rows(source, file="big.csv", check_header=accept)]


def many_rows(count: int) -> list[bytes]:
    return [f"order{number:07d},{number}\n".encode() for number in range(count)]


class OneByteAtATime(io.RawIOBase):
    """A stream that cannot seek and hands out one byte per read."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._data:
            return 0
        buffer[0], self._data = self._data[0], self._data[1:]
        return 1


class TestBlocks:
    def test_rows_and_lines_across_many_blocks(self, tmp_path: Path) -> None:
        """Three megabytes of rows (blocks end mid-line) come out whole, each with its physical line."""
        body = many_rows(150_000)
        path = tmp_path / "big.csv"
        path.write_bytes(b"\xef\xbb\xbfnumber,count\n" + b"".join(body))
        rows = rows_of(path)
        assert len(rows) == 150_000
        assert rows[0] == (2, ["order0000000", "0"])
        assert rows[123_456] == (123_458, ["order0123456", "123456"])

    def test_bad_byte_past_the_first_block_refuses_the_file_before_any_row(self, tmp_path: Path) -> None:
        """Not UTF-8 on a line far into the file: nothing is read, and the error names that line and byte."""
        body = many_rows(150_000)
        body[120_000] = b"order\xe9,1\n"
        path = tmp_path / "big.csv"
        path.write_bytes(b"number,count\n" + b"".join(body))
        taken = []
        with pytest.raises(InputError) as raised:
            taken.extend(read_csv_rows(path, file="big.csv", check_header=accept))
        assert taken == []
        assert str(raised.value) == "big.csv:120002: not UTF-8 text (byte 6 of the line)"

    def test_line_longer_than_the_limit_is_refused_naming_it(self, tmp_path: Path) -> None:
        """A line of more than a mebibyte is no row, wherever the reads split it; one of just that size is read."""
        cells = ",".join(["x" * 100_000] * 10) + ","
        longest = cells + "x" * (LIMIT - 1 - len(cells))  # with its line end, the limit exactly
        path = tmp_path / "long.csv"
        path.write_bytes(b"a,b\n" + b"".join(many_rows(10)) + longest.encode() + b"\n")
        assert rows_of(path)[-1][0] == 12
        path.write_bytes(b"a,b\n" + b"".join(many_rows(10)) + longest.encode() + b"x\nlast,1\n")
        with pytest.raises(InputError, match=rf"^big\.csv:12: a line longer than {LIMIT} bytes"):
            rows_of(path)

    def test_broken_csv_before_a_binary_line_is_named_first(self, tmp_path: Path) -> None:
        """Problems are named in file order: a stray quote on line 3 before NUL bytes on line 4."""
        path = tmp_path / "mixed.csv"
        path.write_bytes(b'a,b\n1,2\n"x"y,3\nfoo\x00,4\n')
        with pytest.raises(InputError, match=r"^big\.csv:3: not readable as CSV"):
            rows_of(path)
        path.write_bytes(b'a,b\n1,2\n"x",3\nfoo\x00,4\n')
        with pytest.raises(InputError, match=r"^big\.csv:4: binary content"):
            rows_of(path)

    def test_stream_giving_a_byte_a_read(self) -> None:
        """A byte-order mark and lines split over many reads, and a quoted cell over two lines."""
        data = b'\xef\xbb\xbfa,b\n1,"two\nlines"\n3,4\n'
        assert rows_of(io.BufferedReader(OneByteAtATime(data))) == [(2, ["1", "two\nlines"]), (4, ["3", "4"])]
