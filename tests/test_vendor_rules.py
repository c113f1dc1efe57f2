"""The vendor rules: each fires on the real problem, once, and stays quiet on its false-alarm traps.

State is built with orderflow's own import, dispatch, fetch and vendor feedback; what vendors and carriers
did is then set on the rows directly. The shop is in New York; the orders of ``place_orders`` were placed on
Monday 2 Nov 2026 at 10:04 New York time, before the vendor's 14:00 cut-off.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile, Order, OrderLine, Shipment, VendorOrder, VendorOrderLine
from orderflow.rules.vendor_rules import (
    cancel_not_confirmed,
    dispatch_failed,
    import_refused,
    not_acknowledged,
    out_of_stock,
    shipped_after_cancel,
    unroutable_line,
    vendor_file_refused,
    vendor_late,
    vendor_on_hold,
    vendor_rejected,
)
from orderflow.storefronts.importing import import_orders
from orderflow.vendors.dispatch import dispatch
from orderflow.vendors.fetch import fetch
from orderflow.vendors.records import (
    Parcel,
    ShipNotice,
    ShippedLine,
    StockLevel,
)
from tests.support.shop_with_vendors import HEADER, vendor_block, write_settings
from tests.support.vendor_shop import (
    ACME,
    DUE_WEDNESDAY,
    GRACE,
    MINUTE,
    MON,
    NO_TRACKING,
    PARCEL_1,
    PARCEL_2,
    PARCEL_3,
    UPS_TRACKED,
    WAITED,
    ack,
    change,
    evaluate,
    line_ack,
    notice,
    open_shop,
    scanned,
    summary,
    tell,
)

BAD_CHECK_DIGIT = "1Z12345E0205271688"


class TestRuleSettings:
    def test_a_rule_switched_off_finds_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """``[rules.vendor_on_hold] enabled = false`` silences the rule and no other."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, ACME,
                             "[rules.vendor_on_hold]\nenabled = false\n")
        change(engine, update(VendorOrder).values(state="on_hold", hold_reason="Artwork missing"))
        assert summary(vendor_on_hold, engine, settings, MON + MINUTE) == []
        assert summary(dispatch_failed, engine, settings, MON + timedelta(hours=3)) == []

    def test_a_severity_override_replaces_the_default(self, engine: Engine, tmp_path: Path) -> None:
        """``[rules.vendor_late] severity = "critical"`` reports lateness as critical, not high."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, ACME,
                             '[rules.vendor_late]\nseverity = "critical"\n')
        assert summary(vendor_late, engine, settings, WAITED + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "critical", NO_TRACKING + DUE_WEDNESDAY)]


class TestVendorRejected:
    def test_a_rejected_line_is_critical_with_the_vendors_reason(self, engine: Engine, tmp_path: Path) -> None:
        """An 855 rejecting line 2 with code IR gives one critical, factual finding naming the line and reason."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(ack(
            "TB5001-ACME", "accepted_with_changes", line_ack(1, "accepted"),
            line_ack(2, "rejected", "IR", "Item rejected")),))
        # Lateness of this vendor order is hidden by the engine's inhibition, not by this rule.
        [finding] = evaluate(vendor_rejected, engine, settings, MON + timedelta(hours=2))
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "vendor_rejected", "TB5001-ACME", "critical", "line 2 ACME-1: Item rejected (IR)", True)
        assert (finding.subject.order_number, finding.subject.vendor_code) == ("5001", "ACME")

    def test_a_whole_order_rejection_gives_the_vendors_reason_once(self, engine: Engine, tmp_path: Path) -> None:
        """An acknowledgement rejecting the whole order names the order, not each line."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(
            ack("TB5001-ACME", "rejected", reason="Ship-to address is not deliverable"),))
        assert summary(vendor_rejected, engine, settings, MON + timedelta(hours=2)) == [
            ("vendor_rejected", "TB5001-ACME", "critical",
             "whole order rejected by ACME: Ship-to address is not deliverable")]

    def test_quiet_when_accepted_or_when_the_order_was_cancelled(self, engine: Engine, tmp_path: Path) -> None:
        """An accepted order has no finding; a rejection on an order cancelled since needs no action."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(
            ack("TB5001-ACME", "accepted"), ack("TB5002-ACME", "rejected", reason="Discontinued")))
        change(engine, update(Order).where(Order.order_number == "5002").values(state="cancelled"))
        assert summary(vendor_rejected, engine, settings, MON + timedelta(hours=2)) == []


