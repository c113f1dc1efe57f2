"""The staff queue: what needs a person, most urgent first, and what staff do with it (ack, snooze, resolve).

Ranking: rule type first (the business's order of urgency), then severity, then age. Every staff action is
recorded with who did it and why, so ``orderflow notifications why ID`` tells the whole story.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.db.models import Notification, NotificationEvent, NotificationState, Silence
from orderflow.errors import InputError
from orderflow.rules.listing import (
    JSON_FIELDS,
    Listed,
    QueueFilter,
    as_document,
    queue_documents,
    severity_rank,
    sort_key,
    type_rank,
)
from orderflow.rules.vocabulary import SILENCE_KEYS

LIVE = (NotificationState.PENDING, NotificationState.OPEN, NotificationState.ACKNOWLEDGED, NotificationState.SNOOZED)
"""The states of a notification still in play (not resolved)."""
SILENCE_MARK = "silence #"
"""How ``suppressed_by`` starts when a silence hides a notification (an inhibiting rule writes its own name)."""

# The queue as it is read comes from orderflow.rules.listing, which does not load the ORM models, and is still
# importable from here; what staff do with it is below.
__all__ = [
    "JSON_FIELDS",
    "LIVE",
    "SILENCE_MARK",
    "Listed",
    "QueueFilter",
    "StaffOutcome",
    "acknowledge",
    "active_silences",
    "add_silence",
    "as_document",
    "end_silence",
    "history",
    "queue_documents",
    "reopen",
    "resolve",
    "severity_rank",
    "snooze",
    "sort_key",
    "subject_label",
    "type_rank",
    "unacknowledge",
    "unsnooze",
]

# --- staff actions -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffOutcome:
    """What one staff action did to one notification, named as staff know it."""

    id: int
    rule: str
    subject: str
    """The vendor order id, tracking number or order number the notification is about."""
    state: str
    changed: bool
    note: str
    """What happened, or why nothing changed."""

    def __str__(self) -> str:
        return f"#{self.id} {self.rule.replace('_', ' ')} {self.subject}: {self.note}"


def subject_label(notification: Notification) -> str:
    """What the notification is about, as staff know it (never a database id)."""
    return (notification.vendor_order_id or notification.tracking_number or notification.order_number
            or notification.carrier or notification.subject_id)


def _outcome(notification: Notification, note: str, *, changed: bool = True) -> StaffOutcome:
    return StaffOutcome(id=notification.id, rule=notification.rule, subject=subject_label(notification),
                        state=notification.state, changed=changed, note=note)


def _find(session: Session, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None:
        raise InputError(f"no notification {notification_id}")
    return notification


def _record(session: Session, notification: Notification, after: str, *, now: datetime, actor: str,
            reason: str) -> None:
    session.add(NotificationEvent(notification_id=notification.id, at=now, from_state=notification.state,
                                  to_state=after, reason=reason, actor=actor))
    notification.state = after


def _live(session: Session, notification_id: int, action: str) -> Notification:
    notification = _find(session, notification_id)
    if notification.state == NotificationState.RESOLVED:
        raise InputError(f"notification {notification_id} is resolved; `notifications reopen {notification_id}` "
                         f"first to {action} it")
    return notification


def acknowledge(session: Session, notification_id: int, *, actor: str, now: datetime,
                note: str | None = None) -> StaffOutcome:
    """Someone is on it: it stays in the queue as acknowledged until it clears or gets worse."""
    notification = _live(session, notification_id, "acknowledge")
    if notification.state == NotificationState.ACKNOWLEDGED:
        return _outcome(notification, f"already acknowledged by {notification.acked_by}; nothing changed",
                        changed=False)
    _record(session, notification, NotificationState.ACKNOWLEDGED, now=now, actor=actor,
            reason=note or "acknowledged")
    notification.acked_by, notification.acked_at, notification.note = actor, now, note or notification.note
    return _outcome(notification, f"acknowledged by {actor}")


def unacknowledge(session: Session, notification_id: int, *, actor: str, now: datetime) -> StaffOutcome:
    """Undo an acknowledgement: back to open, nobody on it."""
    notification = _find(session, notification_id)
    if notification.state != NotificationState.ACKNOWLEDGED:
        return _outcome(notification, f"is {notification.state}, not acknowledged; nothing changed", changed=False)
    _record(session, notification, NotificationState.OPEN, now=now, actor=actor,
            reason=f"acknowledgement by {notification.acked_by} undone")
    notification.acked_by = notification.acked_at = None
    return _outcome(notification, "open again, nobody on it")


def snooze(session: Session, notification_id: int, *, until: datetime, actor: str, now: datetime,
           note: str | None = None, shown_until: str | None = None) -> StaffOutcome:
    """Out of sight until ``until``, or earlier if it escalates or its evidence changes. ``shown_until`` is
    ``until`` as the person reads it (in the shop's zone); the audit trail keeps it so."""
    notification = _live(session, notification_id, "snooze")
    if until <= now:
        raise InputError("--until must be in the future")
    when = shown_until or f"{until:%Y-%m-%d %H:%M} UTC"
    if notification.state == NotificationState.SNOOZED and notification.snoozed_until == until:
        return _outcome(notification, f"already snoozed until {when}; nothing changed", changed=False)
    _record(session, notification, NotificationState.SNOOZED, now=now, actor=actor,
            reason=f"snoozed until {when}" + (f": {note}" if note else ""))
    notification.snoozed_until = until
    return _outcome(notification, f"snoozed until {when} by {actor}")


def unsnooze(session: Session, notification_id: int, *, actor: str, now: datetime) -> StaffOutcome:
    """Undo a snooze: back in the queue now."""
    notification = _find(session, notification_id)
    if notification.state != NotificationState.SNOOZED:
        return _outcome(notification, f"is {notification.state}, not snoozed; nothing changed", changed=False)
    _record(session, notification, NotificationState.OPEN, now=now, actor=actor, reason="snooze ended early")
    notification.snoozed_until = None
    return _outcome(notification, "back in the queue")


def resolve(session: Session, notification_id: int, *, actor: str, now: datetime, note: str) -> StaffOutcome:
    """Resolved by hand. If the condition is still true it comes back after one business day."""
    if not note.strip():
        raise InputError("resolving by hand needs a note saying what was done")
    notification = _find(session, notification_id)
    if notification.state == NotificationState.RESOLVED:
        return _outcome(notification, f"already resolved ({notification.resolved_how}); nothing changed",
                        changed=False)
    _record(session, notification, NotificationState.RESOLVED, now=now, actor=actor, reason=f"manual: {note}")
    notification.resolved_at, notification.resolved_how, notification.note = now, "manual", note
    return _outcome(notification, f"resolved by {actor}")


def reopen(session: Session, notification_id: int, *, actor: str, now: datetime) -> StaffOutcome:
    """Undo a resolve: open again now. The next rules run resolves it again if its condition is gone."""
    notification = _find(session, notification_id)
    if notification.state != NotificationState.RESOLVED:
        return _outcome(notification, f"is {notification.state}, not resolved; nothing changed", changed=False)
    newer = session.scalar(select(Notification.id).where(
        Notification.fingerprint == notification.fingerprint, Notification.id != notification.id,
        Notification.state != NotificationState.RESOLVED))
    if newer is not None:
        raise InputError(f"notification {notification_id} came back as #{newer}, which is still live")
    _record(session, notification, NotificationState.OPEN, now=now, actor=actor,
            reason=f"reopened (was resolved {notification.resolved_how})")
    notification.resolved_at = notification.resolved_how = notification.false_since = None
    return _outcome(notification, f"open again, reopened by {actor}")


def history(session: Session, notification_id: int) -> tuple[Notification, list[NotificationEvent]]:
    notification = _find(session, notification_id)
    events = list(session.scalars(select(NotificationEvent).where(
        NotificationEvent.notification_id == notification_id).order_by(NotificationEvent.at, NotificationEvent.id)))
    return notification, events


# --- silences ----------------------------------------------------------------------------------------------

def matchers_hold(matchers: Mapping[str, str], values: Mapping[str, str | None]) -> bool:
    """Whether every ``key=value`` of a silence holds for these values (case does not matter)."""
    return all(str(values.get(key) or "").lower() == str(wanted).lower() for key, wanted in matchers.items())


def silence_mark(silence: Silence) -> str:
    """What a notification hidden by ``silence`` says in its ``suppressed_by``."""
    return f"{SILENCE_MARK}{silence.id}: {silence.comment}"


def silence_values(notification: Notification) -> dict[str, str | None]:
    """What a silence's matchers are held against: the notification's rule, vendor, carrier, ids, severity."""
    return {"rule": notification.rule, "vendor": notification.vendor_code, "carrier": notification.carrier,
            "order": notification.order_number, "vendor_order": notification.vendor_order_id,
            "severity": notification.severity, "subject": notification.subject_id}


def _live_notifications(session: Session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.state.in_(LIVE))))


