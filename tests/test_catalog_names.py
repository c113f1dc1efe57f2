"""Stores that sell without SKUs: the catalog maps product and variant names to vendors.

A real Shopify export from such a store has an empty ``Lineitem sku`` on every line and names the item in
``Lineitem name`` as "Product - Variant" ("Logo Tee - Black / L"), or the product alone when it has no
variants. Both databases.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from orderflow.catalog import CatalogRow, import_catalog_file
from orderflow.cli.main import app
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import OrderLine, VendorOrderLine
from orderflow.storefronts.importing import import_orders
from tests.support.sample_shop import stock_catalog
from tests.support.shop_with_vendors import HEADER, vendor_block, write_settings

NOW = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
SKULESS_LINES = (("6001", "Logo Tee - Black / L", 2), ("6001", "Logo Hoodie - Navy / XL", 1),
                 ("6002", "Sticker", 3), ("6002", "Logo Tee - Black / L", 1))
CATALOG = [CatalogRow("LT-BLK-L", "ACME", "ACM-LT-BLK-L", product="Logo Tee", variant="Black / L"),
           CatalogRow("LH-NVY-XL", "ACME", "ACM-LH-NVY-XL", product="Logo Hoodie", variant="Navy / XL"),
           CatalogRow("STICKER", "STITCH", "SC-STICKER", product="Sticker")]


def export(folder: Path) -> Path:
    """A Shopify export whose lines have names and no SKUs."""
    columns = HEADER.split(",")
    rows, seen = [], set()
    for number, name, qty in SKULESS_LINES:
        row = {"Name": f"#{number}", "Email": "pat@example.com", "Lineitem quantity": str(qty),
               "Lineitem price": "25.00", "Lineitem sku": "", "Lineitem name": name}
        if number not in seen:
            seen.add(number)
            row |= {"Financial Status": "paid", "Created at": "2026-11-02 10:04:00 -0500",
                    "Shipping Name": "Pat Doe", "Shipping Address1": "1 Main St", "Shipping City": "Portland",
                    "Shipping Zip": "04101", "Shipping Province": "ME", "Shipping Country": "US"}
        rows.append(",".join(row.get(column, "") for column in columns))
    path = folder / "export.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def routed(engine: Engine) -> list[tuple[str, str, str, int]]:
    """(vendor order, our SKU, vendor SKU, quantity) of every routed line."""
    with session_factory(engine)() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(VendorOrderLine.vendor_order_id, VendorOrderLine.sku, VendorOrderLine.vendor_sku,
                   VendorOrderLine.qty).order_by(VendorOrderLine.vendor_order_id, VendorOrderLine.line_no))]


def shop(tmp_path: Path) -> Settings:
    """ACME and STITCH, configured in ``orderflow.toml``."""
    return write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                          vendor_block("STITCH", "csv", "local", path="stitch"))


class TestRoutingByName:
    def test_an_export_without_skus_routes_every_line_by_product_and_variant(self, engine: Engine,
                                                                            tmp_path: Path) -> None:
        """With the catalog's product/variant names, every line of a SKU-less export reaches its vendor."""
        settings = shop(tmp_path)
        stock_catalog(engine, settings, NOW, CATALOG)
        result = import_orders(engine=engine, settings=settings, now=NOW, paths=[export(tmp_path)])
        assert result.exit_code == 0, result.problems
        assert routed(engine) == [
            ("TB6001-ACME", "LT-BLK-L", "ACM-LT-BLK-L", 2), ("TB6001-ACME", "LH-NVY-XL", "ACM-LH-NVY-XL", 1),
            ("TB6002-ACME", "LT-BLK-L", "ACM-LT-BLK-L", 1), ("TB6002-STITCH", "STICKER", "SC-STICKER", 3)]

    def test_names_match_without_case_or_extra_spaces(self, engine: Engine, tmp_path: Path) -> None:
        """A catalog typed "logo tee" / "black /  l" still matches the export's "Logo Tee - Black / L"."""
        settings = shop(tmp_path)
        stock_catalog(engine, settings, NOW, [CatalogRow("LT", "ACME", "ACM-LT", product="logo tee",
                                                         variant="black /  l")])
        import_orders(engine=engine, settings=settings, now=NOW, paths=[export(tmp_path)])
        assert [line[1] for line in routed(engine)] == ["LT", "LT"]


class TestSuggest:
    def test_suggest_lists_uncovered_pairs_and_the_filled_file_routes_them(self, engine: Engine, database_url: str,
                                                                           tmp_path: Path) -> None:
        """Uncovered pairs come out as a fill-in CSV, most ordered first; filled in and imported, the lines
        that were waiting are routed."""
        settings = shop(tmp_path)
        stock_catalog(engine, settings, NOW, CATALOG[2:])
        path = export(tmp_path)
        import_orders(engine=engine, settings=settings, now=NOW, paths=[path])
        result = CliRunner().invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
                                          "catalog", "suggest", str(path)])
        assert result.exit_code == 0, result.output
        assert list(csv.reader(io.StringIO(result.stdout))) == [
            ["sku", "vendor", "vendor_sku", "product", "variant", "storefront_vendor", "lines"],
            ["", "", "", "Logo Tee", "Black / L", "", "2"],
            ["", "", "", "Logo Hoodie", "Navy / XL", "", "1"]]
        with session_factory(engine)() as session:
            assert session.scalars(select(OrderLine.state).order_by(OrderLine.id)).all() == [
                "unroutable", "unroutable", "pending", "unroutable"]
        filled = result.stdout.replace(",,,Logo Tee,", "LT-BLK-L,ACME,ACM-LT-BLK-L,Logo Tee,").replace(
            ",,,Logo Hoodie,", "LH-NVY-XL,ACME,ACM-LH-NVY-XL,Logo Hoodie,")
        (tmp_path / "filled.csv").write_text(filled, encoding="utf-8")
        imported = import_catalog_file(engine=engine, settings=settings, path=tmp_path / "filled.csv", now=NOW)
        assert imported.counts["lines_routed"] == 3, imported.problems
        assert ("TB6001-ACME", "LH-NVY-XL", "ACM-LH-NVY-XL", 1) in routed(engine)
