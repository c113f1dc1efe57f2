"""Orders from JSON: WooCommerce REST v3 orders, or orderflow's generic order JSON.

::

    for item in iter_json_orders(Path("orders.json").read_bytes(), source="woo", file="orders.json"):
        ...  # an IncomingOrder, or a Refusal whose field is a JSON path such as orders[3].lines[0].qty

The shape is told from the document itself:

- **WooCommerce** (``GET /wp-json/wc/v3/orders`` or ``/orders/{id}``): one order object, or a list of them.
  ``number`` is the order number, ``id`` the external id, ``date_created_gmt`` the time placed (UTC, written
  without an offset). ``status`` sets the states: ``cancelled`` cancels the order (at ``date_modified_gmt``);
  ``processing`` and ``completed`` are paid, ``pending`` and ``on-hold`` are pending, ``refunded`` is refunded,
  ``cancelled`` and ``failed`` are voided; ``completed`` is fulfilled, anything else unfulfilled. Customer
  from ``billing`` (name, email), address from ``shipping`` (phone from ``billing`` when shipping has none);
  ``line_items[]`` give ``sku``, ``quantity``, ``price``, ``name``.
- **Generic**: an object with an ``orders`` list. Unknown keys are ignored; ``null`` means absent::

    {"orders": [{
        "order_number": "1042",                        # required; text or a whole number; a leading # is dropped
        "placed_at": "2026-03-12T09:41:02-04:00",      # required; ISO 8601 with a UTC offset (or Z)
        "customer": {"name": "Jordan Rivera", "email": "jordan@example.com"},
        "shipping": {"name": "...", "company": "...", "address1": "...", "address2": "...", "city": "...",
                     "province": "ME", "zip": "04101", "country": "US", "phone": "+12075550142"},
        "currency": "USD",                             # default USD
        "total": "196.85",                             # a decimal string or number
        "cancelled_at": null,                          # ISO 8601 with offset when cancelled
        "financial_status": "paid", "fulfillment_status": "unfulfilled", "external_id": "6401133445502",
        "lines": [{"sku": "TB-HCT-BLK-L", "qty": 2, "price": "24.00",   # required, at least one line
                   "name": "Heavy Cotton Tee - Black / L", "vendor": "Acme Blanks"}]
    }]}

Money may be a JSON number or a decimal string, and is read exactly as written into ``Decimal``. A bad field
refuses its whole order (one refusal per bad field, ``line`` None, ``field`` the JSON path); the other orders
still come through. A document that is not JSON, or is neither shape, raises
:class:`~orderflow.errors.InputError` for the whole file. ``IncomingOrder.raw`` keeps the order object, with
fractional numbers as strings of their exact digits so it stays JSON-safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from orderflow.errors import InputError, Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder, normalize_order_number
from orderflow.parsing.json_shapes import ShapeError, loads, object_at, path_to, text_at
from orderflow.parsing.times import parse_time
from orderflow.parsing.values import parse_currency, parse_money, parse_quantity
from orderflow.storefronts.mapped_csv import PLACEHOLDER_TIME, FieldCheck

T = TypeVar("T")

_WOO_FINANCIAL = {
    "pending": "pending",
    "on-hold": "pending",
    "processing": "paid",
    "completed": "paid",
    "refunded": "refunded",
    "cancelled": "voided",
    "failed": "voided",
}


def iter_json_orders(data: bytes, *, source: str, file: str) -> Iterator[IncomingOrder | Refusal]:
    """Each order in a WooCommerce or generic JSON document, or a ``Refusal`` per bad field."""
    document = _load(data, file=file)
    if isinstance(document, dict) and "orders" in document:
        orders = document["orders"]
        if not isinstance(orders, list):
            raise InputError("'orders' must be a list of order objects", file=file, field="orders")
        build = _generic_order
        placed = [(f"orders[{index}]", order) for index, order in enumerate(orders)]
    elif isinstance(document, dict) and "line_items" in document:
        build, placed = _woo_order, [("", document)]
    elif isinstance(document, list):
        build, placed = _woo_order, [(f"[{index}]", order) for index, order in enumerate(document)]
    else:
        raise InputError('neither WooCommerce order JSON (an order or a list of orders) nor {"orders": [...]}',
                         file=file)
    for path, order in placed:
        result = _built(build, order, path=path, source=source, file=file)
        if isinstance(result, IncomingOrder):
            yield result
        else:
            yield from result


def _load(data: bytes, *, file: str) -> Any:
    try:
        return loads(data, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, line=exc.lineno) from exc
    except ValueError as exc:
        # UnicodeDecodeError, NaN/Infinity, integers too long to read, nesting deeper than Python's stack.
        raise InputError(f"not valid JSON: {exc}", file=file) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number orderflow accepts")


_Build = Callable[["_Fields", dict[str, Any], str, str], IncomingOrder]


def _built(build: _Build, order: Any, *, path: str, source: str, file: str) -> IncomingOrder | list[Refusal]:
    check = FieldCheck(file=file)
    if not isinstance(order, dict):
        check.refuse(line=None, field=path or "$", reason="not an order object")
        return check.refusals
    try:
        incoming = build(_Fields(check), order, path, source)
    except RecursionError:
        check.refuse(line=None, field=path or "$", reason="nested too deeply")
        return check.refusals
    return check.refusals or incoming


# --- reading typed fields out of JSON objects, refusing by path ---------------------------------------------


@dataclass
class _Fields:
    """Reads fields of JSON objects and refuses bad ones by their JSON path."""

    check: FieldCheck

    def text(self, parent: dict[str, Any], key: str, path: str) -> str:
        try:
            return text_at(parent, key, path)
        except ShapeError as exc:
            self.check.refuse(line=None, field=exc.path, reason=exc.problem)
            return ""

    def obj(self, parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        try:
            return object_at(parent, key, path)
        except ShapeError as exc:
            self.check.refuse(line=None, field=exc.path, reason=exc.problem)
            return {}

    def items(self, parent: dict[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects in a required, non-empty list, each with its path."""
        value, where = parent.get(key), path_to(path, key)
        if not isinstance(value, list) or not value:
            self.check.refuse(line=None, field=where, reason="expected a non-empty list of line items")
            return []
        found = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                found.append((path_to(where, index), item))
            else:
                self.check.refuse(line=None, field=path_to(where, index), reason="not a line item object")
        return found

    def required(self, parse: Callable[[str], T], parent: dict[str, Any], key: str, path: str,
                 default: T) -> T:
        # Numbers are read through their exact JSON digits, so quantities and money follow one set of rules.
        text = self.text(parent, key, path)
        return self.check.required(parse, text, line=None, field=path_to(path, key), default=default)

    def optional(self, parse: Callable[[str], T], parent: dict[str, Any], key: str, path: str) -> T | None:
        text = self.text(parent, key, path)
        return self.check.optional(parse, text, line=None, field=path_to(path, key))


