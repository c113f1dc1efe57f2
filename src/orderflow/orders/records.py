"""What every storefront parser produces: plain records, independent of the database.

A parser reads one file or payload as a stream: each :class:`IncomingOrder` it could read, and a
:class:`~orderflow.errors.Refusal` for each row or field it could not. One bad row never hides the good ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    zip: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class IncomingLine:
    """One line item as the storefront sent it. ``line`` numbers start at 1 within the order."""

    line: int
    sku: str
    qty: int
    price: Decimal
    name: str = ""
    storefront_vendor: str = ""
    fulfilled_at_storefront: bool = False
    """Already fulfilled outside orderflow: stored for the record, never sent to a vendor."""


@dataclass(frozen=True)
class IncomingOrder:
    """One storefront order. ``order_number`` is kept without a leading ``#`` (``#1042`` -> ``1042``)."""

    source: str
    order_number: str
    placed_at: datetime
    customer_name: str
    customer_email: str
    shipping: Address
    lines: tuple[IncomingLine, ...]
    currency: str = "USD"
    total: Decimal | None = None
    financial_status: str = ""
    fulfillment_status: str = ""
    cancelled_at: datetime | None = None
    external_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def normalize_order_number(text: str) -> str:
    """``'#1042 '`` -> ``'1042'``: the storefront's display form without the leading ``#``."""
    return text.strip().lstrip("#").strip()


def item_name(product: str, variant: str) -> str:
    """How a storefront names a line of a product variant: ``Logo Tee - Black / L`` (Shopify's
    ``Lineitem name``), or the product alone for a product without variants."""
    return f"{product.strip()} - {variant.strip()}" if variant.strip() else product.strip()


def name_key(name: str) -> str:
    """A line name compared without case or runs of spaces, as shop staff type and storefronts print them."""
    return " ".join(name.split()).casefold()
