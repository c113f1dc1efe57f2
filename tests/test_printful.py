"""Printful API v1: the order body, every kind of answer, the client against a fake Printful, and webhooks."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderflow.errors import InputError, OutcomeUnknown, RemoteUnavailable
from orderflow.orders.records import Address
from orderflow.testing.printful import FakePrintful
from orderflow.vendors.printful import (
    PrintfulAnswer,
    PrintfulClient,
    build_order,
    line_of_item,
    parse_order_response,
    parse_order_status,
    parse_webhook,
)
from orderflow.vendors.records import Parcel, PurchaseOrder, PurchaseOrderLine, ShipNotice, ShippedLine, StockLevel

SAMPLES = Path(__file__).parent / "samples"
TOKEN = "pf-s3cret-token"
NOW = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
SHIPPED_AT = datetime(2026, 3, 16, 14, 58, 40, tzinfo=UTC)  # 1773673120 in the sample


def purchase_order(*, variant_ids: tuple[str | None, str | None] = ("4016", "4017")) -> PurchaseOrder:
    """The two Printful lines of #1042, as in tests/samples/printful_order_create_v1.json."""
    return PurchaseOrder(
        vendor_order_id="TB1042-PF", order_number="1042", order_date=date(2026, 3, 12),
        ship_to=Address(name="Jordan Rivera", address1="42 Harbor Rd", address2="Unit 5", city="Portland",
                        province="ME", zip="04101", country="US", phone="+12075550142"),
        customer_email="jordan.rivera@example.com",
        lines=(
            PurchaseOrderLine(line=4, sku="TB-MTNLINE-HTR-S", vendor_sku="PF-MTNLINE-HTR-S", upc="",
                              description="Mountain Line Tee - Heather / S", qty=1, unit_cost=Decimal("12.95"),
                              variant_id=variant_ids[0], retail_price=Decimal("28")),
            PurchaseOrderLine(line=5, sku="TB-CUSTOM-WHT-L", vendor_sku="PF-CUSTOM-WHT-L", upc="",
                              description="Custom Name Tee - White / L", qty=1, unit_cost=Decimal("14.45"),
                              variant_id=variant_ids[1], retail_price=Decimal("32.00")),
        ),
    )


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return document


def reply(status: int, document: object, headers: dict[str, str] | None = None) -> PrintfulAnswer:
    return parse_order_response(status, json.dumps(document).encode(), headers or {})


def printful_error(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "result": message, "error": {"reason": "BadRequest", "message": message}}


@pytest.fixture
def printful() -> Iterator[FakePrintful]:
    with FakePrintful(token=TOKEN, now=lambda: NOW) as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0)) as client:
        yield client


def client_for(printful: FakePrintful, http: httpx.Client, *, token: str = TOKEN) -> PrintfulClient:
    return PrintfulClient(base_url=printful.url, token=token, store_id=None, client=http)


