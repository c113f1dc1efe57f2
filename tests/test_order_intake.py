"""Order intake and routing: storefront orders become one vendor order per vendor, idempotently."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from orderflow.catalog import CatalogRow, import_catalog_file
from orderflow.cli.main import app
from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile, Order, OrderLine, VendorOrder, VendorOrderLine
from orderflow.errors import ExitCode
from orderflow.orders.view import find_order, list_orders, order_story
from orderflow.storefronts.importing import import_orders
from tests.support.sample_shop import SAMPLES, shop_settings, stock_catalog

SAMPLE = SAMPLES / "shopify_orders_export.csv"
HEADER = SAMPLE.read_text(encoding="utf-8-sig").splitlines()[0]


def shopify_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """A Shopify export with the real header and only the given columns filled."""
    columns = HEADER.split(",")
    lines = [HEADER] + [",".join(row.get(column, "") for column in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def order_rows(number: str, skus: list[str], **first: str) -> list[dict[str, str]]:
    """Rows of one order: order-level columns on the first row only, as Shopify writes them."""
    rows = []
    for index, sku in enumerate(skus):
        row = {"Name": f"#{number}", "Email": "pat@example.com", "Lineitem quantity": "1",
               "Lineitem price": "25.00", "Lineitem sku": sku, "Lineitem name": sku,
               "Lineitem requires shipping": "true", "Lineitem fulfillment status": "pending"}
        if index == 0:
            row |= {"Financial Status": "paid", "Fulfillment Status": "unfulfilled", "Currency": "USD",
                    "Created at": "2026-11-02 10:04:00 -0500", "Shipping Name": "Pat Doe",
                    "Shipping Address1": "1 Main St", "Shipping City": "Portland", "Shipping Zip": "04101",
                    "Shipping Province": "ME", "Shipping Country": "US"} | first
        rows.append(row)
    return rows


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    return shop_settings(tmp_path / "shop")


@pytest.fixture
def stocked(engine: Engine, shop: Settings, clock: Clock) -> Engine:
    stock_catalog(engine, shop, clock.now())
    return engine


def run_import(engine: Engine, settings: Settings, clock: Clock, *paths: Path, source: str | None = None):  # type: ignore[no-untyped-def]
    return import_orders(engine=engine, settings=settings, now=clock.now(), paths=list(paths), source=source)


def story(engine: Engine, number: str) -> dict:  # type: ignore[type-arg]
    with session_factory(engine)() as session:
        return order_story(find_order(session, number), session)


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestSampleExport:
    def test_sample_imports_into_orders_lines_and_vendor_orders(self, stocked: Engine, shop: Settings,
                                                                clock: Clock) -> None:
        """The sample export gives 3 orders, 8 lines and one vendor order per vendor with work to do."""
        result = run_import(stocked, shop, clock, SAMPLE)
        assert result.exit_code is ExitCode.OK
        assert result.counts == {"stored": 3, "updated": 0, "unchanged": 0, "refused": 0, "files": 1,
                                 "unroutable_lines": 0}
        assert (count(stocked, Order), count(stocked, OrderLine)) == (3, 8)
        order = story(stocked, "1042")
        assert order["source"] == "shopify"
        assert order["placed_at"] == datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC)
        assert [(vo["id"], vo["state"], [line["vendor_sku"] for line in vo["lines"]])
                for vo in order["vendor_orders"]] == [
            ("TB1042-ACME", "pending", ["ACM-G500-BLK-L", "ACM-G500-WHT-M", "ACM-18500-NVY-XL"]),
            ("TB1042-PF", "pending", ["4016", "4017"]),
        ]
        partial = story(stocked, "1043")
        assert [vo["id"] for vo in partial["vendor_orders"]] == ["TB1043-PF"]
        assert [line["state"] for line in partial["lines"]] == ["fulfilled_elsewhere", "pending"]

    def test_second_import_reports_everything_unchanged(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """Importing the same file again changes nothing and says so."""
        run_import(stocked, shop, clock, SAMPLE)
        again = run_import(stocked, shop, clock, SAMPLE)
        assert again.counts["stored"] == 0
        assert again.counts["unchanged"] == 3
        assert (count(stocked, Order), count(stocked, VendorOrder), count(stocked, VendorOrderLine)) == (3, 3, 6)

    def test_an_order_number_another_source_holds_is_refused(self, stocked: Engine, shop: Settings, clock: Clock,
                                                             tmp_path: Path) -> None:
        """The same number from a second source would share vendor order ids: refused, the rest stored, and the
        first source's own re-import is still unchanged."""
        run_import(stocked, shop, clock, SAMPLE)
        other = shopify_csv(tmp_path / "wholesale.csv", order_rows("1042", ["TB-HCT-BLK-L"])
                            + order_rows("2001", ["TB-HCT-BLK-L"]))
        result = run_import(stocked, shop, clock, other, source="wholesale")
        assert result.exit_code is ExitCode.INPUT_REFUSED
        assert (result.counts["stored"], result.counts["refused"]) == (1, 1)
        assert [(refusal.field, refusal.reason) for refusal in result.detail.refusals] == [(
            "order_number", "order 1042 already exists from source 'shopify'; vendor order ids would clash "
                            "(give one source a po_prefix of its own)")]
        assert run_import(stocked, shop, clock, SAMPLE).counts["unchanged"] == 3
        assert count(stocked, Order) == 4

    def test_an_order_fulfilled_at_the_storefront_is_never_sent(self, stocked: Engine, shop: Settings,
                                                                  clock: Clock) -> None:
        """#1041 was fulfilled before it reached us: stored, but no vendor order (it would ship twice)."""
        run_import(stocked, shop, clock, SAMPLE)
        order = story(stocked, "1041")
        assert order["state"] == "fulfilled_elsewhere"
        assert order["vendor_orders"] == []
        assert [line["state"] for line in order["lines"]] == ["fulfilled_elsewhere"]

    def test_order_is_found_with_or_without_hash(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """1042 and #1042 name the same order."""
        run_import(stocked, shop, clock, SAMPLE)
        assert story(stocked, "#1042") == story(stocked, "1042")


class TestRouting:
    def test_six_vendors_give_six_vendor_orders(self, engine: Engine, shop: Settings, clock: Clock,
                                                tmp_path: Path) -> None:
        """An order spread over six vendors becomes six vendor orders, ids <prefix><number>-<VENDOR>."""
        vendors = ["V1", "V2", "V3", "V4", "V5", "V6"]
        settings = shop_settings(tmp_path / "six", "".join(
            f'[[vendors]]\ncode = "{code}"\nname = "Vendor {code}"\npath = "v/{code}"\n' for code in vendors))
        stock_catalog(engine, settings, clock.now(),
                      [CatalogRow(f"SKU-{code}", code, f"{code}-ITEM") for code in vendors])
        path = shopify_csv(tmp_path / "six.csv", order_rows("2001", [f"SKU-{code}" for code in vendors]))
        assert run_import(engine, settings, clock, path).exit_code is ExitCode.OK
        assert [(vo["id"], vo["state"]) for vo in story(engine, "2001")["vendor_orders"]] == [
            (f"TB2001-{code}", "pending") for code in vendors]

    def test_unknown_sku_waits_while_other_vendors_proceed(self, stocked: Engine, shop: Settings, clock: Clock,
                                                            tmp_path: Path) -> None:
        """A SKU missing from the catalog leaves its line unroutable; importing its catalog row routes it."""
        path = shopify_csv(tmp_path / "o.csv", order_rows("2002", ["TB-HCT-BLK-L", "TB-NEW-SKU", "TB-MTNLINE-HTR-S"]))
        result = run_import(stocked, shop, clock, path)
        assert result.counts["unroutable_lines"] == 1
        order = story(stocked, "2002")
        assert [(line["sku"], line["state"]) for line in order["lines"]] == [
            ("TB-HCT-BLK-L", "pending"), ("TB-NEW-SKU", "unroutable"), ("TB-MTNLINE-HTR-S", "pending")]
        assert [vo["id"] for vo in order["vendor_orders"]] == ["TB2002-ACME", "TB2002-PF"]

        catalog = tmp_path / "catalog.csv"
        catalog.write_text("sku,vendor,vendor_sku\nTB-NEW-SKU,ACME,ACM-NEW\n", encoding="utf-8")
        routed = import_catalog_file(engine=stocked, settings=shop, path=catalog, now=clock.now())
        assert routed.counts["lines_routed"] == 1
        acme = story(stocked, "2002")["vendor_orders"][0]
        assert [(line["line"], line["sku"], line["vendor_sku"]) for line in acme["lines"]] == [
            (1, "TB-HCT-BLK-L", "ACM-G500-BLK-L"), (2, "TB-NEW-SKU", "ACM-NEW")]

    def test_a_late_route_into_an_already_sent_order_is_reported(self, stocked: Engine, shop: Settings,
                                                                 clock: Clock, tmp_path: Path) -> None:
        """A line cannot join a purchase order the vendor already has: it stays unroutable and says why."""
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "o.csv", order_rows("2003", ["TB-HCT-BLK-L", "TB-X"])))
        with session_factory(stocked)() as session, session.begin():
            session.execute(update(VendorOrder).where(VendorOrder.id == "TB2003-ACME").values(state="sent"))
        catalog = tmp_path / "catalog.csv"
        catalog.write_text("sku,vendor,vendor_sku\nTB-X,ACME,ACM-X\n", encoding="utf-8")
        result = import_catalog_file(engine=stocked, settings=shop, path=catalog, now=clock.now())
        assert result.problems == ["order 2003 line 2 (TB-X): TB2003-ACME was already sent; "
                                   "the line needs a separate order with ACME"]
        assert story(stocked, "2003")["lines"][1]["state"] == "unroutable"