class TestVendorOnHold:
    def test_on_hold_names_the_reason_until_released(self, engine: Engine, tmp_path: Path) -> None:
        """A held vendor order is high with the vendor's reason; released (accepted), it is no longer found."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(state="on_hold", hold_reason="Recipient address is invalid"))
        [finding] = evaluate(vendor_on_hold, engine, settings, MON + MINUTE)
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "vendor_on_hold", "TB5001-ACME", "high", "on hold at ACME: Recipient address is invalid", True)
        change(engine, update(VendorOrder).values(state="accepted", hold_reason=None))
        assert summary(vendor_on_hold, engine, settings, MON + 2 * MINUTE) == []


class TestDispatchFailed:
    def test_three_failed_attempts(self, engine: Engine, tmp_path: Path) -> None:
        """A pending vendor order after 3 attempts fires with the last error; after 2 it is still being retried."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, sent=False)
        change(engine, update(VendorOrder).values(attempts=2, last_error="ACME: connection refused"))
        assert summary(dispatch_failed, engine, settings, MON + timedelta(minutes=30)) == []
        change(engine, update(VendorOrder).values(attempts=3))
        [finding] = evaluate(dispatch_failed, engine, settings, MON + timedelta(minutes=30))
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "dispatch_failed", "TB5001-ACME", "high", "not sent after 3 attempts; last error: ACME: connection refused",
            True)

    def test_still_pending_two_hours_after_it_was_created(self, engine: Engine, tmp_path: Path) -> None:
        """Never tried (say the vendor's breaker is open): quiet at 1h59, found at 2 hours."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, sent=False)
        assert summary(dispatch_failed, engine, settings, MON + timedelta(hours=2) - MINUTE) == []
        assert summary(dispatch_failed, engine, settings, MON + timedelta(hours=2)) == [
            ("dispatch_failed", "TB5001-ACME", "high", "not sent within 2 hours of Mon 2 Nov 10:04; not tried yet")]

    def test_an_unknown_outcome_needs_reconciling(self, engine: Engine, tmp_path: Path) -> None:
        """``needs_reconcile`` fires at once, saying it must be looked up before any re-send."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, sent=False)
        change(engine, update(VendorOrder).values(state="needs_reconcile", attempts=1,
                                                  last_error="ACME: timed out after 30 s"))
        assert summary(dispatch_failed, engine, settings, MON + MINUTE) == [
            ("dispatch_failed", "TB5001-ACME", "high",
             "outcome unknown, to be looked up at ACME before any re-send; last error: ACME: timed out after 30 s")]

    def test_a_sent_order_is_not_a_dispatch_failure(self, engine: Engine, tmp_path: Path) -> None:
        """Sent on the third attempt, long after it was created: nothing to report."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(attempts=3, last_error=None))
        assert summary(dispatch_failed, engine, settings, MON + timedelta(days=1)) == []


class TestUnroutableLine:
    def test_after_fifteen_minutes_not_at_ten(self, engine: Engine, tmp_path: Path) -> None:
        """A SKU missing from the catalog is reported once it has stayed unroutable for 15 minutes."""
        settings = write_settings(tmp_path, ACME)
        columns = HEADER.split(",")
        row = {"Name": "#5001", "Email": "pat@example.com", "Lineitem quantity": "1", "Lineitem price": "25.00",
               "Lineitem sku": "TB-NEW-TEE", "Lineitem name": "New tee", "Financial Status": "paid",
               "Created at": "2026-11-02 10:04:00 -0500", "Shipping Name": "Pat Doe", "Shipping Address1": "1 Main St",
               "Shipping Country": "US"}
        export = tmp_path / "orders.csv"
        export.write_text(HEADER + "\n" + ",".join(row.get(column, "") for column in columns) + "\n",
                          encoding="utf-8")
        assert import_orders(engine=engine, settings=settings, now=MON, paths=[export]).exit_code == 0
        with session_factory(engine)() as session:
            line_id = session.scalars(select(OrderLine.id)).one()
        assert summary(unroutable_line, engine, settings, MON + timedelta(minutes=10)) == []
        [finding] = evaluate(unroutable_line, engine, settings, MON + timedelta(minutes=15))
        assert (finding.rule, finding.subject.type, finding.subject.id, finding.severity, finding.evidence) == (
            "unroutable_line", "order_line", str(line_id), "high",
            "line 1 TB-NEW-TEE: SKU not in the catalog since Mon 2 Nov 10:04")
        assert finding.subject.order_number == "5001"


class TestCancelNotConfirmed:
    FRIDAY_4PM = datetime(2026, 11, 6, 21, 0, tzinfo=UTC)  # Fri 6 Nov 16:00 New York

    def test_after_one_vendor_business_day_not_over_the_weekend(self, engine: Engine, tmp_path: Path) -> None:
        """Asked Friday 16:00: not overdue Monday 15:00 (0.96 business days), overdue Monday 17:00."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        change(engine, update(Order).values(state="cancelled"),
               update(VendorOrder).values(cancel_requested_at=self.FRIDAY_4PM))
        monday_3pm = datetime(2026, 11, 9, 20, 0, tzinfo=UTC)
        assert summary(cancel_not_confirmed, engine, settings, monday_3pm) == []
        [finding] = evaluate(cancel_not_confirmed, engine, settings, monday_3pm + timedelta(hours=2))
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "cancel_not_confirmed", "TB5001-ACME", "high", "cancel requested Fri 6 Nov 16:00, not confirmed by ACME",
            True)

    def test_confirmed_or_cancelled_is_quiet_shipped_anyway_says_so(self, engine: Engine, tmp_path: Path) -> None:
        """A confirmation or a cancelled vendor order ends it; a vendor that shipped regardless is named so."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"], "5003": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(cancel_requested_at=self.FRIDAY_4PM),
               update(VendorOrder).where(VendorOrder.id == "TB5001-ACME").values(
                   cancel_confirmed_at=self.FRIDAY_4PM + timedelta(hours=1)),
               update(VendorOrder).where(VendorOrder.id == "TB5002-ACME").values(state="cancelled"),
               update(VendorOrder).where(VendorOrder.id == "TB5003-ACME").values(state="shipped"))
        assert summary(cancel_not_confirmed, engine, settings, self.FRIDAY_4PM + timedelta(days=7)) == [
            ("cancel_not_confirmed", "TB5003-ACME", "high",
             "cancel requested Fri 6 Nov 16:00, not confirmed by ACME (shipped)")]


class TestOutOfStock:
    def test_a_backordered_line_with_its_expected_date(self, engine: Engine, tmp_path: Path) -> None:
        """An 855 backordering line 1 gives a factual, high finding about that line with the date expected."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(ack(
            "TB5001-ACME", "accepted_with_changes", line_ack(1, "backordered", "IB", expected=date(2026, 11, 13)),
            line_ack(2, "accepted")),))
        [finding] = evaluate(out_of_stock, engine, settings, MON + timedelta(hours=2))
        assert (finding.rule, finding.subject.type, finding.subject.id, finding.severity, finding.evidence,
                finding.factual) == ("out_of_stock", "vendor_order_line", "TB5001-ACME:1", "high",
                                     "ACME-1 backordered by ACME (2 of 2), expected Fri 13 Nov", True)
        assert finding.subject.vendor_order_id == "TB5001-ACME"

    def test_a_stocked_vendor_reporting_zero_before_it_answers(self, engine: Engine, tmp_path: Path) -> None:
        """Zero stock of the line's SKU at a stocked vendor, order sent but not yet acknowledged: found."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), stock=(StockLevel(
            vendor_sku="ACME-1", upc="", qty=0, as_of=MON + timedelta(hours=1), next_available=date(2026, 11, 9)),))
        assert summary(out_of_stock, engine, settings, MON + timedelta(hours=2)) == [
            ("out_of_stock", "TB5001-ACME:1", "high",
             "ACME reports ACME-1 out of stock (0 as of Mon 2 Nov 11:04), next available Mon 9 Nov")]

    def test_zero_stock_is_not_news_from_an_on_demand_vendor(self, engine: Engine, tmp_path: Path) -> None:
        """A print-on-demand vendor makes to order: a zero in its stock feed is not a stock-out."""
        pod = vendor_block("PF", "csv", "local", path="pf", kind="on_demand")
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-PF"]}, pod)
        tell(engine, MON, vendor="PF", stock=(StockLevel(
            vendor_sku="PF-1", upc="", qty=0, as_of=MON, next_available=None),))
        assert summary(out_of_stock, engine, settings, MON + timedelta(hours=2)) == []

    def test_the_vendors_own_answer_or_a_shipment_outranks_the_stock_count(self, engine: Engine,
                                                                          tmp_path: Path) -> None:
        """Zero stock after the vendor accepted the order (it took our units) or shipped the line: quiet."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(ack("TB5001-ACME", "accepted"),),
             ship_notices=(notice("TB5002-ACME", PARCEL_1, (1,), MON),),
             stock=(StockLevel(vendor_sku="ACME-1", upc="", qty=0, as_of=MON + timedelta(hours=1),
                               next_available=None),))
        assert summary(out_of_stock, engine, settings, MON + timedelta(hours=2)) == []