class TestBuildOrder:
    def test_order_has_the_sample_shape(self) -> None:
        """The body carries our vendor order id, the sample's recipient, STANDARD shipping and "#1042" on the slip."""
        body = build_order(purchase_order())
        expected = sample("printful_order_create_v1.json")
        assert set(body) <= set(expected)
        assert body["external_id"] == expected["external_id"] == "TB1042-PF"
        assert body["shipping"] == "STANDARD"
        assert body["recipient"] == expected["recipient"]
        assert body["packing_slip"] == {"custom_order_id": expected["packing_slip"]["custom_order_id"]}

    def test_items_are_synced_variants_with_our_line_ids(self) -> None:
        """Each item names its sync variant, our line id, quantity, a two-place retail price and the description."""
        assert build_order(purchase_order())["items"] == [
            {"external_id": "TB1042-PF-4", "sync_variant_id": 4016, "quantity": 1, "retail_price": "28.00",
             "name": "Mountain Line Tee - Heather / S"},
            {"external_id": "TB1042-PF-5", "sync_variant_id": 4017, "quantity": 1, "retail_price": "32.00",
             "name": "Custom Name Tee - White / L"},
        ]

    def test_line_without_a_numeric_variant_id_is_sent_by_vendor_sku(self) -> None:
        """No (or a non-numeric) sync variant id: the vendor SKU goes as ``external_variant_id``."""
        items = build_order(purchase_order(variant_ids=(None, "abc")))["items"]
        assert [(item.get("sync_variant_id"), item.get("external_variant_id")) for item in items] == [
            (None, "PF-MTNLINE-HTR-S"), (None, "PF-CUSTOM-WHT-L")]

    def test_line_with_nothing_naming_the_product_is_refused(self) -> None:
        """A line with neither a sync variant id nor a vendor SKU cannot be sent; the error names it."""
        po = purchase_order(variant_ids=(None, None))
        bare = replace(po, lines=(replace(po.lines[0], vendor_sku=""),))
        with pytest.raises(InputError) as caught:
            build_order(bare)
        assert str(caught.value) == ("TB1042-PF:4: vendor_sku: "
                                     "no Printful sync variant id and no vendor SKU to name the product")

    def test_line_number_comes_back_from_the_item_external_id(self) -> None:
        """Our ids and the storefront-style ids of the sample both end in the line number."""
        assert [line_of_item(text) for text in ("TB1042-PF-4", "6401133445502-5", "TB1042-PF", "")] == [
            4, 5, None, None]


ORDER = {"id": 143998877, "external_id": "TB1042-PF", "status": "draft", "items": []}


class TestParseOrderResponse:
    def test_created(self) -> None:
        """A 200 to a create is ``created`` with Printful's id, status and the order."""
        assert reply(200, {"code": 200, "result": ORDER}) == PrintfulAnswer(
            "created", printful_id="143998877", status="draft", order=ORDER)

    def test_found_on_lookup(self) -> None:
        """A 200 to a look-up is ``found``."""
        answer = parse_order_response(200, json.dumps({"code": 200, "result": ORDER}).encode(), {},
                                      lookup=True)
        assert (answer.outcome, answer.printful_id, answer.status) == ("found", "143998877", "draft")

    def test_not_found_on_lookup(self) -> None:
        """A 404 to a look-up is ``not_found``, not a rejection."""
        answer = parse_order_response(404, json.dumps(printful_error(404, "Not found")).encode(), {}, lookup=True)
        assert answer == PrintfulAnswer("not_found", reason="Not found")

    def test_rejected_with_printful_reason(self) -> None:
        """A 400 with Printful's error is the vendor refusing the order, with its message."""
        assert reply(400, printful_error(400, "Invalid address")) == PrintfulAnswer("rejected",
                                                                                   reason="Invalid address")

    def test_rejected_reason_from_result_when_error_is_absent(self) -> None:
        """Older replies carry the message only in ``result``."""
        assert reply(400, {"code": 400, "result": "Recipient: zip is invalid"}).reason == "Recipient: zip is invalid"

    @pytest.mark.parametrize("status", [401, 403])
    def test_unauthorized(self, status: int) -> None:
        """401 and 403 mean our credentials, never the order."""
        assert reply(status, printful_error(status, "Token is invalid")) == PrintfulAnswer(
            "unauthorized", reason="Token is invalid")

    def test_rate_limited_with_retry_after(self) -> None:
        """429 is ``rate_limited`` with Retry-After in seconds."""
        assert reply(429, printful_error(429, "Too Many Requests"), {"retry-after": "42"}) == PrintfulAnswer(
            "rate_limited", reason="Too Many Requests", retry_after=42.0)

    def test_server_error_is_unavailable(self) -> None:
        """5xx is ``unavailable``."""
        assert reply(503, printful_error(503, "Maintenance")) == PrintfulAnswer(
            "unavailable", reason="HTTP 503: Maintenance")

    @pytest.mark.parametrize("status", [200, 404, 502])
    def test_a_body_that_is_not_json_is_unavailable(self, status: int) -> None:
        """An HTML page (a proxy, a wrong URL) is never taken as Printful's verdict on the order."""
        answer = parse_order_response(status, b"<html>Bad gateway</html>", {})
        assert answer.outcome == "unavailable"

    def test_success_without_an_order_is_unavailable(self) -> None:
        """A 200 whose result is not an order says nothing about ours."""
        assert reply(200, {"code": 200, "result": "OK"}) == PrintfulAnswer(
            "unavailable", reason="HTTP 200: the reply has no order in 'result'")


