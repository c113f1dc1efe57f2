"""The vendor scorecard takes the vendor's word for parcels of a carrier orderflow cannot ask, as the rules do.

Built with orderflow's own import and vendor feedback. ACME (New York hours, two handling days) got orders
5001 and 5002 on Monday 2 Nov 2026 at 10:04: ship by Wednesday 4 Nov. It reported both parcels on Monday 9 Nov,
saying 5001 left Wednesday afternoon and 5002 Friday; nobody ever saw a scan.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import VendorOrder
from orderflow.reports.scorecard import vendor_scorecard
from orderflow.vendors.feedback import Feedback
from orderflow.vendors.records import Parcel, ShipNotice, ShippedLine
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

MON = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
REPORTED = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
SHIPPED = {"5001": (datetime(2026, 11, 4, 20, 0, tzinfo=UTC), "1Z4R8W670312345676"),
           "5002": (datetime(2026, 11, 6, 20, 0, tzinfo=UTC), "1Z4R8W670312345694")}
UPS = '[carriers.ups]\nclient_id_env = "TEST_UPS_ID"\nclient_secret_env = "TEST_UPS_SECRET"\n'


def shop(engine: Engine, tmp_path: Path, carriers: str) -> Settings:
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("TEST_UPS_ID", "id")
        environment.setenv("TEST_UPS_SECRET", "secret")
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"), carriers)
    place_orders(engine, settings, MON, tmp_path, orders={number: ["SKU-ACME"] for number in SHIPPED})
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        Feedback(session=session, vendor_code="ACME", now=REPORTED, file="feedback").apply(ship_notices=tuple(
            ShipNotice(vendor_order_id=f"TB{number}-ACME", shipped_at=shipped, carrier="UPS", service=None,
                       source_ref="856", parcels=(Parcel(tracking, "UPS", (
                           ShippedLine(line=1, vendor_sku="ACME-1", qty=2),)),))
            for number, (shipped, tracking) in SHIPPED.items()))
    return settings


def acme(engine: Engine, settings: Settings) -> dict[str, object]:
    with engine.connect() as connection:
        card = vendor_scorecard(connection, settings=settings, as_of=AS_OF, days=30)
    [row] = card[card["vendor"] == "ACME"].to_dict("records")
    return row


def test_a_carrier_nobody_can_ask_counts_on_the_vendors_ship_date(engine: Engine, tmp_path: Path) -> None:
    """No [carriers.ups] section: Wednesday's parcel was on time, Friday's late, and neither is "not scanned"."""
    row = acme(engine, shop(engine, tmp_path, carriers=""))
    assert (row["orders_due"], row["on_time_ship_rate"], row["tracking_not_scanned"]) == (2, 0.5, 0)


def test_a_carrier_orderflow_asks_needs_its_scan(engine: Engine, tmp_path: Path) -> None:
    """With UPS configured, a label the carrier never scanned is not shipping: none on time, and Wednesday's
    unscanned two business days on (Friday's not yet)."""
    row = acme(engine, shop(engine, tmp_path, carriers=UPS))
    assert (row["orders_due"], row["on_time_ship_rate"], row["tracking_not_scanned"]) == (2, 0.0, 1)
