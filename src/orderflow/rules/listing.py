"""The staff queue as it is read: the notifications a filter selects, ranked, as plain rows.

``orderflow notifications`` is opened many times a day, and on a busy shop lists thousands: it reads only the
columns it shows, as plain rows through SQLAlchemy Core, from :data:`NOTIFICATIONS`, which names those columns
of the ``notifications`` table without loading the ORM models (building every mapped class costs more than the
whole read). A test holds these columns to the model's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby, islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    JSON,
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    column,
    select,
    table,
    type_coerce,
)
from sqlalchemy.types import NullType

from orderflow.db.types import UTCDateTime
from orderflow.errors import InputError
from orderflow.rules.vocabulary import SEVERITY_ORDER, SORTS, STATES, TYPE_ORDER

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

NOTIFICATION_STATES = ("pending", "open", "acknowledged", "snoozed", "resolved")
"""Every state a notification can be in (``NotificationState``'s values)."""

NOTIFICATIONS = table(
    "notifications",
    column("id", Integer), column("rule", String), column("severity", String), column("state", String),
    column("subject_type", String), column("subject_id", String), column("order_number", String),
    column("vendor_code", String), column("vendor_order_id", String), column("tracking_number", String),
    column("carrier", String), column("evidence", Text), column("opened_at", UTCDateTime),
    column("last_seen_at", UTCDateTime), column("acked_by", String), column("snoozed_until", UTCDateTime),
    column("resolved_at", UTCDateTime), column("pushed_at", UTCDateTime), column("suppressed_by", String),
    column("labels", JSON),
)
"""The columns of ``notifications`` the queue shows (those :class:`Listed` names), with the model's types."""


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


_TYPE_RANKS: dict[str, int] = {rule: index for index, rule in enumerate(TYPE_ORDER)}
_SEVERITY_RANKS: dict[str, int] = {severity: index for index, severity in enumerate(SEVERITY_ORDER)}


def type_rank(rule: str) -> int:
    return _TYPE_RANKS.get(rule, len(TYPE_ORDER))


def severity_rank(severity: str) -> int:
    return _SEVERITY_RANKS.get(severity, len(SEVERITY_ORDER))


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


def _selected(filters: QueueFilter) -> Select[Any]:
    if filters.state not in STATES:
        raise InputError(f"--state must be one of {', '.join(STATES)}, not {filters.state!r}")
    listed = NOTIFICATIONS.c
    states = {"open": ("open", "acknowledged"), "all": NOTIFICATION_STATES}.get(filters.state, (filters.state,))
    query = select(*(_as_stored(listed[name]) for name in LISTED)).where(listed.state.in_(states))
    if filters.rule:
        query = query.where(listed.rule == filters.rule)
    if filters.vendor:
        query = query.where(listed.vendor_code == filters.vendor.upper())
    if filters.severity:
        query = query.where(listed.severity == filters.severity)
    if filters.since:
        query = query.where(listed.opened_at >= filters.since)
    if not filters.include_hidden:
        query = query.where(listed.suppressed_by.is_(None))
    return query


def queue_documents(session: Session | Connection, *, filters: QueueFilter = QueueFilter(), sort: str = "type",
                    ) -> list[dict[str, Any]]:
    """The queue as JSON documents, ranked; read as plain rows of the columns shown, since thousands of ORM
    objects cost more than everything else the command does."""
    return sorted(_documents(session, _selected(filters)), key=sort_key(sort))


def queue_shown(session: Session | Connection, *, filters: QueueFilter = QueueFilter(), sort: str = "type",
                per_type: int = 0) -> list[dict[str, Any]]:
    """The queue ranked as its table draws it: only the first ``per_type`` of each run of one type (0: all) are
    whole documents; the others, which the table only counts, carry just what ranking and the summary read
    (``id``, ``rule``, ``severity``, ``vendor``, ``opened_at``). Reading and converting every column of the
    thousands the table does not draw cost more than the rest of the command."""
    if not per_type:
        return queue_documents(session, filters=filters, sort=sort)
    listed = NOTIFICATIONS.c
    query = _selected(filters).with_only_columns(listed.id, listed.rule, listed.severity, listed.vendor_code,
                                                 _as_stored(listed.opened_at))
    ranked = sorted(({"id": id_, "rule": rule, "severity": severity, "vendor": vendor, "opened_at": _utc(opened)}
                     for id_, rule, severity, vendor, opened in session.execute(query.order_by(listed.id))),
                    key=sort_key(sort))
    drawn = [brief["id"] for _, run in groupby(ranked, key=itemgetter("rule")) for brief in islice(run, per_type)]
    whole = {document["id"]: document for document in _documents(session, _selected(filters)
                                                                  .where(listed.id.in_(drawn)))}
    return [whole.get(brief["id"], brief) for brief in ranked]


def _documents(session: Session | Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    """Documents from plain rows of :data:`LISTED`, each taken by position, once: reading a row's fields by
    name, and ranking by them, cost as much again as reading the rows."""
    for row in session.execute(query.order_by(NOTIFICATIONS.c.id)).all():
        listed = dict(zip(LISTED, row, strict=True))
        for name, read in _READ.items():
            listed[name] = read(listed[name])
        yield _document(listed)


def _utc(value: Any) -> datetime | None:
    """What ``UTCDateTime`` reads, from the value as the driver gives it: SQLite's text, or PostgreSQL's time."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _json(value: Any) -> Any:
    """What ``JSON`` reads, from the value as the driver gives it: text, or already read."""
    return json.loads(value) if isinstance(value, str | bytes) else value


_READ: dict[str, Callable[[Any], Any]] = {
    **{column.name: _utc for column in NOTIFICATIONS.c if isinstance(column.type, UTCDateTime)},
    **{column.name: _json for column in NOTIFICATIONS.c if isinstance(column.type, JSON)},
}
"""The columns read as stored and converted here, one call per value: the types' own conversion, a few calls
deep per value, cost more than the rest of the read for 5,000 rows."""


def _as_stored(listed: ColumnClause[Any]) -> ColumnElement[Any]:
    return type_coerce(listed, NullType()) if listed.name in _READ else listed


LISTED = tuple(Listed.__annotations__)
"""The columns the queue reads, in the order :func:`_selected` reads them."""
def sort_key(sort: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """How documents (:func:`as_document`) are ranked for ``--sort``; most urgent first."""
    if sort not in SORTS:
        raise InputError(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
    types, severities = _TYPE_RANKS, _SEVERITY_RANKS
    last_type, last_severity = len(TYPE_ORDER), len(SEVERITY_ORDER)

    def oldest_first(document: dict[str, Any]) -> float:
        return document["opened_at"].timestamp() if document["opened_at"] else 0.0

    keys: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
        "type": lambda d: (types.get(d["rule"], last_type), severities.get(d["severity"], last_severity),
                           oldest_first(d)),
        "severity": lambda d: (severities.get(d["severity"], last_severity), types.get(d["rule"], last_type),
                               oldest_first(d)),
        "age": lambda d: (oldest_first(d), types.get(d["rule"], last_type)),
        "vendor": lambda d: (d["vendor"] or "~", types.get(d["rule"], last_type),
                             severities.get(d["severity"], last_severity), oldest_first(d)),
    }
    return keys[sort]


def as_document(notification: Listed) -> dict[str, Any]:
    """The JSON shape of a notification (a contract; the order view uses it too)."""
    return _document({name: getattr(notification, name) for name in LISTED})


def _document(listed: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape from the listed columns by name."""
    return {
        "id": listed["id"], "rule": listed["rule"], "severity": listed["severity"], "state": listed["state"],
        "subject": f"{listed['subject_type']}:{listed['subject_id']}", "order_number": listed["order_number"],
        "vendor": listed["vendor_code"], "vendor_order": listed["vendor_order_id"],
        "tracking_number": listed["tracking_number"], "carrier": listed["carrier"], "evidence": listed["evidence"],
        "opened_at": listed["opened_at"], "last_seen_at": listed["last_seen_at"], "acked_by": listed["acked_by"],
        "snoozed_until": listed["snoozed_until"], "resolved_at": listed["resolved_at"],
        "pushed_at": listed["pushed_at"], "suppressed_by": listed["suppressed_by"],
        **_lateness(listed["labels"] or {}),
    }


def _lateness(labels: dict[str, str]) -> dict[str, Any]:
    """How late, for lateness rules: the deadline (ISO, UTC) and business days past it as of the last run."""
    late = labels.get("late_business_days")
    return {"due_at": labels.get("due_at"), "late_business_days": float(late) if late is not None else None}
