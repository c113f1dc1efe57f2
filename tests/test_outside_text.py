"""Text from outside is data: shown verbatim and inert in every view, never markup, never an escape sequence.

The hostile strings are the ones a shop meets: a vendor's reason with square brackets (Rich markup), ANSI CSI
sequences, OSC 8 (a forged link) and OSC 52 (a clipboard write), a bare CR that overwrites what came before,
a right-to-left override, and a NUL.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy import Engine, select

from orderflow.cli import render
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, OrderLine, Shipment, TrackingEvent, VendorOrder, VendorOrderLine
from orderflow.outside_text import inert, is_inert
from tests.support.cli import orderflow
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

MON = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NOW = "2026-11-04T16:00:00Z"

HOSTILE = [
    "[/b] Ship-to unverified, see [ref 77]",
    "[link=https://evil.example]click here[/link] [bold red]urgent[/]",
    "\x1b[2J\x1b[31mscreen cleared",
    "\x1b]8;;https://evil.example\x07forged link\x1b]8;;\x07",
    "\x1b]52;c;ZXZpbA==\x07clipboard",
    "overwritten\rGOOD",
    "\u202eevil reversed",
    "\x9b31m C1 CSI :smile:",
]
"""Strings a database can hold (PostgreSQL's text refuses NUL; the render tests below take NUL too)."""

ESCAPE_BYTES = ("\x1b", "\x9b", "\x07", "\r", "\u202e")


def assert_inert_output(output: str) -> None:
    for byte in ESCAPE_BYTES:
        assert byte not in output, f"{byte!r} reached the output"


class TestInert:
    def test_controls_are_spelled_out_and_the_rest_kept(self) -> None:
        """ESC, CR, NUL and the RTL override become escapes a person reads; brackets and accents stay."""
        assert inert("[/b] Zoë\x1b[2J\r\x00\u202e") == "[/b] Zoë\\x1b[2J\\r\\x00\\u202e"

    @given(st.text())
    def test_anything_comes_out_inert_and_printable_text_unchanged(self, text: str) -> None:
        """Whatever goes in, nothing a terminal acts on comes out; text without controls is not touched."""
        shown = inert(text)
        assert is_inert(shown)
        if is_inert(text):
            assert shown == text


SHORT_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


def _shown(draw: Callable[[Console], None]) -> str:
    """What a render function writes, on a wide console (so nothing wraps) and on stdout, together."""
    buffer, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout):
        draw(render.console(file=buffer, width=400))
    return buffer.getvalue() + stdout.getvalue()


class TestEveryViewIsInert:
    """Every render function, fed markup-like and control-laden strings, shows them verbatim (spelled out)."""

    @staticmethod
    def _document(text: str) -> dict[str, object]:
        return {"id": 7, "rule": "vendor_rejected", "severity": "critical", "state": "open",
                "subject": "vendor_order:TB1-ACME", "order_number": text, "vendor": "ACME",
                "vendor_order": "TB1-ACME", "tracking_number": None, "carrier": None, "evidence": text,
                "opened_at": MON, "last_seen_at": MON, "acked_by": text, "snoozed_until": None,
                "resolved_at": None, "pushed_at": None, "suppressed_by": text}

    @given(text=st.one_of(st.sampled_from([*HOSTILE, "NUL\x00byte", "[hidden: x]"]), SHORT_TEXT))
    def test_queue_table_csv_and_json(self, text: str) -> None:
        """The queue (with --all), a table, CSV and JSON all keep the text and send no escape to the terminal."""
        view = render.QueueView(age=lambda _: 1.0, times=render.Times(), order_url="https://shop/{order_number}",
                                show_hidden=True)
        for draw in (lambda out: render.print_queue([self._document(text)], view, out=out),
                     lambda out: render.print_table("t", ["a"], [[text]], out=out),
                     lambda out: render.print_lines([text], out=out)):
            shown = _shown(draw)
            assert_inert_output(shown)
            assert inert(text) in shown
        assert f"[hidden: {inert(text)}]" in _shown(lambda out: render.print_queue([self._document(text)], view,
                                                                                    out=out))
        csv_out = _shown(lambda _: render.print_rows("t", ["evidence"], [{"evidence": text}], "csv"))
        assert_inert_output(csv_out)
        json_out = _shown(lambda _: render.print_rows("t", ["evidence"], [{"evidence": text}], "json"))
        assert_inert_output(json_out)
        assert json.loads(json_out) == [{"evidence": text}], "JSON keeps the very value, escaped"

    @given(text=st.one_of(st.sampled_from(HOSTILE), SHORT_TEXT))
    def test_order_view(self, text: str) -> None:
        """The order view keeps the text and sends no escape."""
        story = {"order_number": text, "source": text, "placed_at": MON, "state": "open",
                 "customer": {"name": text, "email": text},
                 "lines": [{"line": 1, "sku": text, "qty": 1, "vendor": "ACME", "state": "pending"}],
                 "vendor_orders": [{"id": "TB1-ACME", "vendor": "ACME", "state": "rejected", "ship_by": MON,
                                    "lines": [{"line": 1, "sku": text, "vendor_sku": text, "qty": 1,
                                               "state": "rejected", "reason": text}]}],
                 "shipments": [], "notifications": [self._document(text)]}
        shown = _shown(lambda out: render.print_order(story, out=out))
        assert_inert_output(shown)
        assert inert(text) in shown

    def test_stderr_lines_are_inert_in_text_and_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A problem line quoting a file name with a newline and an escape stays one inert line."""
        from orderflow.cli.context import AppContext, LogFormat, emit

        emit(AppContext(), "bad file x\n\x1b[2J.csv", command="fetch")
        emit(AppContext(log_format=LogFormat.JSON), "bad \x9b file", command="fetch")
        lines = capsys.readouterr().err.splitlines()
        assert lines[0] == "orderflow: fetch: bad file x\\n\\x1b[2J.csv"
        assert json.loads(lines[1])["message"] == "bad \x9b file"
        assert "\x9b" not in lines[1]


def _hostile_shop(engine: Engine, tmp_path: Path) -> list[str]:
    """Order 9101 rejected by ACME with a hostile reason, SKU and customer name; order 9102's parcel in a
    carrier exception whose event text is hostile."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME"], "9102": ["SKU-ACME"]})
    reason, sku, name, event = HOSTILE[0] + HOSTILE[2], HOSTILE[1], HOSTILE[3] + HOSTILE[5], HOSTILE[4] + HOSTILE[6]
    with session_factory(engine)() as session, session.begin():
        orders = {order.order_number: order for order in session.scalars(select(Order))}
        orders["9101"].customer_name = name
        for line in session.scalars(select(OrderLine)):
            line.sku = sku
        rejected = session.get(VendorOrder, "TB9101-ACME")
        assert rejected is not None
        rejected.state, rejected.rejection_reason = "rejected", reason
        for line in session.scalars(select(VendorOrderLine).where(VendorOrderLine.vendor_order_id == rejected.id)):
            line.state, line.reason, line.sku = "rejected", reason, sku
        shipped = session.get(VendorOrder, "TB9102-ACME")
        assert shipped is not None
        shipped.state = "shipped"
        parcel = Shipment(vendor_order_id=shipped.id, carrier="ups", tracking_number="1Z999AA10123456784",
                          status="exception", exception_reason="address", reported_at=MON, shipped_at=MON,
                          first_scan_at=MON, last_event_at=MON + timedelta(hours=2), created_at=MON, updated_at=MON)
        session.add(parcel)
        session.flush()
        session.add(TrackingEvent(shipment_id=parcel.id, occurred_at=MON + timedelta(hours=2), status="exception",
                                  code="X1", description=event, location=HOSTILE[7], recorded_at=MON))
    options = ["--config", str(tmp_path / "orderflow.toml"), "--db", str(engine.url.render_as_string(False)),
               "--now", NOW]
    assert orderflow(*options, "rules", "run").returncode in (0, 6)
    return options


