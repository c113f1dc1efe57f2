"""Printful API v1: the order we send, the answers we read, and the one client that talks HTTP.

Pure functions build and read Printful's JSON; :class:`PrintfulClient` is the only IO::

    client = PrintfulClient(base_url=API_BASE_URL, token=token, store_id=None,
                            client=httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0)))
    try:
        answer = client.create_order(purchase_order, confirm=True)
    except OutcomeUnknown:
        ...  # Printful may have the order: look it up (client.get_order) before sending it again
    if answer.outcome == "rejected":
        ...  # answer.reason is Printful's message; store it on the vendor order

Each item is a product already synced to the Printful store (``sync_variant_id``, or ``external_variant_id``
when the catalog has no numeric sync variant id) and carries our line id as its ``external_id``
(``TB1042-PF-4`` for line 4), so shipments, which name Printful's own item ids, map back to our lines.

Status and tracking come back two ways, both read here into a :class:`PrintfulOrderState`: an order looked up
with ``GET /orders/@{external_id}`` (:func:`parse_order_status`) and a webhook (:func:`parse_webhook`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from urllib.parse import quote

import httpx

from orderflow.errors import InputError, OutcomeUnknown, RemoteUnavailable
from orderflow.parsing.json_shapes import (
    ShapeError,
    as_object,
    as_text,
    kind,
    list_at,
    loads,
    objects_at,
    path_to,
    text_at,
)
from orderflow.parsing.text import shown
from orderflow.parsing.times import NOON, parse_time
from orderflow.retries import retry_after_seconds
from orderflow.vendors.records import (
    Parcel,
    PurchaseOrder,
    PurchaseOrderLine,
    ShipNotice,
    ShippedLine,
    StockLevel,
)

__all__ = [
    "API_BASE_URL", "VENDOR_ORDER_STATES", "OutcomeUnknown", "PrintfulAnswer", "PrintfulClient", "PrintfulEvent",
    "PrintfulOrderState", "build_order", "item_external_id", "line_of_item", "money", "parse_order_response",
    "parse_order_status", "parse_webhook",
]

API_BASE_URL = "https://api.printful.com"

Outcome = Literal["created", "found", "not_found", "rejected", "unauthorized", "rate_limited", "unavailable"]

VENDOR_ORDER_STATES: Mapping[str, str] = {
    "draft": "sent",  # Printful has it but will not make it until it is confirmed
    "pending": "accepted",
    "inprocess": "accepted",
    "failed": "rejected",  # blocked (address, files, payment) until someone fixes it
    "onhold": "on_hold",
    "partial": "partially_shipped",
    "fulfilled": "shipped",
    "canceled": "cancelled",
}
"""Printful's order status -> the vendor order state orderflow stores (see ``VendorOrderState``)."""

_DIGITS = re.compile(r"\d+", re.ASCII)
_COUNT_LIMIT = 10**9  # quantities fit the database's integer columns with room to spare
_LINE_SUFFIX = re.compile(r"-(\d+)\Z", re.ASCII)
# Errors raised before any byte of the request left: the vendor cannot have acted on it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
             httpx.ProxyError, httpx.LocalProtocolError)


@dataclass(frozen=True)
class PrintfulAnswer:
    """What one Printful reply means for our order.

    ``reason`` is Printful's own message (for ``rejected`` it is why the vendor refused the order);
    ``order`` is Printful's order object when the reply carried one.
    """

    outcome: Outcome
    printful_id: str | None = None
    status: str | None = None
    reason: str = ""
    retry_after: float | None = None
    order: dict[str, Any] | None = None


@dataclass(frozen=True)
class PrintfulOrderState:
    """Where Printful says one of our orders stands, and what it has shipped so far.

    ``status`` is Printful's word (``onhold``); :attr:`vendor_order_state` is ours (``on_hold``). ``reason`` is
    set by the failure and hold webhooks (an order looked up carries none). ``warnings`` name shipment items
    that could not be matched to a line of the order.
    """

    vendor_order_id: str
    printful_id: str
    status: str
    reason: str
    ship_notices: tuple[ShipNotice, ...]
    updated_at: datetime | None
    warnings: tuple[str, ...] = ()

    @property
    def vendor_order_state(self) -> str | None:
        """The orderflow vendor order state for this status; ``None`` for a status Printful has not documented."""
        return VENDOR_ORDER_STATES.get(self.status)


