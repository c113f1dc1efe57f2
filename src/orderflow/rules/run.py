"""The ``rules run`` job: evaluate every rule at one instant, plan the pushes in the same transaction, send them."""

from __future__ import annotations

from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.errors import ExitCode
from orderflow.jobs import WorkResult
from orderflow.rules.catalogue import RULES
from orderflow.rules.engine import evaluate, shop_calendar
from orderflow.rules.push import deliver, plan_pushes


def run_rules(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    """One evaluation and its pushes. The same ``--now`` twice changes nothing and pushes nothing new."""
    now = clock.now()
    with session_factory(engine)() as session, session.begin():
        result = evaluate(session=session, settings=settings, now=now, rules=list(RULES.items()))
        planned = plan_pushes(session=session, settings=settings, now=now, calendar=shop_calendar(settings))
    delivery = deliver(engine=engine, settings=settings, now=now)
    problems = list(result.errors) + delivery.problems
    if result.frozen_carriers:
        problems.append(f"tracking feed unhealthy for {', '.join(result.frozen_carriers)}: its tracking rules are "
                        "frozen until it recovers")
    failed = bool(result.errors or delivery.waiting or delivery.refused)
    return WorkResult(
        counts={"opened": result.opened, "reopened": result.reopened, "updated": result.updated,
                "resolved": result.resolved, "hidden": result.hidden, "pushes": planned, "sent": delivery.sent},
        problems=problems, exit_code=ExitCode.PARTIAL_FAILURE if failed else ExitCode.OK, detail=result)