def drop(folder: Path, name: str, content: bytes) -> None:
    """A vendor or storefront file, written well before the run so it counts as complete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    os.utime(folder / name, (MON.timestamp() - 3600, MON.timestamp() - 3600))


def ledger_row(origin: str, path: str, at: datetime, *, refusals: list[dict[str, Any]] | None = None,
               error: str | None = None) -> IngestedFile:
    return IngestedFile(origin=origin, path=path, size=1, sha256=f"{origin}{path}{at.isoformat()}", kind="csv",
                        rows_ok=1, rows_refused=len(refusals or []), refusals=refusals or [], error=error,
                        ingested_at=at)


def add_rows(engine: Engine, *rows: IngestedFile) -> None:
    with session_factory(engine)() as session, session.begin():
        session.add_all(rows)


class TestVendorFileRefused:
    def test_a_tracking_file_with_a_bad_row(self, engine: Engine, tmp_path: Path) -> None:
        """fetch keeps the good row and ledgers the bad one: the finding names the file, line, column and why."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        drop(tmp_path / "acme" / "from_vendor", "shp_1.csv", (
            b"PO Number,Line,Item Code,Qty,Carrier,Tracking Number,Ship Date\n"
            b"TB5001-ACME,1,ACME-1,2,UPS,1Z4R8W670312345676,2026-11-03\n"
            b"TB5001-ACME,1,ACME-1,two,UPS,1Z4R8W670312345694,2026-11-03\n"))
        fetch(engine=engine, settings=settings, clock=Clock(fixed=MON))
        [finding] = evaluate(vendor_file_refused, engine, settings, MON + MINUTE)
        assert (finding.rule, finding.subject.type, finding.subject.id, finding.subject.vendor_code,
                finding.severity, finding.factual) == (
            "vendor_file_refused", "vendor_file", "vendor:ACME:shp_1.csv", "ACME", "high", True)
        assert finding.evidence == "shp_1.csv: line 3 Qty: row for TB5001-ACME refused: not a whole number: 'two'"

    def test_a_whole_refusal_and_the_seven_day_window(self, engine: Engine, tmp_path: Path) -> None:
        """A file refused whole is found for 7 days; one found 8 days ago is no longer news."""
        settings = write_settings(tmp_path, ACME)
        refusal = {"file": "ACME:856_9.edi", "line": None, "field": None, "reason": "ISA segment missing"}
        add_rows(engine, ledger_row("vendor:ACME", "856_9.edi", MON, refusals=[refusal],
                                    error="ACME:856_9.edi: ISA segment missing"),
                 ledger_row("vendor:ACME", "856_1.edi", MON - timedelta(days=8), refusals=[refusal], error="x"))
        assert summary(vendor_file_refused, engine, settings, MON + timedelta(days=6)) == [
            ("vendor_file_refused", "vendor:ACME:856_9.edi", "high", "856_9.edi refused whole: ISA segment missing")]
        assert summary(vendor_file_refused, engine, settings, MON + timedelta(days=7)) == []

    def test_a_clean_file_sent_again_under_the_same_name_settles_it(self, engine: Engine, tmp_path: Path) -> None:
        """The vendor fixes the file and sends it again: the latest ledger row under that name is clean."""
        settings = write_settings(tmp_path, ACME)
        refusals = [{"file": "ACME:inv.csv", "line": n, "field": "Qty", "reason": "not a whole number"}
                    for n in range(2, 7)]
        add_rows(engine, ledger_row("vendor:ACME", "inv.csv", MON, refusals=refusals))
        assert summary(vendor_file_refused, engine, settings, MON + MINUTE) == [
            ("vendor_file_refused", "vendor:ACME:inv.csv", "high",
             "inv.csv: line 2 Qty: not a whole number; line 3 Qty: not a whole number; "
             "line 4 Qty: not a whole number; and 2 more")]
        add_rows(engine, ledger_row("vendor:ACME", "inv.csv", MON + timedelta(hours=1)))
        assert summary(vendor_file_refused, engine, settings, MON + timedelta(hours=2)) == []