@dataclass(frozen=True)
class PrintfulEvent:
    """One webhook delivery, read.

    ``dedupe_key`` is the same for every redelivery of the same event (Printful retries failed deliveries).
    ``order`` is set for order and shipment events, ``stock`` for ``stock_updated``; ``note`` says why an event
    was ignored.
    """

    type: str
    dedupe_key: str
    created: datetime | None
    order: PrintfulOrderState | None = None
    stock: tuple[StockLevel, ...] = ()
    note: str = ""


# --- The order we send ---------------------------------------------------------------------------------------

def build_order(po: PurchaseOrder) -> dict[str, Any]:
    """The ``POST /orders`` body for one vendor order; a line with nothing to name its product is refused.

    For ``TB1042-PF`` the body carries ``external_id="TB1042-PF"``, ``packing_slip.custom_order_id="#1042"`` and
    items such as ``{"external_id": "TB1042-PF-4", "sync_variant_id": 4016, "quantity": 1, ...}``.
    """
    return {
        "external_id": po.vendor_order_id,
        "shipping": "STANDARD",
        "recipient": _recipient(po),
        "items": [_item(po, line) for line in po.lines],
        "packing_slip": {"custom_order_id": f"#{po.order_number}"},
    }


def item_external_id(vendor_order_id: str, line: int) -> str:
    """Our id for one line at Printful: ``item_external_id("TB1042-PF", 4) == "TB1042-PF-4"``."""
    return f"{vendor_order_id}-{line}"


def line_of_item(external_id: str) -> int | None:
    """The line number at the end of an item's external id (``"TB1042-PF-4"`` -> 4); ``None`` without one."""
    found = _LINE_SUFFIX.search(external_id.strip())
    return int(found.group(1)) if found else None


def money(amount: Decimal) -> str:
    """A price as Printful writes it: ``money(Decimal("28")) == "28.00"``."""
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _recipient(po: PurchaseOrder) -> dict[str, str]:
    address = po.ship_to
    fields = {"name": address.name, "company": address.company, "address1": address.address1,
              "address2": address.address2, "city": address.city, "state_code": address.province,
              "country_code": address.country, "zip": address.zip, "phone": address.phone,
              "email": po.customer_email}
    return {key: value.strip() for key, value in fields.items() if value.strip()}


def _item(po: PurchaseOrder, line: PurchaseOrderLine) -> dict[str, Any]:
    item: dict[str, Any] = {"external_id": item_external_id(po.vendor_order_id, line.line)}
    variant_id = (line.variant_id or "").strip()
    if _DIGITS.fullmatch(variant_id):
        item["sync_variant_id"] = int(variant_id)
    elif line.vendor_sku.strip():
        item["external_variant_id"] = line.vendor_sku.strip()
    else:
        raise InputError("no Printful sync variant id and no vendor SKU to name the product",
                         file=po.vendor_order_id, line=line.line, field="vendor_sku")
    item["quantity"] = line.qty
    if line.retail_price is not None:
        item["retail_price"] = money(line.retail_price)
    item["name"] = line.description or line.sku
    return item


# --- The answers we read -------------------------------------------------------------------------------------

def parse_order_response(status_code: int, body: bytes, headers: Mapping[str, str], *,
                         lookup: bool = False) -> PrintfulAnswer:
    """Read a reply to a create (``lookup=False``) or to a look-up or confirm (``lookup=True``). Never raises.

    2xx -> ``created`` / ``found``; 401/403 -> ``unauthorized``; 429 -> ``rate_limited`` with Retry-After;
    404 on a look-up -> ``not_found``; any other 4xx with a JSON body -> ``rejected`` with Printful's reason;
    5xx, 408 and bodies that are not JSON -> ``unavailable``.
    """
    document = _load(body)
    message = _error_message(document)
    if status_code == 429:
        return PrintfulAnswer("rate_limited", reason=message or "rate limited (HTTP 429)",
                              retry_after=retry_after_seconds(headers))
    if status_code in (401, 403):
        return PrintfulAnswer("unauthorized", reason=message or f"HTTP {status_code}")
    if 200 <= status_code < 300:
        return _success(document, lookup=lookup, status_code=status_code)
    if 400 <= status_code < 500 and status_code != 408 and document is not None:
        if status_code == 404 and lookup:
            return PrintfulAnswer("not_found", reason=message or "not found")
        return PrintfulAnswer("rejected", reason=message or f"HTTP {status_code} without a reason")
    problem = message or ("the reply is not JSON" if document is None else "no message")
    return PrintfulAnswer("unavailable", reason=f"HTTP {status_code}: {problem}")


