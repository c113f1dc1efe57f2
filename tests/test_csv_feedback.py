"""Vendors' CSV feedback files: tracking, acknowledgements and inventory, read into records and refusals."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.vendors.formats.csv_feedback import header_key, parse_vendor_csv
from orderflow.vendors.records import (
    Acknowledgement,
    LineAck,
    Parcel,
    ParsedVendorFile,
    ShipNotice,
    ShippedLine,
    StockLevel,
)

SAMPLES = Path(__file__).parent / "samples"
TRACKING_HEADER = "po_number,line_number,vendor_sku,quantity_shipped,carrier,service,tracking_number,ship_date"
ACK_HEADER = "po_number,line_number,vendor_sku,status,quantity,reason,expected_date"
INVENTORY_HEADER = "sku,upc,quantity_available,next_available_date,updated_at"


def csv_bytes(*lines: str, newline: str = "\n") -> bytes:
    return "".join(line + newline for line in lines).encode()


def tracking(*rows: str) -> ParsedVendorFile:
    return parse_vendor_csv(csv_bytes(TRACKING_HEADER, *rows), file="shp.csv")


def acks(*rows: str) -> ParsedVendorFile:
    return parse_vendor_csv(csv_bytes(ACK_HEADER, *rows), file="ack.csv")


def noon(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


class TestTrackingSample:
    """tests/samples/vendor_tracking.csv: Stitch & Co, one row per line per package, USPS."""

    parsed = parse_vendor_csv((SAMPLES / "vendor_tracking.csv").read_bytes(), file="vendor_tracking.csv")

    def test_each_po_is_one_ship_notice_with_a_parcel_per_tracking_number(self) -> None:
        """TB1043 ships one parcel; TB1045 ships its two lines in two parcels on 15 March."""
        assert self.parsed.ship_notices == [
            ShipNotice(
                vendor_order_id="TB1043-STCH", shipped_at=noon(14), carrier="USPS", service="Ground Advantage",
                parcels=(Parcel("9400111899223855123450", "USPS", (ShippedLine(1, "STC-EMB-LOGO-FRS-L", 1),)),),
                source_ref="vendor_tracking.csv:2"),
            ShipNotice(
                vendor_order_id="TB1045-STCH", shipped_at=noon(15), carrier="USPS", service="Ground Advantage",
                parcels=(Parcel("9400111899223855123467", "USPS", (ShippedLine(1, "STC-EMB-LOGO-BLK-M", 2),)),
                         Parcel("9400111899223855123474", "USPS", (ShippedLine(2, "STC-EMB-CAP-KHK-OS", 1),))),
                source_ref="vendor_tracking.csv:3"),
        ]

    def test_nothing_is_refused_and_nothing_else_is_read(self) -> None:
        """Every row is good, the file carries no acks or stock, and has no interchange key."""
        assert (self.parsed.refusals, self.parsed.acks, self.parsed.stock, self.parsed.interchange) == ([], [], [],
                                                                                                       None)

    def test_two_services_for_one_po_are_reported(self) -> None:
        """A ship notice has one service, so the Priority Mail parcel of TB1045 is mentioned in a warning."""
        assert self.parsed.warnings == [
            "vendor_tracking.csv: line 3: TB1045-STCH: parcels name different services "
            "(Ground Advantage, Priority Mail); the ship notice keeps the first"]


class TestInventorySample:
    """tests/samples/inventory_feed.csv: Acme's stock feed, with backorder and discontinued rows."""

    parsed = parse_vendor_csv((SAMPLES / "inventory_feed.csv").read_bytes(), file="inventory_feed.csv")

    def test_every_row_is_a_stock_level_with_its_upc_as_text(self) -> None:
        """Quantities, restock date and snapshot time are read as sent; UPCs keep their leading zero."""
        as_of = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
        assert self.parsed.stock == [
            StockLevel("ACM-G500-BLK-L", "086753090017", 146, as_of, None),
            StockLevel("ACM-G500-WHT-M", "086753090024", 0, as_of, date(2026, 4, 2)),
            StockLevel("ACM-18500-NVY-XL", "086753090031", 37, as_of, None),
            StockLevel("ACM-G500-RED-S", "086753090048", 0, as_of, None),
            StockLevel("ACM-G500-BLK-2XL", "086753090055", 12, as_of, None),
        ]
        assert self.parsed.refusals == []

    def test_backorder_and_discontinued_statuses_are_summarised_in_warnings(self) -> None:
        """The status column changes no record; each status other than active gets one warning."""
        assert self.parsed.warnings == [
            "inventory_feed.csv: 1 row(s) with status 'backorder' (first at line 3); their quantities are kept "
            "as given",
            "inventory_feed.csv: 1 row(s) with status 'discontinued' (first at line 5); their quantities are kept "
            "as given",
        ]


