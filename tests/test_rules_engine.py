"""The rules engine: one notification per problem, opened once, resolved when it ends, hidden when explained."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Notification, NotificationEvent, Order
from orderflow.rules import queue
from orderflow.rules.engine import RunResult, evaluate
from orderflow.rules.findings import Finding, RuleContext, Subject
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings
from tests.support.stand_in_rules import ALL, MON, World, late, rejected


def stall(carrier: str = "ups", shipment_id: int = 7) -> Finding:
    return Finding("stalled_in_transit", Subject("shipment", str(shipment_id), order_number="9101",
                                                 shipment_id=shipment_id, carrier=carrier,
                                                 tracking_number=f"1ZPARCEL{shipment_id}"),
                   "warning", "no news for 3 business days", factual=False)


def delivery_late(shipment_id: int = 7) -> Finding:
    return Finding("delivery_late", Subject("order", "1", order_number="9101", shipment_id=shipment_id,
                                            tracking_number=f"1ZPARCEL{shipment_id}", carrier="ups"),
                   "high", f"UPS 1ZPARCEL{shipment_id} expected Tue 3 Nov, not delivered", factual=False)


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Settings:
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME"]})
    return settings


def run(engine: Engine, settings: Settings, world: World, now: datetime) -> RunResult:
    with session_factory(engine)() as session, session.begin():
        return evaluate(session=session, settings=settings, now=now, rules=world.rules(*ALL))


def notifications(engine: Engine) -> list[Notification]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def staff(engine: Engine, action: str, notification_id: int, now: datetime, **kwargs: object) -> None:
    with session_factory(engine)() as session, session.begin():
        getattr(queue, action)(session, notification_id, actor="sam", now=now, **kwargs)


class TestLifecycle:
    def test_one_notification_per_problem_and_reruns_change_nothing(self, engine: Engine, shop: Settings) -> None:
        """A finding opens one notification; the same run again changes nothing; a later run counts it."""
        world = World()
        world.true["vendor_late"] = [late()]
        first = run(engine, shop, world, MON)
        assert (first.opened, first.to_push) == (1, [notifications(engine)[0].id])
        again = run(engine, shop, world, MON)
        assert (again.opened, again.to_push) == (0, [])
        [only] = notifications(engine)
        assert (only.count, only.state, only.opened_at) == (1, "open", MON)
        run(engine, shop, world, MON + timedelta(hours=1))
        [only] = notifications(engine)
        assert (only.count, only.last_seen_at) == (2, MON + timedelta(hours=1))

    def test_factual_resolves_at_once_observational_after_clear_for(self, engine: Engine, shop: Settings) -> None:
        """A rejection that is gone resolves now; lateness that is gone must stay gone for 4 hours first."""
        world = World()
        world.true = {"vendor_rejected": [rejected("TB9101-ACME")], "vendor_late": [late("TB9102-ACME")]}
        run(engine, shop, world, MON)
        world.true = {}
        run(engine, shop, world, MON + timedelta(hours=1))
        states = {n.rule: n.state for n in notifications(engine)}
        assert states == {"vendor_rejected": "resolved", "vendor_late": "open"}
        run(engine, shop, world, MON + timedelta(hours=4))
        assert {n.rule: n.state for n in notifications(engine)}["vendor_late"] == "open"
        run(engine, shop, world, MON + timedelta(hours=5, minutes=1))
        assert {n.rule: n.state for n in notifications(engine)}["vendor_late"] == "resolved"

    def test_a_flap_within_clear_for_keeps_the_notification_open(self, engine: Engine, shop: Settings) -> None:
        """False for one run, true again before clear_for: still the same open notification, never resolved."""
        world = World()
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON)
        world.true = {}
        run(engine, shop, world, MON + timedelta(hours=1))
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON + timedelta(hours=2))
        [only] = notifications(engine)
        assert (only.state, only.false_since) == ("open", None)

    def test_reopened_within_three_business_days_else_a_new_episode(self, engine: Engine, shop: Settings) -> None:
        """A problem back within the window reopens its notification; after it, a new episode starts."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        run(engine, shop, world, MON)
        world.true = {}
        run(engine, shop, world, MON + timedelta(hours=1))
        world.true["vendor_rejected"] = [rejected()]
        reopened = run(engine, shop, world, MON + timedelta(days=2))
        assert reopened.reopened == 1
        [only] = notifications(engine)
        assert (only.state, only.episode) == ("open", 1)
        world.true = {}
        run(engine, shop, world, MON + timedelta(days=2, hours=1))
        world.true["vendor_rejected"] = [rejected()]
        run(engine, shop, world, MON + timedelta(days=9))
        assert [(n.state, n.episode) for n in notifications(engine)] == [("resolved", 1), ("open", 2)]