class TestImportRefused:
    SOURCE = '[sources.shopify]\nformat = "shopify_csv"\npath = "inbox"\nsettle_seconds = 0\n'

    def test_a_storefront_file_refused_at_import(self, engine: Engine, tmp_path: Path) -> None:
        """A file in the inbox that is not an export: one high finding for the source, naming the file."""
        settings = write_settings(tmp_path, ACME, self.SOURCE)
        drop(tmp_path / "inbox", "garbage.csv", b"hello,world\n1,2\n")
        import_orders(engine=engine, settings=settings, now=MON, paths=[], source="shopify")
        [finding] = evaluate(import_refused, engine, settings, MON + MINUTE)
        assert (finding.rule, finding.subject.type, finding.subject.id, finding.severity, finding.factual) == (
            "import_refused", "source", "shopify", "high", True)
        assert finding.evidence == ("garbage.csv refused whole: not a Shopify order export: no column Name, "
                                    "Created at, Lineitem quantity, Lineitem price, Lineitem sku")

    def test_files_of_the_week_are_listed_older_ones_are_not(self, engine: Engine, tmp_path: Path) -> None:
        """Refusals of the last 7 days, file by file; vendor files are another rule's business."""
        settings = write_settings(tmp_path, ACME, self.SOURCE)
        bad_quantity = {"file": "x", "line": 4, "field": "Lineitem quantity", "reason": "not a number: 'abc'"}
        add_rows(engine,
                 ledger_row("source:shopify", "/shop/inbox/export-7.csv", MON, refusals=[bad_quantity]),
                 ledger_row("source:shopify", "/shop/inbox/export-8.csv", MON + timedelta(hours=1),
                            refusals=[{"file": "x", "line": 1, "field": None, "reason": "no Name column"}],
                            error="no Name column"),
                 ledger_row("source:shopify", "/shop/inbox/export-1.csv", MON - timedelta(days=9),
                            refusals=[bad_quantity]),
                 ledger_row("vendor:ACME", "shp_2.csv", MON, refusals=[bad_quantity]))
        assert summary(import_refused, engine, settings, MON + timedelta(hours=2)) == [
            ("import_refused", "shopify", "high",
             "export-7.csv: line 4 Lineitem quantity: not a number: 'abc'; "
             "export-8.csv refused whole: line 1: no Name column")]


class TestNotAcknowledged:
    SENT = datetime(2026, 11, 3, 19, 30, tzinfo=UTC)  # Tue 3 Nov 14:30 New York
    DUE = datetime(2026, 11, 4, 19, 30, tzinfo=UTC)  # 8 business hours later: 2.5 on Tuesday, 5.5 on Wednesday
    ACKING = vendor_block("ACME", "csv", "local", path="acme", acknowledges=True)

    def sent(self, engine: Engine, tmp_path: Path, block: str, *numbers: str) -> Settings:
        settings = open_shop(engine, tmp_path, {number: ["SKU-ACME"] for number in numbers}, block, sent=False)
        dispatch(engine=engine, settings=settings, clock=Clock(fixed=self.SENT))
        return settings

    def test_after_the_ack_window_not_before(self, engine: Engine, tmp_path: Path) -> None:
        """A vendor set to acknowledge, sent the order Tuesday 14:30: quiet until Wednesday 14:30, then a warning."""
        settings = self.sent(engine, tmp_path, self.ACKING, "5001")
        assert summary(not_acknowledged, engine, settings, self.DUE) == []
        [finding] = evaluate(not_acknowledged, engine, settings, self.DUE + MINUTE)
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "not_acknowledged", "TB5001-ACME", "warning",
            "sent Tue 3 Nov 14:30, no acknowledgement from ACME (due Wed 4 Nov 14:30)", True)
        tell(engine, self.DUE + 2 * MINUTE, acks=(ack("TB5001-ACME", "accepted"),))
        assert summary(not_acknowledged, engine, settings, self.DUE + 3 * MINUTE) == []

    def test_never_for_a_vendor_that_does_not_acknowledge(self, engine: Engine, tmp_path: Path) -> None:
        """A vendor configured with ``acknowledges = false`` is never waited for."""
        silent = vendor_block("ACME", "csv", "local", path="acme", acknowledges=False)
        settings = self.sent(engine, tmp_path, silent, "5001")
        change(engine, update(VendorOrder).values(ack_due_at=self.DUE))  # even with a due time left over
        assert summary(not_acknowledged, engine, settings, self.DUE + timedelta(days=5)) == []

    def test_auto_waits_for_a_vendor_only_once_it_has_acknowledged_an_order(self, engine: Engine,
                                                                            tmp_path: Path) -> None:
        """By default a vendor that never answered is not waited for; once it answers 5001, 5002 is overdue."""
        settings = self.sent(engine, tmp_path, ACME, "5001", "5002")
        assert summary(not_acknowledged, engine, settings, self.DUE + MINUTE) == []
        tell(engine, self.DUE + 2 * MINUTE, acks=(ack("TB5001-ACME", "accepted"),))
        assert summary(not_acknowledged, engine, settings, self.DUE + 3 * MINUTE) == [
            ("not_acknowledged", "TB5002-ACME", "warning",
             "sent Tue 3 Nov 14:30, no acknowledgement from ACME (due Wed 4 Nov 14:30)")]

    def test_a_vendor_order_with_a_parcel_needs_no_acknowledgement(self, engine: Engine, tmp_path: Path) -> None:
        """A vendor set to acknowledge that shipped without a word has answered in the way that matters."""
        settings = self.sent(engine, tmp_path, self.ACKING, "5001")
        tell(engine, self.DUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), self.DUE),))
        assert summary(not_acknowledged, engine, settings, self.DUE + MINUTE) == []

    def test_a_vendor_silent_on_its_last_five_orders_is_one_finding_about_the_vendor(self, engine: Engine,
                                                                                      tmp_path: Path) -> None:
        """Five orders to a vendor set to acknowledge, none answered: one finding naming the vendor, not five."""
        settings = self.sent(engine, tmp_path, self.ACKING, "5001", "5002", "5003", "5004", "5005")
        [finding] = evaluate(not_acknowledged, engine, settings, self.DUE + MINUTE)
        assert (finding.rule, finding.subject.type, finding.subject.id, finding.severity, finding.evidence) == (
            "not_acknowledged", "vendor", "ACME", "warning",
            "no acknowledgement from ACME for its last 5 orders (TB5001-ACME ... TB5005-ACME, the first due "
            "Wed 4 Nov 14:30)")


