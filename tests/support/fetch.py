"""The sample shop that vendor files are fetched for (order 1042, sent to ACME), and vendor files dropped in its
folders as if written long ago."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, update

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import VendorOrder
from orderflow.storefronts.importing import import_orders
from tests.support.sample_shop import SAMPLES, stock_catalog
from tests.support.shop_with_vendors import vendor_block, write_settings

OLD = datetime(2026, 3, 14, 12, 0, tzinfo=UTC).timestamp()  # vendor files written well before we look


def shop(tmp_path: Path, engine: Engine, clock: Clock, acme: str) -> Settings:
    """The sample shop: order 1042 has TB1042-ACME (3 lines) sent to ACME, whose vendor block is ``acme``."""
    settings = write_settings(tmp_path, acme, vendor_block("PF", "csv", "local", path="pf"),
                              vendor_block("STITCH", "csv", "local", path="stitch"))
    stock_catalog(engine, settings, clock.now())
    import_orders(engine=engine, settings=settings, now=clock.now(),
                  paths=[SAMPLES / "shopify_orders_export.csv"])
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).where(VendorOrder.id == "TB1042-ACME").values(state="sent"))
    return settings


def drop(folder: Path, name: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    os.utime(path, (OLD, OLD))
    return path


LOCAL_ACME = vendor_block("ACME", "x12", "local", path="acme", settle_seconds=0)
