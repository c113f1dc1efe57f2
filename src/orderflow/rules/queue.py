"""The staff queue: what needs a person, most urgent first, and what staff do with it (ack, snooze, resolve).

Ranking: rule type first (the business's order of urgency), then severity, then age. Every staff action is
recorded with who did it and why, so ``orderflow notifications why ID`` tells the whole story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from orderflow.db.models import Notification, NotificationEvent, NotificationState, Silence
from orderflow.errors import InputError
from orderflow.rules.findings import SEVERITY_ORDER

TYPE_ORDER = (
    "job_failed", "job_missing", "tracking_feed_unhealthy", "carrier_not_configured",
    "vendor_rejected", "vendor_on_hold", "dispatch_failed", "unroutable_line", "import_refused",
    "vendor_file_refused", "out_of_stock", "cancel_not_confirmed", "shipped_after_cancel", "tracking_invalid",
    "tracking_not_scanned",
    "carrier_exception", "returned_to_sender", "vendor_late", "stalled_in_transit", "delivery_late",
    "not_acknowledged", "customer_not_notified",
)
SORTS = ("type", "severity", "age", "vendor")
STATES = ("open", "acknowledged", "snoozed", "resolved", "all")
JSON_FIELDS = ("id", "rule", "severity", "state", "subject", "order_number", "vendor", "vendor_order",
               "tracking_number", "carrier", "evidence", "opened_at", "last_seen_at", "acked_by", "snoozed_until",
               "resolved_at", "pushed_at", "suppressed_by", "due_at", "late_business_days")


@dataclass(frozen=True)
class QueueFilter:
    state: str = "open"
    """open (open and acknowledged, the default), acknowledged, snoozed, resolved, or all."""
    rule: str | None = None
    vendor: str | None = None
    severity: str | None = None
    since: datetime | None = None
    include_hidden: bool = False


def type_rank(rule: str) -> int:
    return TYPE_ORDER.index(rule) if rule in TYPE_ORDER else len(TYPE_ORDER)


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


class Listed(Protocol):
    """What ranking and the JSON shape read: a :class:`Notification`, or a plain row of its columns."""

    id: int
    rule: str
    severity: str
    state: str
    subject_type: str
    subject_id: str
    order_number: str | None
    vendor_code: str | None
    vendor_order_id: str | None
    tracking_number: str | None
    carrier: str | None
    evidence: str
    opened_at: datetime | None
    last_seen_at: datetime | None
    acked_by: str | None
    snoozed_until: datetime | None
    resolved_at: datetime | None
    pushed_at: datetime | None
    suppressed_by: str | None
    labels: dict[str, str]


def _opened(notification: Listed) -> float:
    return notification.opened_at.timestamp() if notification.opened_at else 0.0


def sort_key(sort: str) -> Callable[[Listed], tuple[Any, ...]]:
    if sort not in SORTS:
        raise InputError(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
    oldest_first = _opened
    keys: dict[str, Callable[[Listed], tuple[Any, ...]]] = {
        "type": lambda n: (type_rank(n.rule), severity_rank(n.severity), oldest_first(n)),
        "severity": lambda n: (severity_rank(n.severity), type_rank(n.rule), oldest_first(n)),
        "age": lambda n: (oldest_first(n), type_rank(n.rule)),
        "vendor": lambda n: (n.vendor_code or "~", type_rank(n.rule), severity_rank(n.severity), oldest_first(n)),
    }
    return keys[sort]


def _selected(filters: QueueFilter) -> Select[Notification]:
    if filters.state not in STATES:
        raise InputError(f"--state must be one of {', '.join(STATES)}, not {filters.state!r}")
    query = select(Notification)
    states = {"open": (NotificationState.OPEN, NotificationState.ACKNOWLEDGED),
              "all": tuple(NotificationState)}.get(filters.state, (filters.state,))
    query = query.where(Notification.state.in_(states))
    if filters.rule:
        query = query.where(Notification.rule == filters.rule)
    if filters.vendor:
        query = query.where(Notification.vendor_code == filters.vendor.upper())
    if filters.severity:
        query = query.where(Notification.severity == filters.severity)
    if filters.since:
        query = query.where(Notification.opened_at >= filters.since)
    if not filters.include_hidden:
        query = query.where(Notification.suppressed_by.is_(None))
    return query


def queue_documents(session: Session, *, filters: QueueFilter = QueueFilter(), sort: str = "type",
                    ) -> list[dict[str, Any]]:
    """The queue as JSON documents, ranked; read as plain rows, since thousands of ORM objects cost more than
    everything else the command does."""
    columns = [getattr(Notification, name) for name in Listed.__annotations__]
    rows: list[Any] = list(session.execute(_selected(filters).with_only_columns(*columns)))
    return [as_document(row) for row in sorted(rows, key=sort_key(sort))]


def as_document(notification: Listed) -> dict[str, Any]:
    """The JSON shape of a notification (a contract; the order view uses it too)."""
    return {
        "id": notification.id, "rule": notification.rule, "severity": notification.severity,
        "state": notification.state, "subject": f"{notification.subject_type}:{notification.subject_id}",
        "order_number": notification.order_number, "vendor": notification.vendor_code,
        "vendor_order": notification.vendor_order_id, "tracking_number": notification.tracking_number,
        "carrier": notification.carrier, "evidence": notification.evidence, "opened_at": notification.opened_at,
        "last_seen_at": notification.last_seen_at, "acked_by": notification.acked_by,
        "snoozed_until": notification.snoozed_until, "resolved_at": notification.resolved_at,
        "pushed_at": notification.pushed_at, "suppressed_by": notification.suppressed_by,
        **_lateness(notification.labels or {}),
    }


def _lateness(labels: dict[str, str]) -> dict[str, Any]:
    """How late, for lateness rules: the deadline (ISO, UTC) and business days past it as of the last run."""
    late = labels.get("late_business_days")
    return {"due_at": labels.get("due_at"), "late_business_days": float(late) if late is not None else None}


# --- staff actions -----------------------------------------------------------------------------------------

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


def acknowledge(session: Session, notification_id: int, *, actor: str, now: datetime, note: str | None = None) -> None:
    """Someone is on it: it stays in the queue as acknowledged until it clears or gets worse."""
    notification = _find(session, notification_id)
    if notification.state == NotificationState.RESOLVED:
        raise InputError(f"notification {notification_id} is already resolved")
    _record(session, notification, NotificationState.ACKNOWLEDGED, now=now, actor=actor,
            reason=note or "acknowledged")
    notification.acked_by, notification.acked_at, notification.note = actor, now, note or notification.note


def snooze(session: Session, notification_id: int, *, until: datetime, actor: str, now: datetime,
           note: str | None = None) -> None:
    """Out of sight until ``until``, or earlier if it escalates or its evidence changes."""
    notification = _find(session, notification_id)
    if notification.state == NotificationState.RESOLVED:
        raise InputError(f"notification {notification_id} is already resolved")
    if until <= now:
        raise InputError("--until must be in the future")
    _record(session, notification, NotificationState.SNOOZED, now=now, actor=actor,
            reason=f"snoozed until {until:%Y-%m-%d %H:%M} UTC" + (f": {note}" if note else ""))
    notification.snoozed_until = until


def resolve(session: Session, notification_id: int, *, actor: str, now: datetime, note: str) -> None:
    """Resolved by hand. If the condition is still true it comes back after one business day."""
    if not note.strip():
        raise InputError("resolving by hand needs a note saying what was done")
    notification = _find(session, notification_id)
    if notification.state == NotificationState.RESOLVED:
        raise InputError(f"notification {notification_id} is already resolved")
    _record(session, notification, NotificationState.RESOLVED, now=now, actor=actor, reason=f"manual: {note}")
    notification.resolved_at, notification.resolved_how, notification.note = now, "manual", note


def history(session: Session, notification_id: int) -> tuple[Notification, list[NotificationEvent]]:
    notification = _find(session, notification_id)
    events = list(session.scalars(select(NotificationEvent).where(
        NotificationEvent.notification_id == notification_id).order_by(NotificationEvent.at, NotificationEvent.id)))
    return notification, events


SILENCE_KEYS = ("rule", "vendor", "carrier", "order", "vendor_order", "severity", "subject")


def add_silence(session: Session, *, matchers: dict[str, str], until: datetime, comment: str, actor: str,
                now: datetime) -> Silence:
    """Hide matching notifications until ``until`` (they are still tracked and shown with --all)."""
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
    return silence


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(select(Silence).where(Silence.ends_at > now).order_by(Silence.ends_at)))