class TestHeaders:
    """Headers are matched by alias, loosely, or by the vendor's own configured names."""

    def test_alias_headers_map_to_their_canonical_columns(self) -> None:
        """PO Number, Line, Item Code, Qty, Carrier Code, Class of Service, Tracking Number and Date Shipped."""
        parsed = parse_vendor_csv(csv_bytes(
            "PO Number,Line,Item Code,Qty,Carrier Code,Class of Service,Tracking Number,DateShipped",
            "TB1050-ACME,2,ACM-G500-BLK-L,3,UPSN,Ground,1Z4R8W670312345676,2026-03-16"), file="a.csv")
        assert parsed.ship_notices == [ShipNotice(
            "TB1050-ACME", noon(16), "UPSN", "Ground",
            (Parcel("1Z4R8W670312345676", "UPSN", (ShippedLine(2, "ACM-G500-BLK-L", 3),)),), "a.csv:2")]

    def test_case_spaces_dots_dashes_and_hash_are_ignored(self) -> None:
        """``PO #``, ``TRACKING-NUMBER`` and ``ShipmentLine.ItemIdentifier.SupplierSKU`` are all recognised."""
        parsed = parse_vendor_csv(csv_bytes(
            "PO #,TRACKING-NUMBER,ShipmentLine.ItemIdentifier.SupplierSKU,ShipmentInfo.Qty",
            "TB1050-ACME,1Z4R8W670312345676,ACM-G500-BLK-L,1"), file="a.csv")
        assert parsed.ship_notices[0].parcels == (
            Parcel("1Z4R8W670312345676", None, (ShippedLine(None, "ACM-G500-BLK-L", 1),)),)
        assert header_key("PO #") == header_key("po_number") == "ponumber"

    def test_a_vendor_override_names_columns_no_alias_knows(self) -> None:
        """``columns`` maps canonical names to this vendor's headers, and wins over an alias in the same file."""
        parsed = parse_vendor_csv(
            csv_bytes("Cust Ref,Pkg ID,Style,Units,SKU",
                      "TB1051-BLNK,9400111899223855123450,BLNK-HOOD-M,2,ignored"),
            file="b.csv", columns={"po_number": "Cust Ref", "tracking_number": "Pkg ID", "vendor_sku": "Style",
                                   "quantity_shipped": "Units"})
        assert parsed.ship_notices[0].vendor_order_id == "TB1051-BLNK"
        assert parsed.ship_notices[0].parcels == (
            Parcel("9400111899223855123450", None, (ShippedLine(None, "BLNK-HOOD-M", 2),)),)

    def test_an_overridden_column_missing_from_the_file_refuses_it_naming_the_configured_header(self) -> None:
        """The alias is not used as a fallback: the configuration says where the PO number is."""
        with pytest.raises(InputError) as raised:
            parse_vendor_csv(csv_bytes("PO,Tracking", "TB1,1Z"), file="c.csv", columns={"po_number": "Cust Ref"})
        assert "po_number (configured as 'Cust Ref')" in str(raised.value)

    def test_an_optional_overridden_column_missing_from_the_file_is_a_warning(self) -> None:
        """The file is still read; the configuration that no longer matches is pointed out."""
        parsed = parse_vendor_csv(csv_bytes("PO,Tracking,Service", "TB1,1ZA,Ground"), file="c.csv",
                                  columns={"service": "Ship Via"})
        assert parsed.ship_notices[0].service is None
        assert parsed.warnings == ["c.csv: line 1: column 'Ship Via' configured for service is not in the file"]

    def test_an_unknown_canonical_name_in_the_override_is_a_config_error(self) -> None:
        """A typo in the vendor's column mapping is a configuration problem, not a bad file."""
        with pytest.raises(ConfigError, match=r"unknown column name.*tracking_nr"):
            parse_vendor_csv(csv_bytes("PO,Tracking"), file="c.csv", columns={"tracking_nr": "Pkg"})


