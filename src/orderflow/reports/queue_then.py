"""The staff queue as it stood at an instant, rebuilt from each notification's recorded history.

A report for a past day must say the same whenever it is made, so the queue it lists cannot be today's: a
notification acknowledged or resolved since, or opened since, would change it. Every transition is kept as a
notification event, so the state at an instant is the state the last event up to it left:

- listed: notifications open or acknowledged then, and not hidden then (by a silence that was active, or by the
  rule that overtakes it, as the notification still says);
- ``opened_at``: when its episode opened (the last event up to the instant that opened or reopened it);
- ``acked_by``: who acknowledged it, when it was acknowledged then;
- ``evidence``: as recorded when it opened (later runs of the rules reword it: "3 days late", then "4");
- ``last_seen_at`` and ``pushed_at``: only when they were by the instant; ``snoozed_until`` and ``resolved_at``
  are empty, since nothing in the queue was snoozed or resolved then.

A notification with no events (made by hand, or before events were kept) is told by its own times: opened at
``opened_at``, acknowledged at ``acked_at``, resolved at ``resolved_at``.

Only notifications live now or resolved after the instant are read (resolved ones before it cannot have been in
the queue), with their events up to the instant.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, or_, select

from orderflow.db.models import Notification, NotificationEvent, NotificationState, Silence
from orderflow.reports.cells import read_in
from orderflow.rules.queue import LIVE, SILENCE_MARK, Listed, as_document, matchers_hold, silence_values, sort_key

IN_QUEUE = (NotificationState.OPEN, NotificationState.ACKNOWLEDGED)
_OPENINGS = (None, NotificationState.PENDING, NotificationState.RESOLVED)
"""Events from these states open an episode."""


def queue_as_of(connection: Connection, as_of: datetime) -> list[dict[str, Any]]:
    """The queue at ``as_of`` as JSON documents (the fields of ``orderflow notifications --format json``),
    ranked as the queue ranks them (type, severity, age)."""
    return QueueHistory(connection, as_of, as_of).at(as_of)


class QueueHistory:
    """What is needed to tell the queue at any instant from ``earliest`` to ``latest``, read once."""

    def __init__(self, connection: Connection, earliest: datetime, latest: datetime) -> None:
        columns = [getattr(Notification, name) for name in (*Listed.__annotations__, "acked_at")]
        self._candidates = [row._asdict() for row in connection.execute(
            select(*columns).where(or_(Notification.state.in_(LIVE), Notification.resolved_at > earliest),
                                   Notification.opened_at <= latest))]
        events = read_in(connection, [row["id"] for row in self._candidates], lambda chunk: (
            select(NotificationEvent.id, NotificationEvent.notification_id, NotificationEvent.from_state,
                   NotificationEvent.to_state, NotificationEvent.reason, NotificationEvent.actor, NotificationEvent.at)
            .where(NotificationEvent.notification_id.in_(chunk), NotificationEvent.at <= latest)))
        self._histories: dict[int, list[dict[Any, Any]]] = {}
        for event in events.sort_values(["at", "id"]).to_dict("records"):
            event["at"] = event["at"].to_pydatetime()
            self._histories.setdefault(int(event["notification_id"]), []).append(event)
        for row in self._candidates:
            if row["id"] not in self._histories:
                self._histories[row["id"]] = _told_by_its_times(row)
        self._silences = list(connection.execute(select(Silence.matchers, Silence.starts_at, Silence.ends_at)
                                                 .where(Silence.starts_at <= latest, Silence.ends_at > earliest)))

    def at(self, as_of: datetime) -> list[dict[str, Any]]:
        """The queue at ``as_of`` (between ``earliest`` and ``latest``), ranked."""
        silences = [matchers for matchers, starts, ends in self._silences if starts <= as_of < ends]
        listed = []
        for row in self._candidates:
            history = [event for event in self._histories.get(row["id"], []) if event["at"] <= as_of]
            if not history or history[-1]["to_state"] not in IN_QUEUE:
                continue
            then = _as_it_was(row, history, as_of)
            values = silence_values(cast(Notification, then))
            if then.suppressed_by is None and not any(matchers_hold(matchers, values) for matchers in silences):
                listed.append(cast(Listed, then))
        return sorted(map(as_document, listed), key=sort_key("type"))


def _as_it_was(row: dict[str, Any], history: list[dict[Any, Any]], as_of: datetime) -> SimpleNamespace:
    last = history[-1]
    opening = next((event for event in reversed(history) if event["from_state"] in _OPENINGS), history[0])
    rule_prefix = f"{row['rule']}: "
    evidence = (opening["reason"][len(rule_prefix):] if opening["reason"].startswith(rule_prefix)
                else row["evidence"])
    suppressed = row["suppressed_by"]
    return SimpleNamespace(**{
        **row, "state": last["to_state"], "opened_at": opening["at"], "evidence": evidence,
        "acked_by": last["actor"] if last["to_state"] == NotificationState.ACKNOWLEDGED else None,
        "last_seen_at": _by(row["last_seen_at"], as_of), "pushed_at": _by(row["pushed_at"], as_of),
        "snoozed_until": None, "resolved_at": None,
        # A silence hides from the moment it starts until it ends: whether one did then is decided from the
        # silences themselves, not from what the notification says now.
        "suppressed_by": None if suppressed is None or suppressed.startswith(SILENCE_MARK) else suppressed})


def _told_by_its_times(row: dict[str, Any]) -> list[dict[Any, Any]]:
    """The history of a notification made without one (by hand, or before events were kept), as its own times
    tell it: opened, acknowledged, resolved."""
    steps: list[tuple[datetime, str | None, str, str, str]] = [
        (row["opened_at"], None, NotificationState.OPEN, f"{row['rule']}: {row['evidence']}", "orderflow")]
    if row["acked_at"] is not None:
        steps.append((row["acked_at"], NotificationState.OPEN, NotificationState.ACKNOWLEDGED, "acknowledged",
                      row["acked_by"] or ""))
    if row["resolved_at"] is not None:
        steps.append((row["resolved_at"], steps[-1][2], NotificationState.RESOLVED, "resolved", "orderflow"))
    return [{"at": at, "from_state": before, "to_state": after, "reason": reason, "actor": actor}
            for at, before, after, reason, actor in steps]


def _by(moment: datetime | None, as_of: datetime) -> datetime | None:
    return moment if moment is not None and moment <= as_of else None