class TestStaffActions:
    def test_ack_holds_until_escalation(self, engine: Engine, shop: Settings) -> None:
        """An acknowledged warning stays acknowledged while true; when it becomes high it is open again."""
        world = World()
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON)
        [n] = notifications(engine)
        staff(engine, "acknowledge", n.id, MON + timedelta(minutes=5), note="calling Acme")
        run(engine, shop, world, MON + timedelta(hours=1))
        assert notifications(engine)[0].state == "acknowledged"
        world.true["vendor_late"] = [late(severity="high")]
        escalated = run(engine, shop, world, MON + timedelta(days=2))
        assert notifications(engine)[0].state == "open"
        assert escalated.to_push == [n.id]

    def test_snooze_ends_on_new_evidence_or_its_time(self, engine: Engine, shop: Settings) -> None:
        """A snooze lasts until its time, unless the evidence changes first."""
        world = World()
        world.true["vendor_late"] = [late(evidence="no tracking")]
        run(engine, shop, world, MON)
        [n] = notifications(engine)
        staff(engine, "snooze", n.id, MON, until=MON + timedelta(days=1))
        run(engine, shop, world, MON + timedelta(hours=2))
        assert notifications(engine)[0].state == "snoozed"
        run(engine, shop, world, MON + timedelta(days=1, hours=1))
        assert notifications(engine)[0].state == "open"
        staff(engine, "snooze", n.id, MON + timedelta(days=1, hours=2), until=MON + timedelta(days=5))
        world.true["vendor_late"] = [late(evidence="label created Tue 3 Nov, never scanned")]
        run(engine, shop, world, MON + timedelta(days=1, hours=3))
        assert notifications(engine)[0].state == "open"

    def test_manual_resolve_of_a_true_condition_comes_back_after_a_business_day(self, engine: Engine,
                                                                                shop: Settings) -> None:
        """Resolved by hand while still true: quiet for one business day, then back (Friday -> Monday)."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        friday = MON + timedelta(days=4)
        run(engine, shop, world, friday)
        [n] = notifications(engine)
        staff(engine, "resolve", n.id, friday, note="asked Acme to re-check")
        run(engine, shop, world, friday + timedelta(days=2))  # Sunday
        assert notifications(engine)[0].state == "resolved"
        run(engine, shop, world, friday + timedelta(days=3, minutes=1))  # Monday after the same hour
        assert notifications(engine)[0].state == "open"

    def test_why_tells_the_whole_story(self, engine: Engine, shop: Settings) -> None:
        """Every transition is recorded: from, to, reason and who."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        run(engine, shop, world, MON)
        [n] = notifications(engine)
        staff(engine, "acknowledge", n.id, MON + timedelta(minutes=1), note="on it")
        world.true = {}
        run(engine, shop, world, MON + timedelta(hours=1))
        with session_factory(engine)() as session:
            _, events = queue.history(session, n.id)
        assert [(e.from_state, e.to_state, e.actor) for e in events] == [
            (None, "open", "rules"), ("open", "acknowledged", "sam"), ("acknowledged", "resolved", "rules")]
        assert events[0].reason == "vendor_rejected: line 1: out of production"


