"""The rules engine: findings in, notifications out — one per problem, opened once, resolved when it ends.

Each run evaluates every enabled rule over the active work, then, before anything is pushed:

1. **Freeze**: while ``tracking_feed_unhealthy`` fires for a carrier, the tracking-based rules for that carrier
   keep their last state: no new stalls, no mass resolve, no reopen wave after the outage.
2. **Inhibit**: one finding that explains another on the same subject hides it (a rejection hides lateness of
   the same vendor order; invalid tracking hides lateness and stalls of its parcel; a carrier exception hides
   stalls and delivery lateness; a carrier without credentials is not also an unhealthy feed), and of two
   rules naming one problem (a parcel stalled past its estimate is both stalled and late) only the one
   already shown shows. Hidden notifications are kept, with ``suppressed_by`` saying why in the names staff
   use (tracking number, vendor order id, order number).
3. **Silence**: staff silences (``vendor=ACME rule=vendor_late`` until a date) mark matching notifications.
4. **Reconcile** with the stored notifications, one per fingerprint ``hash(rule, subject)``:
   a repeat updates ``last_seen_at`` and ``count``; a new finding opens a notification, or reopens the last
   one within the reopen window (3 shop business days); a manual resolve of a still-true condition comes back
   after one business day; an ack holds until the condition clears or escalates; a snooze ends at its time or
   on escalation or new evidence. A finding that disappears resolves its notification — factual ones at once,
   observational ones only after staying false for ``clear_for``; anything on a cancelled order or a delivered
   parcel resolves as moot. Every transition is recorded with its reason and actor.

Rules only read; this module is the only writer of notifications besides staff commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from orderflow.calendars import BusinessCalendar, VendorCalendars
from orderflow.calendars import shop_calendar as calendar_of_shop
from orderflow.config import Settings
from orderflow.db.models import (
    Notification,
    NotificationEvent,
    NotificationState,
    Order,
    OrderState,
    Shipment,
    Silence,
)
from orderflow.rules.catalogue import (
    FEED_RULE,
    FROZEN_WITH_FEED,
    HANDLED_BY_HAND,
    INHIBITIONS,
    NEVER_MOOT,
    SAME_PROBLEM,
)
from orderflow.rules.findings import Finding, Rule, RuleContext, Subject
from orderflow.rules.queue import LIVE, SILENCE_MARK, matchers_hold, silence_mark
from orderflow.rules.vocabulary import SEVERITY_ORDER

CLEAR_FOR = timedelta(hours=4)
REOPEN_WINDOW_BUSINESS_DAYS = 3
MANUAL_RESOLVE_HOLDS_BUSINESS_DAYS = 1
ACTOR = "rules"



@dataclass
class RunResult:
    """What one evaluation did; ``to_push`` are notifications that are new, back, or worse, and not hidden."""

    opened: int = 0
    reopened: int = 0
    updated: int = 0
    resolved: int = 0
    hidden: int = 0
    frozen_carriers: list[str] = field(default_factory=list)
    to_push: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def shop_calendar(settings: Settings) -> BusinessCalendar:
    """The shop's own business days (Mon-Fri, US holidays, its time zone): ages and reopen windows."""
    return calendar_of_shop(settings.timezone)


def evaluate(*, session: Session, settings: Settings, now: datetime, rules: Sequence[tuple[str, Rule]],
             ) -> RunResult:
    """One evaluation inside the caller's transaction: run the rules, then reconcile. Same ``now`` twice: no change."""
    result = RunResult()
    context = RuleContext(session=session, now=now, settings=settings, calendars=VendorCalendars(settings.vendors))
    findings: list[Finding] = []
    evaluated: set[str] = set()
    for name, rule in rules:
        if not _enabled(settings, name):
            continue
        try:
            findings.extend(rule(context))
            evaluated.add(name)
        except Exception as exc:  # one broken rule must not silence the others; its notifications are left alone
            result.errors.append(f"rule {name} failed: {type(exc).__name__}: {exc}")
    frozen = sorted({f.subject.id for f in findings if f.rule == FEED_RULE})
    result.frozen_carriers = frozen
    findings = [f for f in findings if not _frozen(f.rule, f.subject.carrier, frozen)]
    hiders = _hiders(findings)
    hidden = _same_problem(session, findings) | _inhibited(findings, hiders)
    Reconciler(session=session, settings=settings, now=now, result=result, calendar=shop_calendar(settings),
               silences=_active_silences(session, now), hiders=hiders).run(findings, hidden, evaluated, frozen)
    return result


