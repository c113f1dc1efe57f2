"""The queue's words: severities, rule types in the order of urgency, sorts, states and silence keys.

Kept apart from the rules themselves so the command line can check a typed value against them before anything
heavy (the database layer, calendars, the rules) is imported.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["critical", "high", "warning", "info"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "warning", "info")

TYPE_ORDER = (
    "job_failed", "job_missing", "tracking_feed_unhealthy", "carrier_not_configured",
    "vendor_rejected", "vendor_on_hold", "dispatch_failed", "unroutable_line", "import_refused",
    "vendor_file_refused", "out_of_stock", "cancel_not_confirmed", "shipped_after_cancel", "tracking_invalid",
    "tracking_not_scanned", "carrier_exception", "returned_to_sender", "vendor_late", "stalled_in_transit",
    "delivery_late", "not_acknowledged", "customer_not_notified",
)
"""Every rule, most urgent first: the queue's type ranking."""

SORTS = ("type", "severity", "age", "vendor")
STATES = ("open", "acknowledged", "snoozed", "resolved", "all")
SILENCE_KEYS = ("rule", "vendor", "carrier", "order", "vendor_order", "severity", "subject")
