"""A file that fails to apply leaves nothing behind: its batch's changes are written together, and when that
fails the batch is applied again file by file, the failing file's changes rolled back with its savepoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from orderflow.clock import Clock
from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile, VendorOrderLine
from orderflow.vendors.fetch import fetch
from tests.support.fetch import drop, shop
from tests.test_fetch_batches import CSV_ACME, REFUSED_NUMBER, allow_the_parcel, parcel, refuse_the_parcel


def shipped_by_line(engine: Engine) -> dict[int, tuple[str, int]]:
    with session_factory(engine)() as session:
        return {line.line_no: (line.state, line.qty_shipped) for line in session.scalars(
            select(VendorOrderLine).where(VendorOrderLine.vendor_order_id == "TB1042-ACME"))}


def test_the_failing_file_ships_no_line_and_the_file_before_it_does(engine: Engine, clock: Clock,
                                                                   tmp_path: Path) -> None:
    """The second of three files fails in the database: line 1 (the first file) is shipped, line 2 (the failing
    file) and line 3 (left for the next run) are not; the next run ships both."""
    settings = shop(tmp_path, engine, clock, CSV_ACME)
    inbox = tmp_path / "acme" / "from_vendor"
    drop(inbox, "shp_1.csv", parcel(1, "1Z4R8W670312345671"))
    drop(inbox, "shp_2.csv", parcel(2, REFUSED_NUMBER))
    drop(inbox, "shp_3.csv", parcel(3, "1Z4R8W670312345673"))
    before = shipped_by_line(engine)
    refuse_the_parcel(engine)
    with pytest.raises(DBAPIError, match="the test refuses this parcel"):
        fetch(engine=engine, settings=settings, clock=clock)
    after = shipped_by_line(engine)
    assert after[1][1] == 2
    assert (after[2], after[3]) == (before[2], before[3])
    allow_the_parcel(engine)
    fetch(engine=engine, settings=settings, clock=clock)
    assert [qty for _, qty in shipped_by_line(engine).values()] == [2, 1, 1]
    with session_factory(engine)() as session:
        assert sorted(session.scalars(select(IngestedFile.path))) == ["shp_1.csv", "shp_2.csv", "shp_3.csv"]
