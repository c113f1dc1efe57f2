"""The queue's words: severities, sorts, states and silence keys.

Kept apart from the rules so the command line can check a typed value against them before anything heavy (the
database layer, calendars, the rules) is imported. Rule names and their order come from the rules' own entries
(``rules.catalogue``), read only when a command line names a rule; the one exception is :data:`TYPE_ORDER`.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["critical", "high", "warning", "info"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "warning", "info")

SORTS = ("type", "severity", "age", "vendor")
STATES = ("open", "acknowledged", "snoozed", "resolved", "all")
SILENCE_KEYS = ("rule", "vendor", "carrier", "order", "vendor_order", "severity", "subject")

TYPE_ORDER: tuple[str, ...] = (
    "job_failed",
    "job_missing",
    "tracking_feed_unhealthy",
    "carrier_not_configured",
    "vendor_rejected",
    "vendor_on_hold",
    "dispatch_failed",
    "unroutable_line",
    "import_refused",
    "vendor_file_refused",
    "out_of_stock",
    "cancel_not_confirmed",
    "shipped_after_cancel",
    "tracking_invalid",
    "tracking_not_scanned",
    "carrier_exception",
    "returned_to_sender",
    "vendor_late",
    "stalled_in_transit",
    "delivery_late",
    "not_acknowledged",
    "customer_not_notified",
)
"""Every rule, most urgent first: how the staff queue ranks by type. The queue is read on every look at it, so
it ranks without loading the rules themselves (their modules load the database models and the calendars); a
test holds this equal to the order the rules' own entries give (``rules.catalogue.TYPE_ORDER``), so a rule
added there and not here fails the suite."""