class TestBadInput:
    def test_one_bad_quantity_keeps_every_other_order(self, stocked: Engine, shop: Settings, clock: Clock,
                                                      tmp_path: Path) -> None:
        """quantity 'abc' refuses its order, names the line, and stores the rest; exit code 4."""
        rows = order_rows("3001", ["TB-HCT-BLK-L"]) + order_rows("3002", ["TB-HCT-BLK-L"]) \
            + order_rows("3003", ["TB-MTNLINE-HTR-S"])
        rows[1]["Lineitem quantity"] = "abc"
        result = run_import(stocked, shop, clock, shopify_csv(tmp_path / "bad.csv", rows))
        assert result.exit_code is ExitCode.INPUT_REFUSED
        assert result.counts["stored"] == 2
        [problem] = result.problems
        assert problem.startswith(f"{tmp_path / 'bad.csv'}:3: Lineitem quantity: ")
        assert "abc" in problem
        with session_factory(stocked)() as session:
            assert sorted(session.scalars(select(Order.order_number))) == ["3001", "3003"]

    def test_a_file_that_is_not_an_export_is_refused_whole(self, stocked: Engine, shop: Settings, clock: Clock,
                                                           tmp_path: Path) -> None:
        """Binary content is refused with one line and nothing is stored."""
        path = tmp_path / "photo.csv"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
        result = run_import(stocked, shop, clock, path, SAMPLE)
        assert result.exit_code is ExitCode.INPUT_REFUSED
        assert len(result.problems) == 1
        assert result.problems[0].startswith(str(path))
        assert result.counts["stored"] == 3, "the good file after the bad one is still imported"


