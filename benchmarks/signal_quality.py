"""Signal quality: a simulated month of the demo's shop, every alert staff saw scored against what happened.

The demo's world (seven vendors, four carriers, hourly ``orderflow sync`` at simulated times, Veterans Day and
Thanksgiving inside the month) runs for ``--days`` (30) days at ``--orders-per-day`` (12), once per seed, with
the shop configured as a new user configures it from the demo's defaults, plus what real shops do: two file
vendors that never acknowledge (``acknowledges`` left on ``auto``), about one parcel in ten whose tracking the
vendor uploads after the grace deadline although it was scanned on time, shipment notices sent by the
storefront (no ``[customers]`` section), one carrier configured without credentials (DHL), backorders with a
restock date inside the month.

Every notification the run opened is read back from the database and compared with the simulated truth,
sampled every hour (:mod:`orderflow.demo.scoring`; lateness is the vendor's *real* lateness: no carrier scan
by the grace deadline, whenever the tracking was uploaded):

- **precision**: shown notifications whose problem was real during their life / all shown; **urgent
  precision**: the same for those at high or critical;
- **recall by kind**: real problems that lasted long enough to be seen (the demo's windows) with a notification;
- **alerts per problem**: notifications opened or reopened for the problems caught / problems caught
  (a stalled parcel and its late delivery are one problem);
- **late-upload parcels alarmed**: parcels scanned by their ship-by whose tracking came after the grace
  deadline, for which ``vendor_late`` was raised anyway (retro false positives);
- **detection delay**: median hours from a problem becoming real to its notification;
- the same for a naive rule, "no tracking by the ship-by date".

    .venv/bin/python benchmarks/signal_quality.py [--seeds 1,2,3] [--days 30] [--orders-per-day 12] [--keep DIR]
        [--jobs N] [--no-tracking-wait DAYS]

Each seed's month runs in its own process, all at once unless ``--jobs`` says fewer.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from orderflow.calendars import after_business_days
from orderflow.db.models import Notification
from orderflow.demo import DemoOptions, run_demo
from orderflow.demo.plans import VendorOrderPlan
from orderflow.demo.scoring import WINDOWS, Key, backorder_promised, conditions, held, queue_key, rejected
from orderflow.demo.world import World
from orderflow.rules.vendor_rules import UPLOAD_WAIT_AT_MOST

UNCREDENTIALED = ("dhl",)
SETTLING_HOURS = 6
"""A problem that became real in the run's last hours may not have been polled yet: not scored."""
URGENT = ("critical", "high")
HIDDEN_BY = re.compile(r"^(?:the same problem as )?(?P<rule>\w+) on (?P<name>.+)$")
"""What ``suppressed_by`` says when another rule hides a notification (a silence says otherwise)."""
GOALS = {"precision": 0.90, "urgent precision": 0.98, "recall": 1.00, "alerts per problem": 1.05,
         "late-upload parcels alarmed": 0.05}


@dataclass
class SeedScore:
    seed: int
    vendor_orders: int = 0
    shown: int = 0
    right: int = 0
    urgent: int = 0
    urgent_right: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    openings: int = 0
    late_uploads: int = 0
    late_uploads_alarmed: int = 0
    delays: list[float] = field(default_factory=list)
    late_delays: list[float] = field(default_factory=list)
    wrong_by_rule: Counter[str] = field(default_factory=Counter)
    missed: list[Key] = field(default_factory=list)
    naive_shown: int = 0
    naive_right: int = 0
    naive_late_uploads_alarmed: int = 0
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.right / self.shown if self.shown else 1.0

    @property
    def urgent_precision(self) -> float:
        return self.urgent_right / self.urgent if self.urgent else 1.0

    @property
    def recall(self) -> float:
        total = sum(self.problems.values())
        return sum(self.caught.values()) / total if total else 1.0

    @property
    def per_problem(self) -> float:
        caught = sum(self.caught.values())
        return self.openings / caught if caught else 0.0

    @property
    def late_upload_share(self) -> float:
        return self.late_uploads_alarmed / self.late_uploads if self.late_uploads else 0.0