class TestVendorLate:
    FRIDAY = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)

    def test_no_tracking_waits_three_business_days_past_the_grace_deadline(self, engine: Engine,
                                                                          tmp_path: Path) -> None:
        """Ship by Wednesday, grace until Thursday noon: with no word from ACME at all, quiet until Tuesday noon
        (tracking uploaded late may yet come), then an observational high naming the deadline on ACME's clock,
        how late, and the threshold crossed."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        assert summary(vendor_late, engine, settings, GRACE + MINUTE) == []
        assert summary(vendor_late, engine, settings, WAITED - MINUTE) == []
        [finding] = evaluate(vendor_late, engine, settings, WAITED + MINUTE)
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "vendor_late", "TB5001-ACME", "high", NO_TRACKING + DUE_WEDNESDAY, False)
        assert finding.labels == {
            "ship_by": "2026-11-05T04:59:59.999999+00:00", "late_since": "2026-11-05T17:00:00+00:00",
            "due_at": "2026-11-05T04:59:59.999999+00:00", "late_business_days": "3.5",
            "threshold": "past the grace deadline (Thu 5 Nov 12:00 EST, ACME's time) by 3.0 business days"}

    def test_the_queue_says_how_late_without_making_it_new_evidence(self, engine: Engine, tmp_path: Path) -> None:
        """In the queue's JSON: due_at is the ship-by, late_business_days grows run by run, the evidence stays."""
        from orderflow.rules import queue
        from orderflow.rules.engine import evaluate as reconcile

        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        documents = []
        for now in (WAITED + MINUTE, WAITED + timedelta(days=2)):  # Tuesday 12:01, Thursday (Veterans Day between)
            with session_factory(engine)() as session, session.begin():
                reconcile(session=session, settings=settings, now=now, rules=[("vendor_late", vendor_late)])
                [document] = queue.queue_documents(session)
                documents.append((document["evidence"], document["due_at"], document["late_business_days"]))
        assert documents == [
            (NO_TRACKING + DUE_WEDNESDAY, "2026-11-05T04:59:59.999999+00:00", 3.5),
            (NO_TRACKING + DUE_WEDNESDAY, "2026-11-05T04:59:59.999999+00:00", 4.5)]

    def test_high_after_two_more_vendor_business_days(self, engine: Engine, tmp_path: Path) -> None:
        """A label never scanned, late since Thursday noon: a warning at once, still one Monday 11:59 (Friday
        and Monday), high at Monday 12:01."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        wednesday = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
        tell(engine, wednesday, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), wednesday),))
        label = "label created Wed 4 Nov, never scanned" + DUE_WEDNESDAY
        monday_noon = datetime(2026, 11, 9, 17, 0, tzinfo=UTC)
        assert summary(vendor_late, engine, settings, GRACE + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "warning", label)]
        assert summary(vendor_late, engine, settings, monday_noon - MINUTE) == [
            ("vendor_late", "TB5001-ACME", "warning", label)]
        assert summary(vendor_late, engine, settings, monday_noon + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "high", label)]

    def test_a_label_created_and_never_scanned_is_not_shipping(self, engine: Engine, tmp_path: Path) -> None:
        """Tracking uploaded Wednesday but never scanned: one finding that says so."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        wednesday = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
        tell(engine, wednesday, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), wednesday),))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == [
            ("vendor_late", "TB5001-ACME", "warning", "label created Wed 4 Nov, never scanned" + DUE_WEDNESDAY)]

    def test_tracking_uploaded_late_but_scanned_before_ship_by_is_not_late(self, engine: Engine,
                                                                          tmp_path: Path) -> None:
        """Uploaded Friday, the parcel's first scan was Wednesday: once the scan is known, it was never late."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        tell(engine, self.FRIDAY, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), self.FRIDAY),))
        assert summary(vendor_late, engine, settings, self.FRIDAY + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "warning", "label created Fri 6 Nov, never scanned" + DUE_WEDNESDAY)]
        scanned(engine, PARCEL_1, datetime(2026, 11, 4, 20, 0, tzinfo=UTC))
        assert summary(vendor_late, engine, settings, self.FRIDAY + timedelta(hours=1)) == []

    def test_a_partial_shipment_names_the_unshipped_lines_until_they_ship(self, engine: Engine,
                                                                         tmp_path: Path) -> None:
        """Line 1 scanned, lines 2 and 3 not: named; then labelled, then scanned, which settles it."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME", "SKU-ACME"]}, carriers=UPS_TRACKED)
        tell(engine, MON + timedelta(days=1), ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), MON),))
        scanned(engine, PARCEL_1, MON + timedelta(days=1))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == [
            ("vendor_late", "TB5001-ACME", "warning",
             "2 of 3 lines unshipped: line 2 ACME-1, line 3 ACME-1" + DUE_WEDNESDAY)]
        tell(engine, self.FRIDAY, ship_notices=(notice("TB5001-ACME", PARCEL_2, (2, 3), self.FRIDAY),))
        assert summary(vendor_late, engine, settings, self.FRIDAY + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "warning",
             "2 of 3 lines unshipped: line 2 ACME-1, line 3 ACME-1; label created Fri 6 Nov, never scanned"
             + DUE_WEDNESDAY)]
        scanned(engine, PARCEL_2, self.FRIDAY + timedelta(hours=2))
        assert summary(vendor_late, engine, settings, self.FRIDAY + timedelta(hours=3)) == []

    def test_a_parcel_of_a_carrier_nobody_can_ask_is_not_the_vendors_fault(self, engine: Engine,
                                                                           tmp_path: Path) -> None:
        """No [carriers.ups] section: a UPS parcel never seen scanned counts as shipped on the vendor's word."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        wednesday = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
        tell(engine, wednesday, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), wednesday),))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == []

    def test_a_freight_shipment_is_not_late_for_want_of_a_scan(self, engine: Engine, tmp_path: Path) -> None:
        """An LTL shipment under a PRO number is never polled, so no scan will come: the vendor's word counts."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        wednesday = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
        tell(engine, wednesday, ship_notices=(ShipNotice(
            vendor_order_id="TB5001-ACME", shipped_at=wednesday, carrier="ODFL", service=None, parcels=(),
            source_ref="856", freight=True, pro_number="0412345678",
            freight_lines=(ShippedLine(line=1, vendor_sku="ACME-1", qty=2),)),))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == []

    def test_rejected_lines_need_no_shipping(self, engine: Engine, tmp_path: Path) -> None:
        """Line 2 rejected, line 1 scanned: nothing is late (the rejection is vendor_rejected's finding)."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(ack(
            "TB5001-ACME", "accepted_with_changes", line_ack(1, "accepted"),
            line_ack(2, "rejected", "IR", "Item rejected")),))
        tell(engine, MON + timedelta(days=1), ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), MON),))
        scanned(engine, PARCEL_1, MON + timedelta(days=1))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == []

    def test_numbers_the_carrier_cannot_follow_are_not_evidence(self, engine: Engine, tmp_path: Path) -> None:
        """A number failing its check digit, and one the carrier does not know, are named as such."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        tell(engine, MON + timedelta(days=1), ship_notices=(notice("TB5001-ACME", BAD_CHECK_DIGIT, (1,), MON),
                                                            notice("TB5002-ACME", PARCEL_3, (1,), MON)))
        change(engine, update(Shipment).where(Shipment.tracking_number == PARCEL_3).values(last_outcome="not_found"))
        assert summary(vendor_late, engine, settings, self.FRIDAY) == [
            ("vendor_late", "TB5001-ACME", "warning", f"tracking {BAD_CHECK_DIGIT} invalid" + DUE_WEDNESDAY),
            ("vendor_late", "TB5002-ACME", "warning", f"tracking {PARCEL_3} not found by the carrier" + DUE_WEDNESDAY)]

    def test_never_for_finished_or_cancelled_work(self, engine: Engine, tmp_path: Path) -> None:
        """Cancelled, rejected as a whole, delivered, on a cancelled order, on hold or unsent: only 5007 is late."""
        settings = open_shop(engine, tmp_path, {number: ["SKU-ACME"] for number in
                                                ("5001", "5002", "5003", "5004", "5005", "5006", "5007")})
        change(engine,
               update(VendorOrder).where(VendorOrder.id == "TB5001-ACME").values(state="cancelled"),
               update(VendorOrder).where(VendorOrder.id == "TB5002-ACME").values(state="rejected"),
               update(VendorOrder).where(VendorOrder.id == "TB5003-ACME").values(state="delivered"),
               update(Order).where(Order.order_number == "5004").values(state="cancelled"),
               update(VendorOrder).where(VendorOrder.id == "TB5005-ACME").values(state="on_hold"),
               update(VendorOrder).where(VendorOrder.id == "TB5006-ACME").values(state="pending"))
        assert summary(vendor_late, engine, settings, WAITED + MINUTE) == [
            ("vendor_late", "TB5007-ACME", "high", NO_TRACKING + DUE_WEDNESDAY)]

    def test_a_stored_ship_by_is_the_deadline(self, engine: Engine, tmp_path: Path) -> None:
        """A vendor order due Friday is not late when the order's own count (Wednesday) would have it late: its
        "no tracking" waits from Monday noon to Friday noon (Veterans Day, Wednesday, is no business day)."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(ship_by=datetime(2026, 11, 7, 4, 59, tzinfo=UTC)))
        assert summary(vendor_late, engine, settings, WAITED + MINUTE) == []
        friday_noon = datetime(2026, 11, 13, 17, 0, tzinfo=UTC)
        assert summary(vendor_late, engine, settings, friday_noon - MINUTE) == []
        assert summary(vendor_late, engine, settings, friday_noon + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "high", NO_TRACKING + " (ship by Fri 6 Nov 23:59 EST, ACME's time)")]


    def test_each_vendor_order_is_judged_on_its_own(self, engine: Engine, tmp_path: Path) -> None:
        """Two vendors on one order: only the one without tracking is late."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-STITCH"]}, ACME,
                             vendor_block("STITCH", "csv", "local", path="stitch"))
        with session_factory(engine)() as session:
            assert session.scalars(select(VendorOrderLine.vendor_order_id).order_by(VendorOrderLine.id)).all() == [
                "TB5001-ACME", "TB5001-STITCH"]
        tell(engine, MON + timedelta(days=1), vendor="STITCH", ship_notices=(ShipNotice(
            vendor_order_id="TB5001-STITCH", shipped_at=MON, carrier="UPS", service=None, source_ref="856",
            parcels=(Parcel(PARCEL_1, "UPS", (ShippedLine(line=1, vendor_sku="STITCH-1", qty=2),)),)),))
        scanned(engine, PARCEL_1, MON + timedelta(days=1))
        assert summary(vendor_late, engine, settings, WAITED + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "high", NO_TRACKING + DUE_WEDNESDAY)]