def _success(document: object, *, lookup: bool, status_code: int) -> PrintfulAnswer:
    result = document.get("result") if isinstance(document, dict) else None
    try:
        printful_id = text_at(result, "id", "result") if isinstance(result, dict) else ""
    except ShapeError as exc:
        return PrintfulAnswer("unavailable", reason=f"HTTP {status_code}: {exc}")
    if not isinstance(result, dict) or printful_id == "":
        return PrintfulAnswer("unavailable", reason=f"HTTP {status_code}: the reply has no order in 'result'")
    # The order exists once Printful gave it an id: a status word it does not spell as text is no status,
    # not a reason to send the order again.
    status = result.get("status")
    return PrintfulAnswer("found" if lookup else "created", printful_id=printful_id,
                          status=status.strip() or None if isinstance(status, str) else None, order=result)


def _load(body: bytes) -> object:
    try:
        return loads(body)
    except ValueError:
        # Not UTF-8, not JSON, or nested deeper than the parser's stack: not a body Printful writes.
        return None


def _error_message(document: object) -> str:
    """Printful's ``error.message``, else a string ``result``; ``""`` when the body has neither."""
    if not isinstance(document, dict):
        return ""
    error = document.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"].strip():
        return str(error["message"]).strip()
    result = document.get("result")
    return result.strip() if isinstance(result, str) else ""


# --- The client ----------------------------------------------------------------------------------------------

class PrintfulClient:
    """Printful's order endpoints over the ``httpx.Client`` passed in (its timeouts apply). It never retries:
    retries, back-off and the rate budget belong to the dispatcher.
    """

    def __init__(self, *, base_url: str, token: str, store_id: str | None, client: httpx.Client) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if store_id:
            self._headers["X-PF-Store-Id"] = store_id
        self._client = client

    def __repr__(self) -> str:
        return f"PrintfulClient(base_url={self._base_url!r})"  # never the token

    def create_order(self, po: PurchaseOrder, *, confirm: bool) -> PrintfulAnswer:
        """Create the order, as a draft or (``confirm=True``) submitted for production.

        A second create with the same ``external_id`` is ``rejected`` by Printful ("Order with this external_id
        already exists"): look the order up rather than taking that as the vendor refusing it. Raises
        :class:`OutcomeUnknown` when the request may have been acted on but no answer came back.
        """
        params = {"confirm": "true"} if confirm else {}
        return self._send("POST", "/orders", what=po.vendor_order_id, lookup=False, json=build_order(po),
                          params=params)

    def get_order(self, external_id: str) -> PrintfulAnswer:
        """Look an order up by our id (``GET /orders/@TB1042-PF``): ``found`` or ``not_found``."""
        return self._send("GET", f"/orders/@{quote(external_id, safe='')}", what=external_id, lookup=True)

    def confirm_order(self, printful_id: str) -> PrintfulAnswer:
        """Submit a draft for production (this charges the account): ``found`` with status ``pending``."""
        return self._send("POST", f"/orders/{quote(printful_id, safe='')}/confirm", what=printful_id, lookup=True)

    def _send(self, method: str, path: str, *, what: str, lookup: bool, json: Any = None,
              params: Mapping[str, str] | None = None) -> PrintfulAnswer:
        try:
            response = self._client.request(method, self._base_url + path, headers=self._headers, json=json,
                                            params=params)
        except _NOT_SENT as exc:
            raise RemoteUnavailable(f"printful: cannot reach {self._base_url} for {what}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise OutcomeUnknown(f"printful: timed out waiting for the answer to {method} {path} ({what}); "
                                 "Printful may have acted on it") from exc
        except httpx.TransportError as exc:
            raise OutcomeUnknown(f"printful: connection lost during {method} {path} ({what}): {exc}; "
                                 "Printful may have acted on it") from exc
        answer = parse_order_response(response.status_code, response.content, response.headers, lookup=lookup)
        # The reason is Printful's own text and ends up in logs and the database: a server (or a proxy in
        # front of it) that echoes the request back must not get our token written there.
        if self._token and self._token in answer.reason:
            return replace(answer, reason=answer.reason.replace(self._token, "[token]"))
        return answer


# --- Status and shipments ------------------------------------------------------------------------------------