def really_late(plan: VendorOrderPlan, t: datetime) -> bool:
    """The vendor's real lateness at ``t``: past the grace deadline with nothing the carrier has scanned,
    whenever its tracking reached us (units backordered to a date still ahead excepted). For a carrier nobody
    can ask, the ship date the vendor gave is all anyone can know: a label that carrier never scanned is the
    configuration's problem (``carrier_not_configured``), not a lateness anyone could see."""
    if t <= plan.grace or rejected(plan, t) or held(plan, t):
        return False
    parcel = plan.parcel
    scan = parcel.first_scan_at if parcel is not None else None
    if parcel is not None and parcel.carrier in UNCREDENTIALED:
        scan = parcel.labelled_at  # the ship date in the vendor's file
    backorder_late = bool(plan.backordered) and not backorder_promised(plan, t)
    if parcel is None:  # every line backordered: nothing else was to ship
        return backorder_late
    return backorder_late or scan is None or scan > t


def truth(world: World) -> dict[Key, list[bool]]:
    """Each problem's condition at every hourly tick of the run."""
    unaskable = frozenset(UNCREDENTIALED)
    timeline: dict[Key, list[bool]] = {}
    by_plan = {plan.vendor_order_id: plan for plan in world.vendor_orders}
    for key, simulated in conditions(world.orders, world.outages, unaskable):
        condition = _bound(really_late, by_plan[key[1]]) if key[0] == "vendor_late" else simulated
        values = [condition(tick) is True for tick in world.ticks]
        if any(values):
            timeline[key] = values
    for carrier in UNCREDENTIALED:
        timeline[("carrier_not_configured", carrier)] = [True] * len(world.ticks)
    return timeline


def _bound(function: Callable[[VendorOrderPlan, datetime], bool], plan: VendorOrderPlan) -> Callable[[datetime], bool]:
    return lambda t: function(plan, t)


def aliases(world: World) -> dict[Key, Key]:
    """Keys of one problem: a stalled parcel and its order's late delivery (the order's key), and a label never
    scanned and its vendor order's lateness, which hides it (the vendor order's key)."""
    same: dict[Key, Key] = {}
    for order in world.orders:
        for plan in order.vendor_orders:
            if plan.parcel is not None:
                same[("stalled_in_transit", plan.parcel.tracking_number)] = ("delivery_late", order.number)
                same[("tracking_not_scanned", plan.parcel.tracking_number)] = ("vendor_late", plan.vendor_order_id)
    return same


def score(seed: int, world: World, database: Path) -> SeedScore:
    from orderflow.db.engine import make_engine, session_factory
    from orderflow.db.models import NotificationEvent

    result = SeedScore(seed=seed, vendor_orders=len(world.vendor_orders))
    by_plan = {plan.vendor_order_id: plan for plan in world.vendor_orders}
    timeline = truth(world)
    same = aliases(world)
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        notifications = list(session.scalars(select(Notification)))
        events = session.execute(select(NotificationEvent.notification_id, NotificationEvent.at,
                                        NotificationEvent.to_state)
                                 .order_by(NotificationEvent.at, NotificationEvent.id)).all()
    engine.dispose()
    openings = Counter(notification_id for notification_id, _, to_state in events if to_state == "open")
    shown = ever_shown(notifications, events)
    alerts = _judge_alerts(result, [n for n in notifications if n.id in shown], timeline, same, world.ticks)
    ticks = world.ticks
    caught_problems: set[Key] = set()
    for key, values in timeline.items():
        first = _first_run(values, WINDOWS.get(key[0], (1, 12))[0] + 1)
        canonical = same.get(key, key)
        if first is None or first > len(ticks) - 1 - SETTLING_HOURS:
            continue  # never long enough to be seen, or too close to the end to judge
        if canonical[0] == "vendor_late" and _still_waiting(by_plan[canonical[1]], world.end):
            continue
        kind = {"delivery_late": "delivery_late / stalled", "vendor_late": "vendor_late / not scanned"}.get(
            canonical[0], key[0])
        if canonical in caught_problems or (canonical != key and canonical in timeline):
            continue  # counted once, as its order's problem
        result.problems[kind] += 1
        found = [n for n in alerts.get(canonical, []) if n.opened_at]
        opened = min(n.opened_at for n in found if n.opened_at) if found else None
        if opened is None:
            result.missed.append(key)
            continue
        caught_problems.add(canonical)
        result.caught[kind] += 1
        result.openings += sum(max(openings[n.id], 1) for n in found)
        delay = max((opened - ticks[values.index(True)]) / timedelta(hours=1), 0.0)
        result.delays.append(delay)
        if canonical[0] == "vendor_late":
            result.late_delays.append(delay)
    _late_uploads(result, world, alerts)
    _naive(result, world)
    return result


