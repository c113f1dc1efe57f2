"""Tracking, delivery and job rules: each fires on its case and stays quiet on the false alarms around it.

All times are in November 2026, in the shop's zone (New York, after the DST change of 1 November):
Mon 2, Tue 3, ..., Fri 6, the weekend, Mon 9, Tue 10, Wed 11 (Veterans Day, a US holiday), Thu 12, Fri 13.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from orderflow.calendars import VendorCalendars
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import (
    JobRun,
    Order,
    OrderState,
)
from orderflow.rules.findings import Finding, Rule, RuleContext
from orderflow.rules.job_rules import JOB_RULES, job_failed, job_missing
from orderflow.rules.tracking_rules import (
    TRACKING_RULES,
    carrier_exception,
    carrier_not_configured,
    customer_not_notified,
    delivery_late,
    returned_to_sender,
    stalled_in_transit,
    tracking_feed_unhealthy,
    tracking_invalid,
    tracking_not_scanned,
)
from tests.support.parcels import T0, UPS_NUMBER, add_event, add_parcel, add_poll_run, change_parcel, et
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

NEW_UPS_NUMBER = "1Z5R89390357567135"
FEDEX_NUMBER = "986578788855"


def shop_settings(tmp_path: Path, *extra: str) -> Settings:
    return write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                          vendor_block("STITCH", "csv", "local", path="stitch"), *extra)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return shop_settings(tmp_path)


@pytest.fixture
def shop(engine: Engine, settings: Settings, tmp_path: Path) -> Settings:
    """Order 9001 (two ACME lines) and order 9002 (one ACME line, one STITCH line), imported on Mon 2 Nov."""
    place_orders(engine, settings, T0, tmp_path,
                 orders={"9001": ["SKU-ACME", "SKU-ACME"], "9002": ["SKU-ACME", "SKU-STITCH"]})
    return settings


def add_job_run(engine: Engine, command: str, started: datetime, outcome: str, *, finished: datetime | None = None,
                error: str | None = None) -> None:
    with session_factory(engine)() as session, session.begin():
        session.add(JobRun(command=command, host="cron1", pid=4242, started_at=started, outcome=outcome,
                           finished_at=finished, error=error))


def order_id(engine: Engine, number: str) -> str:
    with session_factory(engine)() as session:
        return str(session.scalar(select(Order.id).where(Order.order_number == number)))


def run(rule: Rule, engine: Engine, settings: Settings, now: datetime) -> list[Finding]:
    with session_factory(engine)() as session:
        return list(rule(RuleContext(session=session, now=now, settings=settings,
                                     calendars=VendorCalendars(settings.vendors))))


def summary(findings: Sequence[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.subject.id, f.severity, f.evidence) for f in findings]


class TestTrackingInvalid:
    def test_a_number_failing_its_check_digits_is_invalid(self, engine: Engine, shop: Settings) -> None:
        """The vendor's number failed validation on upload: one factual warning quoting why, naming the vendor."""
        parcel = add_parcel(engine, "1Z5R89390357567128", tracking_valid=False, tracking_note="matches no UPS format")
        [finding] = run(tracking_invalid, engine, shop, et(3, 9))
        assert summary([finding]) == [("tracking_invalid", str(parcel), "warning", "ACME: matches no UPS format")]
        assert (finding.factual, finding.subject.vendor_order_id, finding.subject.shipment_id) == (
            True, "TB9001-ACME", parcel)

    def test_the_carrier_saying_invalid_on_two_polls_six_hours_apart(self, engine: Engine, shop: Settings) -> None:
        """Two invalid answers 6 hours apart: the carrier's word is taken."""
        parcel = add_parcel(engine, invalid_polls=2, first_invalid_at=et(3, 9), last_checked_at=et(3, 15),
                            last_outcome="invalid_number")
        assert summary(run(tracking_invalid, engine, shop, et(3, 15, 5))) == [
            ("tracking_invalid", str(parcel), "warning",
             "ACME: UPS says the number is invalid (first said Tue 3 Nov 09:00)")]

    def test_two_invalid_polls_an_hour_apart_are_not_enough(self, engine: Engine, shop: Settings) -> None:
        """A carrier glitch repeated within the hour is not yet the carrier's considered answer."""
        add_parcel(engine, invalid_polls=2, first_invalid_at=et(3, 9), last_checked_at=et(3, 10),
                   last_outcome="invalid_number")
        assert run(tracking_invalid, engine, shop, et(3, 16)) == []

    def test_one_invalid_poll_is_not_enough(self, engine: Engine, shop: Settings) -> None:
        """One invalid answer, however long ago, is not two."""
        add_parcel(engine, invalid_polls=1, first_invalid_at=et(3, 9), last_checked_at=et(4, 9),
                   last_outcome="not_found")
        assert run(tracking_invalid, engine, shop, et(4, 10)) == []

    def test_a_corrected_upload_supersedes_the_invalid_number(self, engine: Engine, shop: Settings) -> None:
        """The vendor sends a new valid number for the same line: the invalid one stops counting."""
        add_parcel(engine, "1Z5R89390357567128", tracking_valid=False, tracking_note="matches no UPS format",
                   reported_at=et(3, 9))
        add_parcel(engine, NEW_UPS_NUMBER, reported_at=et(4, 9))
        assert run(tracking_invalid, engine, shop, et(4, 10)) == []

    def test_a_valid_parcel_for_other_lines_does_not_supersede(self, engine: Engine, shop: Settings) -> None:
        """A newer good parcel carrying line 2 says nothing about the bad number carrying line 1."""
        bad = add_parcel(engine, "1Z5R89390357567128", lines=(1,), tracking_valid=False,
                         tracking_note="matches no UPS format", reported_at=et(3, 9))
        add_parcel(engine, NEW_UPS_NUMBER, lines=(2,), reported_at=et(4, 9))
        assert [f.subject.id for f in run(tracking_invalid, engine, shop, et(4, 10))] == [str(bad)]

    def test_a_delivered_parcel_is_never_invalid(self, engine: Engine, shop: Settings) -> None:
        """Invalid answers before a delivery scan are history, not a problem."""
        add_parcel(engine, invalid_polls=2, first_invalid_at=et(3, 9), last_checked_at=et(3, 15), status="delivered",
                   delivered_at=et(4, 12))
        assert run(tracking_invalid, engine, shop, et(4, 13)) == []


