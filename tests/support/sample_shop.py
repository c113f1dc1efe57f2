"""Builders the intake, dispatch and feedback tests share: a shop configuration, a catalog, a database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from orderflow.catalog import CatalogRow, upsert_catalog
from orderflow.config import Settings, load_settings
from orderflow.db.engine import session_factory
from orderflow.vendors.registry import sync_vendors

SAMPLES = Path(__file__).parent.parent / "samples"

SHOP_TOML = """
po_prefix = "TB"
[[vendors]]
code = "ACME"
name = "Acme Blanks"
path = "vendors/acme"
[[vendors]]
code = "PF"
name = "Printful"
kind = "on_demand"
path = "vendors/pf"
[[vendors]]
code = "STITCH"
name = "Stitch & Co"
path = "vendors/stitch"
[sources.shopify]
format = "shopify_csv"
path = "inbox"
settle_seconds = 0
"""

SAMPLE_CATALOG = [
    CatalogRow("TB-HCT-BLK-L", "ACME", "ACM-G500-BLK-L", upc="086753090017"),
    CatalogRow("TB-HCT-WHT-M", "ACME", "ACM-G500-WHT-M", upc="086753090024"),
    CatalogRow("TB-HOOD-NVY-XL", "ACME", "ACM-18500-NVY-XL", upc="086753090031"),
    CatalogRow("TB-MTNLINE-HTR-S", "PF", "4016", on_demand=True),
    CatalogRow("TB-CUSTNAME-WHT-L", "PF", "4017", on_demand=True),
    CatalogRow("TB-SUNWAVE-BLK-M", "PF", "4018", on_demand=True),
    CatalogRow("TB-SUNWAVE-WHT-XL", "PF", "4019", on_demand=True),
    CatalogRow("TB-EMBLOGO-FRS-L", "STITCH", "SC-EMB-FRS-L"),
]


def shop_settings(folder: Path, extra_toml: str = "") -> Settings:
    """The sample shop's configuration, written to ``folder/orderflow.toml`` and loaded like the CLI does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inbox").mkdir(exist_ok=True)
    path = folder / "orderflow.toml"
    path.write_text(SHOP_TOML + extra_toml, encoding="utf-8")
    return load_settings(path)


def stock_catalog(engine: Engine, settings: Settings, now: datetime, rows: list[CatalogRow] | None = None) -> None:
    """Configured vendors and the catalog rows in the database."""
    with session_factory(engine)() as session, session.begin():
        sync_vendors(session=session, settings=settings, now=now)
        upsert_catalog(session=session, rows=SAMPLE_CATALOG if rows is None else rows, now=now)