class TestLaterVersions:
    def test_cancellation_cancels_unsent_and_flags_sent_vendor_orders(self, stocked: Engine, shop: Settings,
                                                                       clock: Clock, tmp_path: Path) -> None:
        """A cancelled order: pending vendor orders are cancelled, sent ones are flagged cancel_requested."""
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "a.csv",
                                                     order_rows("4001", ["TB-HCT-BLK-L", "TB-MTNLINE-HTR-S"])))
        with session_factory(stocked)() as session, session.begin():
            session.execute(update(VendorOrder).where(VendorOrder.id == "TB4001-PF").values(state="sent"))
        later = Clock(clock.now() + timedelta(hours=2))
        cancelled = order_rows("4001", ["TB-HCT-BLK-L", "TB-MTNLINE-HTR-S"],
                               **{"Cancelled at": "2026-11-02 12:00:00 -0500", "Financial Status": "refunded"})
        result = run_import(stocked, shop, later, shopify_csv(tmp_path / "b.csv", cancelled))
        assert result.counts["updated"] == 1
        order = story(stocked, "4001")
        assert order["state"] == "cancelled"
        acme, pf = order["vendor_orders"]
        assert (acme["state"], acme["cancel_requested_at"]) == ("cancelled", None)
        assert (pf["state"], pf["cancel_requested_at"]) == ("sent", later.now())

    def test_address_change_before_dispatch_is_applied(self, stocked: Engine, shop: Settings, clock: Clock,
                                                       tmp_path: Path) -> None:
        """A new shipping address before anything was sent simply replaces the old one."""
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "a.csv", order_rows("4002", ["TB-HCT-BLK-L"])))
        moved = order_rows("4002", ["TB-HCT-BLK-L"], **{"Shipping Address1": "9 New Rd"})
        result = run_import(stocked, shop, clock, shopify_csv(tmp_path / "b.csv", moved))
        assert (result.counts["updated"], result.problems) == (1, [])
        assert story(stocked, "4002")["shipping"]["address1"] == "9 New Rd"

    def test_address_change_after_dispatch_is_reported(self, stocked: Engine, shop: Settings, clock: Clock,
                                                       tmp_path: Path) -> None:
        """After dispatch the vendor has the old address: orderflow stores the new one and says so."""
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "a.csv", order_rows("4003", ["TB-HCT-BLK-L"])))
        with session_factory(stocked)() as session, session.begin():
            session.execute(update(VendorOrder).values(state="accepted"))
        moved = order_rows("4003", ["TB-HCT-BLK-L"], **{"Shipping Address1": "9 New Rd"})
        result = run_import(stocked, shop, clock, shopify_csv(tmp_path / "b.csv", moved))
        assert result.problems == ["order 4003: shipping address changed after dispatch to TB4003-ACME; "
                                   "tell the vendor"]

    def test_new_lines_before_dispatch_are_routed_again(self, stocked: Engine, shop: Settings, clock: Clock,
                                                        tmp_path: Path) -> None:
        """An order edited before dispatch is routed afresh from its new lines."""
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "a.csv", order_rows("4004", ["TB-HCT-BLK-L"])))
        edited = order_rows("4004", ["TB-HCT-BLK-L", "TB-MTNLINE-HTR-S"])
        run_import(stocked, shop, clock, shopify_csv(tmp_path / "b.csv", edited))
        assert [vo["id"] for vo in story(stocked, "4004")["vendor_orders"]] == ["TB4004-ACME", "TB4004-PF"]