def add_silence(session: Session, *, matchers: dict[str, str], until: datetime, comment: str, actor: str,
                now: datetime) -> tuple[Silence, int]:
    """Hide matching notifications until ``until`` (still tracked, shown with --all, never pushed), from now
    on: live notifications it matches are hidden at once. Returns the silence and how many it hid."""
    if not comment.strip():
        raise InputError("a silence needs --comment saying why")
    if not matchers:
        raise InputError("a silence needs at least one --match key=value")
    unknown = sorted(set(matchers) - set(SILENCE_KEYS))
    if unknown:
        raise InputError(f"--match keys are {', '.join(SILENCE_KEYS)}; not {', '.join(unknown)}")
    if until <= now:
        raise InputError("--until must be in the future")
    silence = Silence(matchers=matchers, starts_at=now, ends_at=until, comment=comment, created_by=actor,
                      created_at=now)
    session.add(silence)
    session.flush()
    hidden = 0
    for notification in _live_notifications(session):
        if notification.suppressed_by is None and matchers_hold(matchers, silence_values(notification)):
            notification.suppressed_by = silence_mark(silence)
            hidden += 1
    return silence, hidden


def end_silence(session: Session, silence_id: int, *, actor: str, now: datetime) -> tuple[Silence, int]:
    """End a silence now: what it hid is shown at once (unless another silence still matches it). Returns
    the silence and how many notifications it showed again."""
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise InputError(f"no silence {silence_id}")
    if silence.ends_at <= now:
        return silence, 0
    silence.ends_at = now
    silence.comment = f"{silence.comment} (ended early by {actor})"
    others = [s for s in active_silences(session, now) if s.id != silence.id and s.starts_at <= now]
    shown = 0
    for notification in _live_notifications(session):
        if not (notification.suppressed_by or "").startswith(f"{SILENCE_MARK}{silence.id}:"):
            continue
        still = next((s for s in others if matchers_hold(s.matchers, silence_values(notification))), None)
        notification.suppressed_by = None if still is None else silence_mark(still)
        shown += still is None
    return silence, shown


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(select(Silence).where(Silence.ends_at > now).order_by(Silence.ends_at)))
