"""Vendors learned from their own history, and lateness without evidence that waits out a vendor's habit.

The shop is in New York and so is ACME (2 handling days, US holidays). Calendar, November 2026: orders
placed Mon 2 Nov 10:04, ship by Wed 4 Nov 23:59, grace until Thu 5 Nov 12:00; Fri 6 Nov, the weekend,
Mon 9 Nov. Orders 5001 to 5005 are ACME's history: each parcel first scanned Mon 2 Nov 10:00 and its
tracking uploaded Tue 3 Nov 10:00, one business day later. Order 5006 is the one being judged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Shipment, VendorOrder
from orderflow.rules.history import Spread, longest_upload_lags, vendor_history
from orderflow.rules.vendor_rules import vendor_late
from tests.support.cli import orderflow
from tests.support.vendor_shop import (
    DUE_WEDNESDAY,
    GRACE,
    MINUTE,
    MON,
    UPS_TRACKED,
    ack,
    change,
    notice,
    open_shop,
    scanned,
    summary,
    tell,
)

SCANNED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Mon 2 Nov 10:00 New York
UPLOADED = SCANNED + timedelta(days=1)  # Tue 3 Nov 10:00: one business day after the scan
HISTORY = ("5001", "5002", "5003", "5004", "5005")
NUMBERS = ("1Z4R8W670312345676", "1Z4R8W670312345694", "1Z999AA10123456784", "1Z5R89390357567127",
           "1Z5R89390357567135")


def shop_with_history(engine: Engine, tmp_path: Path, *, acked_after: timedelta = timedelta(hours=6),
                      uploaded: datetime = UPLOADED) -> Settings:
    """ACME's five past orders, acknowledged ``acked_after`` sending and shipped as the docstring says (their
    tracking uploaded at ``uploaded``)."""
    settings = open_shop(engine, tmp_path, {number: ["SKU-ACME"] for number in (*HISTORY, "5006")},
                         carriers=UPS_TRACKED)
    for number, tracking in zip(HISTORY, NUMBERS, strict=True):
        tell(engine, MON + acked_after, acks=(ack(f"TB{number}-ACME", "accepted"),))
        tell(engine, uploaded, ship_notices=(notice(f"TB{number}-ACME", tracking, (1,), SCANNED),))
        scanned(engine, tracking, SCANNED)
    return settings


def history_of(engine: Engine, settings: Settings, now: datetime) -> tuple[Spread | None, ...]:
    with session_factory(engine)() as session:
        acme = vendor_history(session, settings, now)["ACME"]
    return acme.ack_lag, acme.handling, acme.upload_lag


def test_a_vendors_ack_lag_handling_and_upload_lag_are_learned(engine: Engine, tmp_path: Path) -> None:
    """Sent Mon 10:04, acknowledged 16:04, scanned before it was sent (a pre-printed label), uploaded a day
    after the scan: ack lag 0.25 business days, handling 0, upload lag 1.0, five samples each."""
    settings = shop_with_history(engine, tmp_path)
    assert history_of(engine, settings, GRACE) == (
        Spread(0.25, 0.25, 5, 0.25), Spread(0.0, 0.0, 5, 0.0), Spread(1.0, 1.0, 5, 1.0))


def test_history_outside_the_window_or_too_thin_is_no_history(engine: Engine, tmp_path: Path) -> None:
    """Sixty-one days on, the orders are out of the window; four samples would be too few to say anything."""
    settings = shop_with_history(engine, tmp_path)
    assert history_of(engine, settings, MON + timedelta(days=61)) == (None, None, None)
    change(engine, update(VendorOrder).where(VendorOrder.id == "TB5005-ACME").values(sent_at=None))
    assert history_of(engine, settings, GRACE)[:2] == (None, None)


def test_the_longest_upload_lag_alone_is_the_historys(engine: Engine, tmp_path: Path) -> None:
    """What ``vendor_late`` reads without the rest of the history is the history's own longest upload lag: a
    day late, tracking in before the scan (0), out of the window, and four samples (too few)."""
    def both(settings: Settings, now: datetime) -> tuple[float | None, float | None]:
        with session_factory(engine)() as session:
            lag = vendor_history(session, settings, now)["ACME"].upload_lag
            return lag.longest if lag else None, longest_upload_lags(session, settings, now)["ACME"]

    settings = shop_with_history(engine, tmp_path)
    assert both(settings, GRACE) == (1.0, 1.0)
    assert both(settings, MON + timedelta(days=61)) == (None, None)
    change(engine, update(VendorOrder).where(VendorOrder.id == "TB5005-ACME").values(sent_at=None))
    assert both(settings, GRACE) == (1.0, 1.0)  # the parcels still count: a lag is a parcel's, not an order's
    change(engine, update(Shipment).values(reported_at=SCANNED - timedelta(hours=2)))
    assert both(settings, GRACE) == (0.0, 0.0)

def test_no_tracking_waits_three_business_days_when_the_vendors_lag_is_shorter(engine: Engine,
                                                                                tmp_path: Path) -> None:
    """ACME's tracking has come a business day after the scan, within the three business days past the grace
    deadline that "no tracking" waits anyway: 5006 is quiet until Tuesday noon, then late."""
    settings = shop_with_history(engine, tmp_path)
    tuesday_noon = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
    assert summary(vendor_late, engine, settings, tuesday_noon - MINUTE) == []
    assert summary(vendor_late, engine, settings, tuesday_noon + MINUTE) == [
        ("vendor_late", "TB5006-ACME", "high",
         "no tracking 3.0 business days after the grace deadline" + DUE_WEDNESDAY)]


def test_no_tracking_waits_out_a_longer_upload_lag_and_says_so(engine: Engine, tmp_path: Path) -> None:
    """ACME's tracking has come five business days after the scan (Mon 2 Nov to Mon 9 Nov): 5006, due
    Wednesday, is quiet until five business days after its ship-by (Veterans Day, Wed 11 Nov, is none), the
    end of Thursday 12 Nov, then late, saying why."""
    settings = shop_with_history(engine, tmp_path, uploaded=SCANNED + timedelta(days=7))
    friday = datetime(2026, 11, 13, 5, 0, tzinfo=UTC)  # Fri 13 Nov 00:00 New York
    assert summary(vendor_late, engine, settings, datetime(2026, 11, 10, 17, 1, tzinfo=UTC)) == []
    assert summary(vendor_late, engine, settings, friday - MINUTE) == []
    assert summary(vendor_late, engine, settings, friday + MINUTE) == [
        ("vendor_late", "TB5006-ACME", "high",
         "no tracking yet; ACME's tracking has come up to 5.0 business days after the first scan" + DUE_WEDNESDAY)]


def test_physical_evidence_of_lateness_does_not_wait(engine: Engine, tmp_path: Path) -> None:
    """A label ACME created for 5006 on Wednesday and the carrier never scanned is late at the grace deadline."""
    settings = shop_with_history(engine, tmp_path)
    wednesday = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
    tell(engine, wednesday, ship_notices=(notice("TB5006-ACME", "1Z999AA10123456793", (1,), wednesday),))
    assert summary(vendor_late, engine, settings, GRACE + MINUTE) == [
        ("vendor_late", "TB5006-ACME", "warning", "label created Wed 4 Nov, never scanned" + DUE_WEDNESDAY)]


def test_orderflow_vendors_shows_each_vendors_habits(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """``orderflow vendors`` prints median / p90 per habit; its JSON carries the same numbers."""
    shop_with_history(engine, tmp_path)
    options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", GRACE.isoformat()]
    secrets = {"TEST_UPS_ID": "id", "TEST_UPS_SECRET": "secret"}  # what the configuration names for UPS
    [acme] = json.loads(orderflow(*options, "vendors", "--format", "json", env=secrets).stdout)
    assert acme["history"] == {
        "vendor_code": "ACME", "ack_lag": {"median": 0.25, "p90": 0.25, "samples": 5, "longest": 0.25},
        "handling": {"median": 0.0, "p90": 0.0, "samples": 5, "longest": 0.0},
        "upload_lag": {"median": 1.0, "p90": 1.0, "samples": 5, "longest": 1.0}}
    table = orderflow(*options, "vendors", env=secrets | {"COLUMNS": "200"}).stdout
    assert "0.2 / 0.2 bd (n=5)" in table, "ack lag"
    assert "1.0 / 1.0 bd (n=5)" in table, "upload lag"
