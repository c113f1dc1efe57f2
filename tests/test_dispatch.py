"""Dispatch to vendors: files over folders and SFTP, JSON APIs; never lost, never sent twice."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, update
from werkzeug import Request, Response

from orderflow.clock import Clock
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, VendorOrder, VendorOrderLine
from orderflow.errors import ExitCode
from orderflow.testing.sshd import SshServer
from orderflow.vendors.dispatch import dispatch
from orderflow.vendors.formats.x12 import parse_x12
from orderflow.vendors.overview import vendor_overview
from tests.support.shop_with_vendors import place_orders, vendor_block, vendor_orders, write_settings


class TestFileVendors:
    def test_x12_to_a_local_folder(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A pending vendor order becomes TB5001-ACME.edi, parses back to the same PO, and is marked sent."""
        settings = write_settings(tmp_path, vendor_block("ACME", "x12", "local", path="acme"))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["sent"]) == (ExitCode.OK, 2)
        sent = tmp_path / "acme" / "to_vendor"
        assert sorted(p.name for p in sent.iterdir()) == ["TB5001-ACME.edi", "TB5002-ACME.edi"]
        [po] = parse_x12((sent / "TB5001-ACME.edi").read_bytes(), file="x").purchase_orders
        assert (po.vendor_order_id, po.order_number, po.ship_to.zip) == ("TB5001-ACME", "5001", "04101")
        assert [(line.line, line.vendor_sku, line.qty) for line in po.lines] == [(1, "ACME-1", 2)]
        controls = sorted(parse_x12((sent / name).read_bytes(), file=name).interchange or ""
                          for name in ("TB5001-ACME.edi", "TB5002-ACME.edi"))
        assert [control.split(":")[1] for control in controls] == ["000000001", "000000002"]
        vo = vendor_orders(engine)["TB5001-ACME"]
        assert (vo.state, vo.sent_at, vo.claimed_by, vo.attempts) == ("sent", clock.now(), None, 1)
        assert vo.ack_due_at is not None
        assert vo.ack_due_at > clock.now()

    def test_csv_over_real_sftp(self, engine: Engine, clock: Clock, tmp_path: Path, sshd: SshServer) -> None:
        """A CSV purchase order lands in the vendor's SFTP inbound folder under its id, with no temp file left."""
        remote = tmp_path / "remote"
        (remote / "in").mkdir(parents=True)
        settings = write_settings(tmp_path, vendor_block(
            "STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
            key_file=str(sshd.user_key_path), known_hosts=str(sshd.known_hosts_path), remote_dir=str(remote),
            to_vendor="in", csv_columns=["po_number", "line_number", "vendor_sku", "quantity", "ship_zip"]))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5003": ["SKU-STITCH"]})
        assert dispatch(engine=engine, settings=settings, clock=clock).counts["sent"] == 1
        assert [p.name for p in (remote / "in").iterdir()] == ["TB5003-STITCH.csv"]
        assert (remote / "in" / "TB5003-STITCH.csv").read_bytes() == (
            b"po_number,line_number,vendor_sku,quantity,ship_zip\r\nTB5003-STITCH,1,STITCH-1,2,04101\r\n")

    def test_a_file_refused_over_sftp_holds_back_no_file_sent_with_it(self, engine: Engine, clock: Clock,
                                                                      tmp_path: Path, sshd: SshServer) -> None:
        """The server refuses one purchase order's file (a folder squats on its temp name): the files sent in
        the same batch, before and after it, are recorded sent once; the refused one waits with the reason."""
        remote = tmp_path / "remote"
        (remote / "to_vendor" / "TB5002-STITCH.csv.tmp").mkdir(parents=True)
        settings = write_settings(tmp_path, vendor_block(
            "STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
            key_file=str(sshd.user_key_path), known_hosts=str(sshd.known_hosts_path), remote_dir=str(remote)))
        place_orders(engine, settings, clock.now(), tmp_path,
                     orders={number: ["SKU-STITCH"] for number in ("5001", "5002", "5003")})

        result = dispatch(engine=engine, settings=settings, clock=clock)

        assert (result.exit_code, result.counts["sent"]) == (ExitCode.PARTIAL_FAILURE, 2)
        [problem] = result.problems
        assert "server refused to upload to_vendor/TB5002-STITCH.csv" in problem
        assert sorted(p.name for p in (remote / "to_vendor").iterdir()) == [
            "TB5001-STITCH.csv", "TB5002-STITCH.csv.tmp", "TB5003-STITCH.csv"]
        states = {vo_id: (vo.state, vo.attempts) for vo_id, vo in vendor_orders(engine).items()}
        assert states == {"TB5001-STITCH": ("sent", 1), "TB5002-STITCH": ("pending", 1),
                          "TB5003-STITCH": ("sent", 1)}
        assert "server refused" in (vendor_orders(engine)["TB5002-STITCH"].last_error or "")

    def test_cancelled_vendor_orders_are_never_sent(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """A vendor order cancelled before dispatch stays unsent."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5004": ["SKU-ACME"]})
        with session_factory(engine)() as session, session.begin():
            session.execute(update(VendorOrder).values(state="cancelled"))
        assert dispatch(engine=engine, settings=settings, clock=clock).counts["sent"] == 0
        assert list((tmp_path / "acme" / "to_vendor").iterdir()) == []

    def test_one_vendor_down_never_stops_the_others(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                    sshd: SshServer) -> None:
        """An SFTP vendor that refuses us keeps its error on its orders; the local vendor is still served."""
        settings = write_settings(
            tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
            vendor_block("STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
                         key_file=str(sshd.user_key_path), known_hosts=str(tmp_path / "empty_known_hosts"),
                         remote_dir=str(tmp_path)))
        (tmp_path / "empty_known_hosts").write_text("")
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5005": ["SKU-ACME", "SKU-STITCH"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.PARTIAL_FAILURE
        assert result.counts["sent"] == 1
        [problem] = result.problems
        assert problem.startswith("vendor STITCH: ")
        assert "known_hosts" in problem
        stitch = vendor_orders(engine)["TB5005-STITCH"]
        assert (stitch.state, stitch.attempts) == ("pending", 1)
        assert stitch.last_error is not None
        assert "known_hosts" in stitch.last_error

    def test_a_failing_vendor_is_paused_then_tried_again(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """Three failed runs pause the vendor (one line, no attempt); after the pause it is tried again."""
        settings = write_settings(tmp_path, vendor_block("DOWN", "csv", "sftp", host="127.0.0.1", port=9,
                                                         username="x", key_file="id", known_hosts="kh"))
        (tmp_path / "kh").write_text("")
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5006": ["SKU-DOWN"]})
        for minutes in (0, 10, 20):
            result = dispatch(engine=engine, settings=settings, clock=Clock(clock.now() + timedelta(minutes=minutes)))
            assert result.problems[0].startswith("vendor DOWN: ")
        paused = dispatch(engine=engine, settings=settings, clock=Clock(clock.now() + timedelta(minutes=30)))
        assert paused.problems[0].startswith("vendor DOWN paused until ")
        assert vendor_orders(engine)["TB5006-DOWN"].attempts == 3
        later = dispatch(engine=engine, settings=settings, clock=Clock(clock.now() + timedelta(hours=1)))
        assert later.problems[0].startswith("vendor DOWN: ")
        assert vendor_orders(engine)["TB5006-DOWN"].attempts == 4


@pytest.fixture
def vendor_api(httpserver: HTTPServer) -> HTTPServer:
    return httpserver


class TestOnePurchaseOrderNeverStopsTheOthers:
    def test_a_purchase_order_that_cannot_be_written_waits_alone(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """A vendor SKU holding an X12 separator keeps that order pending with why; the order behind it is sent,
        and three such runs never pause the vendor."""
        settings = write_settings(tmp_path, vendor_block("ACME", "x12", "local", path="acme"))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        with session_factory(engine)() as session, session.begin():
            session.execute(update(VendorOrderLine).where(VendorOrderLine.vendor_order_id == "TB5001-ACME")
                            .values(vendor_sku="ACME*1"))
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert (result.exit_code, result.counts["sent"], result.counts["failed"]) == (ExitCode.PARTIAL_FAILURE, 1, 1)
        error = ("cannot be written for ACME: lines[0].vendor_sku: 'ACME*1' contains an X12 separator or control "
                 "character (* > ~ or a line break)")
        assert result.problems == [f"vendor ACME: 1 vendor order not sent (TB5001-ACME), left for the next run: "
                                   f"{error}"]
        orders = vendor_orders(engine)
        assert (orders["TB5001-ACME"].state, orders["TB5001-ACME"].last_error) == ("pending", error)
        assert orders["TB5002-ACME"].state == "sent"
        for hours in (1, 2, 3):
            dispatch(engine=engine, settings=settings, clock=Clock(fixed=clock.now() + timedelta(hours=hours)))
        with session_factory(engine)() as session:
            [acme] = vendor_overview(session, settings)
        assert (acme["breaker"], vendor_orders(engine)["TB5001-ACME"].attempts) == ("closed", 4)

    def test_csv_cells_reach_the_vendor_as_text_never_as_formulas(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """A customer's ship-to name of =1+4003 is written '=1+4003, as the reports write it."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme",
                                                         csv_columns=["po_number", "ship_name", "quantity"]))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5001": ["SKU-ACME"]})
        with session_factory(engine)() as session, session.begin():
            session.execute(update(Order).values(ship_name="=1+4003"))
        dispatch(engine=engine, settings=settings, clock=clock)
        assert (tmp_path / "acme" / "to_vendor" / "TB5001-ACME.csv").read_bytes() == (
            b"po_number,ship_name,quantity\r\nTB5001-ACME,'=1+4003,2\r\n")