class TestCommandsShowOutsideTextVerbatim:
    """Through the real entry point, on both databases: exit 0, the text shown, no escape byte anywhere."""

    def test_queue_order_and_why(self, engine: Engine, tmp_path: Path) -> None:
        """The rejection reason, carrier event, customer name and SKU read back verbatim in every view."""
        options = _hostile_shop(engine, tmp_path)
        wide = {"COLUMNS": "400", "XDG_STATE_HOME": str(tmp_path / "state")}
        queue = orderflow(*options, "notifications", env=wide)
        everything = orderflow(*options, "notifications", "--all", env=wide)
        story = orderflow(*options, "order", "9101", env=wide)
        parcel = orderflow(*options, "order", "9102", env=wide)
        documents = json.loads(orderflow(*options, "notifications", "--format", "json").stdout)
        rejection = next(doc for doc in documents if doc["rule"] == "vendor_rejected")
        exception = next(doc for doc in documents if doc["rule"] == "carrier_exception")
        why = orderflow(*options, "notifications", "why", str(rejection["id"]), env=wide)
        csv_out = orderflow(*options, "notifications", "--format", "csv")
        for result in (queue, everything, story, parcel, why, csv_out):
            assert result.returncode == 0, result.stderr
            assert_inert_output(result.stdout + result.stderr)
        assert HOSTILE[0] + HOSTILE[2] in rejection["evidence"], "JSON keeps the very text"
        assert HOSTILE[4] + HOSTILE[6] in exception["evidence"]
        for shown in (queue.stdout, everything.stdout, why.stdout):
            assert inert(rejection["evidence"]) in shown
            assert inert(exception["evidence"]) in shown or shown is why.stdout
        assert inert(HOSTILE[3] + HOSTILE[5]) in story.stdout, "the customer's name"
        assert inert(HOSTILE[1]) in story.stdout, "the SKU"
        assert inert(HOSTILE[0] + HOSTILE[2]) in story.stdout, "the line's reason"
        assert inert(rejection["evidence"]) in csv_out.stdout.replace('""', '"')

    def test_the_daily_report_files(self, engine: Engine, tmp_path: Path) -> None:
        """The report's queue file holds the evidence as the terminal shows it: verbatim, no escape byte."""
        options = _hostile_shop(engine, tmp_path)
        result = orderflow(*options, "report", "daily", "--date", "2026-11-04", "--out", str(tmp_path / "report"))
        assert result.returncode == 0, result.stderr
        queue = (tmp_path / "report" / "open_notifications.csv").read_text(encoding="utf-8-sig")
        assert_inert_output(queue)
        assert inert(HOSTILE[0] + HOSTILE[2]) in queue.replace('""', '"')

    def test_hidden_note_of_all_is_shown(self, engine: Engine, tmp_path: Path) -> None:
        """A silenced notification shows under --all with its [hidden: ...] note, brackets and all."""
        options = _hostile_shop(engine, tmp_path)
        made = orderflow(*options, "notifications", "silence", "--match", "rule=carrier_exception", "--for", "1d",
                         "--comment", "[b]UPS[/b] knows")
        assert made.returncode == 0, made.stderr
        shown = orderflow(*options, "notifications", "--all", env={"COLUMNS": "400"}).stdout
        assert "[hidden: silence #1: [b]UPS[/b] knows]" in shown