def ever_shown(notifications: list[Notification], events: Iterable[tuple[int, datetime, str]]) -> set[int]:
    """The notifications staff could see at some time. The database keeps only whether a notification is hidden
    now: one hidden by another rule counts as shown if, at one of its openings, no notification of the rule
    that hides it (on the subject it names) was live. One a silence hides is left out, as staff asked."""
    openings: dict[int, list[datetime]] = defaultdict(list)
    live: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for notification_id, at, to_state in events:  # in time order
        spans = live[notification_id]
        if to_state == "open":
            openings[notification_id].append(at)
            if not spans or spans[-1][1] is not None:
                spans.append((at, None))
        elif to_state == "resolved" and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], at)
    named: dict[tuple[str, str], list[int]] = defaultdict(list)
    for notification in notifications:
        staff_name = notification.tracking_number or notification.vendor_order_id or notification.order_number \
            or notification.subject_id
        named[(notification.rule, staff_name)].append(notification.id)

    def hidden_at(moment: datetime, hiders: list[int]) -> bool:
        return any(start <= moment and (end is None or moment < end) for hider in hiders for start, end in live[hider])

    shown = set()
    for notification in notifications:
        if notification.suppressed_by is None:
            shown.add(notification.id)
        elif found := HIDDEN_BY.match(notification.suppressed_by):
            hiders = named.get((found["rule"], found["name"]), [])
            if any(not hidden_at(moment, hiders) for moment in openings[notification.id]):
                shown.add(notification.id)
    return shown


def _judge_alerts(result: SeedScore, notifications: list[Notification], timeline: Mapping[Key, list[bool]],
                  same: Mapping[Key, Key], ticks: tuple[datetime, ...]) -> dict[Key, list[Notification]]:
    """Count each shown notification right or wrong (its problem real at some hour of its life); return them by
    the problem they are about."""
    from orderflow.rules.queue import as_document

    def index(moment: datetime) -> int:
        return max(0, min(len(ticks) - 1, int((moment - ticks[0]) / timedelta(hours=1))))

    alerts: dict[Key, list[Notification]] = defaultdict(list)
    for notification in notifications:
        key = queue_key(as_document(notification))
        start = index(notification.opened_at) if notification.opened_at else 0
        end = index(notification.resolved_at) if notification.resolved_at else len(ticks) - 1
        clear = WINDOWS.get(key[0], (1, 12))[1]
        # A vendor that missed its deadline did, whenever orderflow could tell: lateness reported after the
        # parcel left ("shipped late") is about a problem that was real before the notification.
        since = 0 if same.get(key, key)[0] == "vendor_late" else max(0, start - clear)
        candidates = {key, same.get(key, key)} | {alias for alias, target in same.items() if target == key}
        real = any(any(timeline.get(candidate, [False] * len(ticks))[since:end + 1]) for candidate in candidates)
        result.shown += 1
        result.right += real
        if notification.severity in URGENT:
            result.urgent += 1
            result.urgent_right += real
        if not real:
            result.wrong_by_rule[key[0]] += 1
        alerts[same.get(key, key)].append(notification)
    return alerts


