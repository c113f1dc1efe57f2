"""Stand-in rules: findings a test declares true now, served under the real rules' names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from orderflow.rules.findings import Finding, Rule, RuleContext, Subject

MON = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


class World:
    """Findings the test says are true now, served by stand-in rules named like the real ones."""

    def __init__(self) -> None:
        self.true: dict[str, list[Finding]] = {}

    def rule(self, name: str) -> tuple[str, Rule]:
        def stand_in(_context: RuleContext) -> Iterable[Finding]:
            return list(self.true.get(name, []))
        return name, stand_in

    def rules(self, *names: str) -> list[tuple[str, Rule]]:
        return [self.rule(name) for name in names]


ALL = ("vendor_rejected", "vendor_late", "stalled_in_transit", "tracking_feed_unhealthy", "carrier_exception",
       "delivery_late", "out_of_stock")


def late(vo: str = "TB9101-ACME", evidence: str = "no tracking", severity: str = "warning") -> Finding:
    return Finding("vendor_late", Subject("vendor_order", vo, order_number="9101", vendor_code="ACME",
                                          vendor_order_id=vo), severity, evidence, factual=False)  # type: ignore[arg-type]


def rejected(vo: str = "TB9101-ACME") -> Finding:
    return Finding("vendor_rejected", Subject("vendor_order", vo, order_number="9101", vendor_code="ACME",
                                              vendor_order_id=vo), "critical", "line 1: out of production")