class TestKindAndColumns:
    """The kind is told from the columns; a file missing what its kind needs is refused whole."""

    def test_auto_tells_acks_from_tracking_from_inventory(self) -> None:
        """Tracking number -> tracking; PO number and status -> acks; quantity available without PO -> stock."""
        shipped = parse_vendor_csv(csv_bytes("PO,Tracking", "TB1,1Z"), file="x.csv")
        acked = parse_vendor_csv(csv_bytes("PO,Status", "TB1,accepted"), file="x.csv")
        stocked = parse_vendor_csv(csv_bytes("SKU,Qty", "ACM-1,4"), file="x.csv")
        assert [len(shipped.ship_notices), len(acked.acks), len(stocked.stock)] == [1, 1, 1]
        assert [shipped.acks, shipped.stock, acked.ship_notices, stocked.ship_notices] == [[], [], [], []]

    def test_an_undetectable_file_is_refused_naming_what_was_expected_and_found(self) -> None:
        """A PO file with quantities but no status or tracking column cannot be told apart."""
        with pytest.raises(InputError) as raised:
            parse_vendor_csv(csv_bytes("PO,SKU,Qty", "TB1,ACM-1,2"), file="x.csv")
        message = str(raised.value)
        assert message.startswith("x.csv:1: cannot tell whether this is a tracking, acknowledgement or inventory")
        assert "tracking_number (accepted headers: tracking_number, Tracking, Tracking Number," in message
        assert "The file's columns: 'PO', 'SKU', 'Qty'." in message
        assert raised.value.refusal.line == 1

    def test_a_told_kind_missing_required_columns_names_them_and_their_aliases(self) -> None:
        """kind='tracking' on an inventory feed lacks both the PO number and the tracking number."""
        with pytest.raises(InputError) as raised:
            parse_vendor_csv((SAMPLES / "inventory_feed.csv").read_bytes(), file="inv.csv", kind="tracking")
        message = str(raised.value)
        assert "tracking file without the column(s) it needs: po_number (accepted headers: po_number, PO, " \
               "PO Number, PartnerPO, Purchase Order," in message
        assert "; tracking_number (accepted headers: tracking_number, Tracking, Tracking Number," in message

    def test_tracking_lines_without_a_quantity_column_are_refused_whole(self) -> None:
        """A file naming SKUs per parcel but no quantities would make every quantity a guess."""
        with pytest.raises(InputError, match=r"without the column\(s\) it needs: quantity_shipped"):
            parse_vendor_csv(csv_bytes("PO,Tracking,SKU", "TB1,1Z,ACM-1"), file="x.csv")

    def test_tracking_without_line_columns_gives_parcels_without_lines(self) -> None:
        """Order-level tracking (PO and number only) still says which parcels left."""
        parsed = parse_vendor_csv(csv_bytes("PO,Tracking,Carrier", "TB1,1ZA,UPS", "TB1,1ZB,UPS"), file="x.csv")
        assert parsed.ship_notices[0].parcels == (Parcel("1ZA", "UPS", ()), Parcel("1ZB", "UPS", ()))

    def test_an_unknown_kind_is_a_config_error(self) -> None:
        """Only auto, acks, tracking and inventory are kinds."""
        with pytest.raises(ConfigError, match="unknown vendor file kind 'invoices'"):
            parse_vendor_csv(csv_bytes("PO,Tracking"), file="x.csv", kind="invoices")  # type: ignore[arg-type]


