"""The ``rules run`` job: evaluate every rule at one instant and report what changed."""

from __future__ import annotations

from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.errors import ExitCode
from orderflow.jobs import WorkResult
from orderflow.rules.catalogue import RULES
from orderflow.rules.engine import evaluate


def run_rules(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    """One evaluation in one transaction. The same ``--now`` twice changes nothing."""
    with session_factory(engine)() as session, session.begin():
        result = evaluate(session=session, settings=settings, now=clock.now(), rules=list(RULES.items()))
    problems = list(result.errors)
    if result.frozen_carriers:
        problems.append(f"tracking feed unhealthy for {', '.join(result.frozen_carriers)}: its tracking rules are "
                        "frozen until it recovers")
    return WorkResult(
        counts={"opened": result.opened, "reopened": result.reopened, "updated": result.updated,
                "resolved": result.resolved, "hidden": result.hidden, "to_push": len(result.to_push)},
        problems=problems, exit_code=ExitCode.PARTIAL_FAILURE if result.errors else ExitCode.OK, detail=result)