def _enabled(settings: Settings, rule: str) -> bool:
    configured = settings.rules.get(rule)
    return configured is None or configured.enabled


def _frozen(rule: str, carrier: str | None, frozen: Sequence[str]) -> bool:
    return rule in FROZEN_WITH_FEED and carrier is not None and carrier in frozen


Hiders = dict[tuple[str, str, object], str]
"""(hiding rule, shared subject field, its value) -> why ("vendor_rejected on TB1042-ACME"), for this run."""


def _hiders(findings: Sequence[Finding]) -> Hiders:
    hiders: Hiders = {}
    for hider, _, shared in INHIBITIONS:
        for finding in findings:
            key = getattr(finding.subject, shared)
            if finding.rule == hider and key:
                hiders.setdefault((hider, shared, key), f"{hider} on {staff_name(finding.subject)}")
    return hiders


def _hidden_by(hiders: Hiders, rule: str, about: object) -> str | None:
    """Why a finding or notification of ``rule`` about ``about`` (a finding's subject, or a notification: both
    carry the shared fields) is hidden this run, by the first inhibition that applies; ``None`` if it is not."""
    for hider, hides, shared in INHIBITIONS:
        if rule in hides and (why := hiders.get((hider, shared, getattr(about, shared)))):
            return why
    return None


def _inhibited(findings: Sequence[Finding], hiders: Hiders) -> dict[str, str]:
    """fingerprint -> why it is hidden."""
    return {finding.fingerprint: why for finding in findings
            if (why := _hidden_by(hiders, finding.rule, finding.subject))}


def _same_problem(session: Session, findings: Sequence[Finding]) -> dict[str, str]:
    """fingerprint -> why, for the finding of each ``SAME_PROBLEM`` pair that is not the one shown."""
    shown = set(session.scalars(select(Notification.fingerprint).where(
        Notification.state.in_(LIVE), Notification.suppressed_by.is_(None))))
    hidden: dict[str, str] = {}
    for first, second, shared in SAME_PROBLEM:
        firsts = {key: finding for finding in findings
                  if finding.rule == first and (key := getattr(finding.subject, shared))}
        for finding in findings:
            other = firsts.get(getattr(finding.subject, shared)) if finding.rule == second else None
            if other is None:
                continue
            keep, hide = (finding, other) if finding.fingerprint in shown and other.fingerprint not in shown \
                else (other, finding)
            hidden[hide.fingerprint] = f"the same problem as {keep.rule} on {staff_name(keep.subject)}"
    return hidden


def staff_name(subject: Subject) -> str:
    """What staff call a subject: the tracking number, vendor order id or order number before a database id."""
    return subject.tracking_number or subject.vendor_order_id or subject.order_number or subject.id


def _active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(select(Silence).where(Silence.starts_at <= now, Silence.ends_at > now)))


def silence_matches(silence: Silence, finding: Finding) -> bool:
    return matchers_hold(silence.matchers, {
        "rule": finding.rule, "vendor": finding.subject.vendor_code, "carrier": finding.subject.carrier,
        "order": finding.subject.order_number, "vendor_order": finding.subject.vendor_order_id,
        "severity": finding.severity, "subject": finding.subject.id})