class TestShippedLate:
    """A vendor order orderflow heard nothing of by its grace deadline is judged by its evidence when it comes."""

    MONDAY = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)  # Mon 9 Nov 10:00 New York: the tracking file arrives
    FRIDAY_AFTERNOON = datetime(2026, 11, 6, 20, 0, tzinfo=UTC)  # Fri 6 Nov 15:00 New York: after the grace

    def test_a_parcel_that_left_after_the_deadline_is_late_when_its_tracking_comes(self, engine: Engine,
                                                                                  tmp_path: Path) -> None:
        """Nothing by Thursday noon, so "no tracking" waits; Monday the tracking comes, first scanned Friday
        15:00: shipped late, 1.6 business days past the ship-by, shown for a business day after it came."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        assert summary(vendor_late, engine, settings, self.MONDAY - MINUTE) == []
        tell(engine, self.MONDAY, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), self.FRIDAY_AFTERNOON),))
        scanned(engine, PARCEL_1, self.FRIDAY_AFTERNOON)
        [finding] = evaluate(vendor_late, engine, settings, self.MONDAY + MINUTE)
        assert (finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "TB5001-ACME", "warning",
            f"shipped late: first scan of {PARCEL_1} Fri 6 Nov 15:00, 1.6 business days past its ship-by"
            + DUE_WEDNESDAY, False)
        assert (finding.labels["threshold"], finding.labels["late_business_days"]) == (
            "past the grace deadline (Thu 5 Nov 12:00 EST, ACME's time) by 1.1 business days when it left", "1.6")
        assert summary(vendor_late, engine, settings, self.MONDAY + timedelta(days=1) - MINUTE) != []
        assert summary(vendor_late, engine, settings, self.MONDAY + timedelta(days=1) + MINUTE) == []

    def test_tracking_uploaded_late_for_a_parcel_that_left_on_time_is_never_late(self, engine: Engine,
                                                                                tmp_path: Path) -> None:
        """The same file on Monday for a parcel first scanned Wednesday: nothing then, nothing after the wait."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        tell(engine, self.MONDAY, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), MON),))
        scanned(engine, PARCEL_1, datetime(2026, 11, 4, 20, 0, tzinfo=UTC))
        assert summary(vendor_late, engine, settings, self.MONDAY + MINUTE) == []
        assert summary(vendor_late, engine, settings, WAITED + MINUTE) == []

    def test_a_carrier_nobody_can_ask_is_judged_on_the_vendors_ship_date(self, engine: Engine,
                                                                        tmp_path: Path) -> None:
        """No [carriers.ups] section: ACME's own ship date is the evidence. Friday 15:00 is late; a file that
        says Wednesday (the tracking only uploaded late) is not."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        tell(engine, self.MONDAY, ship_notices=(
            notice("TB5001-ACME", PARCEL_1, (1,), self.FRIDAY_AFTERNOON),
            notice("TB5002-ACME", PARCEL_2, (1,), datetime(2026, 11, 4, 20, 0, tzinfo=UTC))))
        assert summary(vendor_late, engine, settings, self.MONDAY + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "warning",
             "shipped late: ACME says it shipped Fri 6 Nov 15:00 (UPS cannot be asked), 1.6 business days past "
             "its ship-by" + DUE_WEDNESDAY)]

    def test_a_vendor_that_said_nothing_after_the_wait_is_late_then_shipped_late(self, engine: Engine,
                                                                              tmp_path: Path) -> None:
        """Through the engine: no tracking by Tuesday noon opens one notification; the tracking that comes
        Wednesday, first scanned Tuesday evening, turns its evidence into "shipped late", one alert for one
        problem, which resolves once it has been shown."""
        from orderflow.rules import queue
        from orderflow.rules.engine import evaluate as reconcile

        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, carriers=UPS_TRACKED)
        thursday = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)  # Thu 12 Nov 10:00 (Wednesday is Veterans Day)
        tuesday_evening = datetime(2026, 11, 10, 23, 0, tzinfo=UTC)
        seen = []
        friday = thursday + timedelta(days=1)
        for now in (WAITED + MINUTE, thursday + MINUTE, friday + MINUTE, friday + timedelta(hours=4, minutes=2)):
            if now > thursday:
                tell(engine, thursday, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), tuesday_evening),))
                scanned(engine, PARCEL_1, tuesday_evening)
            with session_factory(engine)() as session, session.begin():
                reconcile(session=session, settings=settings, now=now, rules=[("vendor_late", vendor_late)])
                seen.append([(doc["id"], doc["evidence"]) for doc in queue.queue_documents(session)])
        [[(first, evidence)], [(again, shipped)], [(clearing, _)], after] = seen
        assert (first, evidence) == (again, NO_TRACKING + DUE_WEDNESDAY)
        assert (clearing, shipped) == (first, f"shipped late: first scan of {PARCEL_1} Tue 10 Nov 18:00, 3.8 business "
                                              "days past its ship-by" + DUE_WEDNESDAY)
        assert after == []


class TestShippedAfterCancel:
    def test_a_parcel_on_a_cancelled_vendor_order(self, engine: Engine, tmp_path: Path) -> None:
        """Cancelled Tuesday, shipped anyway Wednesday: one high, factual finding naming the parcel."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(state="cancelled", cancel_requested_at=MON + timedelta(days=1)),
               update(Order).values(state="cancelled"))
        wednesday = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # 10:00 New York
        tell(engine, wednesday, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), wednesday),))
        [finding] = evaluate(shipped_after_cancel, engine, settings, wednesday + MINUTE)
        assert (finding.rule, finding.subject.id, finding.severity, finding.evidence, finding.factual) == (
            "shipped_after_cancel", "TB5001-ACME", "high",
            f"ACME shipped {PARCEL_1} (reported Wed 4 Nov 10:00) on a vendor order we cancelled", True)

    def test_a_voided_label_or_an_old_parcel_is_not_news(self, engine: Engine, tmp_path: Path) -> None:
        """A label the vendor cancelled is not a shipment; a parcel reported over 14 days ago has had its say."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        change(engine, update(VendorOrder).values(state="cancelled"))
        tell(engine, MON, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), MON),
                                        notice("TB5002-ACME", PARCEL_2, (1,), MON)))
        change(engine, update(Shipment).where(Shipment.tracking_number == PARCEL_2).values(status="cancelled"))
        assert summary(shipped_after_cancel, engine, settings, MON + timedelta(days=14) - MINUTE) == [
            ("shipped_after_cancel", "TB5001-ACME", "high",
             f"ACME shipped {PARCEL_1} (reported Mon 2 Nov 10:04) on a vendor order we cancelled")]
        assert summary(shipped_after_cancel, engine, settings, MON + timedelta(days=14) + MINUTE) == []


class TestBackorderedLateness:
    """One problem, one alert: a backorder is out_of_stock's until the date the vendor gave, then vendor_late's."""

    TUESDAY_NOON = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)  # grace of a Mon 9 Nov promise: Tue 10 Nov 12:00

    def backordered(self, engine: Engine, tmp_path: Path, expected: date | None) -> Settings:
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, MON + timedelta(hours=1), acks=(ack(
            "TB5001-ACME", "accepted_with_changes", line_ack(1, "backordered", "IB", expected=expected)),))
        return settings

    def test_a_backorder_holds_lateness_until_its_promised_date(self, engine: Engine, tmp_path: Path) -> None:
        """Backordered until Mon 9 Nov: past the ship-by grace only out_of_stock shows; Tuesday 12:01 it is late."""
        settings = self.backordered(engine, tmp_path, date(2026, 11, 9))
        assert summary(vendor_late, engine, settings, GRACE + MINUTE) == []
        assert summary(out_of_stock, engine, settings, self.TUESDAY_NOON - MINUTE) == [
            ("out_of_stock", "TB5001-ACME:1", "high", "ACME-1 backordered by ACME (2 of 2), expected Mon 9 Nov")]
        assert summary(vendor_late, engine, settings, self.TUESDAY_NOON - MINUTE) == []
        assert summary(vendor_late, engine, settings, self.TUESDAY_NOON + MINUTE) == [
            ("vendor_late", "TB5001-ACME", "high", "ACME-1 was backordered until Mon 9 Nov; still not shipped")]
        assert summary(out_of_stock, engine, settings, self.TUESDAY_NOON + MINUTE) == []

    def test_a_backorder_without_a_date_stays_out_of_stocks_alone(self, engine: Engine, tmp_path: Path) -> None:
        """No date given: a week later it is still one out_of_stock and no vendor_late."""
        settings = self.backordered(engine, tmp_path, None)
        week_later = MON + timedelta(days=7)
        assert summary(vendor_late, engine, settings, week_later) == []
        assert summary(out_of_stock, engine, settings, week_later) == [
            ("out_of_stock", "TB5001-ACME:1", "high", "ACME-1 backordered by ACME (2 of 2)")]


class TestVendorLateCalendar:
    CHICAGO = ACME + '[vendors.calendar]\ntimezone = "America/Chicago"\n'

    def placed(self, engine: Engine, tmp_path: Path, at: datetime) -> Settings:
        """An order for the Chicago vendor placed at ``at``; its deadline is counted from there."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, self.CHICAGO)
        change(engine, update(Order).values(placed_at=at), update(VendorOrder).values(ship_by=None))
        return settings

    def test_friday_after_cutoff_is_not_late_on_tuesday_across_the_dst_change(self, engine: Engine,
                                                                             tmp_path: Path) -> None:
        """Fri 30 Oct 15:00 CDT is after the 14:00 cut-off: day 0 is Monday, ship by Wednesday, grace Thursday
        12:00 CST (18:00 UTC, not 17:00: the clocks went back on Sunday); with no tracking, late three business
        days on, Tuesday 12:00 CST."""
        settings = self.placed(engine, tmp_path, datetime(2026, 10, 30, 20, 0, tzinfo=UTC))
        assert summary(vendor_late, engine, settings, datetime(2026, 11, 3, 15, 0, tzinfo=UTC)) == []
        assert summary(vendor_late, engine, settings, datetime(2026, 11, 4, 18, 30, tzinfo=UTC)) == []
        assert summary(vendor_late, engine, settings, datetime(2026, 11, 10, 17, 30, tzinfo=UTC)) == []
        [finding] = evaluate(vendor_late, engine, settings, datetime(2026, 11, 10, 18, 1, tzinfo=UTC))
        assert (finding.evidence, finding.labels["late_since"]) == (
            NO_TRACKING + " (ship by Wed 4 Nov 23:59 CST, ACME's time)", "2026-11-05T18:00:00+00:00")

    def test_a_holiday_is_not_a_handling_day(self, engine: Engine, tmp_path: Path) -> None:
        """Placed Wed 25 Nov 10:00 CST: Thanksgiving is skipped, so it is due Monday, its grace ends Tuesday noon
        and with no tracking it is late three business days on, Friday noon."""
        settings = self.placed(engine, tmp_path, datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
        assert summary(vendor_late, engine, settings, datetime(2026, 11, 30, 18, 30, tzinfo=UTC)) == []
        assert summary(vendor_late, engine, settings, datetime(2026, 12, 4, 17, 59, tzinfo=UTC)) == []
        [finding] = evaluate(vendor_late, engine, settings, datetime(2026, 12, 4, 18, 1, tzinfo=UTC))
        assert (finding.evidence, finding.labels["late_since"]) == (
            NO_TRACKING + " (ship by Mon 30 Nov 23:59 CST, ACME's time)", "2026-12-01T18:00:00+00:00")

