"""Every notification rule by its contract name, in the order staff read them, with what each means."""

from __future__ import annotations

from orderflow.rules.findings import Rule
from orderflow.rules.tracking_rules import TRACKING_AND_JOB_RULES
from orderflow.rules.vendor_rules import VENDOR_RULES
from orderflow.rules.vocabulary import TYPE_ORDER

RULES: dict[str, Rule] = dict(sorted({**VENDOR_RULES, **TRACKING_AND_JOB_RULES}.items(),
                                     key=lambda item: TYPE_ORDER.index(item[0]) if item[0] in TYPE_ORDER else 99))


def describe(name: str) -> str:
    """The first line of the rule's docstring: when it fires."""
    doc = (RULES[name].__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
