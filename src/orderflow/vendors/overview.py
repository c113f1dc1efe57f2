"""What ``orderflow vendors`` and ``orderflow dispatch --dry-run`` show: vendors with their work, by state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from orderflow.config import Settings
from orderflow.db.models import CircuitState, VendorOrder, VendorOrderState

SUFFIX = {"csv": ".csv", "x12": ".edi", "json": ".json"}


def vendor_overview(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Each configured vendor with its vendor orders counted by state and its breaker."""
    counts: dict[str, dict[str, int]] = {}
    for code, state, number in session.execute(
            select(VendorOrder.vendor_code, VendorOrder.state, func.count()).group_by(VendorOrder.vendor_code,
                                                                                      VendorOrder.state)):
        counts.setdefault(code, {})[state] = number
    breakers = {row.key: row for row in session.scalars(select(CircuitState))}
    overview = []
    for vendor in settings.vendors:
        breaker = breakers.get(f"vendor:{vendor.code}")
        overview.append({
            "code": vendor.code, "name": vendor.name, "kind": vendor.kind, "format": vendor.format,
            "transport": vendor.transport,
            "vendor_orders": {state.value: counts.get(vendor.code, {}).get(state.value, 0)
                              for state in VendorOrderState},
            "breaker": breaker.state if breaker else "closed",
            "paused_until": breaker.retry_at if breaker and breaker.state == "open" else None,
        })
    return overview


def dispatch_preview(session: Session, settings: Settings, *, now: datetime,
                     vendor: str | None = None) -> list[dict[str, Any]]:
    """What a dispatch run would send now, without claiming or sending anything."""
    wanted = [settings.vendor(vendor)] if vendor else list(settings.vendors)
    by_code = {configured.code: configured for configured in wanted}
    rows = session.execute(
        select(VendorOrder.id, VendorOrder.vendor_code, VendorOrder.attempts, VendorOrder.last_error)
        .where(VendorOrder.vendor_code.in_(list(by_code)), VendorOrder.state == VendorOrderState.PENDING,
               or_(VendorOrder.next_attempt_at.is_(None), VendorOrder.next_attempt_at <= now))
        .order_by(VendorOrder.vendor_code, VendorOrder.created_at, VendorOrder.id))
    preview = []
    for vo_id, code, attempts, last_error in rows:
        configured = by_code[code]
        target = f"{vo_id}{SUFFIX[configured.format]}" if configured.transport != "http" else \
            f"POST {configured.base_url}/orders"
        preview.append({"vendor_order": vo_id, "vendor": code, "format": configured.format,
                        "transport": configured.transport, "as": target, "attempts": attempts,
                        "last_error": last_error})
    return preview
