"""The HTTP storefront source against a local storefront API that pages by ``updated_after`` and page tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select
from typer.testing import CliRunner
from werkzeug import Request, Response

from orderflow.cli.main import app
from orderflow.config import LimitSettings, Settings, SourceSettings, VendorSettings
from orderflow.db.engine import session_factory
from orderflow.db.models import CatalogItem, JobRun, Order, SourceCursor, VendorOrder
from orderflow.errors import ExitCode, RemoteRejected, RemoteUnavailable
from orderflow.storefronts.http_source import import_http_source
from orderflow.vendors.registry import sync_vendors

NOW = datetime(2026, 11, 3, 19, 30, tzinfo=UTC)
FIRST_UPDATE = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
TOKEN = "s3cret-shop-token"
PATH = "/api/orders"


def storefront_order(number: int, *, updated_at: datetime, cancelled: bool = False) -> dict[str, Any]:
    """An order in the generic JSON shape, with the ``updated_at`` the order API adds."""
    return {
        "order_number": str(number),
        "placed_at": "2026-11-03T09:41:02-05:00",
        "updated_at": updated_at.isoformat().replace("+00:00", "Z"),
        "customer": {"name": "Jordan Rivera", "email": "jordan@example.com"},
        "shipping": {"name": "Jordan Rivera", "address1": "12 Fore St", "city": "Portland", "province": "ME",
                     "zip": "04101", "country": "US"},
        "total": "61.50",
        "financial_status": "refunded" if cancelled else "paid",
        "lines": [{"sku": "TB-HCT-BLK-L", "qty": 1, "price": "24.00", "name": "Heavy Cotton Tee - Black / L"},
                  {"sku": "TB-POD-ART-M", "qty": 1, "price": "37.50", "name": "Art Print Tee / M"}],
    }


class Storefront:
    """A fake order API: orders oldest ``updated_at`` first, ``updated_after`` inclusive, offset page tokens.

    ``faults`` maps a page number (1 for the first page of a run) to what the next requests for it get
    instead of the page: ``"500"``, ``"429"``, ``"429 for an hour"``, ``"401"``, ``"garbage"``, ``"hang"``
    (block until ``release`` is set, longer than the client's timeout), ``"drip"`` (a byte every tenth of a
    second) or ``"huge"`` (a page of some 5,000 bytes).
    """

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.faults: dict[int, list[str]] = {}
        self.release = threading.Event()

    def put(self, *orders: dict[str, Any]) -> None:
        for order in orders:
            self.orders[order["order_number"]] = order

    def handle(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        self.headers.append(dict(request.headers))
        offset = int(request.args.get("page_token", "offset:0").removeprefix("offset:"))
        limit = int(request.args["limit"])
        fault = self._fault(offset // limit + 1)
        if fault == "hang":
            self.release.wait(timeout=10)
        elif fault in ("500", "429", "401"):
            return Response('{"error": "try later"}', status=int(fault), headers={"Retry-After": "0"},
                            content_type="application/json")
        elif fault == "429 for an hour":
            return Response('{"error": "quota"}', status=429, headers={"Retry-After": "3600"},
                            content_type="application/json")
        elif fault == "garbage":
            return Response("<html>Bad gateway</html>", status=200, content_type="text/html")
        elif fault == "drip":
            return Response(self._drip(), status=200, content_type="application/json")
        elif fault == "huge":
            return Response(b'{"orders": [' + b" " * 5000 + b"]}", status=200, content_type="application/json")
        chosen = self._changed_since(request.args.get("updated_after"))
        rest = chosen[offset + limit:]
        body = {"orders": chosen[offset:offset + limit], "next_page_token": f"offset:{offset + limit}" if rest
                else None}
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _drip(self) -> Iterator[bytes]:
        """A page sent a byte every tenth of a second, each well inside the client's read timeout."""
        for byte in b'{"orders": [], "next_page_token": null}' * 10:
            if self.release.wait(0.1):
                return
            yield bytes([byte])

    def _fault(self, page: int) -> str | None:
        pending = self.faults.get(page)
        return pending.pop(0) if pending else None

    def _changed_since(self, updated_after: str | None) -> list[dict[str, Any]]:
        ordered = sorted(self.orders.values(), key=lambda order: (order["updated_at"], order["order_number"]))
        if updated_after is None:
            return ordered
        after = datetime.fromisoformat(updated_after)
        return [order for order in ordered if datetime.fromisoformat(order["updated_at"]) >= after]


