"""Reading a catalog file: good rows kept, each bad row refused with its file, line and field, and a file that
is not readable as a catalog refused whole (naming the line), so no part of it is applied by mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderflow.catalog import read_catalog_csv
from orderflow.errors import InputError

VENDORS = ("ACME", "STITCH")


def catalog(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_good_rows_are_kept_and_bad_ones_refused_on_their_physical_line(tmp_path: Path) -> None:
    # A description with a line break inside quotes (spreadsheets write them) takes two physical lines, so
    # the bad row after it is on line 4, where an editor shows it.
    path = catalog(tmp_path, 'SKU,Vendor,Vendor SKU,Description,UPC\n'
                             'LT-BLK-L,acme,ACM-1,"Logo tee\nblack",012345678905\n'
                             'LT-WHT-L,NOBODY,X-1,,\n'
                             'LT-RED-L,ACME,ACM-2,,1.23457E+11\n'
                             'LT-BLK-L,STITCH,SC-1,,\n')
    rows, refusals = read_catalog_csv(path, vendor_codes=VENDORS)
    assert [(row.sku, row.vendor, row.description) for row in rows] == [("LT-BLK-L", "ACME", "Logo tee\nblack")]
    assert [(r.line, r.field) for r in refusals] == [(4, "vendor"), (5, "upc"), (6, "sku")]
    assert "scientific notation" in refusals[1].reason
    assert refusals[2].reason == "LT-BLK-L appears again (first on line 2)"
    assert {r.file for r in refusals} == {str(path)}


def test_a_file_without_the_required_columns_is_not_a_catalog(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing column\(s\) vendor_sku"):
        read_catalog_csv(catalog(tmp_path, "sku,vendor\nA,ACME\n"), vendor_codes=VENDORS)


@pytest.mark.parametrize(("content", "line", "reason"), [
    (b"sku,vendor,vendor_sku\nA,ACME,A1\nB,ACME,B\xe91\n", 3, "not UTF-8"),
    (b'sku,vendor,vendor_sku\nA,ACME,A1\nB,ACME,"B1\n', 3, "not readable as CSV"),
])
def test_a_file_broken_after_good_rows_is_refused_whole(tmp_path: Path, content: bytes, line: int,
                                                       reason: str) -> None:
    """Not the rows before the damage alone: a file cut off or mis-encoded is refused before any row is
    taken, with the line where it breaks."""
    with pytest.raises(InputError, match=reason) as caught:
        read_catalog_csv(catalog(tmp_path, content), vendor_codes=VENDORS)
    assert (caught.value.refusal.file, caught.value.refusal.line) == (str(tmp_path / "catalog.csv"), line)