class TestPrintfulClient:
    def test_create_a_draft_then_confirm_it(self, printful: FakePrintful, http: httpx.Client) -> None:
        """A draft is created once and confirmed by Printful's id; it is then pending."""
        client = client_for(printful, http)
        created = client.create_order(purchase_order(), confirm=False)
        assert (created.outcome, created.status) == ("created", "draft")
        assert created.printful_id is not None
        confirmed = client.confirm_order(created.printful_id)
        assert (confirmed.outcome, confirmed.status, confirmed.printful_id) == ("found", "pending",
                                                                               created.printful_id)
        assert printful.creates == ["TB1042-PF"]
        assert printful.requests == [("POST", "/orders"), ("POST", f"/orders/{created.printful_id}/confirm")]

    def test_create_and_submit_at_once(self, printful: FakePrintful, http: httpx.Client) -> None:
        """``confirm=True`` sends ``?confirm=true`` and the order is pending, its items carrying Printful ids."""
        answer = client_for(printful, http).create_order(purchase_order(), confirm=True)
        assert answer.status == "pending"
        assert answer.order is not None
        assert [item["external_id"] for item in answer.order["items"]] == ["TB1042-PF-4", "TB1042-PF-5"]
        assert all(isinstance(item["id"], int) for item in answer.order["items"])
        assert printful.requests == [("POST", "/orders?confirm=true")]

    def test_get_by_external_id(self, printful: FakePrintful, http: httpx.Client) -> None:
        """``GET /orders/@TB1042-PF`` finds the order created before; an unknown id is ``not_found``."""
        client = client_for(printful, http)
        created = client.create_order(purchase_order(), confirm=True)
        found = client.get_order("TB1042-PF")
        assert (found.outcome, found.printful_id, found.status) == ("found", created.printful_id, "pending")
        assert client.get_order("TB9999-PF").outcome == "not_found"
        assert printful.requests[1:] == [("GET", "/orders/@TB1042-PF"), ("GET", "/orders/@TB9999-PF")]

    def test_vendor_rejection_carries_the_reason(self, printful: FakePrintful, http: httpx.Client) -> None:
        """Printful refusing the order is ``rejected`` with its message, and nothing is created."""
        printful.reject_when = lambda order: "Recipient: address is undeliverable"
        answer = client_for(printful, http).create_order(purchase_order(), confirm=True)
        assert answer == PrintfulAnswer("rejected", reason="Recipient: address is undeliverable")
        assert printful.creates == []

    def test_second_create_with_the_same_id_is_refused_by_printful(self, printful: FakePrintful,
                                                                   http: httpx.Client) -> None:
        """Printful never makes a second order for one external_id; it says so."""
        client = client_for(printful, http)
        client.create_order(purchase_order(), confirm=True)
        again = client.create_order(purchase_order(), confirm=True)
        assert again == PrintfulAnswer("rejected", reason="Order with this external_id already exists")
        assert printful.creates == ["TB1042-PF"]

    def test_wrong_token_is_unauthorized(self, printful: FakePrintful, http: httpx.Client) -> None:
        """A bad token is ``unauthorized`` and the answer never repeats it."""
        answer = client_for(printful, http, token="not-the-token").create_order(purchase_order(), confirm=True)
        assert answer == PrintfulAnswer("unauthorized", reason="The access token provided is invalid.")
        assert printful.creates == []

    def test_rate_limited_with_retry_after(self, printful: FakePrintful, http: httpx.Client) -> None:
        """A 429 is reported with its Retry-After; the client does not retry by itself."""
        printful.rate_limit_next(1, retry_after=7)
        answer = client_for(printful, http).create_order(purchase_order(), confirm=True)
        assert (answer.outcome, answer.retry_after) == ("rate_limited", 7.0)
        assert printful.creates == []
        assert len(printful.requests) == 1

    def test_server_error_is_unavailable_and_nothing_is_retried(self, printful: FakePrintful,
                                                                http: httpx.Client) -> None:
        """A 500 is ``unavailable``; the next call (the dispatcher's retry) succeeds."""
        printful.fail_next(1)
        client = client_for(printful, http)
        assert client.create_order(purchase_order(), confirm=True) == PrintfulAnswer(
            "unavailable", reason="HTTP 500: Something went wrong")
        assert client.create_order(purchase_order(), confirm=True).outcome == "created"
        assert printful.creates == ["TB1042-PF"]

    def test_timeout_after_create_is_outcome_unknown_and_the_order_is_found(self, printful: FakePrintful) -> None:
        """The order is made but the answer never comes: OutcomeUnknown, and a look-up finds exactly one order."""
        printful.hang_after_create_next(1)
        with httpx.Client(timeout=httpx.Timeout(0.3)) as impatient:
            client = client_for(printful, impatient)
            with pytest.raises(OutcomeUnknown) as caught:
                client.create_order(purchase_order(), confirm=True)
            printful.release.set()
            found = client.get_order("TB1042-PF")
        assert str(caught.value) == ("printful: timed out waiting for the answer to POST /orders (TB1042-PF); "
                                     "Printful may have acted on it")
        assert TOKEN not in str(caught.value)
        assert (found.outcome, found.status) == ("found", "pending")
        assert printful.creates == ["TB1042-PF"]

    def test_refused_connection_is_plain_unavailable(self, http: httpx.Client) -> None:
        """Nothing listening: nothing can have been created, so the outcome is known."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = PrintfulClient(base_url=f"http://127.0.0.1:{port}", token=TOKEN, store_id=None, client=http)
        with pytest.raises(RemoteUnavailable) as caught:
            client.create_order(purchase_order(), confirm=True)
        assert not isinstance(caught.value, OutcomeUnknown)
        assert str(caught.value).startswith(f"printful: cannot reach http://127.0.0.1:{port} for TB1042-PF: ")
        assert TOKEN not in str(caught.value)

    @pytest.mark.parametrize(("store_id", "expected"), [("7654321", "7654321"), (None, None)])
    def test_headers_carry_the_token_and_store(self, store_id: str | None, expected: str | None) -> None:
        """Bearer token always; ``X-PF-Store-Id`` only when a store is configured."""
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(404, json=printful_error(404, "Not found"))

        with httpx.Client(transport=httpx.MockTransport(answer)) as mock:
            PrintfulClient(base_url="https://api.printful.com/", token=TOKEN, store_id=store_id,
                           client=mock).get_order("TB1042-PF")
        assert str(seen[0].url) == "https://api.printful.com/orders/@TB1042-PF"
        assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
        assert seen[0].headers.get("X-PF-Store-Id") == expected


class TestParseOrderStatus:
    def test_shipments_map_back_to_our_lines(self, printful: FakePrintful, http: httpx.Client) -> None:
        """Two packages from the fake: one notice each, Printful's item ids mapped to lines 4 and 5."""
        client = client_for(printful, http)
        client.create_order(purchase_order(), confirm=True)
        printful.ship("TB1042-PF", "9400111899223855990014", items={"TB1042-PF-4": 1})
        assert client.get_order("TB1042-PF").status == "partial"
        printful.ship("TB1042-PF", "9400111899223855990021")
        order = client.get_order("TB1042-PF").order
        assert order is not None
        state = parse_order_status(order, source_ref="printful:TB1042-PF")
        shipment_ids = [shipment["id"] for shipment in order["shipments"]]
        assert (state.vendor_order_id, state.status, state.vendor_order_state) == ("TB1042-PF", "fulfilled",
                                                                                  "shipped")
        assert state.printful_id == str(order["id"])
        assert state.ship_notices == tuple(
            ShipNotice(vendor_order_id="TB1042-PF", shipped_at=NOW, carrier="USPS", service="USPS Ground Advantage",
                       parcels=(Parcel(tracking_number=number, carrier="USPS",
                                       lines=(ShippedLine(line=line, vendor_sku=sku, qty=1),)),),
                       source_ref=f"printful:TB1042-PF:shipment:{shipment_id}")
            for number, line, sku, shipment_id in (("9400111899223855990014", 4, "4016", shipment_ids[0]),
                                                   ("9400111899223855990021", 5, "4017", shipment_ids[1])))
        assert state.warnings == ()

    @pytest.mark.parametrize(("status", "ours"), [("draft", "sent"), ("pending", "accepted"),
                                                  ("failed", "rejected"), ("onhold", "on_hold"),
                                                  ("canceled", "cancelled"), ("mystery", None)])
    def test_status_maps_to_the_vendor_order_state(self, status: str, ours: str | None) -> None:
        """Printful's status words map to ours; an undocumented one maps to nothing."""
        order = {"id": 1, "external_id": "TB1042-PF", "status": status, "items": [], "shipments": []}
        assert parse_order_status(order, source_ref="lookup").vendor_order_state == ours

    def test_order_without_our_id_is_refused(self) -> None:
        """An order orderflow did not create cannot be matched, and the error says where it came from."""
        with pytest.raises(InputError) as caught:
            parse_order_status({"id": 1, "status": "pending"}, source_ref="printful:lookup")
        assert str(caught.value) == "printful:lookup: external_id: the Printful order has no external_id"