class TestTrackingNotScanned:
    def test_no_scan_two_business_days_after_the_ship_date(self, engine: Engine, shop: Settings) -> None:
        """Label created Tuesday, asked Thursday after 10:00, never scanned: the vendor's fault, named."""
        parcel = add_parcel(engine, shipped_at=et(3, 10), last_checked_at=et(5, 11), last_outcome="ok")
        [finding] = run(tracking_not_scanned, engine, shop, et(5, 12))
        assert summary([finding]) == [("tracking_not_scanned", str(parcel), "warning",
                                       "ACME: label created Tue 3 Nov, no carrier scan after 2 business days")]
        assert (finding.factual, finding.subject.vendor_code) == (False, "ACME")
        assert finding.labels["threshold"] == (
            "no carrier scan for 2.1 business days since the ship date Tue 3 Nov 10:00 EST, threshold 2")

    def test_not_before_two_business_days(self, engine: Engine, shop: Settings) -> None:
        """Thursday 09:00 is not yet two business days after Tuesday 10:00."""
        add_parcel(engine, shipped_at=et(3, 10), last_checked_at=et(5, 8))
        assert run(tracking_not_scanned, engine, shop, et(5, 9)) == []

    def test_not_without_a_check_after_the_two_days(self, engine: Engine, shop: Settings) -> None:
        """Nobody asked the carrier since Thursday 09:00: silence is not evidence of no scan."""
        add_parcel(engine, shipped_at=et(3, 10), last_checked_at=et(5, 9))
        assert run(tracking_not_scanned, engine, shop, et(6, 12)) == []

    def test_a_weekend_does_not_count(self, engine: Engine, shop: Settings) -> None:
        """Shipped Friday 10:00: Tuesday 09:00 is still inside two business days; Tuesday 11:00 is past them."""
        parcel = add_parcel(engine, shipped_at=et(6, 10), last_checked_at=et(10, 8, 30))
        assert run(tracking_not_scanned, engine, shop, et(10, 9)) == []
        change_parcel(engine, parcel, last_checked_at=et(10, 10, 30))
        assert summary(run(tracking_not_scanned, engine, shop, et(10, 11))) == [
            ("tracking_not_scanned", str(parcel), "warning",
             "ACME: label created Fri 6 Nov, no carrier scan after 2 business days")]

    def test_without_a_ship_date_the_report_time_counts(self, engine: Engine, shop: Settings) -> None:
        """A vendor that gave no ship date is judged from when it reported the parcel."""
        parcel = add_parcel(engine, shipped_at=None, reported_at=et(3, 10), last_checked_at=et(5, 11))
        assert [f.subject.id for f in run(tracking_not_scanned, engine, shop, et(5, 12))] == [str(parcel)]

    def test_a_scanned_parcel_is_not_unscanned(self, engine: Engine, shop: Settings) -> None:
        """One physical scan is all it takes."""
        add_parcel(engine, shipped_at=et(3, 10), first_scan_at=et(3, 18), status="in_transit",
                   last_event_at=et(3, 18), last_checked_at=et(5, 11))
        assert run(tracking_not_scanned, engine, shop, et(5, 12)) == []

    def test_a_replaced_label_stops_counting(self, engine: Engine, shop: Settings) -> None:
        """The vendor voided the label and sent a new number for the same line: only the new one is judged."""
        add_parcel(engine, shipped_at=et(3, 10), last_checked_at=et(5, 11))
        add_parcel(engine, NEW_UPS_NUMBER, shipped_at=et(4, 10), reported_at=et(4, 10), last_checked_at=et(5, 11))
        assert run(tracking_not_scanned, engine, shop, et(5, 12)) == []

    def test_a_number_the_carrier_calls_invalid_is_left_to_tracking_invalid(self, engine: Engine,
                                                                             shop: Settings) -> None:
        """One alarm per parcel: the carrier's "invalid" is not also "not scanned"."""
        add_parcel(engine, shipped_at=et(3, 10), invalid_polls=2, first_invalid_at=et(3, 11),
                   last_checked_at=et(5, 11))
        assert run(tracking_not_scanned, engine, shop, et(5, 12)) == []


