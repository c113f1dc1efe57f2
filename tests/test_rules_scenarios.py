"""Whole ``rules run`` cycles over stories the business has lived: every rule, the engine and the pushes together.

The shop is in New York. Orders were placed Monday 2 Nov 2026 at 10:04; ACME must ship by Wednesday, with grace
until Thursday 5 Nov 12:00. Pushes go to a real SMTP server on loopback.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Notification, NotificationEvent
from orderflow.errors import ExitCode
from orderflow.rules.run import run_rules
from orderflow.testing.smtp import SmtpServer
from tests.support.parcels import add_event, add_parcel, add_poll_run, change_parcel, et
from tests.support.shop_with_vendors import push_block, vendor_block
from tests.support.vendor_shop import (
    DUE_WEDNESDAY,
    NO_TRACKING,
    UPS_TRACKED,
    WAITED,
    ack,
    line_ack,
    open_shop,
    tell,
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def shop(engine: Engine, tmp_path: Path, smtp: SmtpServer) -> Settings:
    """ACME (which sends no acknowledgements) and order 5001 with one ACME line, sent Monday."""
    return open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]},
                     vendor_block("ACME", "csv", "local", path="acme", acknowledges=False),
                     push_block(smtp.host, smtp.port))


def rules_run(engine: Engine, settings: Settings, at: datetime) -> None:
    result = run_rules(engine=engine, settings=settings, clock=Clock(fixed=at))
    assert result.problems == [] or all("frozen" in problem for problem in result.problems), result.problems


def notifications(engine: Engine, rule: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if rule:
        query = query.where(Notification.rule == rule)
    with session_factory(engine)() as session:
        return list(session.scalars(query))


def transitions(engine: Engine, notification_id: int) -> list[tuple[str | None, str]]:
    with session_factory(engine)() as session:
        return [(e.from_state, e.to_state) for e in session.scalars(
            select(NotificationEvent).where(NotificationEvent.notification_id == notification_id)
            .order_by(NotificationEvent.id))]


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(message["Subject"]) for message in smtp.messages]


class TestRejectionAfterLateness:
    def test_the_rejection_is_pushed_at_once_and_the_lateness_hidden_then_moot(
            self, engine: Engine, shop: Settings, smtp: SmtpServer) -> None:
        """Late Tuesday (no tracking three business days past Thursday's grace), rejected Wednesday: one critical
        email at once; the lateness is hidden, then moot."""
        rules_run(engine, shop, WAITED + timedelta(hours=1))
        [late] = notifications(engine, "vendor_late")
        assert (late.state, late.evidence) == ("open", NO_TRACKING + DUE_WEDNESDAY)
        before = len(smtp.messages)

        wednesday = datetime(2026, 11, 11, 14, 0, tzinfo=UTC)
        tell(engine, wednesday, acks=(ack("TB5001-ACME", "rejected",
                                       line_ack(1, "rejected", "IR", "discontinued style")),))
        rules_run(engine, shop, wednesday + timedelta(minutes=5))
        [rejected] = notifications(engine, "vendor_rejected")
        [late] = notifications(engine, "vendor_late")
        assert rejected.state == "open"
        assert late.state == "resolved"
        assert late.resolved_how == "moot"
        assert transitions(engine, late.id)[-1] == ("open", "resolved")
        told = subjects(smtp)[before:]
        assert sorted(told) == ["[orderflow] critical: vendor rejected (1)", "[orderflow] resolved: vendor late (1)"]
        assert late.pushed_at is not None, "the lateness was pushed on Tuesday, so its end is told"

        rules_run(engine, shop, wednesday + timedelta(minutes=15))
        assert subjects(smtp)[before:] == told, "nothing is pushed twice"


class TestCronGapThenDoubleStart:
    def test_a_week_without_cron_then_two_runs_at_once_raise_one_notification(
            self, engine: Engine, shop: Settings, smtp: SmtpServer, tmp_path: Path, database_url: str) -> None:
        """No run from Monday to the next Tuesday; two runs start together: one vendor_late, high, pushed once."""
        tuesday = "2026-11-10T18:00:00Z"  # 13:00 New York: "no tracking" has waited its three business days
        command = [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"),
                   "--db", database_url, "--now", tuesday, "rules", "run"]
        started = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(2)]
        codes = sorted(process.wait(timeout=120) for process in started)
        assert codes in ([ExitCode.OK, ExitCode.OK], [ExitCode.OK, ExitCode.LOCK_HELD])
        assert subprocess.run(command, capture_output=True, check=False).returncode == ExitCode.OK

        [late] = notifications(engine, "vendor_late")
        assert (late.state, late.severity, late.evidence) == ("open", "high", NO_TRACKING + DUE_WEDNESDAY)
        assert late.labels["late_since"] == "2026-11-05T17:00:00+00:00", "the deadline comes from data"
        assert transitions(engine, late.id) == [(None, "open")]
        assert subjects(smtp).count("[orderflow] high: vendor late (1)") == 1


class TestSixHourCarrierOutage:
    def test_one_feed_notification_no_new_stalls_and_no_resolve_then_reopen_wave(
            self, engine: Engine, tmp_path: Path, smtp: SmtpServer) -> None:
        """UPS fails from 09:00 to 15:00: one feed alarm; no stall raised or resolved meanwhile; none after."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]},
                             vendor_block("ACME", "csv", "local", path="acme", acknowledges=False),
                             push_block(smtp.host, smtp.port), carriers=UPS_TRACKED)
        stalled = add_parcel(engine, "1Z5R89390357567127", vendor_order="TB5001-ACME", lines=(1,),
                             first_scan_at=et(2, 18), status="in_transit", last_event_at=et(2, 18),
                             last_checked_at=et(6, 8, 30))
        add_event(engine, stalled, et(2, 18), "in_transit", "Picked up", location="Chicago IL US")
        moving = add_parcel(engine, "1Z5R89390357567135", vendor_order="TB5001-ACME", lines=(2,),
                            first_scan_at=et(3, 11), status="in_transit", last_event_at=et(3, 11),
                            last_checked_at=et(6, 8, 30))
        add_event(engine, moving, et(3, 11), "in_transit", "Departed facility", location="Columbus OH US")
        add_poll_run(engine, "ups", et(6, 8), {"ok": 10})
        add_poll_run(engine, "ups", et(6, 8, 30), {"ok": 10})
        rules_run(engine, settings, et(6, 8, 45))
        [old_stall] = notifications(engine, "stalled_in_transit")
        assert old_stall.shipment_id == stalled

        for half_hours in range(12):  # 09:00 to 14:30: most polls fail; the few answers are stale
            at = et(6, 9) + timedelta(minutes=30 * half_hours)
            add_poll_run(engine, "ups", at, {"ok": 3, "carrier_error": 4, "rate_limited": 3})
            change_parcel(engine, moving, last_checked_at=at)  # answered, with no news: it looks stalled from 11:00
            rules_run(engine, settings, at + timedelta(minutes=5))
        # The carrier comes back at 15:00 and publishes the event it held: the moving parcel moved at 14:00.
        add_event(engine, moving, et(6, 14), "in_transit", "Arrived at facility", location="Albany NY US")
        change_parcel(engine, moving, last_event_at=et(6, 14), last_checked_at=et(6, 15))
        change_parcel(engine, stalled, last_checked_at=et(6, 15))
        for half_hours in range(2):
            add_poll_run(engine, "ups", et(6, 15) + timedelta(minutes=30 * half_hours), {"ok": 10})
        for hours in (0.6, 1, 5, 6):
            rules_run(engine, settings, et(6, 15) + timedelta(hours=hours))

        [feed] = notifications(engine, "tracking_feed_unhealthy")
        assert [n.shipment_id for n in notifications(engine, "stalled_in_transit")] == [stalled]
        assert transitions(engine, old_stall.id) == [(None, "open")], "kept open through the outage"
        assert transitions(engine, feed.id) == [(None, "open"), ("open", "resolved")]
        assert subjects(smtp).count("[orderflow] high: tracking feed unhealthy (1)") == 1
        assert not any("stalled" in subject for subject in subjects(smtp) if "digest" not in subject)
