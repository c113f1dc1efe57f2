"""Every notification rule by its contract name, in the order staff read them, and the tables the engine and
the queue derive from what each rule says about itself (its :class:`~orderflow.rules.findings.RuleEntry`).

A rule is added in one place: its function and its entry, side by side in its module. Nothing here is typed by
hand, so no table can name a rule that does not exist.
"""

from __future__ import annotations

from orderflow.rules.findings import Rule, RuleEntry, SharedField
from orderflow.rules.job_rules import JOB_RULES
from orderflow.rules.tracking_rules import TRACKING_RULES
from orderflow.rules.vendor_rules import VENDOR_RULES

ENTRIES: tuple[RuleEntry, ...] = tuple(sorted((*JOB_RULES, *VENDOR_RULES, *TRACKING_RULES),
                                              key=lambda entry: entry.rank))
"""Every rule, most urgent first."""
BY_NAME: dict[str, RuleEntry] = {entry.name: entry for entry in ENTRIES}
RULES: dict[str, Rule] = {entry.name: entry.check for entry in ENTRIES}
TYPE_ORDER: tuple[str, ...] = tuple(BY_NAME)
"""Every rule, most urgent first: the queue's type ranking."""

FEED_RULE = "tracking_feed_unhealthy"
"""The rule whose finding freezes the rules ``frozen_with_feed`` for its carrier."""
FROZEN_WITH_FEED = frozenset(entry.name for entry in ENTRIES if entry.frozen_with_feed)
INHIBITIONS: tuple[tuple[str, frozenset[str], SharedField], ...] = tuple(
    (entry.name, hides.rules, hides.on) for entry in ENTRIES for hides in entry.hides)
"""hider -> what it hides, and the subject field both must share; a rule hidden by two is said to be hidden by
the more urgent."""
SAME_PROBLEM: tuple[tuple[str, str, SharedField], ...] = tuple(
    (entry.name, same.rule, same.on) for entry in ENTRIES for same in entry.same_problem)
NEVER_MOOT = frozenset(entry.name for entry in ENTRIES if entry.never_moot)
HANDLED_BY_HAND = frozenset(entry.name for entry in ENTRIES if entry.handled_by_hand)


def describe(name: str) -> str:
    """The first line of the rule's docstring: when it fires."""
    return BY_NAME[name].description