@pytest.fixture(scope="module")
def storefront_server() -> Iterator[HTTPServer]:
    """pytest-httpserver, threaded, so a request left hanging does not hold up the retry that follows it."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def storefront(storefront_server: HTTPServer) -> Iterator[Storefront]:
    shop = Storefront()
    storefront_server.expect_request(PATH, method="GET").respond_with_handler(shop.handle)
    yield shop
    shop.release.set()
    storefront_server.clear()


@pytest.fixture
def fixed_page_server(storefront_server: HTTPServer) -> Iterator[HTTPServer]:
    """The server, for a test that serves its own canned pages."""
    yield storefront_server
    storefront_server.clear()


@pytest.fixture
def settings(storefront_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SHOP_API_TOKEN", TOKEN)
    return shop_settings(storefront_server, auth_header="Authorization")


def shop_settings(server: HTTPServer, *, auth_header: str) -> Settings:
    source = SourceSettings(kind="http", url=server.url_for(PATH), auth_header=auth_header,
                            token_env="SHOP_API_TOKEN", page_size=3, timeout_seconds=5)
    return Settings(sources={"website": source}, vendors=(
        VendorSettings(code="ACME", name="Acme Blanks", path=Path("vendors/acme")),
        VendorSettings(code="INKD", name="Inkdrop Print", kind="on_demand", path=Path("vendors/inkd")),
    ))


@pytest.fixture
def shop_db(engine: Engine, settings: Settings) -> Engine:
    """The vendors and a catalog that routes the black tee to ACME and the art print to INKD."""
    with session_factory(engine)() as session, session.begin():
        sync_vendors(session=session, settings=settings, now=NOW)
        session.flush()
        session.add_all([
            CatalogItem(sku="TB-HCT-BLK-L", vendor_code="ACME", vendor_sku="G500-BLK-L", updated_at=NOW),
            CatalogItem(sku="TB-POD-ART-M", vendor_code="INKD", vendor_sku="ART-M", on_demand=True, updated_at=NOW),
        ])
    return engine


def seven_orders() -> list[dict[str, Any]]:
    """Orders 1001-1007, one minute apart: pages of 3, 3 and 1."""
    return [storefront_order(1001 + index, updated_at=FIRST_UPDATE + timedelta(minutes=index)) for index in range(7)]


def stored_numbers(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return sorted(session.scalars(select(Order.order_number)))


def stored_cursor(engine: Engine) -> str | None:
    with session_factory(engine)() as session:
        return session.scalar(select(SourceCursor.cursor).where(SourceCursor.source == "website"))


def short_timeout_client() -> httpx.Client:
    return httpx.Client(timeout=0.2)


NUMBERS = [str(number) for number in range(1001, 1008)]
LAST_CURSOR = "2026-11-03T14:06:00Z"
PAGE_ONE_CURSOR = "2026-11-03T14:02:00Z"


class TestPaging:
    def test_pages_through_every_page_and_stores_every_order(self, shop_db: Engine, settings: Settings,
                                                             storefront: Storefront) -> None:
        """Seven orders in pages of three are all stored, routed to their vendors, and the cursor kept."""
        storefront.put(*seven_orders())
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert (result.stored, result.unchanged, result.refused, result.files) == (7, 0, 0, 3)
        assert (result.routed_lines, result.unroutable_lines) == (14, 0)
        assert stored_numbers(shop_db) == NUMBERS
        with session_factory(shop_db)() as session:
            vendor_orders = sorted(session.scalars(select(VendorOrder.id)))
        assert vendor_orders == sorted(f"TB{n}-{vendor}" for n in NUMBERS for vendor in ("ACME", "INKD"))
        assert stored_cursor(shop_db) == LAST_CURSOR

    def test_first_run_asks_for_everything_then_follows_page_tokens(self, shop_db: Engine, settings: Settings,
                                                                    storefront: Storefront) -> None:
        """Without a cursor no updated_after is sent; later pages add the page token the last page gave."""
        storefront.put(*seven_orders())
        import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert storefront.requests == [
            {"limit": "3"},
            {"limit": "3", "page_token": "offset:3"},
            {"limit": "3", "page_token": "offset:6"},
        ]

    def test_an_empty_storefront_stores_no_cursor(self, shop_db: Engine, settings: Settings,
                                                  storefront: Storefront) -> None:
        """One empty page ends the run; with nothing seen there is no cursor to keep."""
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert (result.stored, result.files) == (0, 1)
        assert stored_cursor(shop_db) is None

    def test_a_bad_order_is_refused_and_the_rest_of_its_page_is_stored(
            self, shop_db: Engine, settings: Settings, storefront: Storefront) -> None:
        """An order with a bad quantity is refused by its JSON path; its page's other orders are stored."""
        orders = seven_orders()
        orders[1]["lines"][0]["qty"] = "two"
        storefront.put(*orders)
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert result.stored == 6
        assert [(r.field, r.file) for r in result.refusals] == [
            ("orders[1].lines[0].qty", storefront_url(settings, "?limit=3"))]
        assert stored_numbers(shop_db) == [n for n in NUMBERS if n != "1002"]
        assert stored_cursor(shop_db) == LAST_CURSOR