class TestMultipleTrackingNumbers:
    """Several parcels for one PO: one row per package, or numbers joined with ``|`` in one cell."""

    def test_rows_with_the_same_tracking_number_share_one_parcel(self) -> None:
        """Two lines packed in one carton are one parcel with two lines, in file order."""
        parsed = tracking("TB1,1,SKU-A,1,UPS,Ground,1ZA,2026-03-14",
                          "TB1,2,SKU-B,2,UPS,Ground,1ZA,2026-03-14",
                          "TB1,3,SKU-C,1,UPS,Ground,1ZB,2026-03-14")
        assert parsed.ship_notices[0].parcels == (
            Parcel("1ZA", "UPS", (ShippedLine(1, "SKU-A", 1), ShippedLine(2, "SKU-B", 2))),
            Parcel("1ZB", "UPS", (ShippedLine(3, "SKU-C", 1),)))

    def test_pipe_joined_numbers_become_parcels_and_the_lines_go_to_the_first(self) -> None:
        """The file does not say which carton holds the line, so the first parcel gets it and a warning says so."""
        parsed = tracking("TB1,1,SKU-A,3,FedEx,Home, 7489 | 7490 |7491 ,2026-03-14")
        assert parsed.ship_notices[0].parcels == (
            Parcel("7489", "FedEx", (ShippedLine(1, "SKU-A", 3),)), Parcel("7490", "FedEx", ()),
            Parcel("7491", "FedEx", ()))
        assert parsed.warnings == ["shp.csv: line 2: TB1: 3 tracking numbers in one cell; the row's line is put "
                                   "in the first parcel (7489), the others have no lines"]

    def test_an_empty_tracking_cell_is_a_parcel_without_a_number(self) -> None:
        """The vendor says the line shipped without a number; the parcel is kept for the rules to flag."""
        parsed = tracking("TB1,1,SKU-A,1,USPS,,,2026-03-14")
        assert parsed.ship_notices[0].parcels == (Parcel("", "USPS", (ShippedLine(1, "SKU-A", 1),)),)

    def test_the_carrier_falls_back_to_the_scac_column(self) -> None:
        """With an empty carrier name the SCAC is taken as sent."""
        parsed = parse_vendor_csv(csv_bytes("PO,Tracking,Carrier,carrier_scac", "TB1,1ZA,,UPSN"), file="x.csv")
        assert (parsed.ship_notices[0].carrier, parsed.ship_notices[0].parcels[0].carrier) == ("UPSN", "UPSN")

    def test_different_ship_dates_keep_the_earliest_with_a_warning(self) -> None:
        """A ship notice holds one ship date; the first parcel out sets it."""
        parsed = tracking("TB1,1,SKU-A,1,UPS,,1ZA,2026-03-16", "TB1,2,SKU-B,1,UPS,,1ZB,2026-03-14")
        assert parsed.ship_notices[0].shipped_at == noon(14)
        assert parsed.warnings == ["shp.csv: line 2: TB1: parcels shipped on different dates (2026-03-14, "
                                   "2026-03-16); the ship notice keeps the earliest"]


class TestShipDates:
    """Ship dates come out as aware UTC datetimes."""

    @pytest.mark.parametrize(("cell", "expected"), [
        ("2026-03-14", datetime(2026, 3, 14, 12, 0, tzinfo=UTC)),
        ("20260314", datetime(2026, 3, 14, 12, 0, tzinfo=UTC)),
        ("2026-03-14T16:30:00Z", datetime(2026, 3, 14, 16, 30, tzinfo=UTC)),
        ("2026-03-14T16:30:00-05:00", datetime(2026, 3, 14, 21, 30, tzinfo=UTC)),
        ("2026-03-14 16:30", datetime(2026, 3, 14, 16, 30, tzinfo=UTC)),
    ])
    def test_iso_dates_and_times(self, cell: str, expected: datetime) -> None:
        """A date alone is noon UTC; an offset is honoured; a time without an offset is UTC."""
        assert tracking(f"TB1,1,SKU-A,1,UPS,,1ZA,{cell}").ship_notices[0].shipped_at == expected

    def test_no_ship_date_leaves_it_unknown(self) -> None:
        """An empty cell is not a refusal: the carrier's first scan will tell."""
        assert tracking("TB1,1,SKU-A,1,UPS,,1ZA,").ship_notices[0].shipped_at is None


