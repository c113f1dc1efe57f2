"""``orderflow notifications why``: which threshold a rule found crossed, and every name as staff know it.

Built with orderflow's own import, vendor feedback and rules engine; the command runs in a fresh process as staff
run it. The shop is in New York; ACME (New York hours, two handling days) got orders 5001 and 5002 on Monday
2 Nov 2026 at 10:04: ship by Wednesday, grace until Thursday 5 Nov 12:00.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Notification, Shipment, VendorOrder
from orderflow.rules.engine import evaluate
from orderflow.rules.tracking_rules import tracking_not_scanned
from orderflow.rules.vendor_rules import vendor_late
from orderflow.vendors.feedback import Feedback
from orderflow.vendors.records import Parcel, ShipNotice, ShippedLine
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

MON = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
TUESDAY_NOON = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)  # three business days past Thursday's grace
LABELLED = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)  # Tue 3 Nov 10:00 New York
PARCEL = "1Z4R8W670312345676"
SECRETS = {"TEST_UPS_ID": "id", "TEST_UPS_SECRET": "secret"}
UPS = '[carriers.ups]\nclient_id_env = "TEST_UPS_ID"\nclient_secret_env = "TEST_UPS_SECRET"\n'


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Settings:
    """5001 with no word from ACME; 5002 with a UPS label created Tuesday that UPS, asked, never scanned."""
    with pytest.MonkeyPatch.context() as environment:
        for name, value in SECRETS.items():
            environment.setenv(name, value)
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"), UPS)
    place_orders(engine, settings, MON, tmp_path, orders={"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        Feedback(session=session, vendor_code="ACME", now=LABELLED, file="feedback").apply(ship_notices=(ShipNotice(
            vendor_order_id="TB5002-ACME", shipped_at=LABELLED, carrier="UPS", service=None, source_ref="856",
            parcels=(Parcel(PARCEL, "UPS", (ShippedLine(line=1, vendor_sku="ACME-1", qty=2),)),)),))
        session.execute(update(Shipment).values(last_checked_at=TUESDAY_NOON - timedelta(hours=1),
                                                last_outcome="ok"))
    with session_factory(engine)() as session, session.begin():
        evaluate(session=session, settings=settings, now=TUESDAY_NOON + timedelta(minutes=1),
                 rules=[("vendor_late", vendor_late), ("tracking_not_scanned", tracking_not_scanned)])
    return settings


def why(engine: Engine, database_url: str, tmp_path: Path, rule: str) -> str:
    with session_factory(engine)() as session:
        notification_id = session.scalar(select(Notification.id).where(Notification.rule == rule))
    result = subprocess.run(
        [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
         "--now", (TUESDAY_NOON + timedelta(hours=1)).isoformat(), "notifications", "why", str(notification_id)],
        capture_output=True, text=True, env={**os.environ, **SECRETS, "COLUMNS": "200"}, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lateness_says_which_deadline_was_crossed_and_by_how_much(shop: Settings, engine: Engine,
                                                                   database_url: str, tmp_path: Path) -> None:
    """No tracking: named by order number and vendor order id; past the grace deadline by 3.0 business days."""
    story = why(engine, database_url, tmp_path, "vendor_late").splitlines()
    assert story[0].startswith("#")
    assert "vendor_late (high, open) on order 5001, vendor order TB5001-ACME: no tracking 3.0 business days after " \
           "the grace deadline (ship by Wed 4 Nov 23:59 EST, ACME's time)" in story[0]
    assert story[1] == ("threshold crossed: past the grace deadline (Thu 5 Nov 12:00 EST, ACME's time) by 3.0 "
                        "business days (as of 2026-11-10 12:01 EST)")


def test_a_parcel_is_named_by_its_tracking_number_never_its_row(shop: Settings, engine: Engine,
                                                               database_url: str, tmp_path: Path) -> None:
    """A label never scanned: order, vendor order and tracking number, the threshold of 2 business days, and no
    database id anywhere."""
    with session_factory(engine)() as session:
        shipment_id = session.scalar(select(Shipment.id))
    story = why(engine, database_url, tmp_path, "tracking_not_scanned")
    first, crossed = story.splitlines()[:2]
    assert f"on order 5002, vendor order TB5002-ACME, tracking {PARCEL}: ACME: label created Tue 3 Nov" in first
    assert crossed == ("threshold crossed: no carrier scan for 5.1 business days since the ship date Tue 3 Nov "
                       "10:00 EST, threshold 2 (as of 2026-11-10 12:01 EST)")
    assert not re.search(rf"\bshipment {shipment_id}\b", story)


def test_the_threshold_is_kept_with_the_notification_for_json_readers_too(shop: Settings, engine: Engine) -> None:
    """The rule's words are stored in the notification's labels, beside due_at and late_business_days."""
    with session_factory(engine)() as session:
        labels = session.scalar(select(Notification.labels).where(Notification.rule == "vendor_late"))
    assert labels is not None
    assert json.loads(json.dumps(labels))["threshold"].startswith("past the grace deadline")
    assert (labels["due_at"], labels["late_business_days"]) == ("2026-11-05T04:59:59.999999+00:00", "3.5")
