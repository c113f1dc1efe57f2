"""Carrier tracking: parcels followed to delivered with the carriers' own APIs, within their limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from orderflow.carriers.poller import track
from orderflow.carriers.status import PackageStatus as S
from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import CarrierPollRun, Shipment, TrackingEvent
from orderflow.errors import ExitCode
from orderflow.testing.carriers import FakeCarrier, Scan
from tests.support.carriers import carrier_toml
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
NUMBERS = {"ups": "1Z5R89390357567127", "fedex": "986578788855", "usps": "9400111206206406260787",
           "dhl": "3318810025"}
JOURNEY = [
    Scan(T0, S.LABEL_CREATED, "Label created"),
    Scan(T0 + timedelta(hours=6), S.IN_TRANSIT, "Picked up", "Chicago IL US"),
    Scan(T0 + timedelta(days=1), S.IN_TRANSIT, "Departed facility", "Columbus OH US"),
    Scan(T0 + timedelta(days=2), S.OUT_FOR_DELIVERY, "Out for delivery", "Portland ME US"),
    Scan(T0 + timedelta(days=2, hours=5), S.DELIVERED, "Delivered", "Portland ME US"),
]


class World:
    """The simulated present the fake carriers answer from; tests move it along."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def carriers(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeCarrier]]:
    for name in ("ID", "SECRET", "KEY"):
        monkeypatch.setenv(f"TEST_CARRIER_{name}", name.lower())
    fakes = {code: FakeCarrier(code, client_id="id", client_secret="secret", api_key="key", now=world)  # type: ignore[arg-type]
             for code in NUMBERS}
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


def shop(tmp_path: Path, engine: Engine, fakes: dict[str, FakeCarrier], **extra: dict[str, object]) -> Settings:
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"), carrier_toml(fakes, **extra))
    place_orders(engine, settings, T0, tmp_path, orders={"9001": ["SKU-ACME"]})
    return settings


def add_shipments(engine: Engine, parcels: dict[str, str | None], *, at: datetime = T0) -> dict[str, int]:
    """Parcels the vendor reported for TB9001-ACME: tracking number -> carrier (None: let detection decide)."""
    ids = {}
    with session_factory(engine)() as session, session.begin():
        for number, carrier in parcels.items():
            shipment = Shipment(vendor_order_id="TB9001-ACME", carrier=carrier, tracking_number=number,
                                reported_at=at, shipped_at=at, next_check_at=at, created_at=at, updated_at=at)
            session.add(shipment)
            session.flush()
            ids[number] = shipment.id
    return ids


def shipment(engine: Engine, shipment_id: int) -> Shipment:
    with session_factory(engine)() as session:
        found = session.get(Shipment, shipment_id)
        assert found is not None
        return found


def event_count(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(TrackingEvent)) or 0)