class TestInbox:
    def test_each_file_once_then_archived(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """An inbox file is imported, moved to archive/; the same content under another name is not imported again."""
        inbox = shop.path("inbox")
        (inbox / "export-1.csv").write_bytes(SAMPLE.read_bytes())
        first = run_import(stocked, shop, clock, source="shopify")
        assert first.counts["stored"] == 3
        assert sorted(p.name for p in inbox.iterdir()) == ["archive"]
        assert (inbox / "archive" / "export-1.csv").exists()
        (inbox / "export-1-copy.csv").write_bytes(SAMPLE.read_bytes())
        again = run_import(stocked, shop, clock, source="shopify")
        assert (again.counts["stored"], again.counts["unchanged"], again.counts["files"]) == (0, 0, 0)
        assert (inbox / "archive" / "export-1-copy.csv").exists()
        assert count(stocked, IngestedFile) == 1

    def test_a_refused_file_is_set_aside_with_its_reason(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """A file that is not an export goes to rejected/ and the ledger keeps why."""
        inbox = shop.path("inbox")
        (inbox / "garbage.csv").write_text("hello,world\n1,2\n", encoding="utf-8")
        result = run_import(stocked, shop, clock, source="shopify")
        assert result.exit_code is ExitCode.INPUT_REFUSED
        assert (inbox / "rejected" / "garbage.csv").exists()
        with session_factory(stocked)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert ledger.error is not None
        assert "garbage.csv" in ledger.error

    def test_a_file_still_being_written_is_left_alone(self, stocked: Engine, tmp_path: Path, clock: Clock) -> None:
        """A file modified within the settle time is left for the next run."""
        settings = shop_settings(tmp_path / "slow")
        source = settings.sources["shopify"].model_copy(update={"settle_seconds": 3600})
        settings = settings.model_copy(update={"sources": {"shopify": source}})
        (settings.path("inbox") / "growing.csv").write_bytes(SAMPLE.read_bytes()[:200])
        result = run_import(stocked, settings, clock, source="shopify")
        assert result.counts["files"] == 0
        assert (settings.path("inbox") / "growing.csv").exists()


    def test_a_refused_file_dropped_back_is_read_again(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """Refused under the wrong format, then moved back from rejected/ once the source is fixed: imported."""
        inbox = shop.path("inbox")
        (inbox / "export-1.csv").write_bytes(SAMPLE.read_bytes())
        as_json = shop.model_copy(update={"sources": {"shopify": shop.sources["shopify"].model_copy(
            update={"format": "json"})}})
        assert run_import(stocked, as_json, clock, source="shopify").exit_code is ExitCode.INPUT_REFUSED
        (inbox / "rejected" / "export-1.csv").rename(inbox / "export-1.csv")
        again = run_import(stocked, shop, clock, source="shopify")
        assert (again.exit_code, again.counts["stored"]) == (ExitCode.OK, 3)
        with session_factory(stocked)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.error, ledger.rows_ok) == (None, 3)

    def test_import_retry_refused_moves_rejected_files_back(self, stocked: Engine, shop: Settings, clock: Clock,
                                                            database_url: str) -> None:
        """`orderflow import --retry-refused --source shopify` after the source's format is fixed: imported."""
        inbox = shop.path("inbox")
        (inbox / "export-1.csv").write_bytes(SAMPLE.read_bytes())
        as_json = shop.model_copy(update={"sources": {"shopify": shop.sources["shopify"].model_copy(
            update={"format": "json"})}})
        assert run_import(stocked, as_json, clock, source="shopify").exit_code is ExitCode.INPUT_REFUSED
        result = CliRunner().invoke(app, ["--config", str(shop.base_dir / "orderflow.toml"), "--db", database_url,
                                          "--now", clock.now().isoformat(), "import", "--source", "shopify",
                                          "--retry-refused"])
        assert result.exit_code == 0, result.output
        assert count(stocked, Order) == 3
        assert sorted(p.name for p in (inbox / "archive").iterdir()) == ["export-1.csv"]
        assert list((inbox / "rejected").iterdir()) == []

    def test_a_symbolic_link_in_the_inbox_is_never_followed(self, stocked: Engine, shop: Settings, clock: Clock,
                                                            tmp_path: Path) -> None:
        """A link to a file elsewhere is neither read nor moved."""
        elsewhere = tmp_path / "elsewhere.csv"
        elsewhere.write_bytes(SAMPLE.read_bytes())
        (shop.path("inbox") / "export.csv").symlink_to(elsewhere)
        result = run_import(stocked, shop, clock, source="shopify")
        assert (result.exit_code, result.counts["files"], count(stocked, IngestedFile)) == (ExitCode.OK, 0, 0)
        assert (shop.path("inbox") / "export.csv").is_symlink()


class TestRefusedAtTheDoor:
    def test_an_order_without_street_or_country_is_refused_naming_the_field(
            self, stocked: Engine, shop: Settings, clock: Clock, tmp_path: Path) -> None:
        """No vendor could deliver it, so it never reaches one; the good order beside it is stored."""
        path = shopify_csv(tmp_path / "a.csv", order_rows("4101", ["TB-HCT-BLK-L"], **{"Shipping Address1": ""})
                           + order_rows("4102", ["TB-HCT-BLK-L"], **{"Shipping Country": ""})
                           + order_rows("4103", ["TB-HCT-BLK-L"]))
        result = run_import(stocked, shop, clock, path)
        assert (result.exit_code, result.counts["stored"]) == (ExitCode.INPUT_REFUSED, 1)
        assert result.problems == [
            f"{path}: shipping.address1: order 4101 has no address1: no vendor could deliver it",
            f"{path}: shipping.country: order 4102 has no country: no vendor could deliver it"]
        assert count(stocked, VendorOrder) == 1

    def test_the_same_order_number_twice_in_one_file_keeps_the_first_and_says_so(
            self, stocked: Engine, shop: Settings, clock: Clock, tmp_path: Path) -> None:
        """Two JSON orders numbered 4104: the first is stored, the second refused by its number."""
        order = {"order_number": "4104", "placed_at": "2026-11-03T09:41:02-05:00",
                 "customer": {"name": "Pat Doe", "email": "pat@example.com"},
                 "shipping": {"name": "Pat Doe", "address1": "1 Main St", "city": "Portland", "province": "ME",
                              "zip": "04101", "country": "US"},
                 "lines": [{"sku": "TB-HCT-BLK-L", "qty": 1, "price": "24.00"}]}
        moved = {**order, "shipping": {**order["shipping"], "address1": "9 New Rd"}}
        path = tmp_path / "orders.json"
        path.write_text(json.dumps({"orders": [order, moved]}), encoding="utf-8")
        result = run_import(stocked, shop, clock, path)
        assert result.problems == [f"{path}: order_number: order 4104 appears again in this file; the first one "
                                   "is kept, this one refused"]
        assert story(stocked, "4104")["shipping"]["address1"] == "1 Main St"

    def test_a_file_over_the_byte_limit_is_refused_whole(self, stocked: Engine, tmp_path: Path,
                                                         clock: Clock) -> None:
        """An export larger than limits.file_bytes is refused naming the limit, set aside, nothing stored."""
        settings = shop_settings(tmp_path / "small", "[limits]\nfile_bytes = 1000\n")
        (settings.path("inbox") / "export.csv").write_bytes(SAMPLE.read_bytes())
        result = run_import(stocked, settings, clock, source="shopify")
        size = SAMPLE.stat().st_size
        assert result.problems == [f"{settings.path('inbox') / 'export.csv'}: {size} bytes, more than "
                                   "limits.file_bytes (1000) allows; split the export, or raise the limit"]
        assert (settings.path("inbox") / "rejected" / "export.csv").exists()
        assert count(stocked, Order) == 0

    def test_refused_orders_are_listed_up_to_the_limit_then_counted(self, stocked: Engine, tmp_path: Path,
                                                                    clock: Clock) -> None:
        """Six orders without a country, refusals_listed = 2: two lines and a count; the ledger keeps two."""
        settings = shop_settings(tmp_path / "capped", "[limits]\nrefusals_listed = 2\n")
        rows = [row for number in range(4110, 4116)
                for row in order_rows(str(number), ["TB-HCT-BLK-L"], **{"Shipping Country": ""})]
        export = shopify_csv(settings.path("inbox") / "export.csv", rows)
        result = run_import(stocked, settings, clock, source="shopify")
        assert result.problems == [
            f"{export}: shipping.country: order 4110 has no country: no vendor could deliver it",
            f"{export}: shipping.country: order 4111 has no country: no vendor could deliver it",
            f"{export}: and 4 more refused"]
        with session_factory(stocked)() as session:
            ledger = session.scalars(select(IngestedFile)).one()
        assert (ledger.rows_refused, len(ledger.refusals)) == (6, 2)


class TestOrderList:
    def test_list_and_filters(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """orders lists newest first and filters by state, vendor and date."""
        run_import(stocked, shop, clock, SAMPLE)
        with session_factory(stocked)() as session:
            listed = list_orders(session)
            assert [order["order_number"] for order in listed] == ["1043", "1042", "1041"]
            assert listed[1]["vendor_orders"] == [{"id": "TB1042-ACME", "vendor": "ACME", "state": "pending"},
                                                  {"id": "TB1042-PF", "vendor": "PF", "state": "pending"}]
            assert [o["order_number"] for o in list_orders(session, vendor="pf")] == ["1043", "1042"]
            assert [o["order_number"] for o in list_orders(session, vendor="acme")] == ["1042"]
            assert [o["order_number"] for o in list_orders(session, state="fulfilled_elsewhere")] == ["1041"]
            assert list_orders(session, since=datetime(2030, 1, 1, tzinfo=UTC)) == []

    def test_story_json_contract(self, stocked: Engine, shop: Settings, clock: Clock) -> None:
        """The order document has the contract's fields with the contract's shapes."""
        run_import(stocked, shop, clock, SAMPLE)
        order = story(stocked, "1042")
        assert {"order_number", "source", "placed_at", "customer", "state", "lines", "vendor_orders", "shipments",
                "notifications"} <= set(order)
        assert order["lines"][0] == {"line": 1, "sku": "TB-HCT-BLK-L", "qty": 2, "price": Decimal("24.00"),
                                     "vendor": "ACME", "state": "pending"}
        assert order["vendor_orders"][0]["lines"][0] == {
            "line": 1, "sku": "TB-HCT-BLK-L", "vendor_sku": "ACM-G500-BLK-L", "qty": 2, "state": "pending"}
        # Placed Thu 12 Mar 09:41 New York; Acme (default calendar: New York, 14:00 cut-off, 2 handling days)
        # ships by the end of Monday 16 Mar, New York time.
        assert order["vendor_orders"][0]["ship_by"] == datetime(2026, 3, 17, 3, 59, 59, 999999, tzinfo=UTC)


def test_content_hash_is_the_one_earlier_versions_stored() -> None:
    """Stored hashes stay valid: the hash is still SHA-256 of the JSON of the order's fields without ``raw``."""
    import dataclasses
    import hashlib

    from orderflow.orders.records import Address, IncomingLine, IncomingOrder
    from orderflow.storefronts.formats import iter_orders
    from orderflow.storefronts.intake import content_hash

    def as_stored_before(order: IncomingOrder) -> str:
        fields = dataclasses.asdict(order)
        del fields["raw"]
        return hashlib.sha256(json.dumps(fields, default=str, sort_keys=True).encode()).hexdigest()

    odd = IncomingOrder(
        source="wholesale", order_number="A-7 \"b\"", placed_at=datetime(2026, 3, 1, 9, 30, 0, 12, tzinfo=UTC),
        customer_name="Zoë Ørsted\u2028\U0001f600", customer_email="", shipping=Address(address1="1\\Main\tSt"),
        lines=(IncomingLine(line=1, sku="", qty=3, price=Decimal("1E+2"), fulfilled_at_storefront=True),
               IncomingLine(line=2, sku="X", qty=1, price=Decimal("-0.50"), name="\x00\x1f")),
        total=None, cancelled_at=datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=-4))), raw={"a": 1})
    empty = dataclasses.replace(odd, lines=(), total=Decimal("0"), cancelled_at=None)
    # Values of other types than a parser gives still hash as before (the text is written another way).
    typed_otherwise: list[Any] = [
        dataclasses.replace(odd, lines=(dataclasses.replace(odd.lines[0], qty=True, price=2.5),)),
        dataclasses.replace(odd, lines=(dataclasses.replace(odd.lines[1], line=1.0, fulfilled_at_storefront=1),)),
        dataclasses.replace(odd, customer_name=None, currency=7, total=12.5),
        dataclasses.replace(odd, placed_at="2026-03-01", shipping={"b": 1, "a": Decimal("2")}),
    ]
    orders = [item for item in iter_orders(SAMPLE, source="shopify") if isinstance(item, IncomingOrder)]
    assert orders
    for order in [*orders, odd, empty, *typed_otherwise]:
        assert content_hash(order) == as_stored_before(order)