def _still_waiting(plan: VendorOrderPlan, end: datetime) -> bool:
    """A late vendor order orderflow need not have reported by the end: nothing of it was reported a few
    hours before, and the longest wait on "no tracking" was not over by then (its delay is scored when it was
    caught all the same)."""
    settled = end - timedelta(hours=SETTLING_HOURS)
    if plan.parcel is not None and plan.parcel.uploaded_at <= settled:
        return False
    if plan.parcel is None and plan.backordered and plan.answered_at is not None and plan.answered_at <= settled:
        return False  # everything backordered, as the vendor said: a broken promise is evidence, found at once
    return after_business_days(plan.vendor.business, plan.grace, UPLOAD_WAIT_AT_MOST) > settled


def _first_run(values: list[bool], length: int) -> int | None:
    run = 0
    for position, value in enumerate(values):
        run = run + 1 if value else 0
        if run >= length:
            return position
    return None


def _late_uploads(result: SeedScore, world: World, alerts: Mapping[Key, list[Notification]]) -> None:
    for plan in world.vendor_orders:
        parcel = plan.parcel
        if plan.fate != "upload_late" or parcel is None or parcel.first_scan_at is None \
                or parcel.first_scan_at > plan.ship_by or parcel.uploaded_at > world.end - timedelta(hours=6):
            continue
        result.late_uploads += 1
        result.late_uploads_alarmed += bool(alerts.get(("vendor_late", plan.vendor_order_id)))
        result.naive_late_uploads_alarmed += parcel.uploaded_at > plan.ship_by


def _naive(result: SeedScore, world: World) -> None:
    """"No tracking by the ship-by date": one alarm at ship-by for every vendor order without a parcel reported."""
    for plan in world.vendor_orders:
        if plan.ship_by > world.end or rejected(plan, plan.ship_by) or held(plan, plan.ship_by):
            continue
        if plan.parcel is None or plan.parcel.uploaded_at > plan.ship_by:
            result.naive_shown += 1
            result.naive_right += any(really_late(plan, tick) for tick in world.ticks if tick > plan.grace)


def run(seeds: Iterable[int], days: int, orders_per_day: int, keep: Path | None, *, jobs: int = 1,
        no_tracking_wait: float | None = None) -> list[SeedScore]:
    """Each seed's month in its own process (``jobs`` at a time): the months share nothing but the code."""
    work = [(seed, days, orders_per_day, keep, no_tracking_wait) for seed in seeds]
    if jobs <= 1:
        return [_month(*item) for item in work]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_month, *zip(*work, strict=True)))


def _month(seed: int, days: int, orders_per_day: int, keep: Path | None,
           no_tracking_wait: float | None) -> SeedScore:
    if no_tracking_wait is not None:
        from orderflow.rules import vendor_rules

        vendor_rules.NO_TRACKING_WAITS_AT_LEAST = no_tracking_wait
    folder = (keep or Path(tempfile.mkdtemp(prefix="orderflow-signal-"))) / f"seed-{seed}"
    started = time.perf_counter()
    run_demo(DemoOptions(directory=folder, days=days, orders_per_day=orders_per_day, seed=seed,
                         customer_notices=False, uncredentialed=UNCREDENTIALED))
    world = World(seed=seed, days=days, orders_per_day=orders_per_day)
    scored = score(seed, world, folder / "orderflow.db")
    scored.seconds = time.perf_counter() - started
    print(f"seed {seed}: {scored.vendor_orders} vendor orders in {scored.seconds:.0f} s; "
          f"precision {scored.precision:.2f}, wrong by rule {dict(scored.wrong_by_rule)}, missed "
          f"{scored.missed}", file=sys.stderr, flush=True)
    return scored


