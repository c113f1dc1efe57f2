"""A fake Printful (API v1) on 127.0.0.1: real HTTP, Printful's JSON, and knobs to make it misbehave.

::

    with FakePrintful(token="pf-test") as printful:
        client = PrintfulClient(base_url=printful.url, token="pf-test", store_id=None, client=httpx.Client())
        client.create_order(purchase_order, confirm=True)            # status "pending"
        printful.ship("TB1042-PF", tracking_number="9400111899223855990014", carrier="USPS")
        state = parse_order_status(client.get_order("TB1042-PF").order, source_ref="printful")
        event = parse_webhook(json.dumps(printful.webhooks[-1]).encode(), file="package_shipped")

Orders live in memory. Like Printful, a second create with the same ``external_id`` is refused. ``creates``
lists the external ids of successful creates and ``requests`` every ``(method, path with query)`` received;
``webhooks`` holds the events Printful would have posted (``package_shipped``, ``order_failed``, ...).
Knobs, safe to set from any thread: ``token``, ``reject_when``, :meth:`fail_next`, :meth:`rate_limit_next`,
:meth:`hang_after_create_next` (the order is created, then the answer is held until ``release`` is set or
``hang_seconds`` pass: a timeout after the order was made), and ``cut_next`` of every local server (the
order is created, then the connection is reset or the reply's JSON cut off).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from orderflow.testing.http_server import Answer, LocalHttpServer

Reply = tuple[int, dict[str, Any], dict[str, str], bool]  # status, body, headers, hold the answer back
_VARIANT_KEYS = ("variant_id", "sync_variant_id", "external_variant_id", "warehouse_product_variant_id")
_STATUS_EVENTS = {"failed": "order_failed", "onhold": "order_put_hold", "canceled": "order_canceled"}


def _error(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return status, {"code": status, "result": message, "error": {"reason": reason, "message": message}}, \
        headers or {}, False


class FakePrintful(LocalHttpServer):
    """Printful's order endpoints: ``POST /orders[?confirm=true|1]``, ``POST /orders/{id}/confirm``,
    ``GET /orders/{id}`` and ``GET /orders/@{external_id}`` (``{id}`` may be either form, as at Printful).
    ``now`` gives the times written on orders and shipments (the demo passes its clock).
    """

    def __init__(self, *, token: str, store: int = 7654321, hang_seconds: float = 10.0,
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.thread_name = "fake-printful"
        self.token = token
        self.store = store
        self.reject_when: Callable[[dict[str, Any]], str | None] | None = None
        self.hang_seconds = hang_seconds
        self.creates: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.webhooks: list[dict[str, Any]] = []
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._orders: list[dict[str, Any]] = []
        self._faults: list[Reply] = []
        self._lookup_faults: list[Reply] = []
        self._hangs = 0
        self._ids = {"order": 143998000, "item": 887412000, "shipment": 310559000}

    # --- knobs ---------------------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500, *, retry_after: int | None = None) -> None:
        """The next ``n`` requests get ``status``, untouched (with ``Retry-After`` when ``retry_after`` is given)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        with self._lock:
            self._faults += [_error(status, "InternalServerError", "Something went wrong", headers)] * n

    def rate_limit_next(self, n: int, retry_after: int = 1) -> None:
        """The next ``n`` requests get 429 with ``Retry-After: retry_after``."""
        with self._lock:
            self._faults += [_error(429, "TooManyRequests", "Too Many Requests",
                                    {"Retry-After": str(retry_after)})] * n

    def fail_lookups_next(self, n: int, status: int = 503) -> None:
        """The next ``n`` GET requests (order lookups) get ``status``; creates are unaffected."""
        with self._lock:
            self._lookup_faults += [_error(status, "ServiceUnavailable", "Service unavailable")] * n

    def hang_after_create_next(self, n: int) -> None:
        """The next ``n`` successful creates store the order, then hold the answer (see ``release``)."""
        with self._lock:
            self._hangs += n
            self.release.clear()

    def ship(self, external_id: str, tracking_number: str, carrier: str = "USPS",
             items: Mapping[str, int] | None = None, *, service: str = "USPS Ground Advantage") -> dict[str, Any]:
        """Ship a package: ``items`` maps our item external ids to quantities (default: all not yet shipped).

        The order becomes ``partial`` or ``fulfilled`` and a ``package_shipped`` webhook is recorded.
        """
        with self._lock:
            order = self._find(f"@{external_id}")
            if order is None:
                raise KeyError(external_id)
            left = self._unshipped(order)
            wanted = dict(items) if items is not None else {item.get("external_id"): left[item["id"]]
                                                            for item in order["items"]}
            shipped_at = self._timestamp()
            shipment = {
                "id": self._next("shipment"), "carrier": carrier, "service": service,
                "tracking_number": tracking_number, "tracking_url": "", "created": shipped_at,
                "ship_date": datetime.fromtimestamp(shipped_at, UTC).date().isoformat(), "shipped_at": shipped_at,
                "reshipment": False,
                "items": [{"item_id": item["id"], "quantity": wanted[item.get("external_id")]}
                          for item in order["items"] if wanted.get(item.get("external_id"))],
            }
            order["shipments"].append(shipment)
            order["status"] = "fulfilled" if not any(self._unshipped(order).values()) else "partial"
            order["updated"] = shipped_at
            self._notify("package_shipped", {"shipment": shipment, "order": order})
            return copy.deepcopy(shipment)

    def set_status(self, external_id: str, status: str, reason: str | None = None) -> None:
        """Set an order's status (``failed``, ``onhold``, ``canceled``, ``inprocess`` ...) and record the webhook."""
        with self._lock:
            order = self._find(f"@{external_id}")
            if order is None:
                raise KeyError(external_id)
            order["status"], order["updated"] = status, self._timestamp()
            self._notify(_STATUS_EVENTS.get(status, "order_updated"), {"reason": reason or "", "order": order})

    # --- answering -----------------------------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        status, document, reply_headers, hold = self.handle(method, target, headers.get("authorization", ""), body)
        if hold:
            self.release.wait(self.hang_seconds)
        return status, json.dumps(document).encode(), {**reply_headers, "Content-Type": "application/json"}

    def handle(self, method: str, target: str, authorization: str, body: bytes) -> Reply:
        """Answer one request as Printful would (called by the HTTP handler thread)."""
        fault = self._next_fault(method, target)
        if fault is not None:
            return fault
        if authorization != f"Bearer {self.token}":
            return _error(401, "Unauthorized", "The access token provided is invalid.")
        parts = urlsplit(target)
        if method == "POST" and parts.path == "/orders":
            return self._create(body, confirm=parse_qs(parts.query).get("confirm", [""])[0] in ("true", "1"))
        route = re.fullmatch(r"/orders/([^/]+)(/confirm)?", parts.path)
        with self._lock:
            order = self._find(unquote(route.group(1))) if route else None
            if route is None or order is None or (method, bool(route.group(2))) not in (("GET", False),
                                                                                       ("POST", True)):
                return _error(404, "NotFound", "Not found")
            if route.group(2):
                if order["status"] != "draft":
                    return _error(400, "BadRequest", "Only draft orders can be confirmed")
                order["status"], order["updated"] = "pending", self._timestamp()
            return 200, {"code": 200, "result": copy.deepcopy(order)}, {}, False

    def _next_fault(self, method: str, target: str) -> Reply | None:
        with self._lock:
            self.requests.append((method, target))
            if self._faults:
                return self._faults.pop(0)
            if method == "GET" and self._lookup_faults:
                return self._lookup_faults.pop(0)
            return None

    def _create(self, body: bytes, *, confirm: bool) -> Reply:
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return _error(400, "BadRequest", "Invalid request body")
        reject_when = self.reject_when
        reason = _problem(request) or (reject_when(request) if reject_when else None)
        with self._lock:
            external_id = str(request.get("external_id") or "")
            if external_id and self._find(f"@{external_id}") is not None:
                return _error(400, "BadRequest", "Order with this external_id already exists")
            if reason:
                return _error(400, "BadRequest", reason)
            now = self._timestamp()
            order = {**request, "id": self._next("order"), "store": self.store, "created": now, "updated": now,
                     "status": "pending" if confirm else "draft", "shipments": [],
                     "items": [{**item, "id": self._next("item")} for item in request["items"]]}
            self._orders.append(order)
            self.creates.append(external_id)
            hold, self._hangs = self._hangs > 0, max(0, self._hangs - 1)
            return 200, {"code": 200, "result": copy.deepcopy(order)}, {}, hold

    def _find(self, ref: str) -> dict[str, Any] | None:
        if ref.startswith("@"):
            return next((order for order in self._orders if order.get("external_id") == ref[1:]), None)
        return next((order for order in self._orders if str(order["id"]) == ref), None)

    def _unshipped(self, order: Mapping[str, Any]) -> dict[int, int]:
        left = {item["id"]: int(item.get("quantity", 0)) for item in order["items"]}
        for shipment in order["shipments"]:
            for entry in shipment["items"]:
                left[entry["item_id"]] -= entry["quantity"]
        return left

    def _notify(self, kind: str, data: dict[str, Any]) -> None:
        order = {key: value for key, value in data["order"].items() if key != "shipments"}
        self.webhooks.append(copy.deepcopy({"type": kind, "created": self._timestamp(), "retries": 0,
                                            "store": self.store, "data": {**data, "order": order}}))

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _timestamp(self) -> int:
        return int(self._now().timestamp())


def _problem(request: Mapping[str, Any]) -> str | None:
    """The checks Printful makes on every order body, in its words."""
    recipient, items = request.get("recipient"), request.get("items")
    if not isinstance(recipient, dict) or not recipient.get("address1") or not recipient.get("country_code"):
        return "Recipient address is incomplete"
    if not isinstance(items, list) or not items:
        return "Order must contain at least one item"
    for index, item in enumerate(items):
        if not isinstance(item, dict) or sum(1 for key in _VARIANT_KEYS if item.get(key)) != 1:
            return f"Item {index}: exactly one of {', '.join(_VARIANT_KEYS)} is required"
    return None
