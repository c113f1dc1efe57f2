"""A shop with one vendor of each kind, orders waiting for them, and helpers to look at what was sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from orderflow.catalog import CatalogRow
from orderflow.config import Settings, load_settings
from orderflow.db.engine import session_factory
from orderflow.db.models import VendorOrder
from orderflow.storefronts.importing import import_orders
from tests.support.sample_shop import stock_catalog

HEADER = (Path(__file__).parent.parent / "samples" / "shopify_orders_export.csv").read_text(
    encoding="utf-8-sig").splitlines()[0]


def vendor_block(code: str, fmt: str, transport: str, **keys: object) -> str:
    lines = [f'[[vendors]]\ncode = "{code}"\nname = "Vendor {code}"\nformat = "{fmt}"\ntransport = "{transport}"']
    for key, value in keys.items():
        lines.append(f"{key} = {value!r}".replace("'", '"') if not isinstance(value, bool)
                     else f"{key} = {str(value).lower()}")
    return "\n".join(lines) + "\n"


def push_block(smtp_host: str, smtp_port: int, *, webhook_env: str | None = None) -> str:
    """``[email]`` on a local SMTP server and ``[push]`` to on-call by email (and a webhook named by env var)."""
    block = f"""
[email]
host = "{smtp_host}"
port = {smtp_port}
starttls = false
sender = "ops@teebarn.example"
[push]
digest_time = "08:00"
[push.email]
to = ["oncall@teebarn.example"]
"""
    return block + (f'[push.webhook]\nurl_env = "{webhook_env}"\n' if webhook_env else "")


def write_settings(folder: Path, *blocks: str) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orderflow.toml").write_text('po_prefix = "TB"\n' + "".join(blocks), encoding="utf-8")
    return load_settings(folder / "orderflow.toml")


def shopify_export(orders: Mapping[str, Sequence[str]], *, line_names: bool = False) -> str:
    """A Shopify order export of ``{"5001": ["SKU-A", ...]}``: one row per line, order fields on the first row
    of each order; ``line_names``: each line named "Tee <SKU>" too."""
    columns = HEADER.split(",")
    rows = [HEADER]
    for number, skus in orders.items():
        for index, sku in enumerate(skus):
            row = {"Name": f"#{number}", "Email": "pat@example.com", "Lineitem quantity": "2",
                   "Lineitem price": "25.00", "Lineitem sku": sku, "Lineitem fulfillment status": "pending"}
            if line_names:
                row["Lineitem name"] = f"Tee {sku}"
            if index == 0:
                row |= {"Financial Status": "paid", "Fulfillment Status": "unfulfilled",
                        "Created at": "2026-11-02 10:04:00 -0500", "Shipping Name": "Pat Doe",
                        "Shipping Address1": "1 Main St", "Shipping City": "Portland", "Shipping Zip": "04101",
                        "Shipping Province": "ME", "Shipping Country": "US"}
            rows.append(",".join(row.get(column, "") for column in columns))
    return "\n".join(rows) + "\n"


def place_orders(engine: Engine, settings: Settings, now: datetime, folder: Path, *,
                 orders: dict[str, list[str]]) -> None:
    """Import orders ``{"5001": ["SKU-A", ...]}``; every SKU ``SKU-<VENDOR>`` routes to that vendor."""
    codes = {sku.removeprefix("SKU-") for skus in orders.values() for sku in skus}
    stock_catalog(engine, settings, now, [CatalogRow(f"SKU-{code}", code, f"{code}-1", upc="012345678905",
                                                     description=f"Tee from {code}") for code in codes])
    path = folder / "orders.csv"
    path.write_text(shopify_export(orders, line_names=True), encoding="utf-8")
    result = import_orders(engine=engine, settings=settings, now=now, paths=[path])
    assert result.exit_code == 0, result.problems


def vendor_orders(engine: Engine) -> dict[str, VendorOrder]:
    with session_factory(engine)() as session:
        return {vo.id: vo for vo in session.scalars(select(VendorOrder))}