class TestTrackingFeedUnhealthy:
    def test_more_than_thirty_percent_failed_over_the_last_two_runs(self, engine: Engine, shop: Settings) -> None:
        """12 of 20 polls failed: one high, observational finding about the carrier."""
        add_poll_run(engine, "ups", et(3, 8), {"ok": 10})
        add_poll_run(engine, "ups", et(3, 9), {"ok": 8, "auth_error": 2})
        add_poll_run(engine, "ups", et(3, 10), {"auth_error": 10})
        [finding] = run(tracking_feed_unhealthy, engine, shop, et(3, 10, 5))
        assert summary([finding]) == [("tracking_feed_unhealthy", "ups", "high",
                                       "UPS: 12 of 20 polls failed in the last 2 runs (auth_error 12)")]
        assert (finding.factual, finding.subject.type, finding.subject.carrier) == (False, "carrier", "ups")

    def test_a_six_hour_outage_is_one_finding_and_stalls_carry_the_carrier(self, engine: Engine,
                                                                           shop: Settings) -> None:
        """Six hours of failures give one feed finding; a stall meanwhile names the carrier the engine freezes."""
        for hour in range(9, 16):
            add_poll_run(engine, "ups", et(6, hour), {"carrier_error": 3, "rate_limited": 5, "not_found": 2})
        add_poll_run(engine, "fedex", et(6, 15), {"ok": 9, "carrier_error": 1})
        add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", last_event_at=et(3, 9),
                   last_checked_at=et(6, 15))
        assert summary(run(tracking_feed_unhealthy, engine, shop, et(6, 15, 5))) == [
            ("tracking_feed_unhealthy", "ups", "high",
             "UPS: 16 of 20 polls failed in the last 2 runs (rate_limited 10, carrier_error 6)")]
        [stall] = run(stalled_in_transit, engine, shop, et(6, 15, 5))
        assert stall.subject.carrier == "ups"

    def test_thirty_percent_is_not_more_than_thirty(self, engine: Engine, shop: Settings) -> None:
        """6 of 20 is the threshold, not over it; 7 of 20 is."""
        add_poll_run(engine, "ups", et(3, 9), {"ok": 7, "carrier_error": 3})
        add_poll_run(engine, "ups", et(3, 10), {"ok": 7, "carrier_error": 3})
        assert run(tracking_feed_unhealthy, engine, shop, et(3, 10, 5)) == []
        add_poll_run(engine, "ups", et(3, 11), {"ok": 6, "carrier_error": 4})
        assert summary(run(tracking_feed_unhealthy, engine, shop, et(3, 11, 5))) == [
            ("tracking_feed_unhealthy", "ups", "high",
             "UPS: 7 of 20 polls failed in the last 2 runs (carrier_error 7)")]

    def test_one_failed_poll_is_not_an_outage(self, engine: Engine, shop: Settings) -> None:
        """A quiet carrier with one poll per run and one failure is not a feed problem."""
        add_poll_run(engine, "usps", et(3, 9), {"ok": 1})
        add_poll_run(engine, "usps", et(3, 10), {"carrier_error": 1})
        assert run(tracking_feed_unhealthy, engine, shop, et(3, 10, 5)) == []

    def test_two_healthy_runs_end_it(self, engine: Engine, shop: Settings) -> None:
        """After the outage the last two runs are clean: nothing is found."""
        add_poll_run(engine, "ups", et(3, 9), {"auth_error": 10})
        add_poll_run(engine, "ups", et(3, 10), {"auth_error": 10})
        add_poll_run(engine, "ups", et(3, 11), {"ok": 10})
        add_poll_run(engine, "ups", et(3, 12), {"ok": 10})
        assert run(tracking_feed_unhealthy, engine, shop, et(3, 12, 5)) == []

    def test_runs_older_than_a_day_or_after_now_say_nothing(self, engine: Engine, shop: Settings) -> None:
        """Yesterday's outage of a carrier with nothing left to track, or a run after the judged instant, is ignored."""
        add_poll_run(engine, "dhl", et(2, 8), {"auth_error": 4})
        add_poll_run(engine, "dhl", et(2, 9), {"auth_error": 4})
        add_poll_run(engine, "ups", et(3, 11), {"auth_error": 10})
        assert run(tracking_feed_unhealthy, engine, shop, et(3, 10)) == []