def storefront_url(settings: Settings, query: str) -> str:
    return f"{settings.source('website').url}{query}"


class TestCursor:
    def test_a_second_run_reads_from_the_stored_cursor(self, shop_db: Engine, settings: Settings,
                                                       storefront: Storefront) -> None:
        """The next run sends updated_after = the cursor; only the boundary order and later changes come back."""
        storefront.put(*seven_orders())
        import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        storefront.requests.clear()
        later = FIRST_UPDATE + timedelta(hours=1)
        storefront.put(storefront_order(1003, updated_at=later, cancelled=True),
                       storefront_order(1008, updated_at=later + timedelta(minutes=1)))
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert storefront.requests == [{"updated_after": LAST_CURSOR, "limit": "3"}]
        assert (result.stored, result.updated, result.unchanged) == (1, 1, 1)
        assert stored_cursor(shop_db) == "2026-11-03T15:01:00Z"
        with session_factory(shop_db)() as session:
            assert session.scalar(select(Order.state).where(Order.order_number == "1003")) == "cancelled"


    def test_an_order_without_updated_at_is_stored_but_does_not_move_the_cursor(
            self, shop_db: Engine, settings: Settings, fixed_page_server: HTTPServer) -> None:
        """The order is kept; the cursor comes from the dated orders, and the gap is reported as a problem."""
        orders = seven_orders()[:2]
        del orders[1]["updated_at"]
        fixed_page_server.expect_request(PATH).respond_with_json({"orders": orders, "next_page_token": None})
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert result.stored == 2
        assert stored_cursor(shop_db) == "2026-11-03T14:00:00Z"
        assert result.problems == [
            f"{storefront_url(settings, '?limit=3')}: 1 order(s) without a readable updated_at; "
            "they do not move the cursor"]

    def test_a_page_token_given_twice_stops_the_run(self, shop_db: Engine, settings: Settings,
                                                     fixed_page_server: HTTPServer) -> None:
        """A storefront that hands back the token it was given would page forever; the run stops with a refusal."""
        page = {"orders": [storefront_order(1001, updated_at=FIRST_UPDATE)], "next_page_token": "again"}
        fixed_page_server.expect_request(PATH).respond_with_json(page)
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert [(r.field, r.reason) for r in result.refusals] == [
            ("next_page_token", "the storefront gave the same page token again; stopped")]
        assert (result.stored, result.unchanged, result.files) == (1, 1, 2)


