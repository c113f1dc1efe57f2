"""The queue's words: severities, sorts, states and silence keys.

Kept apart from the rules so the command line can check a typed value against them before anything heavy (the
database layer, calendars, the rules) is imported. Rule names and their order come from the rules' own entries
(``rules.catalogue``), read only when a command line names a rule.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["critical", "high", "warning", "info"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "warning", "info")

SORTS = ("type", "severity", "age", "vendor")
STATES = ("open", "acknowledged", "snoozed", "resolved", "all")
SILENCE_KEYS = ("rule", "vendor", "carrier", "order", "vendor_order", "severity", "subject")