def parse_order_status(order: Mapping[str, Any], *, source_ref: str) -> PrintfulOrderState:
    """Read a Printful order object (``answer.order`` from :meth:`PrintfulClient.get_order`).

    One :class:`ShipNotice` per shipment, its lines mapped back through ``order.items[].external_id``;
    ``source_ref`` names where the order came from and is kept on each notice with the shipment id.
    An order without our ``external_id``, or with a value not shaped as Printful documents it, is refused
    (:class:`InputError` naming ``source_ref`` and the value's path).
    """
    with _refused_unless_shaped(source_ref):
        shipments = [(f"shipments[{index}]", shipment)
                     for index, shipment in enumerate(objects_at(order, "shipments", ""))]
        return _order_state(order, "", shipments=shipments, status=None, reason="", source_ref=source_ref)


@contextmanager
def _refused_unless_shaped(source: str) -> Iterator[None]:
    try:
        yield
    except ShapeError as exc:
        raise InputError(exc.problem, file=source, field=exc.path or None) from None


def _order_state(order: Mapping[str, Any], path: str, *, shipments: list[tuple[str, dict[str, Any]]],
                 status: str | None, reason: str, source_ref: str) -> PrintfulOrderState:
    vendor_order_id = text_at(order, "external_id", path)
    if not vendor_order_id:
        raise InputError("the Printful order has no external_id", file=source_ref,
                         field=path_to(path, "external_id"))
    items_path = path_to(path, "items")
    items = {text_at(item, "id", path_to(items_path, index)): (path_to(items_path, index), item)
             for index, item in enumerate(objects_at(order, "items", path))}
    warnings: list[str] = []
    notices = tuple(_ship_notice(shipment, where, items, vendor_order_id=vendor_order_id, source_ref=source_ref,
                                 warnings=warnings) for where, shipment in shipments)
    return PrintfulOrderState(vendor_order_id=vendor_order_id, printful_id=text_at(order, "id", path),
                              status=status or text_at(order, "status", path), reason=reason,
                              ship_notices=notices, updated_at=_unix(order.get("updated")),
                              warnings=tuple(warnings))


def _ship_notice(shipment: Mapping[str, Any], path: str, items: Mapping[str, tuple[str, Mapping[str, Any]]], *,
                 vendor_order_id: str, source_ref: str, warnings: list[str]) -> ShipNotice:
    shipment_id = text_at(shipment, "id", path)
    lines = []
    for index, entry in enumerate(objects_at(shipment, "items", path)):
        where = path_to(path_to(path, "items"), index)
        item_id = text_at(entry, "item_id", where)
        item_path, item = items.get(item_id, ("", None))
        if item is None:
            warnings.append(f"shipment {shipment_id}: item {item_id} is not on order {vendor_order_id}")
        quantity = _count(entry.get("quantity"), path_to(where, "quantity"))
        lines.append(ShippedLine(line=line_of_item(text_at(item, "external_id", item_path)) if item else None,
                                 vendor_sku=_item_sku(item, item_path) if item else "", qty=quantity))
    carrier = text_at(shipment, "carrier", path) or None
    shipped_at = (_unix(shipment.get("shipped_at")) or _unix(shipment.get("created"))
                  or _day(text_at(shipment, "ship_date", path)))
    return ShipNotice(vendor_order_id=vendor_order_id, shipped_at=shipped_at, carrier=carrier,
                      service=text_at(shipment, "service", path) or None,
                      parcels=(Parcel(tracking_number=text_at(shipment, "tracking_number", path), carrier=carrier,
                                      lines=tuple(lines)),),
                      source_ref=f"{source_ref}:shipment:{shipment_id}")


def _item_sku(item: Mapping[str, Any], path: str) -> str:
    """The item's product as we named it: our vendor SKU, else the sync or catalog variant id."""
    for key in ("external_variant_id", "sync_variant_id", "variant_id"):
        if text_at(item, key, path):
            return text_at(item, key, path)
    return ""


# --- Webhooks ------------------------------------------------------------------------------------------------

# Order events and the status each one announces (None: take the status from the order in the event).
_ORDER_EVENTS: Mapping[str, str | None] = {"order_failed": "failed", "order_put_hold": "onhold",
                                           "order_canceled": "canceled", "order_remove_hold": None}


