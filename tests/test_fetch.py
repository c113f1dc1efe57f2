"""Vendor feedback: acknowledgements, parcels and stock come back, each file exactly once, state moving forward."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from orderflow.cli.main import app
from orderflow.clock import Clock
from orderflow.config import Settings, VendorSettings
from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile, InventoryLevel, Shipment
from orderflow.errors import ExitCode, InputError
from orderflow.orders.view import find_order, order_story
from orderflow.storefronts.importing import import_orders
from orderflow.testing.printful import FakePrintful
from orderflow.testing.sshd import SshServer
from orderflow.vendors.channels import file_transport
from orderflow.vendors.dispatch import dispatch
from orderflow.vendors.fetch import FetchIO, fetch, parse_vendor_file
from orderflow.vendors.overview import vendor_overview
from orderflow.vendors.transports.base import FileTransport
from tests.support.cli import orderflow
from tests.support.fetch import LOCAL_ACME, drop, shop
from tests.support.sample_shop import SAMPLES, stock_catalog
from tests.support.shop_with_vendors import vendor_block, write_settings


def acme_order(engine: Engine) -> dict:  # type: ignore[type-arg]
    with session_factory(engine)() as session:
        story = order_story(find_order(session, "1042"), session)
    [acme] = [vo for vo in story["vendor_orders"] if vo["id"] == "TB1042-ACME"]
    return {"vo": acme, "shipments": [s for s in story["shipments"] if s["vendor_order"] == "TB1042-ACME"]}


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestX12Feedback:
    def test_855_accepts_two_lines_and_rejects_one(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """The sample 855: lines 1 and 3 accepted, line 2 rejected with its code; the file is archived."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        drop(tmp_path / "acme" / "from_vendor", "ack_1.edi", (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes())
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.OK, result.problems
        assert (result.counts["acknowledgements"], result.counts["lines_rejected"]) == (1, 1)
        acme = acme_order(engine)["vo"]
        assert acme["state"] == "accepted"
        assert [(line["line"], line["state"]) for line in acme["lines"]] == [
            (1, "accepted"), (2, "rejected"), (3, "accepted")]
        assert acme["lines"][1]["reason"]
        assert (tmp_path / "acme" / "archive" / "ack_1.edi").exists()
        assert not (tmp_path / "acme" / "from_vendor" / "ack_1.edi").exists()

    def test_856_two_parcels_two_tracking_numbers(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """The sample 856 adds two UPS parcels with their lines; unshipped line 2 keeps the order partial."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        drop(tmp_path / "acme" / "from_vendor", "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=clock)
        order = acme_order(engine)
        assert [(s["carrier"], s["tracking_number"], s["tracking_valid"], s["status"], s["lines"])
                for s in order["shipments"]] == [
            ("ups", "1Z4R8W670312345676", True, "label_created", [{"line": 1, "qty": 2}]),
            ("ups", "1Z4R8W670312345694", True, "label_created", [{"line": 3, "qty": 1}])]
        assert order["shipments"][0]["shipped_at"].date() == date(2026, 3, 14)
        assert order["vo"]["state"] == "partially_shipped"

    def test_855_after_856_never_unships(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A late acknowledgement leaves shipped lines shipped; the rejected line completes the order."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        inbox = tmp_path / "acme" / "from_vendor"
        drop(inbox, "1-asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=clock)
        drop(inbox, "2-ack.edi", (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=clock)
        acme = acme_order(engine)["vo"]
        assert [(line["line"], line["state"]) for line in acme["lines"]] == [
            (1, "shipped"), (2, "rejected"), (3, "shipped")]
        assert acme["state"] == "shipped"

    def test_a_997_goes_back_when_the_vendor_wants_one(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """With send_997, each functional group read is acknowledged in a 997 left in the vendor's inbound folder."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME + "[vendors.x12]\nsend_997 = true\n")
        drop(tmp_path / "acme" / "from_vendor", "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=clock)
        [ack] = list((tmp_path / "acme" / "to_vendor").iterdir())
        segments = ack.read_text().replace("\n", "").split("~")
        assert ack.name.startswith("997_")
        assert [s for s in segments if s.startswith(("AK1", "AK2", "AK5", "AK9"))] == [
            "AK1*SH*5502", "AK2*856*0001", "AK5*A", "AK9*A*1*1*1"]

    def test_846_stock_levels(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """The sample 846 records four stock levels, with the restock date where the vendor gave one."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        drop(tmp_path / "acme" / "from_vendor", "inv.edi", (SAMPLES / "x12_846_inventory_advice.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=clock)
        with session_factory(engine)() as session:
            levels = {row.vendor_sku: (row.quantity, row.next_available)
                      for row in session.scalars(select(InventoryLevel))}
        assert levels == {"ACM-G500-BLK-L": (146, None), "ACM-G500-WHT-M": (0, date(2026, 4, 2)),
                          "ACM-18500-NVY-XL": (37, None), "ACM-G500-RED-S": (0, None)}

    def test_same_content_under_another_name_is_taken_once(self, engine: Engine, clock: Clock,
                                                           tmp_path: Path) -> None:
        """A renamed copy of a file already taken is archived and changes nothing."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        inbox = tmp_path / "acme" / "from_vendor"
        content = (SAMPLES / "x12_856_ship_notice.edi").read_bytes()
        drop(inbox, "asn.edi", content)
        fetch(engine=engine, settings=settings, clock=clock)
        drop(inbox, "asn-again.edi", content)
        again = fetch(engine=engine, settings=settings, clock=clock)
        assert (again.counts["files"], again.counts["duplicates"]) == (0, 1)
        assert (count(engine, Shipment), count(engine, IngestedFile)) == (2, 1)
        assert (tmp_path / "acme" / "archive" / "asn-again.edi").exists()

    def test_truncated_file_is_refused_with_its_segment(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A file cut short goes to rejected/; the ledger and the problem line name the segment."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        content = (SAMPLES / "x12_856_ship_notice.edi").read_bytes()
        drop(tmp_path / "acme" / "from_vendor", "cut.edi", content[: len(content) // 2])
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.INPUT_REFUSED
        [problem] = result.problems
        assert "cut.edi" in problem
        assert "segment" in problem
        assert (tmp_path / "acme" / "rejected" / "cut.edi").exists()
        assert count(engine, Shipment) == 0

    def test_a_file_still_being_written_is_left_alone(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A file modified within the settle time stays where it is, unread."""
        settings = shop(tmp_path, engine, clock, vendor_block("ACME", "x12", "local", path="acme",
                                                             settle_seconds=3600))
        path = tmp_path / "acme" / "from_vendor" / "asn.edi"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        assert fetch(engine=engine, settings=settings, clock=clock).counts["files"] == 0
        assert path.exists()


class TestCsvFeedback:
    def test_one_bad_row_keeps_the_others(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A tracking CSV with a bad quantity on one row: that row is refused by line, the parcel is still added."""
        settings = shop(tmp_path, engine, clock, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0))
        drop(tmp_path / "acme" / "from_vendor", "shp_1.csv", (
            b"PO Number,Line,Item Code,Qty,Carrier,Tracking Number,Ship Date\n"
            b"TB1042-ACME,1,ACM-G500-BLK-L,2,UPS,1Z4R8W670312345676,2026-03-14\n"
            b"TB1042-ACME,3,ACM-18500-NVY-XL,abc,UPS,1Z4R8W670312345694,2026-03-14\n"))
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.INPUT_REFUSED
        [problem] = result.problems
        assert problem.startswith("ACME:shp_1.csv:3: Qty: ")
        order = acme_order(engine)
        assert [(s["tracking_number"], s["lines"]) for s in order["shipments"]] == [
            ("1Z4R8W670312345676", [{"line": 1, "qty": 2}])]
        assert (tmp_path / "acme" / "archive" / "shp_1.csv").exists()
        with session_factory(engine)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.kind, ledger.rows_refused) == ("csv", 1)

    def test_a_json_file_from_a_csv_vendor_is_refused_not_taken_for_a_printful_webhook(
            self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A Printful-shaped package_shipped webhook in a CSV vendor's folder is read by the vendor's format: refused
        whole, saying it is JSON where CSV was expected, and no parcel comes of it."""
        settings = shop(tmp_path, engine, clock, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0))
        webhook = json.loads((SAMPLES / "printful_webhook_package_shipped_v1.json").read_bytes())
        webhook["data"]["order"]["external_id"] = "TB1042-ACME"
        drop(tmp_path / "acme" / "from_vendor", "shipped.json", json.dumps(webhook).encode())
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files_refused"]) == (ExitCode.INPUT_REFUSED, 1)
        assert result.problems == ["ACME:shipped.json: vendor ACME's format is 'csv', CSV (acknowledgements, tracking "
                                   "or inventory rows), but this file is JSON; it is not read as another format"]
        assert (tmp_path / "acme" / "rejected" / "shipped.json").exists()
        assert count(engine, Shipment) == 0
        with session_factory(engine)() as session:
            assert session.scalars(select(IngestedFile.kind)).all() == ["refused"]

    def test_an_x12_vendors_file_is_read_as_x12_whatever_its_name(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """The format comes from the vendor, not the name: an 856 named .csv from an X12 vendor is read as X12."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        drop(tmp_path / "acme" / "from_vendor", "asn.csv", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"]) == (ExitCode.OK, 1), result.problems
        assert acme_order(engine)["shipments"]
        with session_factory(engine)() as session:
            assert session.scalars(select(IngestedFile.kind)).all() == ["x12"]


class TestReadByTheVendorsFormat:
    @pytest.mark.parametrize(("fmt", "transport", "content", "reason"), [
        ("x12", "local", b"PO Number,Tracking Number\nTB1042-ACME,1Z4R8W670312345676\n",
         "vendor ACME's format is 'x12', X12 EDI (an interchange that begins with ISA), but this file is text; "
         "it is not read as another format"),
        ("printful", "http", b"ISA*00*", "vendor ACME's format is 'printful', Printful webhooks saved as JSON, but "
         "this file is X12 EDI; it is not read as another format"),
        ("json", "local", b'{"status": "accepted"}',
         "vendor ACME's format 'json' has no files to read (JSON purchase orders out, no files back)"),
    ])
    def test_a_file_of_another_shape_is_refused_naming_both(self, fmt: str, transport: str, content: bytes,
                                                            reason: str) -> None:
        """Nothing is read as a format the vendor does not use; the refusal says what was expected and found."""
        vendor = VendorSettings(code="ACME", name="Acme", format=fmt, transport=transport, path=Path("acme"),
                                base_url="https://vendor.test")
        with pytest.raises(InputError) as refused:
            parse_vendor_file(content, file="ACME:in.dat", vendor=vendor)
        assert (refused.value.refusal.file, refused.value.refusal.reason) == ("ACME:in.dat", reason)


def sftp_acme(server: SshServer, remote: Path, fmt: str = "x12") -> str:
    return vendor_block("ACME", fmt, "sftp", host=server.host, port=server.port, username=server.username,
                        key_file=str(server.user_key_path), known_hosts=str(server.known_hosts_path),
                        remote_dir=str(remote), settle_seconds=0)


class TestSftpFeedback:
    def test_856_and_855_over_real_sftp(self, engine: Engine, clock: Clock, tmp_path: Path,
                                        sshd: SshServer) -> None:
        """The same files fetched over SFTP give the same result and are archived on the server."""
        remote = tmp_path / "remote"
        settings = shop(tmp_path, engine, clock, sftp_acme(sshd, remote))
        drop(remote / "from_vendor", "1-asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        drop(remote / "from_vendor", "2-ack.edi", (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes())
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.OK, result.problems
        assert acme_order(engine)["vo"]["state"] == "shipped"
        assert sorted(p.name for p in (remote / "archive").iterdir()) == ["1-asn.edi", "2-ack.edi"]

    def test_a_symbolic_link_on_the_server_is_never_followed(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                             sshd: SshServer) -> None:
        """Over SFTP too, a link in from_vendor/ to a file elsewhere on the server is neither read nor moved; the
        real file beside it is taken."""
        remote = tmp_path / "remote"
        settings = shop(tmp_path, engine, clock, sftp_acme(sshd, remote))
        secret = tmp_path / "passwd"
        secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
        drop(remote / "from_vendor", "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        (remote / "from_vendor" / "x.csv").symlink_to(secret)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"], result.problems) == (ExitCode.OK, 1, [])
        assert (remote / "from_vendor" / "x.csv").is_symlink()
        with session_factory(engine)() as session:
            assert [row.path for row in session.scalars(select(IngestedFile))] == ["asn.edi"]

    def test_a_download_cut_mid_file_is_taken_next_run(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                       own_sshd: SshServer) -> None:
        """The server dies while we read: nothing is ledgered or moved, and the next run takes the file."""
        remote = tmp_path / "remote"
        settings = shop(tmp_path, engine, clock, sftp_acme(own_sshd, remote))
        drop(remote / "from_vendor", "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())

        class DiesWhileReading:
            """The real SFTP transport, whose server is killed in the middle of the first read."""

            def __init__(self, vendor: VendorSettings, shop_settings: Settings) -> None:
                self.inner = file_transport(vendor, shop_settings)

            def __getattr__(self, name: str) -> object:
                return getattr(self.inner, name)

            def __enter__(self) -> FileTransport:
                return self  # type: ignore[return-value]

            def __exit__(self, *exc: object) -> None:
                self.inner.close()

            def read(self, name: str) -> bytes:
                own_sshd.kill()
                return self.inner.read(name)

        cut = fetch(engine=engine, settings=settings, clock=clock, io=FetchIO(file_transport=DiesWhileReading))
        assert cut.exit_code is ExitCode.PARTIAL_FAILURE
        assert count(engine, IngestedFile) == 0
        assert (remote / "from_vendor" / "asn.edi").exists()
        own_sshd.restart()
        again = fetch(engine=engine, settings=settings, clock=clock)
        assert again.counts["files"] == 1, again.problems
        assert count(engine, Shipment) == 2


class TestPrintfulFeedback:
    @pytest.fixture
    def printful(self, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("TEST_PF_TOKEN", "pf-token")
        with FakePrintful(token="pf-token") as fake:
            yield fake

    def settings(self, tmp_path: Path, engine: Engine, clock: Clock, fake: FakePrintful) -> Settings:
        settings = write_settings(tmp_path, vendor_block(
            "PF", "printful", "http", kind="on_demand", base_url=fake.url, token_env="TEST_PF_TOKEN",
            path="pf-webhooks", settle_seconds=0))
        stock_catalog(engine, settings, clock.now(), [])
        from orderflow.catalog import CatalogRow
        stock_catalog(engine, settings, clock.now(), [CatalogRow("TB-MTNLINE-HTR-S", "PF", "4016"),
                                                      CatalogRow("TB-CUSTNAME-WHT-L", "PF", "4017")])
        import_orders(engine=engine, settings=settings, now=clock.now(), paths=[SAMPLES / "shopify_orders_export.csv"])
        assert dispatch(engine=engine, settings=settings, clock=clock).counts["accepted"] == 1
        return settings

    def test_second_parcel_is_added_never_overwrites(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                     printful: FakePrintful) -> None:
        """Polling Printful: the first parcel ships line 1, the second line 2; both are kept."""
        settings = self.settings(tmp_path, engine, clock, printful)
        printful.ship("TB1042-PF", "9400111899223855990014", items={"TB1042-PF-1": 1})
        fetch(engine=engine, settings=settings, clock=clock)
        printful.ship("TB1042-PF", "9400111899223855990021", items={"TB1042-PF-2": 1})
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.counts["polled"] == 1
        with session_factory(engine)() as session:
            story = order_story(find_order(session, "1042"), session)
        pf = [s for s in story["shipments"] if s["vendor_order"] == "TB1042-PF"]
        assert [(s["tracking_number"], s["carrier"], s["lines"]) for s in pf] == [
            ("9400111899223855990014", "usps", [{"line": 1, "qty": 1}]),
            ("9400111899223855990021", "usps", [{"line": 2, "qty": 1}])]
        assert [vo["state"] for vo in story["vendor_orders"] if vo["id"] == "TB1042-PF"] == ["shipped"]

    def test_webhook_files_in_an_inbox_folder(self, engine: Engine, clock: Clock, tmp_path: Path,
                                              printful: FakePrintful) -> None:
        """A package_shipped webhook saved as a JSON file is read like any vendor file, once."""
        settings = self.settings(tmp_path, engine, clock, printful)
        printful.ship("TB1042-PF", "9400111899223855990014")
        webhook = json.dumps(printful.webhooks[-1]).encode()
        drop(tmp_path / "pf-webhooks" / "from_vendor", "event-1.json", webhook)
        drop(tmp_path / "pf-webhooks" / "from_vendor", "event-1-redelivered.json", webhook)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.counts["files"], result.counts["duplicates"]) == (1, 1)
        assert count(engine, Shipment) == 1


class TestOneFileNeverBlocksAVendor:
    def test_an_unsafe_sender_id_never_stops_the_files_behind_it(self, engine: Engine, clock: Clock,
                                                                 tmp_path: Path) -> None:
        """An 855 whose ISA06 holds '/../' gets a 997 under an encoded name; the 856 behind it is read too."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME + "[vendors.x12]\nsend_997 = true\n")
        inbox = tmp_path / "acme" / "from_vendor"
        ack = (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes().replace(b"ACMEBLANKS     ", b"ACME/../BLANK  ")
        drop(inbox, "1-ack.edi", ack)
        drop(inbox, "2-asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"], result.problems) == (ExitCode.OK, 2, [])
        assert acme_order(engine)["vo"]["state"] == "shipped"
        assert sorted(path.name for path in (tmp_path / "acme" / "to_vendor").iterdir()) == [
            "997_ACME=2F=2E=2E=2FBLANK_000005501_5501.edi", "997_ACMEBLANKS_000005502_5502.edi"]
        assert sorted(path.name for path in (tmp_path / "acme" / "archive").iterdir()) == ["1-ack.edi", "2-asn.edi"]

    def test_a_file_that_cannot_be_archived_is_applied_once_and_never_pauses_dispatch(
            self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """archive/ on another file system (no hard link there): three runs apply the 856 once, say so each run,
        and leave dispatch to ACME unpaused; a file dropped later is still read."""
        elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm"))
        try:
            if elsewhere.stat().st_dev == tmp_path.stat().st_dev:
                pytest.skip("/dev/shm is on the same file system as the test folder")
            (tmp_path / "acme").mkdir()
            (tmp_path / "acme" / "archive").symlink_to(elsewhere)
            settings = shop(tmp_path, engine, clock, LOCAL_ACME)
            inbox = tmp_path / "acme" / "from_vendor"
            drop(inbox, "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
            runs = [fetch(engine=engine, settings=settings, clock=clock) for _ in range(3)]
            left = ExitCode.PARTIAL_FAILURE
            assert [(run.exit_code, run.counts["files"], run.counts["duplicates"], run.counts["files_left"])
                    for run in runs] == [(left, 1, 0, 1), (left, 0, 1, 1), (left, 0, 1, 1)]
            assert "ACME:asn.edi is taken in; putting it away is left for the next run" in runs[-1].problems[0]
            assert (count(engine, Shipment), count(engine, IngestedFile)) == (2, 1)
            with session_factory(engine)() as session:
                [acme] = [row for row in vendor_overview(session, settings) if row["code"] == "ACME"]
            assert acme["breaker"] == "closed"
            drop(inbox, "ack.edi", (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes())
            assert fetch(engine=engine, settings=settings, clock=clock).counts["files"] == 1
        finally:
            shutil.rmtree(elsewhere)

    def test_a_refused_file_dropped_back_is_read_again(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A CSV naming tracking 'Waybill' is refused; with the column mapped and the file moved back from
        rejected/, the same bytes are read and applied, and the ledger row tells the new outcome."""
        content = (b"PO Number,Line,Item Code,Qty,Carrier,Waybill,Ship Date\n"
                   b"TB1042-ACME,1,ACM-G500-BLK-L,2,UPS,1Z4R8W670312345676,2026-03-14\n")
        block = vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0)
        settings = shop(tmp_path, engine, clock, block)
        drop(tmp_path / "acme" / "from_vendor", "shp.csv", content)
        refused = fetch(engine=engine, settings=settings, clock=clock)
        assert (refused.exit_code, refused.counts["files_refused"]) == (ExitCode.INPUT_REFUSED, 1)
        (tmp_path / "acme" / "rejected" / "shp.csv").rename(tmp_path / "acme" / "from_vendor" / "shp.csv")
        fixed = write_settings(tmp_path, block + 'feedback_columns = {tracking_number = "Waybill"}\n',
                               vendor_block("PF", "csv", "local", path="pf"),
                               vendor_block("STITCH", "csv", "local", path="stitch"))
        again = fetch(engine=engine, settings=fixed, clock=clock)
        assert (again.exit_code, again.counts["files"], again.counts["duplicates"]) == (ExitCode.OK, 1, 0)
        assert [s["tracking_number"] for s in acme_order(engine)["shipments"]] == ["1Z4R8W670312345676"]
        with session_factory(engine)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.kind, ledger.error, ledger.rows_ok, ledger.rows_refused) == ("csv", None, 1, 0)
        assert (tmp_path / "acme" / "archive" / "shp.csv").exists()

    def test_a_symbolic_link_is_never_followed(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A link in from_vendor/ to a file elsewhere is neither read nor moved; the real file beside it is."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        secret = tmp_path / "passwd"
        secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
        inbox = tmp_path / "acme" / "from_vendor"
        drop(inbox, "asn.edi", (SAMPLES / "x12_856_ship_notice.edi").read_bytes())
        (inbox / "x.csv").symlink_to(secret)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"], result.problems) == (ExitCode.OK, 1, [])
        assert (inbox / "x.csv").is_symlink()
        with session_factory(engine)() as session:
            assert [row.path for row in session.scalars(select(IngestedFile))] == ["asn.edi"]


def unknown_orders_csv(rows: int) -> bytes:
    """A tracking CSV whose every row names a purchase order nobody sent."""
    return b"PO Number,Line,Item Code,Qty,Carrier,Tracking Number,Ship Date\n" + b"".join(
        f"TB{9000 + row}-ACME,1,ACM-G500-BLK-L,1,UPS,1Z4R8W670312345676,2026-03-14\n".encode() for row in range(rows))


class TestBounds:
    LIMITS = "[limits]\nfile_bytes = 4000\nfile_rows = 50\nrefusals_listed = 3\n"

    def settings(self, tmp_path: Path, engine: Engine, clock: Clock) -> Settings:
        shop(tmp_path, engine, clock, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0))
        return write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
                              vendor_block("PF", "csv", "local", path="pf"),
                              vendor_block("STITCH", "csv", "local", path="stitch"), self.LIMITS)

    def test_a_file_over_the_byte_limit_is_refused_unread_once(self, engine: Engine, clock: Clock,
                                                               tmp_path: Path) -> None:
        """A 5,000-byte file against file_bytes = 4000: refused by its size, set aside, in the ledger once."""
        settings = self.settings(tmp_path, engine, clock)
        drop(tmp_path / "acme" / "from_vendor", "big.csv", b"x" * 5000)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files_refused"]) == (ExitCode.INPUT_REFUSED, 1)
        assert result.problems == ["ACME:big.csv: 5000 bytes, more than limits.file_bytes (4000) allows; ask the "
                                   "vendor to split it, or raise the limit"]
        assert (tmp_path / "acme" / "rejected" / "big.csv").exists()
        with session_factory(engine)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.path, ledger.kind, ledger.size) == ("big.csv", "refused", 5000)

    def test_a_file_over_the_row_limit_is_refused_whole(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """51 rows against file_rows = 50: nothing applied, one line naming the limit."""
        settings = self.settings(tmp_path, engine, clock)
        drop(tmp_path / "acme" / "from_vendor", "many.csv", unknown_orders_csv(51)[:3999])
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.problems == ["ACME:many.csv: 51 records, more than limits.file_rows (50) allows in one file; "
                                   "ask the vendor to split it, or raise the limit"]
        assert (tmp_path / "acme" / "rejected" / "many.csv").exists()

    def test_refused_rows_are_listed_up_to_the_limit_then_counted(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """40 rows for unknown orders: three lines and a count on stderr; the ledger keeps three and the total."""
        settings = self.settings(tmp_path, engine, clock)
        drop(tmp_path / "acme" / "from_vendor", "unknown.csv", unknown_orders_csv(40))
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.problems == [
            *[f"ACME:unknown.csv:{row}: po_number: no vendor order 'TB{number}-ACME' for vendor ACME"
              for number, row in ((9000, 2), (9001, 3), (9002, 4))],
            "ACME:unknown.csv: and 37 more refused"]
        with session_factory(engine)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.rows_ok, ledger.rows_refused, len(ledger.refusals)) == (0, 40, 3)


class TestShipNoticeQuantities:
    def test_more_shipped_than_ordered_is_said_and_capped(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """An 856 shipping 5 of line 3's 1: the parcel is kept, line 3 counts 1 shipped, and one line says so."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        content = (SAMPLES / "x12_856_ship_notice.edi").read_bytes().replace(b"SN1*3*1*EA", b"SN1*3*5*EA")
        drop(tmp_path / "acme" / "from_vendor", "asn.edi", content)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.problems == ["ACME:asn.edi: TB1042-ACME line 3 (ACM-18500-NVY-XL): the parcels ship 5 of the "
                                   "1 ordered; counted as 1"]
        assert [(line["line"], line.get("qty_shipped")) for line in acme_order(engine)["vo"]["lines"]] == [
            (1, 2), (2, None), (3, 1)]

    def test_a_negative_quantity_is_refused_and_counts_stay_whole(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """SN1 of -3 refuses that ship notice by its segment; the ledger never counts fewer than 0 rows taken."""
        settings = shop(tmp_path, engine, clock, LOCAL_ACME)
        content = (SAMPLES / "x12_856_ship_notice.edi").read_bytes().replace(b"SN1*3*1*EA", b"SN1*3*-3*EA")
        drop(tmp_path / "acme" / "from_vendor", "asn.edi", content)
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.INPUT_REFUSED
        assert result.problems == ["ACME:asn.edi:28: SN102: segment 28 (SN1): '-3' is not a whole number from 0 to "
                                   "999999999"]
        with session_factory(engine)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.rows_ok, ledger.rows_refused) == (0, 1)


class TestStockSnapshots:
    def test_a_newer_snapshot_replaces_and_an_older_one_changes_nothing(self, engine: Engine, clock: Clock,
                                                                        tmp_path: Path) -> None:
        """Stock of the 14th, then the 15th (replaces it, one row per SKU), then the 13th read late (no change)."""
        settings = shop(tmp_path, engine, clock, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0))
        inbox = tmp_path / "acme" / "from_vendor"
        for name, day, qty in (("a.csv", 14, 5), ("b.csv", 15, 7), ("c.csv", 13, 1)):
            drop(inbox, name, f"Item Code,Qty,Snapshot Time\nACM-G500-BLK-L,{qty},2026-03-{day}T08:00:00Z\n"
                              f"ACM-NEW-{day},{qty},2026-03-{day}T08:00:00Z\n".encode())
            assert fetch(engine=engine, settings=settings, clock=clock).counts["stock_levels"] == 2
        with session_factory(engine)() as session:
            levels = {row.vendor_sku: (row.quantity, row.as_of.day)
                      for row in session.scalars(select(InventoryLevel))}
        assert levels == {"ACM-G500-BLK-L": (7, 15), "ACM-NEW-13": (1, 13), "ACM-NEW-14": (5, 14),
                          "ACM-NEW-15": (7, 15)}


class TestRetryRefused:
    WAYBILL = (b"PO Number,Line,Item Code,Qty,Carrier,Waybill,Ship Date\n"
               b"TB1042-ACME,1,ACM-G500-BLK-L,2,UPS,1Z4R8W670312345676,2026-03-14\n")

    def fixed(self, tmp_path: Path, acme: str) -> Settings:
        return write_settings(tmp_path, acme + 'feedback_columns = {tracking_number = "Waybill"}\n',
                              vendor_block("PF", "csv", "local", path="pf"),
                              vendor_block("STITCH", "csv", "local", path="stitch"))

    def test_the_command_moves_refused_files_back_and_reads_them(self, engine: Engine, clock: Clock,
                                                                 tmp_path: Path, database_url: str) -> None:
        """`orderflow fetch --retry-refused --vendor ACME` after the column is mapped: the parcel arrives."""
        block = vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0)
        settings = shop(tmp_path, engine, clock, block)
        drop(tmp_path / "acme" / "from_vendor", "shp.csv", self.WAYBILL)
        assert fetch(engine=engine, settings=settings, clock=clock).exit_code is ExitCode.INPUT_REFUSED
        self.fixed(tmp_path, block)
        result = CliRunner().invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
                                          "--now", clock.now().isoformat(), "fetch", "--retry-refused", "--vendor",
                                          "ACME"])
        assert result.exit_code == 0, result.output
        assert [s["tracking_number"] for s in acme_order(engine)["shipments"]] == ["1Z4R8W670312345676"]
        assert list((tmp_path / "acme" / "rejected").iterdir()) == []
        assert (tmp_path / "acme" / "archive" / "shp.csv").exists()

    def test_refused_files_come_back_over_real_sftp(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                    sshd: SshServer) -> None:
        """The same over SFTP: rejected/shp.csv is renamed back into from_vendor/ and taken."""
        remote = tmp_path / "remote"
        block = sftp_acme(sshd, remote, fmt="csv")
        settings = shop(tmp_path, engine, clock, block)
        drop(remote / "from_vendor", "shp.csv", self.WAYBILL)
        assert fetch(engine=engine, settings=settings, clock=clock).counts["files_refused"] == 1
        assert (remote / "rejected" / "shp.csv").exists()
        again = fetch(engine=engine, settings=self.fixed(tmp_path, block), clock=clock, retry_refused=True)
        assert (again.exit_code, again.counts["restored"], again.counts["files"]) == (ExitCode.OK, 1, 1)
        assert sorted(p.name for p in (remote / "archive").iterdir()) == ["shp.csv"]


class TestProblemLines:
    def test_a_line_break_in_a_file_name_stays_on_one_line(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                           database_url: str) -> None:
        """A refused file named 'cut\\n.edi': its problem is one stderr line (then the summary), the break escaped."""
        shop(tmp_path, engine, clock, LOCAL_ACME)
        content = (SAMPLES / "x12_856_ship_notice.edi").read_bytes()
        drop(tmp_path / "acme" / "from_vendor", "cut\n.edi", content[: len(content) // 2])
        result = orderflow("--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
                           "--now", clock.now().isoformat(), "fetch")
        assert result.returncode == ExitCode.INPUT_REFUSED
        problem, summary = result.stderr.splitlines()
        assert problem.startswith("orderflow: fetch: ACME:cut\\n.edi:12: segment 12 is cut off")
        assert summary.startswith("fetch: 1 files, 0 duplicates, 1 files refused")
