"""The simulated vendors' side: they read the purchase orders orderflow sends and answer the way vendors do.

Two X12 vendors pick up 850s from their ``to_vendor`` folder and write 855 acknowledgements, 856 ship notices
and a daily 846 inventory into ``from_vendor``; three CSV vendors do the same with CSV files, each in its own
dialect (one renames the columns so that orderflow needs ``feedback_columns``); two print-on-demand vendors are
fake Printful APIs that accept or refuse orders as they are created, put them on hold or fail them, and ship
them, with their webhooks dropped as JSON files where orderflow's fetch reads them.

Each vendor only plays out the plans in :mod:`orderflow.demo.world` at the simulated time: it acts on an
order once it has received it, at or after the planned moment, and writes what the plan says.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from orderflow.demo.plans import FIRST_DAY, RESTOCK_AFTER, VendorOrderPlan, VendorProfile
from orderflow.demo.world import CATALOG, SHOP_ZONE
from orderflow.testing.printful import FakePrintful
from orderflow.vendors.formats.x12 import parse_x12

SHOP_X12_ID = "THREADBARE"
_X12_ZONES = {"America/New_York": "ET", "America/Chicago": "CT", "America/Denver": "MT", "America/Los_Angeles": "PT"}


class SimulatedTime:
    """The simulation's clock, shared with the fake servers: ``time()`` is now, :meth:`moment` turns it back."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    @contextmanager
    def moment(self, at: datetime) -> Iterator[None]:
        """Pretend it is ``at`` for a while (a vendor acting at the minute its plan says)."""
        now, self.at = self.at, at
        try:
            yield
        finally:
            self.at = now


@dataclass
class _Progress:
    """How far a vendor has got with one plan: the names of the steps it has taken ("answer", "ship", ...)."""

    plan: VendorOrderPlan
    done: set[str] = field(default_factory=set)