@pytest.mark.parametrize("code", list(NUMBERS))
class TestEachCarrier:
    def test_followed_to_delivered(self, engine: Engine, tmp_path: Path, carriers: dict[str, FakeCarrier],
                                   world: World, code: str) -> None:
        """Scans become events once; first scan, status and next check follow the parcel until delivered."""
        settings = shop(tmp_path, engine, {code: carriers[code]})
        carriers[code].add_parcel(NUMBERS[code], JOURNEY, estimated_delivery=T0 + timedelta(days=3))
        [sid] = add_shipments(engine, {NUMBERS[code]: code}).values()
        world.now = T0 + timedelta(days=1, hours=1)
        result = track(engine=engine, settings=settings, clock=Clock(world.now))
        assert (result.exit_code, result.counts["ok"]) == (ExitCode.OK, 1)
        moving = shipment(engine, sid)
        assert (moving.status, moving.first_scan_at) == ("in_transit", T0 + timedelta(hours=6))
        assert moving.next_check_at == world.now + timedelta(hours=4)
        assert moving.last_event_at == T0 + timedelta(days=1)
        assert event_count(engine) == 3

        track(engine=engine, settings=settings, clock=Clock(world.now + timedelta(hours=5)))
        assert event_count(engine) == 3, "re-polling adds no duplicate events"

        world.now = T0 + timedelta(days=3)
        track(engine=engine, settings=settings, clock=Clock(world.now))
        done = shipment(engine, sid)
        assert (done.status, done.delivered_at, done.next_check_at) == (
            "delivered", T0 + timedelta(days=2, hours=5), None)
        assert event_count(engine) == 5

    def test_not_found_and_token_refresh(self, engine: Engine, tmp_path: Path, carriers: dict[str, FakeCarrier],
                                         world: World, code: str) -> None:
        """Not found is recorded and checked again in 2 hours; an expired token is refreshed once, then reused."""
        settings = shop(tmp_path, engine, {code: carriers[code]})
        [sid] = add_shipments(engine, {NUMBERS[code]: code}).values()
        track(engine=engine, settings=settings, clock=Clock(T0))
        lost = shipment(engine, sid)
        assert (lost.last_outcome, lost.next_check_at) == ("not_found", T0 + timedelta(hours=2))
        carriers[code].add_parcel(NUMBERS[code], JOURNEY[:2])
        world.now = T0 + timedelta(hours=7)
        carriers[code].expire_tokens()
        tokens_before = carriers[code].token_requests
        track(engine=engine, settings=settings, clock=Clock(world.now))
        assert shipment(engine, sid).status == "in_transit"
        expected_refreshes = 0 if code == "dhl" else 1
        assert carriers[code].token_requests - tokens_before == expected_refreshes


class TestFaults:
    def test_429_and_500_are_retried(self, engine: Engine, tmp_path: Path, carriers: dict[str, FakeCarrier],
                                     world: World) -> None:
        """A 429 with Retry-After and a 500 are retried in the run; the parcel is still read."""
        ups = carriers["ups"]
        settings = shop(tmp_path, engine, {"ups": ups})
        ups.add_parcel(NUMBERS["ups"], JOURNEY)
        [sid] = add_shipments(engine, {NUMBERS["ups"]: "ups"}).values()
        ups.rate_limit_next(1, retry_after=0)
        ups.fail_next(1, status=500)
        world.now = T0 + timedelta(days=1)
        track(engine=engine, settings=settings, clock=Clock(world.now))
        assert shipment(engine, sid).status == "in_transit"

    def test_a_malformed_answer_is_recorded_and_the_run_goes_on(self, engine: Engine, tmp_path: Path,
                                                                carriers: dict[str, FakeCarrier],
                                                                world: World) -> None:
        """Garbage from one carrier is a carrier_error for its parcels; other carriers' parcels are read."""
        settings = shop(tmp_path, engine, {"ups": carriers["ups"], "dhl": carriers["dhl"]})
        for code in ("ups", "dhl"):
            carriers[code].add_parcel(NUMBERS[code], JOURNEY)
        ids = add_shipments(engine, {NUMBERS["ups"]: "ups", NUMBERS["dhl"]: "dhl"})
        carriers["ups"].malformed_next(3)
        world.now = T0 + timedelta(days=1)
        track(engine=engine, settings=settings, clock=Clock(world.now))
        ups, dhl = shipment(engine, ids[NUMBERS["ups"]]), shipment(engine, ids[NUMBERS["dhl"]])
        assert (ups.last_outcome, ups.status) == ("carrier_error", "label_created")
        assert (dhl.last_outcome, dhl.status) == ("ok", "in_transit")

    def test_an_outage_changes_no_parcel_and_is_counted(self, engine: Engine, tmp_path: Path,
                                                        carriers: dict[str, FakeCarrier], world: World) -> None:
        """Every call failing: no parcel status changes, the outage is recorded, exit code 6."""
        fedex = carriers["fedex"]
        settings = shop(tmp_path, engine, {"fedex": fedex})
        fedex.add_parcel(NUMBERS["fedex"], JOURNEY)
        [sid] = add_shipments(engine, {NUMBERS["fedex"]: "fedex"}).values()
        fedex.outage(True)
        world.now = T0 + timedelta(days=1)
        result = track(engine=engine, settings=settings, clock=Clock(world.now))
        assert result.exit_code is ExitCode.PARTIAL_FAILURE
        assert result.problems[0].startswith("carrier fedex: every poll failed")
        assert shipment(engine, sid).status == "label_created"
        with session_factory(engine)() as session:
            [run] = session.scalars(select(CarrierPollRun)).all()
        assert (run.carrier, run.polls, run.failures) == ("fedex", 1, 1)