class TestCarrierNotConfigured:
    def test_one_finding_per_carrier_nobody_can_ask(self, engine: Engine, shop: Settings) -> None:
        """No [carriers.ups] or [carriers.fedex] section: one high, factual finding per carrier with its parcels."""
        add_parcel(engine)
        add_parcel(engine, NEW_UPS_NUMBER, vendor_order="TB9002-ACME")
        add_parcel(engine, FEDEX_NUMBER, carrier="fedex", vendor_order="TB9002-STITCH")
        findings = run(carrier_not_configured, engine, shop, et(2, 11))
        assert summary(findings) == [
            ("carrier_not_configured", "fedex", "high",
             f"FedEx: no [carriers.fedex] section, so 1 parcel cannot be tracked ({FEDEX_NUMBER})"),
            ("carrier_not_configured", "ups", "high",
             f"UPS: no [carriers.ups] section, so 2 parcels cannot be tracked ({UPS_NUMBER}, {NEW_UPS_NUMBER})")]
        assert all(finding.factual for finding in findings)

    def test_a_section_without_credentials_cannot_be_asked_either(self, engine: Engine, tmp_path: Path) -> None:
        """[carriers.ups] naming no client id and secret is as good as none, and says so."""
        settings = shop_settings(tmp_path, '[carriers.ups]\nbase_url = "https://onlinetools.ups.com"\n')
        place_orders(engine, settings, T0, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME"]})
        add_parcel(engine)
        assert summary(run(carrier_not_configured, engine, settings, et(2, 11))) == [
            ("carrier_not_configured", "ups", "high",
             "UPS: [carriers.ups] has no credentials (client_id_env and client_secret_env), so 1 parcel cannot "
             f"be tracked ({UPS_NUMBER})")]

    def test_a_carrier_switched_off_on_purpose_raises_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """enabled = false is the shop's choice not to track with UPS: no alarm about it."""
        settings = shop_settings(tmp_path, '[carriers.ups]\nenabled = false\n')
        place_orders(engine, settings, T0, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME"]})
        add_parcel(engine)
        assert run(carrier_not_configured, engine, settings, et(2, 11)) == []

    def test_a_carrier_with_credentials_or_without_parcels_is_fine(self, engine: Engine, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        """UPS configured with credentials, and no FedEx parcels to follow: nothing to say."""
        monkeypatch.setenv("TEST_UPS_ID", "id")
        monkeypatch.setenv("TEST_UPS_SECRET", "secret")
        settings = shop_settings(tmp_path, '[carriers.ups]\nclient_id_env = "TEST_UPS_ID"\n'
                                           'client_secret_env = "TEST_UPS_SECRET"\n')
        place_orders(engine, settings, T0, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME"]})
        add_parcel(engine)
        assert run(carrier_not_configured, engine, settings, et(2, 11)) == []


class TestStalledInTransit:
    def test_no_new_event_for_three_business_days(self, engine: Engine, shop: Settings) -> None:
        """Last event Tuesday 09:00, asked Friday after 09:00: stalled, with the carrier's last words and place."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", last_event_at=et(3, 9),
                            last_checked_at=et(6, 9, 30))
        add_event(engine, parcel, et(2, 18), "in_transit", "Picked up", location="Chicago IL US")
        add_event(engine, parcel, et(3, 9), "in_transit", "Departed facility", location="Columbus OH US")
        [finding] = run(stalled_in_transit, engine, shop, et(6, 10))
        assert summary([finding]) == [(
            "stalled_in_transit", str(parcel), "warning",
            "UPS: in transit, no new event for 3 business days since Tue 3 Nov 09:00 "
            "(Departed facility, Columbus OH US)")]
        assert finding.factual is False

    def test_not_before_three_business_days(self, engine: Engine, shop: Settings) -> None:
        """Friday 08:30 is not yet three business days after Tuesday 09:00."""
        add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", last_event_at=et(3, 9),
                   last_checked_at=et(6, 8))
        assert run(stalled_in_transit, engine, shop, et(6, 8, 30)) == []

    def test_a_weekend_does_not_count(self, engine: Engine, shop: Settings) -> None:
        """Last event Thursday 09:00: quiet on Monday, stalled on Tuesday after 09:00."""
        parcel = add_parcel(engine, first_scan_at=et(5, 9), status="in_transit", last_event_at=et(5, 9),
                            last_checked_at=et(9, 9, 30))
        assert run(stalled_in_transit, engine, shop, et(9, 10)) == []
        change_parcel(engine, parcel, last_checked_at=et(10, 9, 30))
        assert [f.evidence for f in run(stalled_in_transit, engine, shop, et(10, 10))] == [
            "UPS: in transit, no new event for 3 business days since Thu 5 Nov 09:00"]

    def test_a_holiday_does_not_count(self, engine: Engine, shop: Settings) -> None:
        """Last event Monday 9 Nov: Veterans Day (Wednesday) is skipped, so not Thursday but Friday."""
        parcel = add_parcel(engine, first_scan_at=et(9, 9), status="in_transit", last_event_at=et(9, 9),
                            last_checked_at=et(12, 9, 30))
        assert run(stalled_in_transit, engine, shop, et(12, 10)) == []
        change_parcel(engine, parcel, last_checked_at=et(13, 9, 30))
        assert [f.subject.id for f in run(stalled_in_transit, engine, shop, et(13, 10))] == [str(parcel)]

    def test_out_for_delivery_stalls_after_one_business_day(self, engine: Engine, shop: Settings) -> None:
        """Out for delivery Tuesday 08:00 and nothing since: stalled from Wednesday 08:00."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="out_for_delivery", last_event_at=et(3, 8),
                            last_checked_at=et(4, 7))
        add_event(engine, parcel, et(3, 8), "out_for_delivery", "Out for delivery", location="Portland ME US")
        assert run(stalled_in_transit, engine, shop, et(4, 7, 30)) == []
        change_parcel(engine, parcel, last_checked_at=et(4, 8, 15))
        [finding] = run(stalled_in_transit, engine, shop, et(4, 8, 30))
        assert summary([finding]) == [(
            "stalled_in_transit", str(parcel), "warning",
            "UPS: out for delivery, no new event for 1 business day since Tue 3 Nov 08:00 (Out for delivery, "
            "Portland ME US)")]
        assert finding.labels["threshold"] == (
            "no new carrier event for 1.0 business days since the last one Tue 3 Nov 08:00 EST, threshold 1")

    def test_never_scanned_delivered_or_returning_parcels_do_not_stall(self, engine: Engine, shop: Settings) -> None:
        """A label never scanned is not a stall; delivered is done; a return has its own rule."""
        add_parcel(engine, last_checked_at=et(13, 9))
        add_parcel(engine, NEW_UPS_NUMBER, first_scan_at=et(2, 18), status="delivered", last_event_at=et(3, 9),
                   delivered_at=et(3, 9), last_checked_at=et(13, 9))
        add_parcel(engine, FEDEX_NUMBER, carrier="fedex", lines=(2,), first_scan_at=et(2, 18),
                   status="returned_to_sender", last_event_at=et(3, 9), last_checked_at=et(13, 9))
        assert run(stalled_in_transit, engine, shop, et(13, 10)) == []

    def test_not_without_a_check_after_the_three_days(self, engine: Engine, shop: Settings) -> None:
        """We last asked the carrier on Thursday: no news since then is our silence, not the carrier's."""
        add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", last_event_at=et(3, 9),
                   last_checked_at=et(5, 9))
        assert run(stalled_in_transit, engine, shop, et(9, 10)) == []


class TestCarrierException:
    def test_an_address_exception_is_high(self, engine: Engine, shop: Settings) -> None:
        """A bad address needs a person: high, observational, with the carrier's words."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="exception", exception_reason="address",
                            last_event_at=et(4, 9), last_checked_at=et(4, 10))
        add_event(engine, parcel, et(4, 9), "exception", "The address is incomplete", location="Portland ME US")
        [finding] = run(carrier_exception, engine, shop, et(4, 10, 5))
        assert summary([finding]) == [("carrier_exception", str(parcel), "high",
                                       "UPS: exception (address): The address is incomplete")]
        assert finding.factual is False

    def test_a_missed_delivery_attempt_is_a_warning(self, engine: Engine, shop: Settings) -> None:
        """Nobody home: the carrier will try again, so it is a warning."""
        parcel = add_parcel(engine, "9400111206206406260787", carrier="usps", first_scan_at=et(2, 18),
                            status="delivery_attempted", exception_reason="recipient_unavailable",
                            last_event_at=et(4, 14))
        add_event(engine, parcel, et(4, 14), "delivery_attempted", "Notice left (no authorized recipient available)")
        assert summary(run(carrier_exception, engine, shop, et(4, 15))) == [
            ("carrier_exception", str(parcel), "warning",
             "USPS: delivery attempted (recipient_unavailable): Notice left (no authorized recipient available)")]

    def test_an_exception_that_clears_itself_is_no_longer_found(self, engine: Engine, shop: Settings) -> None:
        """A weather delay followed by a normal scan: the next evaluation finds nothing."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="exception", exception_reason="weather",
                            last_event_at=et(4, 9))
        assert [f.severity for f in run(carrier_exception, engine, shop, et(4, 10))] == ["warning"]
        add_event(engine, parcel, et(4, 16), "in_transit", "Departed facility", location="Columbus OH US")
        change_parcel(engine, parcel, status="in_transit", exception_reason=None, last_event_at=et(4, 16))
        assert run(carrier_exception, engine, shop, et(4, 17)) == []

    def test_severity_override_and_disabling(self, engine: Engine, tmp_path: Path) -> None:
        """``[rules.carrier_exception]`` settings raise every finding to critical, or turn the rule off."""
        loud = shop_settings(tmp_path / "loud", '[rules.carrier_exception]\nseverity = "critical"\n')
        place_orders(engine, loud, T0, tmp_path / "loud", orders={"9001": ["SKU-ACME"]})
        add_parcel(engine, first_scan_at=et(2, 18), status="exception", exception_reason="weather")
        assert [f.severity for f in run(carrier_exception, engine, loud, et(4, 10))] == ["critical"]
        off = shop_settings(tmp_path / "off", "[rules.carrier_exception]\nenabled = false\n")
        assert run(carrier_exception, engine, off, et(4, 10)) == []


class TestReturnedToSender:
    def test_a_parcel_on_its_way_back_is_high(self, engine: Engine, shop: Settings) -> None:
        """The carrier is returning it: high, with the carrier's words."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="returned_to_sender", last_event_at=et(5, 9))
        add_event(engine, parcel, et(5, 9), "returned_to_sender", "Returned to shipper", location="Portland ME US")
        [finding] = run(returned_to_sender, engine, shop, et(5, 10))
        assert summary([finding]) == [("returned_to_sender", str(parcel), "high",
                                       "UPS: returning to sender: Returned to shipper")]


class TestDeliveryLate:
    def test_not_delivered_half_a_business_day_after_the_estimate(self, engine: Engine, shop: Settings) -> None:
        """Expected Tuesday by 20:00, still moving Wednesday after 08:00: the order is late."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", last_event_at=et(3, 9),
                            estimated_delivery=et(3, 20), last_checked_at=et(4, 8, 30))
        [finding] = run(delivery_late, engine, shop, et(4, 9))
        assert summary([finding]) == [("delivery_late", order_id(engine, "9001"), "high",
                                       f"UPS {UPS_NUMBER} expected Tue 3 Nov, not delivered by Wed 4 Nov 08:00 EST")]
        assert finding.labels["threshold"] == ("past the delivery deadline Wed 4 Nov 08:00 EST (the carrier's "
                                               "estimate and 0.5 business days) by 0.0 business days")
        subject = finding.subject
        assert (subject.type, subject.order_number, subject.shipment_id, subject.carrier, finding.factual) == (
            "order", "9001", parcel, "ups", False)

    def test_not_before_the_half_day_grace(self, engine: Engine, shop: Settings) -> None:
        """Wednesday 07:30 is inside the grace after a Tuesday-evening estimate."""
        add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", estimated_delivery=et(3, 20),
                   last_checked_at=et(4, 7))
        assert run(delivery_late, engine, shop, et(4, 7, 30)) == []

    def test_a_delivered_scan_published_late_is_not_late(self, engine: Engine, shop: Settings) -> None:
        """Delivered at 07:00, published after the deadline: never late, before or after we learn of it."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="out_for_delivery", last_event_at=et(4, 5),
                            estimated_delivery=et(3, 20), last_checked_at=et(4, 6))
        assert run(delivery_late, engine, shop, et(4, 12)) == []
        change_parcel(engine, parcel, status="delivered", delivered_at=et(4, 7), last_event_at=et(4, 7),
                      last_checked_at=et(4, 13))
        assert run(delivery_late, engine, shop, et(4, 13, 30)) == []

    def test_a_weekend_is_not_late(self, engine: Engine, shop: Settings) -> None:
        """Expected Friday evening: the grace runs to Monday 08:00."""
        parcel = add_parcel(engine, first_scan_at=et(2, 18), status="in_transit", estimated_delivery=et(6, 20),
                            last_checked_at=et(8, 11))
        assert run(delivery_late, engine, shop, et(8, 12)) == []
        change_parcel(engine, parcel, last_checked_at=et(9, 8, 30))
        assert [f.evidence for f in run(delivery_late, engine, shop, et(9, 9))] == [
            f"UPS {UPS_NUMBER} expected Fri 6 Nov, not delivered by Mon 9 Nov 08:00 EST"]

    def test_one_finding_per_order_naming_only_the_late_parcels(self, engine: Engine, shop: Settings) -> None:
        """Order 9002: two vendors' parcels late give one finding; order 9001's parcel is not yet due."""
        add_parcel(engine, vendor_order="TB9001-ACME", first_scan_at=et(2, 18), status="in_transit",
                   estimated_delivery=et(6, 20), last_checked_at=et(4, 9))
        add_parcel(engine, NEW_UPS_NUMBER, vendor_order="TB9002-ACME", first_scan_at=et(2, 18), status="in_transit",
                   estimated_delivery=et(3, 20), last_checked_at=et(4, 9))
        add_parcel(engine, FEDEX_NUMBER, vendor_order="TB9002-STITCH", carrier="fedex", first_scan_at=et(2, 18),
                   status="exception", estimated_delivery=et(3, 20), last_checked_at=et(4, 9))
        [finding] = run(delivery_late, engine, shop, et(4, 10))
        assert summary([finding]) == [(
            "delivery_late", order_id(engine, "9002"), "high",
            f"UPS {NEW_UPS_NUMBER} expected Tue 3 Nov, not delivered by Wed 4 Nov 08:00 EST; FedEx {FEDEX_NUMBER} "
            "expected Tue 3 Nov, not delivered by Wed 4 Nov 08:00 EST")]
        assert (finding.subject.vendor_code, finding.subject.shipment_id, finding.subject.carrier) == (None, None, None)


NOTICES = '[customers]\nnotify_when = "scanned"\n'


class TestCustomerNotNotified:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        """The shop sends its customers' shipment notices from orderflow."""
        return shop_settings(tmp_path, NOTICES)

    def test_a_shop_whose_storefront_sends_the_notices_is_never_told(self, engine: Engine, tmp_path: Path) -> None:
        """Without a [customers] section orderflow sends no notices, so a scanned parcel has none to miss."""
        storefront_sends = shop_settings(tmp_path / "storefront")
        place_orders(engine, storefront_sends, T0, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME"]})
        add_parcel(engine, first_scan_at=et(3, 9), status="in_transit", last_event_at=et(3, 9))
        assert run(customer_not_notified, engine, storefront_sends, et(4, 9)) == []

    def test_scanned_over_four_hours_ago_and_no_email(self, engine: Engine, shop: Settings) -> None:
        """Scanned at 09:00 and known at once; at 13:01 the customer still has no shipment email."""
        parcel = add_parcel(engine, first_scan_at=et(3, 9), status="in_transit", last_event_at=et(3, 9))
        add_event(engine, parcel, et(3, 9), "in_transit", "Picked up")
        [finding] = run(customer_not_notified, engine, shop, et(3, 13, 1))
        assert summary([finding]) == [(
            "customer_not_notified", str(parcel), "warning",
            "UPS scanned it Tue 3 Nov 09:00; no shipment email to the customer after 4 hours")]

    def test_the_four_hours_count_from_when_we_learned_of_the_scan(self, engine: Engine, shop: Settings) -> None:
        """A 09:00 scan we stored at 12:00 gives the email until 16:00."""
        parcel = add_parcel(engine, first_scan_at=et(3, 9), status="in_transit", last_event_at=et(3, 9))
        add_event(engine, parcel, et(3, 8), "label_created", "Label created", recorded_at=et(2, 12))
        add_event(engine, parcel, et(3, 9), "in_transit", "Picked up", recorded_at=et(3, 12))
        assert run(customer_not_notified, engine, shop, et(3, 15, 59)) == []
        assert [f.subject.id for f in run(customer_not_notified, engine, shop, et(3, 16, 1))] == [str(parcel)]

    def test_an_emailed_customer_or_an_unscanned_parcel_is_fine(self, engine: Engine, shop: Settings) -> None:
        """The email went out; or there is no scan to tell the customer about yet."""
        add_parcel(engine, first_scan_at=et(3, 9), status="in_transit", customer_notified_at=et(3, 9, 5))
        add_parcel(engine, NEW_UPS_NUMBER, lines=(2,))
        assert run(customer_not_notified, engine, shop, et(4, 9)) == []


class TestJobFailed:
    def test_the_last_run_failed(self, engine: Engine, settings: Settings) -> None:
        """The last track run failed: critical and factual, with the first line of its error."""
        add_job_run(engine, "track", et(3, 9), "ok", finished=et(3, 9, 1))
        add_job_run(engine, "track", et(3, 9, 5), "failed", finished=et(3, 9, 6),
                    error="database is locked\nretry later")
        [finding] = run(job_failed, engine, settings, et(3, 9, 10))
        assert summary([finding]) == [("job_failed", "track", "critical", "track failed Tue 3 Nov 09:06: "
                                       "database is locked")]
        assert (finding.subject.type, finding.factual) == ("job", True)

    def test_a_later_success_clears_it(self, engine: Engine, settings: Settings) -> None:
        """Only the last run counts: a failure followed by a success is over."""
        add_job_run(engine, "fetch", et(3, 9), "failed", finished=et(3, 9, 1), error="boom")
        add_job_run(engine, "fetch", et(3, 9, 5), "ok", finished=et(3, 9, 6))
        assert run(job_failed, engine, settings, et(3, 9, 10)) == []

    def test_refused_and_partial_runs_are_not_failures(self, engine: Engine, settings: Settings) -> None:
        """Refused rows and one remote down are the job's findings, not the job failing."""
        add_job_run(engine, "import", et(3, 9), "refused", finished=et(3, 9, 1), error="row 3: bad email")
        add_job_run(engine, "track", et(3, 9), "partial", finished=et(3, 9, 1), error="carrier ups down")
        assert run(job_failed, engine, settings, et(3, 9, 10)) == []

    def test_a_run_in_progress_does_not_clear_a_failure(self, engine: Engine, settings: Settings) -> None:
        """The next run has started but not finished: the failure stays found, so it does not flap."""
        add_job_run(engine, "sync", et(3, 9), "failed", finished=et(3, 9, 1), error="boom")
        add_job_run(engine, "sync", et(3, 9, 5), "running")
        assert summary(run(job_failed, engine, settings, et(3, 9, 6))) == [
            ("job_failed", "sync", "critical", "sync failed Tue 3 Nov 09:01: boom")]


class TestJobMissing:
    def test_missing_after_its_interval_but_not_before(self, engine: Engine, settings: Settings) -> None:
        """Track last completed at 09:00: fine at 09:59, missing at 10:01."""
        add_job_run(engine, "track", et(3, 8, 59), "ok", finished=et(3, 9))
        assert run(job_missing, engine, settings, et(3, 9, 59)) == []
        [finding] = run(job_missing, engine, settings, et(3, 10, 1))
        assert summary([finding]) == [("job_missing", "track", "critical",
                                       "track last completed Tue 3 Nov 09:00 (expected every 1 hour)")]
        assert finding.factual is False

    def test_a_command_that_never_ran_is_not_missing(self, engine: Engine, settings: Settings) -> None:
        """A new install, or a command the shop does not schedule, is never missing."""
        assert run(job_missing, engine, settings, et(3, 10)) == []
        add_job_run(engine, "import", et(3, 9), "ok", finished=et(3, 9, 1))
        assert [f.subject.id for f in run(job_missing, engine, settings, et(4, 10))] == ["import"]

    def test_the_daily_report_has_twenty_six_hours(self, engine: Engine, settings: Settings) -> None:
        """A daily job is missing only after 26 hours."""
        add_job_run(engine, "report daily", et(2, 7, 59), "ok", finished=et(2, 8))
        assert run(job_missing, engine, settings, et(3, 9, 59)) == []
        assert summary(run(job_missing, engine, settings, et(3, 10, 1))) == [
            ("job_missing", "report daily", "critical",
             "report daily last completed Mon 2 Nov 08:00 (expected every 26 hours)")]

    def test_a_completed_sync_is_the_heartbeat_of_its_steps(self, engine: Engine, settings: Settings) -> None:
        """A shop that moved from separate cron lines to ``sync`` does not get its old steps reported missing."""
        add_job_run(engine, "track", et(3, 7, 59), "ok", finished=et(3, 8))
        add_job_run(engine, "sync", et(3, 9, 29), "partial", finished=et(3, 9, 30))
        assert run(job_missing, engine, settings, et(3, 10, 15)) == []

    def test_a_sync_outage_is_one_finding_for_the_schedule(self, engine: Engine, settings: Settings) -> None:
        """Cron stopped after the 09:00 sync: one job_missing about sync naming its steps, not one per step."""
        for command in ("sync", "import", "dispatch", "fetch", "track", "customers notify"):
            add_job_run(engine, command, et(3, 9), "ok", finished=et(3, 9, 1))
        assert summary(run(job_missing, engine, settings, et(3, 11))) == [
            ("job_missing", "sync", "critical",
             "sync last completed Tue 3 Nov 09:01 (expected every 1 hour); nor have its steps import, dispatch, "
             "fetch, track, customers notify")]

    def test_a_command_that_only_ever_failed_is_missing(self, engine: Engine, settings: Settings) -> None:
        """Failing every time since its first run an hour ago: it has not completed, so it is missing too."""
        add_job_run(engine, "dispatch", et(3, 8), "failed", finished=et(3, 8, 1), error="boom")
        add_job_run(engine, "dispatch", et(3, 9), "failed", finished=et(3, 9, 1), error="boom")
        assert summary(run(job_missing, engine, settings, et(3, 9, 5))) == [
            ("job_missing", "dispatch", "critical",
             "dispatch has not completed since it first ran Tue 3 Nov 08:00 (expected every 1 hour)")]


class TestActiveSet:
    def test_parcels_of_a_cancelled_order_are_not_judged(self, engine: Engine, shop: Settings) -> None:
        """A cancelled order's parcel drops out of every parcel rule (the engine resolves its alerts as moot)."""
        add_parcel(engine, tracking_valid=False, tracking_note="matches no UPS format", first_scan_at=et(3, 9),
                   status="exception", estimated_delivery=et(3, 20), last_checked_at=et(9, 9))
        with session_factory(engine)() as session, session.begin():
            session.execute(update(Order).where(Order.order_number == "9001").values(state=OrderState.CANCELLED))
        for rule in (tracking_invalid, carrier_exception, delivery_late, customer_not_notified, stalled_in_transit):
            assert run(rule, engine, shop, et(9, 10)) == [], rule.__name__

    def test_the_rule_names_are_the_contract(self) -> None:
        """Each rule is listed under its catalogue name, and the function has that name."""
        entries = (*TRACKING_RULES, *JOB_RULES)
        assert [entry.name for entry in entries] == [
            "tracking_invalid", "tracking_not_scanned", "tracking_feed_unhealthy", "carrier_not_configured",
            "stalled_in_transit",
            "carrier_exception", "returned_to_sender", "delivery_late", "customer_not_notified", "job_failed",
            "job_missing"]
        assert all(getattr(entry.check, "__name__", None) == entry.name for entry in entries)