class TestAcknowledgements:
    """Ack files: one Acknowledgement per PO, statuses from words or X12 codes."""

    def test_mixed_lines_are_accepted_with_changes_and_keep_their_detail(self) -> None:
        """Codes and words are normalised; the code, reason, quantity and expected date are kept as sent."""
        parsed = acks("TB1042-ACME,1,ACM-G500-BLK-L,IA,2,,",
                      "TB1042-ACME,2,ACM-G500-WHT-M,Back Order,1,out of white M,2026-04-02",
                      "TB1042-ACME,3,ACM-18500-NVY-XL,R2,1,discontinued style,")
        assert parsed.acks == [Acknowledgement(
            vendor_order_id="TB1042-ACME", status="accepted_with_changes", vendor_reference="",
            lines=(LineAck(1, "ACM-G500-BLK-L", 2, "accepted", "IA", "", None),
                   LineAck(2, "ACM-G500-WHT-M", 1, "backordered", "Back Order", "out of white M", date(2026, 4, 2)),
                   LineAck(3, "ACM-18500-NVY-XL", 1, "rejected", "R2", "discontinued style", None)),
            reason="", source_ref="ack.csv:2")]

    @pytest.mark.parametrize(("statuses", "expected"), [
        (("accepted", "ACCEPTED"), "accepted"),
        (("IR", "rejected"), "rejected"),
        (("accepted", "IQ"), "accepted_with_changes"),
        (("IB", "backorder"), "accepted_with_changes"),
    ])
    def test_the_order_status_follows_its_lines(self, statuses: tuple[str, str], expected: str) -> None:
        """All accepted: accepted; all rejected: rejected; anything else: accepted with changes."""
        parsed = acks(*(f"TB1,{number},SKU-{number},{status},1,," for number, status in enumerate(statuses, 1)))
        assert parsed.acks[0].status == expected

    def test_a_rejected_order_carries_its_lines_reasons(self) -> None:
        """Staff see why without opening each line."""
        parsed = acks("TB1,1,SKU-A,rejected,1,bad address,", "TB1,2,SKU-B,IR,1,bad address,")
        assert (parsed.acks[0].status, parsed.acks[0].reason) == ("rejected", "bad address")

    def test_a_row_without_line_or_sku_is_a_verdict_on_the_whole_order(self) -> None:
        """It gives the order's status and reason, and no line."""
        parsed = parse_vendor_csv(csv_bytes("PartnerPO,Status,Reason,vendor_order_number",
                                            "TB1,Rejected,account on hold,SO-77"), file="ack.csv")
        assert parsed.acks == [Acknowledgement("TB1", "rejected", "SO-77", (), "account on hold", "ack.csv:2")]

    def test_an_unknown_status_is_read_as_changed_for_review(self) -> None:
        """Guessing 'accepted' could hide a problem; a warning names the row."""
        parsed = acks("TB1,1,SKU-A,pending review,1,,")
        assert parsed.acks[0].lines[0].status == "changed"
        assert parsed.acks[0].status == "accepted_with_changes"
        assert parsed.warnings == ["ack.csv: line 2: TB1: unrecognised status 'pending review' read as 'changed'; "
                                   "review it"]

    def test_a_missing_quantity_is_zero_meaning_the_whole_line(self) -> None:
        """Vendors often leave the quantity out; zero tells the store to use the ordered quantity."""
        assert acks("TB1,1,SKU-A,accepted,,,").acks[0].lines[0].qty == 0