class TestHidingAndFreezing:
    def test_rejection_hides_lateness_of_the_same_vendor_order(self, engine: Engine, shop: Settings) -> None:
        """Lateness after a rejection is hidden (kept, with the reason) and only the rejection is pushed."""
        world = World()
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON)
        world.true["vendor_rejected"] = [rejected()]
        result = run(engine, shop, world, MON + timedelta(hours=1))
        by_rule = {n.rule: n for n in notifications(engine)}
        assert by_rule["vendor_late"].suppressed_by == "vendor_rejected on TB9101-ACME"
        assert result.to_push == [by_rule["vendor_rejected"].id]
        with session_factory(engine)() as session:
            shown = [doc["rule"] for doc in queue.queue_documents(session)]
            hidden = [doc["rule"] for doc in queue.queue_documents(
                session, filters=queue.QueueFilter(include_hidden=True))]
        assert (shown, hidden) == (["vendor_rejected"], ["vendor_rejected", "vendor_late"])

    def test_a_stalled_parcel_already_shown_hides_its_delivery_lateness(self, engine: Engine,
                                                                         shop: Settings) -> None:
        """Stalled first, late later: the stall stays the one alert, the lateness is kept hidden behind it."""
        world = World()
        world.true["stalled_in_transit"] = [stall()]
        run(engine, shop, world, MON)
        world.true["delivery_late"] = [delivery_late()]
        result = run(engine, shop, world, MON + timedelta(hours=1))
        by_rule = {n.rule: n for n in notifications(engine)}
        assert (by_rule["stalled_in_transit"].suppressed_by, by_rule["delivery_late"].suppressed_by) == (
            None, "the same problem as stalled_in_transit on 1ZPARCEL7")
        assert result.to_push == []

    def test_a_late_parcel_found_stalled_too_stays_one_delivery_lateness(self, engine: Engine,
                                                                         shop: Settings) -> None:
        """Late first (or both at once), stalled later: the lateness stays the one alert."""
        world = World()
        world.true = {"delivery_late": [delivery_late()], "stalled_in_transit": [stall()]}
        run(engine, shop, world, MON)
        by_rule = {n.rule: n for n in notifications(engine)}
        assert (by_rule["delivery_late"].suppressed_by, by_rule["stalled_in_transit"].suppressed_by) == (
            None, "the same problem as delivery_late on 1ZPARCEL7")

    def test_a_carrier_without_credentials_is_not_also_an_unhealthy_feed(self, engine: Engine,
                                                                         shop: Settings) -> None:
        """Polls of a carrier with no credentials all fail: the configuration is the one alert, the feed hidden."""
        world = World()
        world.true = {
            "carrier_not_configured": [Finding("carrier_not_configured", Subject("carrier", "dhl", carrier="dhl"),
                                               "high", "DHL: [carriers.dhl] has no credentials (api_key_env)")],
            "tracking_feed_unhealthy": [Finding("tracking_feed_unhealthy", Subject("carrier", "dhl", carrier="dhl"),
                                                "high", "DHL: 8 of 8 polls failed", factual=False)]}
        with session_factory(engine)() as session, session.begin():
            result = evaluate(session=session, settings=shop, now=MON,
                              rules=world.rules(*ALL, "carrier_not_configured"))
        by_rule = {n.rule: n for n in notifications(engine)}
        assert by_rule["tracking_feed_unhealthy"].suppressed_by == "carrier_not_configured on dhl"
        assert result.to_push == [by_rule["carrier_not_configured"].id]

    def test_a_feed_outage_freezes_tracking_rules_for_that_carrier(self, engine: Engine, shop: Settings) -> None:
        """During an outage: no new stalls for that carrier, no resolve of old ones; other carriers unaffected."""
        world = World()
        world.true["stalled_in_transit"] = [stall("ups", 1)]
        run(engine, shop, world, MON)
        outage = Finding("tracking_feed_unhealthy", Subject("carrier", "ups", carrier="ups"), "high",
                         "UPS: 20 of 20 polls failed", factual=False)
        world.true = {"tracking_feed_unhealthy": [outage],
                      "stalled_in_transit": [stall("ups", 2), stall("fedex", 3)]}
        for hours in (1, 6, 12):
            run(engine, shop, world, MON + timedelta(hours=hours))
        stalls = {n.shipment_id: n.state for n in notifications(engine) if n.rule == "stalled_in_transit"}
        assert stalls == {1: "open", 3: "open"}, "no stall for parcel 2 while UPS was down; parcel 1 kept"

    def test_everything_on_a_cancelled_order_resolves_as_moot(self, engine: Engine, shop: Settings) -> None:
        """When the order is cancelled, its lateness is moot at once, whatever clear_for says."""
        world = World()
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON)
        with session_factory(engine)() as session, session.begin():
            session.execute(update(Order).values(state="cancelled"))
        world.true = {}
        run(engine, shop, world, MON + timedelta(minutes=10))
        [n] = notifications(engine)
        assert (n.state, n.resolved_how) == ("resolved", "moot")

    def test_silence_hides_matching_notifications(self, engine: Engine, shop: Settings) -> None:
        """A silence for vendor=ACME rule=vendor_late hides those, not others, until it ends."""
        world = World()
        with session_factory(engine)() as session, session.begin():
            queue.add_silence(session, matchers={"vendor": "ACME", "rule": "vendor_late"},
                              until=MON + timedelta(days=1), comment="Acme warehouse move", actor="sam", now=MON)
        world.true = {"vendor_late": [late()], "vendor_rejected": [rejected("TB9102-ACME")]}
        result = run(engine, shop, world, MON + timedelta(hours=1))
        by_rule = {n.rule: n for n in notifications(engine)}
        assert by_rule["vendor_late"].suppressed_by is not None
        assert by_rule["vendor_late"].suppressed_by.endswith("Acme warehouse move")
        assert result.to_push == [by_rule["vendor_rejected"].id]

    def test_a_broken_rule_does_not_silence_the_others(self, engine: Engine, shop: Settings) -> None:
        """One rule raising is reported; the others run, and the broken rule's notifications are kept."""
        world = World()
        world.true["vendor_late"] = [late()]
        run(engine, shop, world, MON)

        def broken(_context: RuleContext) -> Iterable[Finding]:
            raise RuntimeError("bad query")

        with session_factory(engine)() as session, session.begin():
            result = evaluate(session=session, settings=shop, now=MON + timedelta(hours=9),
                              rules=[("vendor_late", broken), world.rule("vendor_rejected")])
        assert result.errors == ["rule vendor_late failed: RuntimeError: bad query"]
        assert notifications(engine)[0].state == "open"
        with session_factory(engine)() as session:
            assert session.scalars(select(NotificationEvent)).all()