def table(scores: list[SeedScore]) -> str:
    def row(name: str, values: list[str], goal: str) -> str:
        return f"| {name} | " + " | ".join(values) + f" | {goal} |"

    header = "| measure | " + " | ".join(f"seed {s.seed}" for s in scores) + " | goal |"
    lines = [header, "|---" * (len(scores) + 2) + "|",
             row("vendor orders", [str(s.vendor_orders) for s in scores], ""),
             row("precision of everything shown", [f"{s.precision:.2f} ({s.right}/{s.shown})" for s in scores],
                 ">= 0.90"),
             row("urgent (high/critical) precision",
                 [f"{s.urgent_precision:.2f} ({s.urgent_right}/{s.urgent})" for s in scores], ">= 0.98"),
             row("recall, every kind", [f"{s.recall:.2f} ({sum(s.caught.values())}/{sum(s.problems.values())})"
                                        for s in scores], "1.00")]
    kinds = sorted({kind for s in scores for kind in s.problems})
    for kind in kinds:
        lines.append(row(f"recall: {kind}", [f"{s.caught[kind]}/{s.problems[kind]}" for s in scores], ""))
    lines += [
        row("alerts per problem caught", [f"{s.per_problem:.2f}" for s in scores], "<= 1.05"),
        row("late-upload parcels alarmed (retro false positives)",
            [f"{s.late_upload_share:.0%} ({s.late_uploads_alarmed}/{s.late_uploads})" for s in scores], "<= 5 %"),
        row("detection delay, median hours", [f"{statistics.median(s.delays):.1f}" if s.delays else "-"
                                             for s in scores], "one cron period"),
        row("detection delay of vendor_late, median / max hours",
            [f"{statistics.median(s.late_delays):.1f} / {max(s.late_delays):.1f}" if s.late_delays else "-"
             for s in scores], ""),
        row("false alerts by rule", [", ".join(f"{rule} {count}" for rule, count in s.wrong_by_rule.most_common())
                                     or "none" for s in scores], ""),
        row("naive 'no tracking by ship-by': precision",
            [f"{s.naive_right / s.naive_shown:.2f} ({s.naive_right}/{s.naive_shown})" if s.naive_shown else "-"
             for s in scores], ""),
        row("naive: late-upload parcels alarmed",
            [f"{s.naive_late_uploads_alarmed / s.late_uploads:.0%}" if s.late_uploads else "-" for s in scores], ""),
    ]
    return "\n".join(lines)


def goal_lines(scores: list[SeedScore]) -> list[str]:
    """The worst seed against each goal, one line each: ``<measure> (worst of N seeds): <value> goal <op> <limit>
    met``."""
    worst = {
        "precision": (min(s.precision for s in scores), ">="),
        "urgent precision": (min(s.urgent_precision for s in scores), ">="),
        "recall": (min(s.recall for s in scores), ">="),
        "alerts per problem": (max(s.per_problem for s in scores), "<="),
        "late-upload parcels alarmed": (max(s.late_upload_share for s in scores), "<="),
    }
    lines = []
    for measure, (value, op) in worst.items():
        limit = GOALS[measure]
        met = value >= limit if op == ">=" else value <= limit
        lines.append(f"{measure} (worst of {len(scores)} seeds): {value:.2f} goal {op} {limit:.2f} "
                     f"{'met' if met else 'NOT met'}")
    naive = [s.naive_right / s.naive_shown for s in scores if s.naive_shown]
    if naive:
        lines.append(f"naive 'no tracking by ship-by' precision (worst seed): {min(naive):.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds, one simulated month each")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=12)
    parser.add_argument("--keep", type=Path, default=None, help="keep each seed's demo folder under DIR")
    parser.add_argument("--no-tracking-wait", type=float, default=None,
                        help="business days after the grace deadline that 'no tracking' waits at least "
                             "(a what-if for the trade-off; default: orderflow's own)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="months simulated at once, one process each (default: one per seed)")
    options = parser.parse_args()
    seeds = [int(seed) for seed in options.seeds.split(",")]
    scores = run(seeds, options.days, options.orders_per_day, options.keep,
                 jobs=options.jobs or len(seeds), no_tracking_wait=options.no_tracking_wait)
    print(table(scores))
    print()
    print("\n".join(goal_lines(scores)))


if __name__ == "__main__":
    main()