class TestProblemLines:
    def test_an_error_that_names_the_vendor_is_not_prefixed_twice(self, engine: Engine, clock: Clock,
                                                                  tmp_path: Path) -> None:
        """A Printful vendor without token_env: one line, 'vendor PF: ...' once."""
        settings = write_settings(tmp_path, vendor_block("PF", "printful", "http", kind="on_demand",
                                                         base_url="http://127.0.0.1:9"))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"5001": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.problems == ["vendor PF: the printful API needs token_env"]


class TestJsonApiVendor:
    def settings(self, tmp_path: Path, server: HTTPServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("TEST_VENDOR_TOKEN", "tok-123")
        return write_settings(tmp_path, vendor_block("API", "json", "http", base_url=server.url_for("/"),
                                                     token_env="TEST_VENDOR_TOKEN"))

    def test_idempotency_key_and_verdicts(self, engine: Engine, clock: Clock, tmp_path: Path,
                                          vendor_api: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each order is POSTed with its id as Idempotency-Key; accepted, rejected and 409 map to states."""
        seen: list[tuple[str, str, str]] = []

        def answer(request: Request) -> Response:
            body = json.loads(request.data)
            seen.append((request.headers["Idempotency-Key"], request.headers["Authorization"], body["id"]))
            verdicts = {"TB6001-API": (200, {"status": "accepted", "reference": "V-1"}),
                        "TB6002-API": (422, {"reason": "discontinued item"}),
                        "TB6003-API": (409, {})}
            status, payload = verdicts[body["id"]]
            return Response(json.dumps(payload), status=status, content_type="application/json")

        vendor_api.expect_request("/orders", method="POST").respond_with_handler(answer)
        settings = self.settings(tmp_path, vendor_api, monkeypatch)
        place_orders(engine, settings, clock.now(), tmp_path,
                     orders={"6001": ["SKU-API"], "6002": ["SKU-API"], "6003": ["SKU-API"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.counts | {} == {"sent": 1, "accepted": 1, "rejected": 1, "failed": 0, "needs_reconcile": 0}
        assert sorted(seen) == [(f"TB600{n}-API", "Bearer tok-123", f"TB600{n}-API") for n in (1, 2, 3)]
        states = {vo_id: (vo.state, vo.vendor_reference, vo.rejection_reason)
                  for vo_id, vo in vendor_orders(engine).items()}
        assert states == {"TB6001-API": ("accepted", "V-1", None),
                          "TB6002-API": ("rejected", None, "discontinued item"),
                          "TB6003-API": ("sent", None, None)}

    def test_5xx_is_retried_with_the_same_key(self, engine: Engine, clock: Clock, tmp_path: Path,
                                              vendor_api: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
        """A 503 then a 200: the order is sent once more with the same idempotency key and ends accepted."""
        keys: list[str] = []

        def answer(request: Request) -> Response:
            keys.append(request.headers["Idempotency-Key"])
            if len(keys) == 1:
                return Response("busy", status=503, headers={"Retry-After": "0"})
            return Response(json.dumps({"status": "accepted"}), status=200, content_type="application/json")

        vendor_api.expect_request("/orders", method="POST").respond_with_handler(answer)
        settings = self.settings(tmp_path, vendor_api, monkeypatch)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"6004": ["SKU-API"]})
        assert dispatch(engine=engine, settings=settings, clock=clock).counts["accepted"] == 1
        assert keys == ["TB6004-API", "TB6004-API"]

    def test_unauthorised_keeps_orders_pending_with_the_error(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                              vendor_api: HTTPServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """A 401 is the vendor refusing us, not the order: it stays pending, the error kept, exit code 6."""
        vendor_api.expect_request("/orders", method="POST").respond_with_data("no", status=401)
        settings = self.settings(tmp_path, vendor_api, monkeypatch)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"6005": ["SKU-API"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.PARTIAL_FAILURE
        vo = vendor_orders(engine)["TB6005-API"]
        assert (vo.state, vo.last_error) == ("pending", "API (json over http): HTTP 401 (check the token)")
        assert "tok-123" not in " ".join(result.problems)