class TestBadRows:
    """A bad row is refused alone, at its physical line and under the vendor's header; the rest is kept."""

    def test_a_bad_quantity_refuses_its_row_only(self) -> None:
        """Row 3 of four is refused under the header as the vendor wrote it; the other POs ship."""
        parsed = parse_vendor_csv(csv_bytes(
            "PO Number,Line,SKU,Qty,Tracking Number",
            "TB1,1,SKU-A,1,1ZA", "TB2,1,SKU-B,abc,1ZB", "TB3,1,SKU-C,2,1ZC"), file="shp.csv")
        assert [notice.vendor_order_id for notice in parsed.ship_notices] == ["TB1", "TB3"]
        assert parsed.refusals == [Refusal("shp.csv", 3, "Qty", "row for TB2 refused: not a whole number: 'abc'")]

    @pytest.mark.parametrize(("row", "field", "reason"), [
        ("TB1,1,SKU-A,-2,UPS,,1ZA,2026-03-14", "quantity_shipped", "row for TB1 refused: negative quantity: '-2'"),
        ("TB1,1,SKU-A,1,UPS,,1ZA,03/14/2026", "ship_date",
         "row for TB1 refused: not an ISO 8601 date or time like 2026-03-14 or 2026-03-14T16:30:00Z: '03/14/2026'"),
        (",1,SKU-A,1,UPS,,1ZA,2026-03-14", "po_number", "row refused: po number is empty"),
        ("TB1,0,SKU-A,1,UPS,,1ZA,2026-03-14", "line_number", "row for TB1 refused: not a line number (1 or more): '0'"),
        ("TB1,1,SKU-A,,UPS,,1ZA,2026-03-14", "quantity_shipped", "row for TB1 refused: quantity shipped is empty"),
        ("TB1,,,2,UPS,,1ZA,2026-03-14", "quantity_shipped",
         "row for TB1 refused: a quantity shipped without a line number or SKU to say what shipped"),
    ])
    def test_bad_tracking_values(self, row: str, field: str, reason: str) -> None:
        """Each bad value is named with its column and why, and the good row after it is kept."""
        parsed = tracking(row, "TB9,1,SKU-Z,1,UPS,,1ZZ,2026-03-14")
        assert parsed.refusals == [Refusal("shp.csv", 2, field, reason)]
        assert [notice.vendor_order_id for notice in parsed.ship_notices] == ["TB9"]

    def test_every_bad_value_of_a_row_is_in_its_one_refusal(self) -> None:
        """One row, one refusal: the first bad column is the field and the others are listed."""
        parsed = tracking("TB1,x,SKU-A,abc,UPS,,1ZA,soon")
        assert parsed.refusals == [Refusal(
            "shp.csv", 2, "line_number", "row for TB1 refused: not a line number (1 or more): 'x'; also "
            "quantity_shipped: not a whole number: 'abc'; also ship_date: not an ISO 8601 date or time like "
            "2026-03-14 or 2026-03-14T16:30:00Z: 'soon'")]

    def test_lines_are_physical_lines_after_multi_line_cells_and_blank_lines(self) -> None:
        """A quoted service spanning two lines and a blank line move the count on."""
        parsed = tracking('TB1,1,SKU-A,1,UPS,"Ground\nresidential",1ZA,2026-03-14', "",
                          "TB2,1,SKU-B,x,UPS,,1ZB,2026-03-14")
        assert parsed.refusals[0].line == 5
        assert parsed.ship_notices[0].service == "Ground\nresidential"

    def test_bad_ack_values(self) -> None:
        """An empty status and a date that does not parse refuse their rows; the PO's good line stays."""
        parsed = acks("TB1,1,SKU-A,,1,,", "TB1,2,SKU-B,backordered,1,,next week", "TB1,3,SKU-C,accepted,1,,")
        assert parsed.refusals == [
            Refusal("ack.csv", 2, "status", "row for TB1 refused: status is empty"),
            Refusal("ack.csv", 3, "expected_date",
                    "row for TB1 refused: not an ISO 8601 date like 2026-03-14: 'next week'")]
        assert parsed.acks[0].lines == (LineAck(3, "SKU-C", 1, "accepted", "accepted", "", None),)
        assert parsed.acks[0].status == "accepted"

    @pytest.mark.parametrize(("row", "field", "reason"), [
        ("ACM-1,086753090017,-3,,", "quantity_available", "row refused: negative quantity: '-3'"),
        ("ACM-1,086753090017,,,", "quantity_available", "row refused: quantity available is empty"),
        ("ACM-1,8.67E+10,4,,", "upc",
         "row refused: UPC in scientific notation (a spreadsheet dropped its digits): '8.67E+10'"),
        (",086753090017,4,,", "sku", "row refused: vendor sku is empty"),
        ("ACM-1,086753090017,4,April,", "next_available_date",
         "row refused: not an ISO 8601 date like 2026-03-14: 'April'"),
    ])
    def test_bad_inventory_values(self, row: str, field: str, reason: str) -> None:
        """The row is refused under the vendor's header; the good row after it is a stock level."""
        parsed = parse_vendor_csv(csv_bytes(INVENTORY_HEADER, row, "ACM-2,'086753090024,5,,"), file="inv.csv")
        assert parsed.refusals == [Refusal("inv.csv", 2, field, reason)]
        assert parsed.stock == [StockLevel("ACM-2", "086753090024", 5, None, None)]