class TestReasons:
    def test_an_old_usps_reason_does_not_stick_to_a_new_status(self, engine: Engine, tmp_path: Path,
                                                                carriers: dict[str, FakeCarrier],
                                                                world: World) -> None:
        """An address problem long resolved does not explain today's failed delivery attempt."""
        usps = carriers["usps"]
        settings = shop(tmp_path, engine, {"usps": usps})
        usps.add_parcel(NUMBERS["usps"], [
            Scan(T0 + timedelta(hours=6), S.IN_TRANSIT, "Accepted at USPS Origin Facility", "Chicago IL"),
            Scan(T0 + timedelta(days=1), S.EXCEPTION, "Undeliverable as Addressed", "Portland ME", reason="address"),
            Scan(T0 + timedelta(days=3), S.DELIVERY_ATTEMPTED, "Notice Left (No Authorized Recipient Available)",
                 "Portland ME")])
        [sid] = add_shipments(engine, {NUMBERS["usps"]: "usps"}).values()
        world.now = T0 + timedelta(days=4)
        track(engine=engine, settings=settings, clock=Clock(world.now))
        attempted = shipment(engine, sid)
        assert attempted.status == "delivery_attempted"
        assert attempted.exception_reason != "address"


class TestLimits:
    def test_fedex_asks_thirty_numbers_at_a_time(self, engine: Engine, tmp_path: Path,
                                                 carriers: dict[str, FakeCarrier], world: World) -> None:
        """61 FedEx parcels take ceil(61/30) = 3 requests."""
        fedex = carriers["fedex"]
        settings = shop(tmp_path, engine, {"fedex": fedex})
        numbers = [f"{n:011d}" for n in range(100000000, 100000061)]
        numbers = [number + str(_fedex_check(number)) for number in numbers]
        add_shipments(engine, dict.fromkeys(numbers, "fedex"))
        result = track(engine=engine, settings=settings, clock=Clock(T0))
        assert result.counts["polled"] == 61
        assert fedex.track_requests == 3

    def test_usps_never_exceeds_its_budget_across_runs(self, engine: Engine, tmp_path: Path,
                                                       carriers: dict[str, FakeCarrier], world: World) -> None:
        """With 10 calls an hour, two runs a few minutes apart make at most 10 calls between them."""
        usps = carriers["usps"]
        settings = shop(tmp_path, engine, {"usps": usps}, usps={"requests_per_hour": 10})
        numbers = [f"94001112062064062607{n:02d}" for n in range(20)]
        add_shipments(engine, dict.fromkeys(numbers, "usps"))
        first = track(engine=engine, settings=settings, clock=Clock(T0))
        second = track(engine=engine, settings=settings, clock=Clock(T0 + timedelta(minutes=10)))
        assert 0 < usps.track_requests <= 10
        assert first.counts["polled"] + second.counts["polled"] == usps.track_requests

    def test_unknown_carrier_is_found_from_the_number(self, engine: Engine, tmp_path: Path,
                                                      carriers: dict[str, FakeCarrier], world: World) -> None:
        """A parcel reported without a carrier is asked of the carrier its number belongs to, which is kept."""
        settings = shop(tmp_path, engine, {"ups": carriers["ups"], "fedex": carriers["fedex"]})
        carriers["ups"].add_parcel(NUMBERS["ups"], JOURNEY)
        [sid] = add_shipments(engine, {NUMBERS["ups"]: None}).values()
        world.now = T0 + timedelta(days=1)
        track(engine=engine, settings=settings, clock=Clock(world.now))
        assert (shipment(engine, sid).carrier, shipment(engine, sid).status) == ("ups", "in_transit")


def _fedex_check(digits: str) -> int:
    """FedEx Express 12-digit check digit (mod 11 with weights 3,1,7 from the right), as the data set defines."""
    weights = [1, 7, 3]
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    return total % 11 % 10
