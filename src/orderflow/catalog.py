"""The SKU crosswalk: which vendor makes or stocks each of our SKUs, under which of its own ids.

``catalog import`` upserts by SKU and keeps the good rows of a file with bad ones; a row naming a vendor that
is not configured, a SKU twice in one file, or a malformed value is refused with file, line and reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from orderflow.config import Settings
from orderflow.db.bulk import chunked
from orderflow.db.engine import session_factory
from orderflow.db.models import CatalogItem
from orderflow.errors import ExitCode, InputError, Refusal
from orderflow.jobs import WorkResult
from orderflow.parsing.csv_rows import CsvHeader, read_csv_rows
from orderflow.parsing.values import parse_flag
from orderflow.vendors.registry import sync_vendors

REQUIRED = ("sku", "vendor", "vendor_sku")
OPTIONAL = ("upc", "description", "on_demand", "vendor_variant_id", "product", "variant")


@dataclass(frozen=True)
class CatalogRow:
    sku: str
    vendor: str
    vendor_sku: str
    upc: str | None = None
    description: str | None = None
    on_demand: bool = False
    vendor_variant_id: str | None = None
    product: str | None = None
    """With ``variant``, how a store that sells without SKUs names the item (Shopify ``Lineitem name``)."""
    variant: str | None = None


@dataclass
class CatalogImport:
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    refusals: list[Refusal] = field(default_factory=list)


def read_catalog_csv(path: Path, *, vendor_codes: Iterable[str]) -> tuple[list[CatalogRow], list[Refusal]]:
    """Read a catalog CSV. Returns the good rows and a refusal per bad row; a file that is not a catalog (or
    not readable as CSV at all) raises, naming the file and line."""
    name = str(path)

    def check_header(header: CsvHeader) -> None:
        missing = header.missing(REQUIRED)
        if missing:
            raise InputError(f"not a catalog file: missing column(s) {', '.join(missing)}", file=name)

    known = {code.upper() for code in vendor_codes}
    rows: list[CatalogRow] = []
    refusals: list[Refusal] = []
    first_line_of: dict[str, int] = {}
    for raw in read_csv_rows(path, file=name, check_header=check_header):
        values = {key: raw.get(key).strip() for key in (*REQUIRED, *OPTIONAL)}
        row, problem = _catalog_row(values, known)
        if problem is not None:
            refusals.append(Refusal(file=name, line=raw.line, field=problem[0], reason=problem[1]))
        elif row is not None and row.sku in first_line_of:
            refusals.append(Refusal(file=name, line=raw.line, field="sku",
                                    reason=f"{row.sku} appears again (first on line {first_line_of[row.sku]})"))
        elif row is not None:
            first_line_of[row.sku] = raw.line
            rows.append(row)
    return rows, refusals


def _catalog_row(values: dict[str, str], vendors: set[str]) -> tuple[CatalogRow | None, tuple[str, str] | None]:
    for column in REQUIRED:
        if not values.get(column):
            return None, (column, "required value is empty")
    vendor = values["vendor"].upper()
    if vendor not in vendors:
        return None, ("vendor", f"vendor {values['vendor']!r} is not configured")
    upc = values.get("upc") or None
    if upc is not None and not re.fullmatch(r"\d{6,14}", upc):
        return None, ("upc", f"not a UPC/EAN of 6 to 14 digits: {upc!r}"
                      + (" (a spreadsheet turned it into scientific notation)" if "E+" in upc.upper() else ""))
    try:
        on_demand = parse_flag(values.get("on_demand", ""))
    except ValueError as exc:
        return None, ("on_demand", str(exc))
    return CatalogRow(
        sku=values["sku"], vendor=vendor, vendor_sku=values["vendor_sku"], upc=upc,
        description=values.get("description") or None, on_demand=on_demand,
        vendor_variant_id=values.get("vendor_variant_id") or None,
        product=values.get("product") or None, variant=values.get("variant") or None,
    ), None


def upsert_catalog(*, session: Session, rows: list[CatalogRow], now: datetime) -> CatalogImport:
    """Insert new SKUs and update changed ones. The caller owns the transaction."""
    result = CatalogImport()
    existing = {
        item.sku: item
        for chunk in chunked(row.sku for row in rows)
        for item in session.scalars(select(CatalogItem).where(CatalogItem.sku.in_(chunk)))
    }
    for row in rows:
        fields = {"vendor_code": row.vendor, "vendor_sku": row.vendor_sku, "upc": row.upc,
                  "description": row.description, "on_demand": row.on_demand,
                  "vendor_variant_id": row.vendor_variant_id, "product": row.product, "variant": row.variant}
        item = existing.get(row.sku)
        if item is None:
            session.add(CatalogItem(sku=row.sku, updated_at=now, **fields))
            result.stored += 1
        elif any(getattr(item, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(item, key, value)
            item.updated_at = now
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result


def catalog_items(session: Session) -> list[CatalogItem]:
    return list(session.scalars(select(CatalogItem).order_by(CatalogItem.sku)))


def import_catalog_file(*, engine: Engine, settings: Settings, path: Path, now: datetime) -> WorkResult:
    """The ``catalog import`` job: read, upsert, and route the order lines that were waiting for these SKUs."""
    from orderflow.orders.routing import Catalog, route_waiting_lines

    rows, refusals = read_catalog_csv(path, vendor_codes=settings.vendor_codes)
    with session_factory(engine)() as session, session.begin():
        sync_vendors(session=session, settings=settings, now=now)
        result = upsert_catalog(session=session, rows=rows, now=now)
        routing = route_waiting_lines(session=session, catalog=Catalog.load(session, settings.vendors),
                                      po_prefix=settings.po_prefix, now=now)
    return WorkResult(
        counts={"stored": result.stored, "updated": result.updated, "unchanged": result.unchanged,
                "refused": len(refusals), "lines_routed": routing.routed_lines},
        problems=[str(refusal) for refusal in refusals] + routing.problems,
        exit_code=ExitCode.INPUT_REFUSED if refusals else ExitCode.OK,
    )


SUGGESTION_COLUMNS = ("sku", "vendor", "vendor_sku", "product", "variant", "storefront_vendor", "lines")


def suggest_catalog_rows(*, session: Session, path: Path) -> list[dict[str, str | int]]:
    """The product/variant pairs of a storefront export whose lines have no SKU and that the catalog does not
    cover yet, most ordered first: rows for ``catalog import`` once ``sku``, ``vendor`` and ``vendor_sku`` are
    filled in. A line name splits into product and variant at its last " - " (Shopify's ``Lineitem name``);
    the catalog matches the two joined again, so a title that itself holds " - " is matched all the same."""
    from orderflow.orders.records import IncomingOrder, name_key
    from orderflow.orders.routing import Catalog
    from orderflow.storefronts.formats import iter_orders

    covered = Catalog.load(session).skus_by_name
    wanted: dict[str, dict[str, str | int]] = {}
    for item in iter_orders(path, source="suggest"):
        if not isinstance(item, IncomingOrder):
            continue
        for line in item.lines:
            if line.sku or not line.name or name_key(line.name) in covered:
                continue
            product, _, variant = line.name.rpartition(" - ") if " - " in line.name else (line.name, "", "")
            row = wanted.setdefault(name_key(line.name), {
                "sku": "", "vendor": "", "vendor_sku": "", "product": product.strip(), "variant": variant.strip(),
                "storefront_vendor": line.storefront_vendor, "lines": 0})
            row["lines"] = int(row["lines"]) + 1
    return sorted(wanted.values(), key=lambda row: (-int(row["lines"]), str(row["product"]), str(row["variant"])))