class TestWholeFile:
    """Encoding and CSV problems refuse the whole file; a BOM and CRLF do not."""

    def test_bom_and_crlf_read_the_same_as_plain_utf8(self) -> None:
        """A spreadsheet's UTF-8 export (BOM, CRLF) gives exactly the records of the plain file."""
        plain = (SAMPLES / "vendor_tracking.csv").read_text(encoding="utf-8").splitlines()
        with_bom = b"\xef\xbb\xbf" + csv_bytes(*plain, newline="\r\n")
        assert parse_vendor_csv(with_bom, file="vendor_tracking.csv") == parse_vendor_csv(
            csv_bytes(*plain), file="vendor_tracking.csv")

    @pytest.mark.parametrize(("data", "message"), [
        (b"", "shp.csv: the file is empty: no header row"),
        (b"PO,Tracking\nTB1,\xff\xfe\n", "shp.csv:2: not UTF-8 text (byte 5 of the line)"),
        (b"PK\x03\x04\x00\x00binary", "shp.csv:1: binary content (NUL bytes): not a UTF-8 CSV file"),
        (b'PO,Tracking\nTB1,"1Z\n', "shp.csv:2: not readable as CSV: unexpected end of data"),
    ])
    def test_unreadable_files_raise_input_error(self, data: bytes, message: str) -> None:
        """Empty, not UTF-8, binary, or cut off inside a quote: nothing is read from the file."""
        with pytest.raises(InputError) as raised:
            parse_vendor_csv(data, file="shp.csv")
        assert str(raised.value) == message

    def test_a_header_only_file_is_read_as_nothing(self) -> None:
        """A vendor with nothing to report may still send the header."""
        assert parse_vendor_csv(csv_bytes(TRACKING_HEADER), file="shp.csv") == ParsedVendorFile()


VALID_HEADERS = (TRACKING_HEADER, ACK_HEADER, INVENTORY_HEADER)
CELL_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")


class TestNeverCrashes:
    """Whatever arrives, the reader returns records and refusals or raises InputError, nothing else."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.binary(max_size=400), header=st.sampled_from(("", *VALID_HEADERS)),
           kind=st.sampled_from(("auto", "acks", "tracking", "inventory")))
    def test_arbitrary_bytes_raise_only_input_error(self, data: bytes, header: str, kind: str) -> None:
        """Random bytes, alone or after a good header, never raise anything but InputError."""
        with contextlib.suppress(InputError):
            parse_vendor_csv(header.encode() + b"\n" + data if header else data, file="f.csv",
                             kind=kind)  # type: ignore[arg-type]

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(header=st.sampled_from(VALID_HEADERS), rows=st.lists(st.lists(st.text(CELL_CHARACTERS, max_size=12),
                                                                         max_size=9), max_size=6))
    def test_every_row_is_kept_or_refused_once(self, header: str, rows: list[list[str]]) -> None:
        """Under a good header any cells are read: a non-blank row gives a record or one refusal, never both."""
        out = io.StringIO()
        csv.writer(out).writerows([header.split(","), *rows])
        parsed = parse_vendor_csv(out.getvalue().encode(), file="f.csv")
        non_blank = sum(1 for row in rows if any(cell.strip() for cell in row))
        refused_lines = [refusal.line for refusal in parsed.refusals]
        assert len(set(refused_lines)) == len(refused_lines)
        assert {refusal.field for refusal in parsed.refusals} <= set(header.split(","))
        if header == INVENTORY_HEADER:
            assert len(parsed.stock) + len(parsed.refusals) == non_blank
        else:
            assert len(parsed.ship_notices) + len(parsed.acks) <= non_blank - len(parsed.refusals)
