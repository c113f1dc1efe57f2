"""Purchase orders tell the vendor the dates it is judged by: its own calendar and zone, never UTC's date.

The vendor works in Chicago (cut-off 14:00, 2 handling days, US holidays); the shop is in New York. Calendar:
Fri 30 Oct 2026, then the weekend in which daylight saving time ends (Sun 1 Nov, 02:00 CDT becomes 01:00
CST); Mon 2 Nov, Tue 3, Wed 4, Thu 5, Fri 6; the weekend; Mon 9, Tue 10, Wed 11 (Veterans Day, a US holiday),
Thu 12, Fri 13. Each order is imported, then dispatched by orderflow's own dispatch to a local folder.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update

from orderflow.calendars import VendorCalendars
from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, VendorOrder
from orderflow.vendors.dispatch import dispatch
from orderflow.vendors.formats.x12 import parse_x12
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

CHICAGO, NEW_YORK = ZoneInfo("America/Chicago"), ZoneInfo("America/New_York")
FRIDAY_EVENING = datetime(2026, 11, 6, 21, 29, tzinfo=NEW_YORK)
"""20:29 in Chicago, after its cut-off; 02:29 on Saturday in UTC."""
BEFORE_DST_ENDS = datetime(2026, 10, 30, 20, 0, tzinfo=CHICAGO)
"""After the cut-off, the Friday before the clocks go back; 01:00 on Saturday in UTC."""


def shop(tmp_path: Path, fmt: str) -> Settings:
    block = vendor_block("ACME", fmt, "local", path="acme")
    return write_settings(tmp_path, block + '[vendors.calendar]\ntimezone = "America/Chicago"\ncutoff = "14:00"\n'
                                            "handling_days = 2\n")


def dispatched(engine: Engine, tmp_path: Path, fmt: str, placed_at: datetime) -> tuple[bytes, datetime]:
    """Order 5001 placed at ``placed_at`` and sent to ACME: the file ACME got, and the ship-by judged by."""
    settings = shop(tmp_path, fmt)
    place_orders(engine, settings, placed_at, tmp_path, orders={"5001": ["SKU-ACME"]})
    ship_by = VendorCalendars(settings.vendors).ship_by("ACME", placed_at)
    assert ship_by is not None
    with session_factory(engine)() as session, session.begin():
        session.execute(update(Order).values(placed_at=placed_at.astimezone(UTC)))
        session.execute(update(VendorOrder).values(ship_by=ship_by))
    dispatch(engine=engine, settings=settings, clock=Clock(fixed=placed_at.astimezone(UTC)))
    [sent] = (tmp_path / "acme" / "to_vendor").iterdir()
    return sent.read_bytes(), ship_by


def test_an_x12_order_after_utc_midnight_carries_the_vendors_dates(engine: Engine, tmp_path: Path) -> None:
    """Placed Friday 20:29 Chicago (Saturday in UTC): BEG05 says Friday; DTM*010 says Thursday 12 Nov, the
    day the rules' deadline falls on (Monday, Tuesday, Veterans Day skipped, Thursday)."""
    body, ship_by = dispatched(engine, tmp_path, "x12", FRIDAY_EVENING)
    assert ship_by == datetime(2026, 11, 13, 5, 59, 59, 999999, tzinfo=UTC)
    segments = [segment.strip() for segment in body.decode().split("~")]
    assert [segment for segment in segments if segment.startswith(("BEG", "DTM*010"))] == [
        "BEG*00*NE*TB5001-ACME**20261106", "DTM*010*20261112"]
    [po] = parse_x12(body, file="TB5001-ACME.edi").purchase_orders
    assert (po.order_date.isoformat(), po.requested_ship_date and po.requested_ship_date.isoformat()) == (
        "2026-11-06", "2026-11-12")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_orders_across_the_end_of_dst_carry_the_vendors_dates(engine: Engine, tmp_path: Path,
                                                                           fmt: str) -> None:
    """Placed Friday 30 Oct 20:00 CDT (Saturday in UTC): order date Friday, ship by Wednesday 4 Nov, whose end
    is 05:59:59 UTC on Thursday once the clocks have gone back."""
    body, ship_by = dispatched(engine, tmp_path, fmt, BEFORE_DST_ENDS)
    assert ship_by == datetime(2026, 11, 5, 5, 59, 59, 999999, tzinfo=UTC)
    if fmt == "csv":
        [row] = list(csv.DictReader(io.StringIO(body.decode())))
        dates = (row["order_date"], row["requested_ship_date"])
    else:
        document = json.loads(body)
        dates = (document["order_date"], document["requested_ship_date"])
    assert dates == ("2026-10-30", "2026-11-04")