def _write(folder: Path, name: str, content: bytes) -> None:
    """Whole files only: written aside, then renamed into the folder orderflow reads."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_bytes(content)
    os.replace(partial, folder / name)


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _stock(profile: VendorProfile) -> dict[str, int]:
    """What a stocked vendor has on its shelves all week: plenty, except one item at zero."""
    return {product.vendor_sku: 0 if product.out_of_stock else 40 + 7 * (index % 23)
            for index, product in enumerate(CATALOG) if product.vendor == profile.code}


class FileVendor:
    """A vendor that exchanges files through local folders: X12, or CSV in its own dialect."""

    def __init__(self, profile: VendorProfile, root: Path, plans: Sequence[VendorOrderPlan]) -> None:
        self.profile = profile
        self.inbound, self.outbound = root / "to_vendor", root / "from_vendor"
        self.received_folder = root / "picked_up"
        self.pending = [_Progress(plan) for plan in plans]
        self.lines: dict[str, dict[str, tuple[int, int]]] = {}
        """Vendor order id -> vendor SKU -> (line number, quantity), as read from the purchase order."""
        self.stock = _stock(profile) if profile.kind == "stocked" else {}
        self._control = 0
        self._inventory_days: set[date] = set()

    # --- purchase orders in -----------------------------------------------------------------------------------

    def receive(self) -> None:
        if not self.inbound.is_dir():
            return
        for path in sorted(self.inbound.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix not in (".edi", ".csv"):
                continue
            data = path.read_bytes()
            for vendor_order_id, lines in (self._read_x12(data, path.name) if path.suffix == ".edi"
                                           else self._read_csv(data)).items():
                self.lines[vendor_order_id] = lines
            self.received_folder.mkdir(exist_ok=True)
            os.replace(path, self.received_folder / path.name)

    @staticmethod
    def _read_x12(data: bytes, name: str) -> dict[str, dict[str, tuple[int, int]]]:
        return {po.vendor_order_id: {line.vendor_sku: (line.line, line.qty) for line in po.lines}
                for po in parse_x12(data, file=name).purchase_orders}

    @staticmethod
    def _read_csv(data: bytes) -> dict[str, dict[str, tuple[int, int]]]:
        found: dict[str, dict[str, tuple[int, int]]] = {}
        for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            found.setdefault(row["po_number"], {})[row["vendor_sku"]] = (int(row["line_number"]),
                                                                         int(row["quantity"]))
        return found

    # --- answers out ------------------------------------------------------------------------------------------

    def act(self, now: datetime) -> None:
        today = now.astimezone(SHOP_ZONE).date()
        if self.stock and today not in self._inventory_days and now.astimezone(SHOP_ZONE).hour >= 6:
            self._inventory_days.add(today)
            self._send_inventory(now)
        for progress in self.pending:
            plan, lines = progress.plan, self.lines.get(progress.plan.vendor_order_id)
            if lines is None:
                continue  # not sent to us yet
            if plan.answered_at is not None and plan.answered_at <= now and "answer" not in progress.done:
                progress.done.add("answer")
                self._answer(plan, lines)
            parcel = plan.parcel
            if parcel is not None and parcel.uploaded_at <= now and "upload" not in progress.done:
                progress.done.add("upload")
                self._upload(plan, lines)
        self.pending = [progress for progress in self.pending if not self._finished(progress)]

    @staticmethod
    def _finished(progress: _Progress) -> bool:
        plan = progress.plan
        return (plan.answered_at is None or "answer" in progress.done) and \
            (plan.parcel is None or "upload" in progress.done)

    def _answer(self, plan: VendorOrderPlan, lines: dict[str, tuple[int, int]]) -> None:
        assert plan.answered_at is not None  # only called for plans with an answer
        if self.profile.exchange == "x12":
            _write(self.outbound, f"855_{plan.vendor_order_id}.edi", self._x12_855(plan, lines))
            return
        restock = (FIRST_DAY + RESTOCK_AFTER).isoformat()
        rows: list[list[object]] = []
        for vendor_sku, (line, qty) in sorted(lines.items(), key=lambda item: item[1]):
            status = "rejected" if plan.fate == "rejected" else \
                "backordered" if vendor_sku in plan.backordered else "accepted"
            rows.append([plan.vendor_order_id, line, vendor_sku, status, qty,
                         plan.reason if status == "rejected" else "",
                         restock if status == "backordered" else ""])
        _write(self.outbound, f"ack_{plan.vendor_order_id}.csv",
               _csv(("PO Number", "Line", "SKU", "Status", "Qty", "Reason", "Expected Date"), rows))

    def _upload(self, plan: VendorOrderPlan, lines: dict[str, tuple[int, int]]) -> None:
        parcel = plan.parcel
        assert parcel is not None  # only called for plans with a parcel
        shipped = sorted((lines[sku][0], sku, lines[sku][1]) for sku in parcel.vendor_skus if sku in lines)
        shipped_at = parcel.labelled_at.astimezone(self.profile.zone)
        if self.profile.exchange == "x12":
            _write(self.outbound, f"856_{plan.vendor_order_id}.edi", self._x12_856(plan, shipped))
        elif self.profile.code == "SOCK":  # its own headers: orderflow is told them in feedback_columns
            _write(self.outbound, f"despatch_{plan.vendor_order_id}.csv", _csv(
                ("Cust Ref", "Item Code", "Qty Shipped", "Courier", "Waybill", "Date Shipped"),
                [[plan.vendor_order_id, sku, qty, self.profile.carrier_named, parcel.reported_number,
                  shipped_at.isoformat(timespec="minutes")] for _, sku, qty in shipped]))
        elif self.profile.code == "MUGS":
            _write(self.outbound, f"shipments_{plan.vendor_order_id}.csv", _csv(
                ("order_id", "po_line", "vendor_item", "shipped_qty", "carrier_name", "shipping_method",
                 "tracking_numbers", "shipped_at"),
                [[plan.vendor_order_id, line, sku, qty, self.profile.carrier_named, self.profile.service,
                  parcel.reported_number, shipped_at.isoformat(timespec="seconds")] for line, sku, qty in shipped]))
        else:
            _write(self.outbound, f"tracking_{plan.vendor_order_id}.csv", _csv(
                ("PO Number", "Line", "SKU", "Qty", "Carrier", "Service", "Tracking Number", "Ship Date"),
                [[plan.vendor_order_id, line, sku, qty, self.profile.carrier_named, self.profile.service,
                  parcel.reported_number, shipped_at.isoformat(timespec="minutes")] for line, sku, qty in shipped]))

    def _send_inventory(self, now: datetime) -> None:
        stamp = now.astimezone(UTC)
        restock = FIRST_DAY + RESTOCK_AFTER
        upc = {product.vendor_sku: product.upc for product in CATALOG}
        if self.profile.exchange == "x12":
            segments = [f"BIA*00*DD*{self.profile.x12_id[:4]}-INV-{stamp:%Y%m%d}*{stamp:%Y%m%d}*{stamp:%H%M}"]
            for index, (sku, qty) in enumerate(sorted(self.stock.items()), start=1):
                segments += [f"LIN*{index}*VN*{sku}*UP*{upc[sku]}", f"QTY*33*{qty}*EA"]
                if qty == 0:
                    segments.append(f"DTM*018*{restock:%Y%m%d}")
            segments.append(f"CTT*{len(self.stock)}")
            _write(self.outbound, f"846_{stamp:%Y%m%d}.edi", self._interchange("IB", "846", segments, now))
        elif self.profile.code == "SOCK":
            _write(self.outbound, f"stock_{stamp:%Y%m%d}.csv", _csv(
                ("Item Code", "On Hand", "Restock Date"),
                [[sku, qty, restock.isoformat() if qty == 0 else ""] for sku, qty in sorted(self.stock.items())]))
        else:
            _write(self.outbound, f"inventory_{stamp:%Y%m%d}.csv", _csv(
                ("sku", "upc", "quantity_available", "next_available_date", "updated_at"),
                [[sku, upc[sku], qty, restock.isoformat() if qty == 0 else "", stamp.isoformat(timespec="seconds")]
                 for sku, qty in sorted(self.stock.items())]))

    # --- X12 --------------------------------------------------------------------------------------------------

    def _x12_855(self, plan: VendorOrderPlan, lines: dict[str, tuple[int, int]]) -> bytes:
        assert plan.answered_at is not None  # only called for plans with an answer
        at = plan.answered_at.astimezone(UTC)
        rejected = plan.fate == "rejected"
        verdict = "RD" if rejected else "AC" if plan.backordered else "AD"
        segments = [f"BAK*00*{verdict}*{plan.vendor_order_id}*{at:%Y%m%d}****{self.profile.x12_id[:4]}-"
                    f"SO-{plan.order_number}"]
        if rejected:
            segments.append(f"NTE*GEN*{plan.reason}")
        restock = FIRST_DAY + RESTOCK_AFTER
        for vendor_sku, (line, qty) in sorted(lines.items(), key=lambda item: item[1]):
            segments.append(f"PO1*{line}*{qty}*EA***VN*{vendor_sku}")
            if rejected:
                continue  # the whole order is refused: no line detail
            if vendor_sku in plan.backordered:
                segments.append(f"ACK*IB*{qty}*EA*068*{restock:%Y%m%d}")
            else:
                segments.append(f"ACK*IA*{qty}*EA*068*{at:%Y%m%d}")
        segments.append(f"CTT*{len(lines)}*{sum(qty for _, qty in lines.values())}")
        return self._interchange("PR", "855", segments, plan.answered_at)

    def _x12_856(self, plan: VendorOrderPlan, shipped: Sequence[tuple[int, str, int]]) -> bytes:
        parcel = plan.parcel
        assert parcel is not None  # only called for plans with a parcel
        local = parcel.labelled_at.astimezone(self.profile.zone)
        zone = _X12_ZONES.get(self.profile.calendar.timezone, "UT")
        segments = [f"BSN*00*{plan.vendor_order_id}-ASN*{local:%Y%m%d}*{local:%H%M}*0001", "HL*1**S",
                    f"TD5**2*{self.profile.carrier_named}*U*{self.profile.service}",
                    f"DTM*011*{local:%Y%m%d}*{local:%H%M}*{zone}", "HL*2*1*O",
                    f"PRF*{plan.vendor_order_id}***{plan.placed_at:%Y%m%d}", "HL*3*2*P",
                    f"MAN*CP*{parcel.reported_number}"]
        for level, (line, sku, qty) in enumerate(shipped, start=4):
            segments += [f"HL*{level}*3*I", f"LIN*{line}*VN*{sku}", f"SN1*{line}*{qty}*EA"]
        segments.append(f"CTT*{3 + len(shipped)}")
        return self._interchange("SH", "856", segments, parcel.uploaded_at)

    def _interchange(self, functional_id: str, set_code: str, body: list[str], at: datetime) -> bytes:
        """One ISA..IEA envelope around one transaction set, the fixed-width ISA as X12 requires."""
        self._control += 1
        stamp, control = at.astimezone(UTC), self._control
        sender, receiver = self.profile.x12_id, SHOP_X12_ID
        transaction = [f"ST*{set_code}*0001", *body]
        transaction.append(f"SE*{len(transaction) + 1}*0001")
        segments = [
            f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{stamp:%y%m%d}*{stamp:%H%M}*U*00401*"
            f"{control:09d}*0*P*>",
            f"GS*{functional_id}*{sender}*{receiver}*{stamp:%Y%m%d}*{stamp:%H%M}*{control}*X*004010",
            *transaction, f"GE*1*{control}", f"IEA*1*{control:09d}"]
        return "".join(f"{segment}~\n" for segment in segments).encode("ascii")


class PrintfulVendor:
    """A print-on-demand vendor behind a fake Printful API, with its webhooks relayed to a folder."""

    def __init__(self, profile: VendorProfile, root: Path, plans: Sequence[VendorOrderPlan], *, token: str,
                 time: SimulatedTime) -> None:
        self.profile = profile
        self.outbound = root / "from_vendor"
        self.time = time
        self.plans = {plan.vendor_order_id: plan for plan in plans}
        self.pending = [_Progress(plan) for plan in plans]
        self.api = FakePrintful(token=token, now=time)
        self.api.thread_name = f"fake-printful-{profile.code.lower()}"
        self.api.reject_when = self._refusal
        self._relayed = 0

    def __enter__(self) -> PrintfulVendor:
        self.api.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.api.stop()

    @property
    def url(self) -> str:
        return self.api.url

    def _refusal(self, request: dict[str, Any]) -> str | None:
        """Called by the fake as each order is created: the plan says whether Printful refuses it."""
        plan = self.plans.get(str(request.get("external_id") or ""))
        return plan.reason if plan is not None and plan.fate == "rejected" else None

    def receive(self) -> None:
        """Printful receives orders through its API, as they are created."""

    def act(self, now: datetime) -> None:
        for progress in self.pending:
            plan = progress.plan
            if plan.vendor_order_id not in self.api.creates:
                continue  # not sent to us yet
            if plan.trouble_at is not None and plan.trouble_at <= now and "trouble" not in progress.done:
                progress.done.add("trouble")
                with self.time.moment(plan.trouble_at):
                    self.api.set_status(plan.vendor_order_id, "failed" if plan.fate == "failed" else "onhold",
                                        plan.reason)
            parcel = plan.parcel
            if parcel is not None and parcel.labelled_at <= now and "ship" not in progress.done:
                progress.done.add("ship")
                with self.time.moment(parcel.labelled_at):
                    self.api.ship(plan.vendor_order_id, parcel.reported_number, self.profile.carrier_named,
                                  service=self.profile.service)
        self.pending = [progress for progress in self.pending
                        if (progress.plan.trouble_at is not None and "trouble" not in progress.done)
                        or (progress.plan.parcel is not None and "ship" not in progress.done)]
        self._relay_webhooks()

    def _relay_webhooks(self) -> None:
        """What Printful posts to the shop's webhook endpoint, saved where ``orderflow fetch`` reads it."""
        for event in self.api.webhooks[self._relayed:]:
            self._relayed += 1
            _write(self.outbound, f"{event['type']}_{self._relayed:05d}.json", json.dumps(event).encode())


def vendor_sides(profiles: Sequence[VendorProfile], plans: Sequence[VendorOrderPlan], *, folder: Callable[[str], Path],
                 token: str, time: SimulatedTime) -> list[FileVendor | PrintfulVendor]:
    """One simulated side per vendor, each with its own plans; ``folder`` gives a vendor's exchange folder."""
    sides: list[FileVendor | PrintfulVendor] = []
    for profile in profiles:
        mine = [plan for plan in plans if plan.vendor.code == profile.code]
        if profile.exchange == "printful":
            sides.append(PrintfulVendor(profile, folder(profile.code), mine, token=token, time=time))
        else:
            sides.append(FileVendor(profile, folder(profile.code), mine))
    return sides