class TestRetries:
    def test_one_server_error_loses_no_page(self, shop_db: Engine, settings: Settings,
                                            storefront: Storefront) -> None:
        """A 500 on page two is retried; every order arrives and page two was asked for twice."""
        storefront.put(*seven_orders())
        storefront.faults[2] = ["500"]
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert result.stored == 7
        assert [request.get("page_token") for request in storefront.requests] == [
            None, "offset:3", "offset:3", "offset:6"]
        assert stored_cursor(shop_db) == LAST_CURSOR

    def test_rate_limiting_is_retried(self, shop_db: Engine, settings: Settings, storefront: Storefront) -> None:
        """A 429 with Retry-After is waited out and retried, not reported."""
        storefront.put(*seven_orders())
        storefront.faults[1] = ["429"]
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert result.stored == 7
        assert len(storefront.requests) == 4

    def test_a_retry_after_longer_than_a_minute_is_left_to_the_next_run(
            self, shop_db: Engine, settings: Settings, storefront: Storefront) -> None:
        """A 429 asking for an hour's wait is not retried now; the error carries the wait for the caller."""
        storefront.put(*seven_orders())
        storefront.faults[1] = ["429 for an hour"]
        with pytest.raises(RemoteUnavailable) as failure:
            import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert failure.value.retry_after == 3600.0
        assert len(storefront.requests) == 1

    def test_one_timeout_loses_no_page(self, shop_db: Engine, settings: Settings, storefront: Storefront) -> None:
        """A page that does not answer within the client's timeout is asked for again."""
        storefront.put(*seven_orders())
        storefront.faults[3] = ["hang"]
        with short_timeout_client() as client:
            result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW, client=client)
        storefront.release.set()
        assert result.stored == 7
        assert [request.get("page_token") for request in storefront.requests] == [
            None, "offset:3", "offset:6", "offset:6"]
        assert stored_cursor(shop_db) == LAST_CURSOR

    def test_a_page_that_keeps_failing_keeps_the_pages_before_it(self, shop_db: Engine, settings: Settings,
                                                                  storefront: Storefront) -> None:
        """After the last attempt on page two the error names source and URL, and page one stays stored."""
        storefront.put(*seven_orders())
        storefront.faults[2] = ["500", "500", "500"]
        with pytest.raises(RemoteUnavailable) as failure:
            import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        url = settings.source("website").url
        assert str(failure.value) == f"storefront source 'website' ({url}): HTTP 500 INTERNAL SERVER ERROR"
        assert TOKEN not in str(failure.value)
        assert stored_numbers(shop_db) == ["1001", "1002", "1003"]
        assert stored_cursor(shop_db) == PAGE_ONE_CURSOR

    def test_the_next_run_resumes_from_the_last_committed_page(self, shop_db: Engine, settings: Settings,
                                                               storefront: Storefront) -> None:
        """After a failed run the next one starts at page one's cursor, re-reads the boundary and completes."""
        storefront.put(*seven_orders())
        storefront.faults[2] = ["500", "500", "500"]
        with pytest.raises(RemoteUnavailable):
            import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        storefront.requests.clear()
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert storefront.requests[0] == {"updated_after": PAGE_ONE_CURSOR, "limit": "3"}
        assert (result.stored, result.unchanged) == (4, 1)
        assert stored_numbers(shop_db) == NUMBERS
        assert stored_cursor(shop_db) == LAST_CURSOR

    def test_a_page_that_is_not_json_is_refused_by_its_url(self, shop_db: Engine, settings: Settings,
                                                           storefront: Storefront) -> None:
        """A broken page ends the run with a refusal naming it; the page before it stays committed."""
        storefront.put(*seven_orders())
        storefront.faults[2] = ["garbage"]
        result = import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert [r.file for r in result.refusals] == [storefront_url(settings, "?limit=3&page_token=offset%3A3")]
        assert result.refusals[0].reason.startswith("not valid JSON")
        assert stored_numbers(shop_db) == ["1001", "1002", "1003"]
        assert stored_cursor(shop_db) == PAGE_ONE_CURSOR