@dataclass
class Reconciler:
    session: Session
    settings: Settings
    now: datetime
    result: RunResult
    calendar: BusinessCalendar
    silences: list[Silence]
    hiders: Hiders

    def run(self, findings: Iterable[Finding], hidden: dict[str, str], evaluated: set[str],
            frozen: Sequence[str]) -> None:
        by_fingerprint = {finding.fingerprint: finding for finding in findings}
        live = {n.fingerprint: n for n in self.session.scalars(
            select(Notification).where(Notification.state.in_(LIVE)))}
        for fingerprint, finding in by_fingerprint.items():
            suppressed = hidden.get(fingerprint) or self._silenced(finding)
            if fingerprint in live:
                self._update(live[fingerprint], finding, suppressed)
                continue
            last, held = self._last_resolved(fingerprint)
            if held:
                continue  # resolved by hand less than a business day ago: staff said so, let it rest
            if last is not None:
                self._reopen(last, finding, suppressed)
            else:
                self._open(finding, suppressed)
        gone = [n for fingerprint, n in live.items() if fingerprint not in by_fingerprint]
        moot = self._moot_subjects(gone)
        for notification in gone:
            if notification.rule not in evaluated or _frozen(notification.rule, notification.carrier, frozen):
                continue  # not evaluated this run (disabled, broken) or frozen by a feed outage: keep as is
            self._condition_false(notification, moot)

    # --- a finding that is true now ---------------------------------------------------------------------

    def _last_resolved(self, fingerprint: str) -> tuple[Notification | None, bool]:
        """The resolved notification to reopen (within the window), and whether a manual resolve still holds."""
        last = self.session.scalar(select(Notification).where(Notification.fingerprint == fingerprint)
                                   .order_by(Notification.id.desc()).limit(1))
        if last is None or last.resolved_at is None:
            return None, False
        if last.resolved_how == "manual" and last.rule in HANDLED_BY_HAND:
            return None, True
        if last.resolved_how == "manual":
            holds_until = self._business_days_after(last.resolved_at, MANUAL_RESOLVE_HOLDS_BUSINESS_DAYS)
            return (last, False) if self.now >= holds_until else (None, True)
        if self.now <= self._business_days_after(last.resolved_at, REOPEN_WINDOW_BUSINESS_DAYS):
            return last, False
        return None, False

    def _business_days_after(self, moment: datetime, days: int) -> datetime:
        local_day = moment.astimezone(self.calendar.zone).date()
        due = self.calendar.add_working_days(local_day, days)
        return datetime.combine(due, moment.astimezone(self.calendar.zone).timetz())

    def _open(self, finding: Finding, suppressed: str | None) -> None:
        episodes = self.session.scalar(select(Notification.episode).where(
            Notification.fingerprint == finding.fingerprint).order_by(Notification.episode.desc()).limit(1))
        subject = finding.subject
        notification = Notification(
            fingerprint=finding.fingerprint, rule=finding.rule, severity=finding.severity,
            subject_type=subject.type, subject_id=subject.id, order_number=subject.order_number,
            vendor_code=subject.vendor_code, vendor_order_id=subject.vendor_order_id,
            shipment_id=subject.shipment_id, tracking_number=subject.tracking_number, carrier=subject.carrier,
            labels=dict(finding.labels) | {"factual": "yes" if finding.factual else "no"}, evidence=finding.evidence,
            state=NotificationState.OPEN, episode=(episodes or 0) + 1, opened_at=self.now, last_true_at=self.now,
            last_seen_at=self.now, count=1, suppressed_by=suppressed)
        self.session.add(notification)
        self.session.flush()
        self._event(notification, None, NotificationState.OPEN, f"{finding.rule}: {finding.evidence}")
        self.result.opened += 1
        self._maybe_push(notification)

    def _reopen(self, notification: Notification, finding: Finding, suppressed: str | None) -> None:
        self._event(notification, notification.state, NotificationState.OPEN,
                    f"true again within the reopen window: {finding.evidence}")
        notification.state, notification.resolved_at, notification.resolved_how = NotificationState.OPEN, None, None
        notification.acked_by = notification.acked_at = notification.snoozed_until = None
        notification.false_since = None
        self._refresh(notification, finding, suppressed)
        self.result.reopened += 1
        self._maybe_push(notification)

    def _update(self, notification: Notification, finding: Finding, suppressed: str | None) -> None:
        worse = _rank(finding.severity) < _rank(notification.severity)
        new_evidence = finding.evidence != notification.evidence
        state = notification.state
        if state == NotificationState.ACKNOWLEDGED and worse:
            self._event(notification, state, NotificationState.OPEN, f"escalated to {finding.severity}")
            notification.state = NotificationState.OPEN
        elif state == NotificationState.SNOOZED and (
                worse or new_evidence or (notification.snoozed_until or self.now) <= self.now):
            why = "escalated" if worse else "new evidence" if new_evidence else "snooze ended"
            self._event(notification, state, NotificationState.OPEN, f"{why}: {finding.evidence}")
            notification.state, notification.snoozed_until = NotificationState.OPEN, None
        self._refresh(notification, finding, suppressed)
        self.result.updated += 1
        if worse:
            self._maybe_push(notification)

    def _refresh(self, notification: Notification, finding: Finding, suppressed: str | None) -> None:
        if notification.last_seen_at != self.now:
            notification.count += 1
        notification.severity, notification.evidence = finding.severity, finding.evidence
        # Merged, not replaced: pushes keep their own marks here (what severity was pushed, whether resolved).
        notification.labels = {**notification.labels, **finding.labels,
                               "factual": "yes" if finding.factual else "no"}
        notification.last_seen_at = notification.last_true_at = self.now
        notification.false_since = None
        notification.suppressed_by = suppressed

    def _silenced(self, finding: Finding) -> str | None:
        silence = next((s for s in self.silences if silence_matches(s, finding)), None)
        return None if silence is None else silence_mark(silence)

    def _maybe_push(self, notification: Notification) -> None:
        if notification.suppressed_by:
            self.result.hidden += 1
        elif notification.state == NotificationState.OPEN:
            self.result.to_push.append(notification.id)

    # --- a notification whose finding is gone --------------------------------------------------------------

    def _moot_subjects(self, notifications: list[Notification]) -> dict[int, str]:
        """Notifications made moot, with why: the order was cancelled, the parcel delivered, or a problem that
        hides it (a rejection hiding lateness) is true now or hid it before."""
        orders = {n.order_number for n in notifications if n.order_number}
        shipments = {n.shipment_id for n in notifications if n.shipment_id}
        cancelled = set(self.session.scalars(select(Order.order_number).where(
            Order.order_number.in_(orders), Order.state == OrderState.CANCELLED))) if orders else set()
        delivered = set(self.session.scalars(select(Shipment.id).where(
            Shipment.id.in_(shipments), or_(Shipment.status == "delivered", Shipment.delivered_at.is_not(None))))) \
            if shipments else set()
        moot: dict[int, str] = {}
        for n in notifications:
            if n.rule in NEVER_MOOT:
                continue
            if n.order_number in cancelled:
                moot[n.id] = "the order was cancelled"
            elif n.shipment_id in delivered:
                moot[n.id] = "the parcel was delivered"
            elif overtaken := _hidden_by(self.hiders, n.rule, n):
                moot[n.id] = f"overtaken by {overtaken}"
            elif n.suppressed_by and not n.suppressed_by.startswith(SILENCE_MARK):
                moot[n.id] = f"overtaken by {n.suppressed_by}"
        return moot

    def _condition_false(self, notification: Notification, moot: dict[int, str]) -> None:
        if notification.id in moot:
            self._resolve(notification, "moot", moot[notification.id])
            return
        factual = notification.labels.get("factual") == "yes"
        if factual:
            self._resolve(notification, "auto", "no longer found")
            return
        if notification.false_since is None:
            notification.false_since = self.now
        elif self.now - notification.false_since >= CLEAR_FOR:
            self._resolve(notification, "auto", f"clear since {notification.false_since:%Y-%m-%d %H:%M} UTC")

    def _resolve(self, notification: Notification, how: str, reason: str) -> None:
        self._event(notification, notification.state, NotificationState.RESOLVED, f"{how}: {reason}")
        notification.state, notification.resolved_at, notification.resolved_how = \
            NotificationState.RESOLVED, self.now, how
        self.result.resolved += 1

    def _event(self, notification: Notification, before: str | None, after: str, reason: str) -> None:
        self.session.add(NotificationEvent(notification_id=notification.id, at=self.now, from_state=before,
                                           to_state=after, reason=reason, actor=ACTOR))


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)

