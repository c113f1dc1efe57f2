"""Files taken in batches: many files share one transaction, each under a savepoint of its own, and every promise
of one file at a time still holds (each file once, a bad one refused alone, archived only after the commit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from orderflow.clock import Clock
from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile, Shipment, ShipmentLine, VendorOrderLine
from orderflow.errors import ExitCode
from orderflow.vendors.fetch import BATCH_FILES, fetch
from tests.support.cli import orderflow
from tests.support.fetch import drop, shop
from tests.support.shop_with_vendors import vendor_block

CSV_ACME = vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0)
HEADER = b"PO Number,Line,Item Code,Qty,Carrier,Tracking Number,Ship Date\n"
LINES = {1: b"ACM-G500-BLK-L,2", 2: b"ACM-G500-WHT-M,1", 3: b"ACM-18500-NVY-XL,1"}
"""TB1042-ACME's lines: vendor SKU and quantity ordered."""
REFUSED_NUMBER = "1ZREFUSEDBYTHETEST"


def parcel(line: int, number: str) -> bytes:
    """A tracking CSV: one line of TB1042-ACME in the parcel ``number``."""
    return HEADER + b"TB1042-ACME,%d,%s,UPS,%s,2026-03-14\n" % (line, LINES[line], number.encode())


def rows(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def folder(tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / "acme" / name
    return sorted(each.name for each in path.iterdir()) if path.exists() else []


def refuse_the_parcel(engine: Engine) -> None:
    """The database itself refuses to store the parcel REFUSED_NUMBER: applying that file fails midway."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(
                "CREATE TRIGGER no_parcel BEFORE INSERT ON shipments "
                f"WHEN NEW.tracking_number = '{REFUSED_NUMBER}' "
                "BEGIN SELECT RAISE(ABORT, 'the test refuses this parcel'); END"))
        else:
            connection.execute(text(
                "CREATE FUNCTION refuse_parcel() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.tracking_number = '{REFUSED_NUMBER}' THEN "
                "RAISE EXCEPTION 'the test refuses this parcel'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            connection.execute(text("CREATE TRIGGER no_parcel BEFORE INSERT ON shipments FOR EACH ROW "
                                    "EXECUTE FUNCTION refuse_parcel()"))


def allow_the_parcel(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER no_parcel" if engine.dialect.name == "sqlite"
                                else "DROP TRIGGER no_parcel ON shipments"))


class TestOneBatch:
    def test_good_refused_and_copied_files_of_one_run_each_come_out_as_alone(self, engine: Engine, clock: Clock,
                                                                             tmp_path: Path) -> None:
        """Three parcels, a file that is not CSV and a copy of the first parcel under another name, all in one
        batch: the parcels are applied once each, the bad file refused with its reason, the copy counted as one;
        each file has its ledger row and sits where its outcome puts it."""
        settings = shop(tmp_path, engine, clock, CSV_ACME)
        inbox = tmp_path / "acme" / "from_vendor"
        for line in (1, 2, 3):
            drop(inbox, f"shp_{line}.csv", parcel(line, f"1Z4R8W67031234567{line}"))
        drop(inbox, "shp_4.csv", b'{"type": "package_shipped"}')
        drop(inbox, "shp_5.csv", parcel(1, "1Z4R8W670312345671"))
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"], result.counts["files_refused"],
                result.counts["duplicates"], result.counts["shipments_added"]) == (ExitCode.INPUT_REFUSED, 4, 1, 1, 3)
        [problem] = result.problems
        assert problem.startswith("ACME:shp_4.csv: vendor ACME's format is 'csv'")
        assert (rows(engine, Shipment), rows(engine, ShipmentLine), rows(engine, IngestedFile)) == (3, 3, 4)
        with session_factory(engine)() as session:
            ledger = {row.path: (row.kind, row.rows_ok, row.error is None) for row in session.scalars(
                select(IngestedFile))}
        assert ledger == {"shp_1.csv": ("csv", 1, True), "shp_2.csv": ("csv", 1, True),
                          "shp_3.csv": ("csv", 1, True), "shp_4.csv": ("refused", 0, False)}
        assert (folder(tmp_path, "archive"), folder(tmp_path, "rejected"), folder(tmp_path, "from_vendor")) == (
            ["shp_1.csv", "shp_2.csv", "shp_3.csv", "shp_5.csv"], ["shp_4.csv"], [])

    def test_more_files_than_a_batch_holds_are_all_taken(self, engine: Engine, clock: Clock,
                                                         tmp_path: Path) -> None:
        """A batch and a half of files: every one applied (one new parcel each) and archived, each once."""
        settings = shop(tmp_path, engine, clock, CSV_ACME)
        files = BATCH_FILES + BATCH_FILES // 2
        for number in range(files):
            drop(tmp_path / "acme" / "from_vendor", f"shp_{number:03d}.csv",
                 parcel(1 + number % 3, f"1ZBATCH{number:06d}"))
        result = fetch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["files"], result.counts["shipments_added"]) == (ExitCode.OK, files,
                                                                                                 files)
        assert (rows(engine, Shipment), rows(engine, IngestedFile), len(folder(tmp_path, "archive"))) == (
            files, files, files)


class TestAFileThatFailsToApply:
    def test_it_rolls_back_alone_and_the_files_before_it_are_kept(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """The second of three files fails in the database: the first is committed and archived, the error is
        raised, and the second and third stay to be read again; once the cause is gone both are taken."""
        settings = shop(tmp_path, engine, clock, CSV_ACME)
        inbox = tmp_path / "acme" / "from_vendor"
        drop(inbox, "shp_1.csv", parcel(1, "1Z4R8W670312345671"))
        drop(inbox, "shp_2.csv", parcel(2, REFUSED_NUMBER))
        drop(inbox, "shp_3.csv", parcel(3, "1Z4R8W670312345673"))
        refuse_the_parcel(engine)
        with pytest.raises(DBAPIError, match="the test refuses this parcel"):
            fetch(engine=engine, settings=settings, clock=clock)
        with session_factory(engine)() as session:
            assert session.scalars(select(IngestedFile.path)).all() == ["shp_1.csv"]
            assert session.scalars(select(Shipment.tracking_number)).all() == ["1Z4R8W670312345671"]
        assert (folder(tmp_path, "archive"), folder(tmp_path, "from_vendor")) == (
            ["shp_1.csv"], ["shp_2.csv", "shp_3.csv"])
        allow_the_parcel(engine)
        again = fetch(engine=engine, settings=settings, clock=clock)
        assert (again.exit_code, again.counts["files"], again.counts["duplicates"]) == (ExitCode.OK, 2, 0)
        assert (rows(engine, Shipment), rows(engine, IngestedFile)) == (3, 3)
        assert folder(tmp_path, "archive") == ["shp_1.csv", "shp_2.csv", "shp_3.csv"]

    def test_it_ships_no_line_and_the_file_before_it_does(self, engine: Engine, clock: Clock,
                                                          tmp_path: Path) -> None:
        """The batch's changes are written together; when that fails it is applied again file by file, and what
        the failing file changed goes with its savepoint: line 1 (the first file) is shipped, line 2 (the failing
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
        assert (after[1][1], after[2], after[3]) == (2, before[2], before[3])
        allow_the_parcel(engine)
        fetch(engine=engine, settings=settings, clock=clock)
        assert [qty for _, qty in shipped_by_line(engine).values()] == [2, 1, 1]


def shipped_by_line(engine: Engine) -> dict[int, tuple[str, int]]:
    """TB1042-ACME's lines: state and quantity shipped, by line number."""
    with session_factory(engine)() as session:
        return {line.line_no: (line.state, line.qty_shipped) for line in session.scalars(
            select(VendorOrderLine).where(VendorOrderLine.vendor_order_id == "TB1042-ACME"))}


class TestKilledAfterTheCommit:
    def test_the_next_run_only_puts_the_files_away(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                   database_url: str) -> None:
        """Killed once a batch of three files is committed, none archived yet: the next run finds all three
        applied (copies), archives them and adds nothing."""
        shop(tmp_path, engine, clock, CSV_ACME)
        inbox = tmp_path / "acme" / "from_vendor"
        for line in (1, 2, 3):
            drop(inbox, f"shp_{line}.csv", parcel(line, f"1Z4R8W67031234567{line}"))
        command = ("--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now",
                   clock.now().isoformat(), "fetch")
        killed = orderflow(*command, env={"ORDERFLOW_CRASH_AT": "fetch.after_ingest_commit"})
        assert killed.returncode == -9, killed.stderr
        assert (rows(engine, Shipment), rows(engine, IngestedFile)) == (3, 3)
        assert folder(tmp_path, "from_vendor") == ["shp_1.csv", "shp_2.csv", "shp_3.csv"]
        again = orderflow(*command)
        assert again.returncode == ExitCode.OK, again.stderr
        assert (rows(engine, Shipment), rows(engine, IngestedFile)) == (3, 3)
        assert (folder(tmp_path, "archive"), folder(tmp_path, "from_vendor")) == (
            ["shp_1.csv", "shp_2.csv", "shp_3.csv"], [])