def parse_offset_time(text: str) -> datetime:
    """``'2026-03-12T09:41:02-04:00'`` -> UTC; a time without a UTC offset is refused."""
    return parse_time(text, naive=None, expected="an ISO 8601 time with a UTC offset")


def parse_gmt_time(text: str) -> datetime:
    """``'2026-03-12T13:41:02'`` (WooCommerce ``*_gmt``, no offset written) -> that instant in UTC."""
    return parse_time(text)


def _plain(value: Any) -> Any:
    """The JSON value with ``Decimal`` written back as its exact digits, so ``raw`` stays JSON-safe."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- the two shapes -----------------------------------------------------------------------------------------


def _generic_order(fields: _Fields, order: dict[str, Any], path: str, source: str) -> IncomingOrder:
    number = normalize_order_number(fields.text(order, "order_number", path))
    fields.check.order = number
    if not number:
        fields.check.refuse(line=None, field=path_to(path, "order_number"), reason="empty")
    customer = fields.obj(order, "customer", path)
    shipping = fields.obj(order, "shipping", path)
    shipping_path = path_to(path, "shipping")
    lines = tuple(
        IncomingLine(
            line=position,
            sku=_sku(fields, item, "sku", item_path),
            qty=fields.required(parse_quantity, item, "qty", item_path, default=0),
            price=fields.required(parse_money, item, "price", item_path, default=Decimal(0)),
            name=fields.text(item, "name", item_path),
            storefront_vendor=fields.text(item, "vendor", item_path),
        )
        for position, (item_path, item) in enumerate(fields.items(order, "lines", path), 1)
    )
    return IncomingOrder(
        source=source,
        order_number=number,
        placed_at=fields.required(parse_offset_time, order, "placed_at", path, default=PLACEHOLDER_TIME),
        customer_name=fields.text(customer, "name", path_to(path, "customer")),
        customer_email=fields.text(customer, "email", path_to(path, "customer")),
        shipping=Address(**{key: fields.text(shipping, key, shipping_path) for key in _ADDRESS_KEYS}),
        lines=lines,
        currency=fields.optional(parse_currency, order, "currency", path) or "USD",
        total=fields.optional(parse_money, order, "total", path),
        financial_status=fields.text(order, "financial_status", path).lower(),
        fulfillment_status=fields.text(order, "fulfillment_status", path).lower(),
        cancelled_at=fields.optional(parse_offset_time, order, "cancelled_at", path),
        external_id=fields.text(order, "external_id", path),
        raw=_plain(order),
    )


_ADDRESS_KEYS = ("name", "company", "address1", "address2", "city", "province", "zip", "country", "phone")


def _woo_order(fields: _Fields, order: dict[str, Any], path: str, source: str) -> IncomingOrder:
    number = normalize_order_number(fields.text(order, "number", path))
    fields.check.order = number
    if not number:
        fields.check.refuse(line=None, field=path_to(path, "number"), reason="empty")
    status = fields.text(order, "status", path).lower()
    billing = fields.obj(order, "billing", path)
    shipping = fields.obj(order, "shipping", path)
    placed_at = fields.required(parse_gmt_time, order, "date_created_gmt", path, default=PLACEHOLDER_TIME)
    lines = tuple(
        IncomingLine(
            line=position,
            sku=_sku(fields, item, "sku", item_path),
            qty=fields.required(parse_quantity, item, "quantity", item_path, default=0),
            price=fields.required(parse_money, item, "price", item_path, default=Decimal(0)),
            name=fields.text(item, "name", item_path),
        )
        for position, (item_path, item) in enumerate(fields.items(order, "line_items", path), 1)
    )
    return IncomingOrder(
        source=source,
        order_number=number,
        placed_at=placed_at,
        customer_name=_person(fields, billing, path_to(path, "billing")) or _person(
            fields, shipping, path_to(path, "shipping")),
        customer_email=fields.text(billing, "email", path_to(path, "billing")),
        shipping=_woo_address(fields, shipping, billing, path),
        lines=lines,
        currency=fields.optional(parse_currency, order, "currency", path) or "USD",
        total=fields.optional(parse_money, order, "total", path),
        financial_status=_WOO_FINANCIAL.get(status, status),
        fulfillment_status="fulfilled" if status == "completed" else "unfulfilled",
        cancelled_at=_woo_cancelled_at(fields, order, path, status=status, placed_at=placed_at),
        external_id=fields.text(order, "id", path),
        raw=_plain(order),
    )


def _woo_cancelled_at(fields: _Fields, order: dict[str, Any], path: str, *, status: str,
                      placed_at: datetime) -> datetime | None:
    if status != "cancelled":
        return None
    # WooCommerce records no cancel time; the last change is when the status became cancelled, near enough.
    return fields.optional(parse_gmt_time, order, "date_modified_gmt", path) or placed_at


def _woo_address(fields: _Fields, shipping: dict[str, Any], billing: dict[str, Any], path: str) -> Address:
    where = path_to(path, "shipping")
    return Address(
        name=_person(fields, shipping, where),
        company=fields.text(shipping, "company", where),
        address1=fields.text(shipping, "address_1", where),
        address2=fields.text(shipping, "address_2", where),
        city=fields.text(shipping, "city", where),
        province=fields.text(shipping, "state", where),
        zip=fields.text(shipping, "postcode", where),
        country=fields.text(shipping, "country", where),
        # Shipping phone arrived in WooCommerce 5.6; older stores keep the only phone on billing.
        phone=fields.text(shipping, "phone", where) or fields.text(billing, "phone", path_to(path, "billing")),
    )


def _person(fields: _Fields, party: dict[str, Any], path: str) -> str:
    return " ".join(part for part in (fields.text(party, "first_name", path),
                                      fields.text(party, "last_name", path)) if part)


def _sku(fields: _Fields, item: dict[str, Any], key: str, path: str) -> str:
    sku = fields.text(item, key, path)
    if not sku:
        fields.check.refuse(line=None, field=path_to(path, key), reason="empty: a line needs a SKU to reach a vendor")
    return sku
