"""What a rule says: findings about subjects, as plain data the engine reconciles with stored notifications.

A rule is a function ``rule(context) -> Iterable[Finding]``: a set-based query over the active work (never the
whole history) that yields one :class:`Finding` per subject for which its condition is true *now*. Rules never
write; the engine turns findings into notifications (one per fingerprint), hides what another finding
explains (inhibition), opens, updates and resolves them, and pushes what is new.

``evidence`` is the short sentence staff read in the queue ("label created Tue 3 Nov, never scanned",
"2 of 5 lines unshipped", "Printful: Recipient address is invalid"). ``factual`` findings (a rejection, an
invalid check digit) resolve as soon as they stop being found; observational ones (lateness, stalls, feed
health) only after staying false for the rule's ``clear_for``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from orderflow.calendars import VendorCalendars
from orderflow.config import Settings
from orderflow.rules.vocabulary import Severity

SubjectType = Literal["order", "vendor", "vendor_order", "order_line", "vendor_order_line", "shipment", "carrier",
                      "job", "source", "vendor_file"]


@dataclass(frozen=True)
class Subject:
    """What a finding is about, with the context staff need to act (order, vendor, parcel)."""

    type: SubjectType
    id: str
    order_number: str | None = None
    vendor_code: str | None = None
    vendor_order_id: str | None = None
    shipment_id: int | None = None
    tracking_number: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: Subject
    severity: Severity
    evidence: str
    factual: bool = True
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def fingerprint(self) -> str:
        """One notification per (rule, subject): the same problem found again updates it, never duplicates it."""
        return fingerprint(self.rule, self.subject.type, self.subject.id)


def fingerprint(rule: str, subject_type: str, subject_id: str) -> str:
    """A notification's identity: its rule and subject, hashed (what :attr:`Finding.fingerprint` gives)."""
    return hashlib.sha256(f"{rule}|{subject_type}|{subject_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RuleContext:
    """What every rule may read: a session (read only), the instant being judged, settings and calendars."""

    session: Session
    now: datetime
    settings: Settings
    calendars: VendorCalendars


Rule = Callable[[RuleContext], Iterable[Finding]]

SharedField = Literal["vendor_order_id", "shipment_id", "order_number", "carrier"]
"""A subject field two findings must share for one to explain the other."""


@dataclass(frozen=True)
class Hides:
    """Findings of ``rules`` that share ``on`` with this rule's finding are hidden behind it: the rejection of a
    vendor order explains its lateness, so staff see the rejection alone."""

    rules: frozenset[str]
    on: SharedField


@dataclass(frozen=True)
class SameProblem:
    """This rule and ``rule`` name one problem when they share ``on``: the notification already shown keeps
    showing and the other is hidden behind it; found together for the first time, this rule's shows."""

    rule: str
    on: SharedField


@dataclass(frozen=True, kw_only=True)
class RuleEntry:
    """One rule and everything the engine and the queue need to know about it, kept beside its function.

    ``rank`` orders the queue's types, most urgent first (a lower rank is more urgent; ranks go in tens so a new
    rule fits between two). ``frozen_with_feed``: the finding is about what a carrier reports, so while
    ``tracking_feed_unhealthy`` fires for its carrier it keeps its last state. ``never_moot``: its subject is
    expected to be cancelled, so a cancelled order does not resolve it. ``handled_by_hand``: it is about a past
    event, so a manual resolve is for good. Severity stays in the function: some rules choose between two.
    """

    name: str
    check: Rule
    rank: int
    hides: tuple[Hides, ...] = ()
    same_problem: tuple[SameProblem, ...] = ()
    frozen_with_feed: bool = False
    never_moot: bool = False
    handled_by_hand: bool = False

    @property
    def description(self) -> str:
        """The first line of the rule's docstring: when it fires."""
        doc = (self.check.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


def rule_severity(context: RuleContext, rule: str, default: Severity) -> Severity | None:
    """The severity ``rule`` reports at: ``settings.rules[rule].severity`` if set, else ``default``.

    ``None`` means the rule is switched off (``enabled = false``) and must find nothing.

    >>> rule_severity(context, "vendor_on_hold", "high")  # doctest: +SKIP
    'high'
    """
    setting = context.settings.rules.get(rule)
    if setting is None:
        return default
    if not setting.enabled:
        return None
    return setting.severity or default