class TestParseWebhook:
    def test_package_shipped_sample(self) -> None:
        """The sample event: one notice for TB1042-PF, both items mapped to lines 4 and 5 through the order."""
        event = parse_webhook((SAMPLES / "printful_webhook_package_shipped_v1.json").read_bytes(), file="pf-1.json")
        assert (event.type, event.dedupe_key, event.created) == (
            "package_shipped", "package_shipped:310559821", datetime(2026, 3, 16, 15, 5, 12, tzinfo=UTC))
        assert event.order is not None
        assert (event.order.vendor_order_id, event.order.printful_id, event.order.status) == (
            "TB1042-PF", "143998877", "fulfilled")
        assert event.order.ship_notices == (ShipNotice(
            vendor_order_id="TB1042-PF", shipped_at=SHIPPED_AT, carrier="USPS", service="USPS Ground Advantage",
            parcels=(Parcel(tracking_number="9400111899223855990014", carrier="USPS",
                            lines=(ShippedLine(line=4, vendor_sku="4016", qty=1),
                                   ShippedLine(line=5, vendor_sku="4017", qty=1))),),
            source_ref="pf-1.json:shipment:310559821"),)

    def test_second_package_for_the_same_order(self) -> None:
        """Another package is another event (own dedupe key) with only its own item and tracking number."""
        document = sample("printful_webhook_package_shipped_v1.json")
        document["data"]["shipment"].update(id=310559900, tracking_number="9400111899223855990021",
                                            items=[{"item_id": 887412002, "quantity": 1}])
        event = parse_webhook(json.dumps(document).encode(), file="pf-2.json")
        assert event.dedupe_key == "package_shipped:310559900"
        assert event.order is not None
        (notice,) = event.order.ship_notices
        assert notice.parcels == (Parcel(tracking_number="9400111899223855990021", carrier="USPS",
                                         lines=(ShippedLine(line=5, vendor_sku="4017", qty=1),)),)

    def test_redelivery_has_the_same_dedupe_key(self) -> None:
        """Printful's retry of the same event (retries=1) dedupes against the first delivery."""
        document = sample("printful_webhook_package_shipped_v1.json")
        first = parse_webhook(json.dumps(document).encode(), file="a")
        document["retries"] = 1
        assert parse_webhook(json.dumps(document).encode(), file="b").dedupe_key == first.dedupe_key

    def test_unknown_shipment_item_is_a_warning_not_a_failure(self) -> None:
        """An item id missing from the order still counts as shipped, without a line, and is named."""
        document = sample("printful_webhook_package_shipped_v1.json")
        document["data"]["shipment"]["items"] = [{"item_id": 1, "quantity": 2}]
        event = parse_webhook(json.dumps(document).encode(), file="pf.json")
        assert event.order is not None
        assert event.order.ship_notices[0].parcels[0].lines == (ShippedLine(line=None, vendor_sku="", qty=2),)
        assert event.order.warnings == ("shipment 310559821: item 1 is not on order TB1042-PF",)

    @pytest.mark.parametrize(("kind", "status", "ours"), [("order_failed", "failed", "rejected"),
                                                          ("order_put_hold", "onhold", "on_hold"),
                                                          ("order_canceled", "canceled", "cancelled")])
    def test_order_events_carry_status_and_reason(self, printful: FakePrintful, http: httpx.Client, kind: str,
                                                  status: str, ours: str) -> None:
        """The fake's failure, hold and cancel webhooks read back as the order's state with Printful's reason."""
        client_for(printful, http).create_order(purchase_order(), confirm=True)
        printful.set_status("TB1042-PF", status, reason="Print file is too small")
        event = parse_webhook(json.dumps(printful.webhooks[-1]).encode(), file="hook.json")
        assert event.type == kind
        assert event.order is not None
        assert (event.order.status, event.order.vendor_order_state, event.order.reason) == (
            status, ours, "Print file is too small")
        assert event.dedupe_key == f"{kind}:{event.order.printful_id}:{int(NOW.timestamp())}"

    def test_fake_package_shipped_webhook_reads_back(self, printful: FakePrintful, http: httpx.Client) -> None:
        """What the fake records for a package is what Printful posts: it maps back to our lines."""
        client_for(printful, http).create_order(purchase_order(), confirm=True)
        printful.ship("TB1042-PF", "9400111899223855990014", items={"TB1042-PF-5": 1})
        event = parse_webhook(json.dumps(printful.webhooks[-1]).encode(), file="hook.json")
        assert event.order is not None
        assert event.order.status == "partial"
        assert event.order.ship_notices[0].parcels[0].lines == (ShippedLine(line=5, vendor_sku="4017", qty=1),)

    def test_stock_updated(self) -> None:
        """Variants out of stock or discontinued become zero stock levels as of the event."""
        body = {"type": "stock_updated", "created": 1773673512, "retries": 0, "store": 7654321,
                "data": {"product_id": 71, "variant_stock": {"out": [4016], "discontinued": [4017]}}}
        event = parse_webhook(json.dumps(body).encode(), file="stock.json")
        at = datetime(2026, 3, 16, 15, 5, 12, tzinfo=UTC)
        assert event.dedupe_key == "stock_updated:71:1773673512"
        assert event.stock == (StockLevel(vendor_sku="4016", upc="", qty=0, as_of=at, next_available=None),
                               StockLevel(vendor_sku="4017", upc="", qty=0, as_of=at, next_available=None))

    def test_unknown_type_is_ignored_with_a_note(self) -> None:
        """An event orderflow has no use for is read, noted and otherwise left alone."""
        body = {"type": "product_synced", "created": 1773673512, "retries": 0, "store": 7654321, "data": {}}
        event = parse_webhook(json.dumps(body).encode(), file="x.json")
        assert (event.order, event.stock) == (None, ())
        assert event.note == "ignored: orderflow does not use Printful 'product_synced' events"

    def test_order_not_sent_by_orderflow_is_ignored_with_a_note(self) -> None:
        """A package for an order made in Printful's dashboard (no external_id) is not ours to track."""
        document = sample("printful_webhook_package_shipped_v1.json")
        document["data"]["order"]["external_id"] = None
        event = parse_webhook(json.dumps(document).encode(), file="x.json")
        assert event.order is None
        assert event.note == "ignored: Printful order 143998877 has no external_id (not sent by orderflow)"

    def test_broken_json_names_the_file(self) -> None:
        """A body that is not JSON is refused with the file's name."""
        with pytest.raises(InputError) as caught:
            parse_webhook(b'{"type": "package_shipped", ', file="inbox/pf-7.json")
        assert str(caught.value) == "inbox/pf-7.json: not a Printful webhook: the body is not a JSON object"