class TestBounds:
    def test_a_server_dripping_bytes_is_given_up_within_the_deadline(self, shop_db: Engine, settings: Settings,
                                                                      storefront: Storefront) -> None:
        """timeout_seconds bounds each whole request, not each read: three dripped attempts of 1 s, then the error."""
        storefront.put(*seven_orders())
        storefront.faults[1] = ["drip"] * 3
        source = settings.source("website").model_copy(update={"timeout_seconds": 1})
        started = time.monotonic()
        with pytest.raises(RemoteUnavailable, match=r"no whole page within 1s"):
            import_http_source(engine=shop_db, name="website", now=NOW,
                               settings=settings.model_copy(update={"sources": {"website": source}}))
        assert time.monotonic() - started < 8
        assert stored_numbers(shop_db) == []

    def test_a_page_over_the_byte_limit_is_refused_by_its_url(self, shop_db: Engine, settings: Settings,
                                                              storefront: Storefront) -> None:
        """Page two is larger than limits.file_bytes: refused naming the page; page one stays stored."""
        storefront.put(*seven_orders())
        storefront.faults[2] = ["huge"]
        bounded = settings.model_copy(update={"limits": LimitSettings(file_bytes=4000)})
        result = import_http_source(engine=shop_db, name="website", settings=bounded, now=NOW)
        assert [str(refusal) for refusal in result.refusals] == [
            f"{storefront_url(settings, '?limit=3&page_token=offset%3A3')}: the page is larger than "
            "limits.file_bytes (4000); ask for smaller pages (page_size) or raise the limit"]
        assert stored_numbers(shop_db) == ["1001", "1002", "1003"]


class TestAuthentication:
    def test_the_token_from_the_environment_is_sent_as_a_bearer_token(
            self, shop_db: Engine, settings: Settings, storefront: Storefront) -> None:
        """Authorization carries the secret named by token_env, with the Bearer scheme added."""
        import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert storefront.headers[0]["Authorization"] == f"Bearer {TOKEN}"

    def test_a_custom_header_carries_the_secret_as_it_is(self, shop_db: Engine, storefront_server: HTTPServer,
                                                         storefront: Storefront) -> None:
        """Another header name gets the bare secret, and no Authorization header is sent."""
        custom = shop_settings(storefront_server, auth_header="X-Shop-Api-Key")
        import_http_source(engine=shop_db, name="website", settings=custom, now=NOW)
        assert storefront.headers[0]["X-Shop-Api-Key"] == TOKEN
        assert "Authorization" not in storefront.headers[0]

    def test_refused_credentials_are_rejected_without_retrying(self, shop_db: Engine, settings: Settings,
                                                               storefront: Storefront) -> None:
        """A 401 is RemoteRejected after one request, and the message does not carry the token."""
        storefront.faults[1] = ["401"]
        with pytest.raises(RemoteRejected) as failure:
            import_http_source(engine=shop_db, name="website", settings=settings, now=NOW)
        assert "HTTP 401 UNAUTHORIZED" in str(failure.value)
        assert TOKEN not in str(failure.value)
        assert len(storefront.requests) == 1

    @pytest.mark.parametrize(("fault", "code"), [("401", ExitCode.REMOTE_REJECTED),
                                                 ("hang", ExitCode.REMOTE_UNAVAILABLE)])
    def test_cron_tells_refused_credentials_from_an_outage(self, *, shop_db: Engine, database_url: str,
                                                           storefront_server: HTTPServer, storefront: Storefront,
                                                           tmp_path: Path, fault: str, code: ExitCode) -> None:
        """import exits 8 when the storefront refuses our token (fix it) and 5 when it does not answer (wait)."""
        storefront.faults[1] = [fault] * 4
        (tmp_path / "orderflow.toml").write_text(
            f'[sources.website]\nkind = "http"\nurl = "{storefront_server.url_for(PATH)}"\n'
            'token_env = "SHOP_API_TOKEN"\ntimeout_seconds = 0.2\n', encoding="utf-8")
        result = CliRunner().invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
                                          "--now", NOW.isoformat(), "import", "--source", "website"])
        storefront.release.set()
        assert result.exit_code == code, result.output
        with session_factory(shop_db)() as session:
            assert session.scalars(select(JobRun.exit_code).where(JobRun.command == "import")).all() == [code]