def parse_webhook(data: bytes, *, file: str) -> PrintfulEvent:
    """Read one Printful v1 webhook body (``{type, created, retries, store, data}``).

    ``package_shipped`` gives the order state with one ship notice; ``order_failed``, ``order_put_hold``,
    ``order_canceled`` and ``order_remove_hold`` give the order state with Printful's reason;
    ``stock_updated`` gives a zero :class:`StockLevel` for each variant out of stock or discontinued (Printful
    lists only those). Other types, and orders not created by orderflow, are ignored with a note. A body that
    is not a webhook, or has a value not shaped as Printful documents it, raises :class:`InputError` naming
    ``file`` (and the value's path).
    """
    envelope = _load(data)
    if not isinstance(envelope, dict):
        raise InputError("not a Printful webhook: the body is not a JSON object", file=file)
    with _refused_unless_shaped(file):
        return _webhook(envelope, file=file)


def _webhook(envelope: dict[str, Any], *, file: str) -> PrintfulEvent:
    kind = text_at(envelope, "type", "")
    created, sent = _unix(envelope.get("created")), text_at(envelope, "created", "")
    payload = envelope.get("data")
    if not kind or not isinstance(payload, dict):
        raise InputError("not a Printful webhook: 'type' or 'data' is missing", file=file, field="type")
    if kind == "package_shipped":
        shipment = as_object(payload.get("shipment"), "data.shipment")
        return _order_event(kind, f"package_shipped:{text_at(shipment, 'id', 'data.shipment')}", created, payload,
                            file=file, shipments=[("data.shipment", shipment)], status=None)
    if kind in _ORDER_EVENTS:
        order_id = text_at(as_object(payload.get("order"), "data.order"), "id", "data.order")
        return _order_event(kind, f"{kind}:{order_id}:{sent}", created, payload, file=file, shipments=[],
                            status=_ORDER_EVENTS[kind])
    if kind == "stock_updated":
        return _stock_event(payload, created, key=f"{kind}:{text_at(payload, 'product_id', 'data')}:{sent}")
    return PrintfulEvent(type=kind, dedupe_key=f"{kind}:{sent}", created=created,
                         note=f"ignored: orderflow does not use Printful '{kind}' events")


def _order_event(kind: str, key: str, created: datetime | None, payload: Mapping[str, Any], *, file: str,
                 shipments: list[tuple[str, dict[str, Any]]], status: str | None) -> PrintfulEvent:
    order = as_object(payload.get("order"), "data.order")
    if not text_at(order, "external_id", "data.order"):
        return PrintfulEvent(type=kind, dedupe_key=key, created=created,
                             note=f"ignored: Printful order {text_at(order, 'id', 'data.order')} has no external_id "
                                  "(not sent by orderflow)")
    state = _order_state(order, "data.order", shipments=shipments, status=status,
                         reason=text_at(payload, "reason", "data"), source_ref=file)
    return PrintfulEvent(type=kind, dedupe_key=key, created=created, order=state)


def _stock_event(payload: Mapping[str, Any], created: datetime | None, *, key: str) -> PrintfulEvent:
    variant_stock = as_object(payload.get("variant_stock"), "data.variant_stock")
    stock = tuple(StockLevel(vendor_sku=as_text(variant_id, f"data.variant_stock.{availability}[{index}]"), upc="",
                             qty=0, as_of=created, next_available=None)
                  for availability in ("out", "discontinued")
                  for index, variant_id in enumerate(list_at(variant_stock, availability, "data.variant_stock")))
    return PrintfulEvent(type="stock_updated", dedupe_key=key, created=created, stock=stock)


# --- Reading JSON values -------------------------------------------------------------------------------------

def _count(value: object, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _COUNT_LIMIT:
        return value
    written = "" if value is None else f" {shown(str(value))}"
    raise ShapeError(path, f"expected a whole number from 0 to {_COUNT_LIMIT - 1}, got {kind(value)}{written}")


def _unix(value: object) -> datetime | None:
    """A Printful unix timestamp as aware UTC; ``None`` when absent, zero or out of range."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None  # past the year 9999 or infinite: no time Printful could have meant
    return None


def _day(text: str) -> datetime | None:
    """A ``ship_date`` (``2026-03-16``), used only when no shipping time was given: at noon UTC, as every
    vendor's date alone is (:data:`~orderflow.parsing.times.NOON`); ``None`` when it is no date."""
    try:
        return parse_time(text, date_at=NOON) if text else None
    except ValueError:
        return None
