"""Pushing notifications to people: critical and high at once (one message per rule per run), warnings in a
daily digest on business days, info never; a "resolved" notice only for what was pushed.

Planning writes outbox rows in the same transaction as the evaluation that decided them, and marks each
notification pushed there too, so a re-run or a crash never plans the same push twice. Delivery claims the
rows, sends (email, Slack-compatible webhook), and marks them sent; a failure waits for a later run
(``Retry-After`` honoured), a refusal is kept with its reason.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from orderflow import outbox
from orderflow.calendars import BusinessCalendar
from orderflow.config import Settings, secret
from orderflow.crashpoints import crash_point
from orderflow.db.models import Notification, NotificationState, OutboxMessage
from orderflow.errors import ConfigError, RemoteRejected, RemoteUnavailable
from orderflow.rules.queue import severity_rank, type_rank

if TYPE_CHECKING:
    import httpx

    from orderflow.mail import Mailer

AT_ONCE = ("critical", "high")
KINDS = ("push_email", "push_webhook")
UNKNOWN = "the run sending this push died before recording it; it may have arrived, so it is not sent again"


def _channels(settings: Settings) -> list[str]:
    push = settings.push
    return ([KINDS[0]] if push.email and push.email.to and settings.email else []) + \
        ([KINDS[1]] if push.webhook else [])


def plan_pushes(*, session: Session, settings: Settings, now: datetime, calendar: BusinessCalendar) -> int:
    """Write the outbox rows for what is due to be pushed now; returns how many messages were planned."""
    channels = _channels(settings)
    if not channels:
        return 0
    visible = (Notification.suppressed_by.is_(None),)
    due = list(session.scalars(select(Notification).where(
        Notification.state == NotificationState.OPEN, Notification.severity.in_(AT_ONCE), *visible)))
    due = [n for n in due if n.pushed_at is None or severity_rank(n.severity) < severity_rank(
        n.labels.get("pushed_severity", "info"))]
    messages = _grouped("new", due, now, settings)
    if _digest_due(session, settings, now, calendar):
        warnings = list(session.scalars(select(Notification).where(
            Notification.state == NotificationState.OPEN, Notification.severity == "warning",
            Notification.pushed_at.is_(None), *visible)))
        messages += _digest(warnings, now, settings, calendar)
    # Filtered in the database: every resolved notification that was ever pushed matches the first two terms,
    # years of them, and loading each to look at its label cost more than all the rules together.
    resolve_pushed = Notification.labels["resolve_pushed"].as_string()
    resolved = list(session.scalars(select(Notification).where(
        Notification.state == NotificationState.RESOLVED, Notification.pushed_at.is_not(None),
        or_(resolve_pushed.is_(None), resolve_pushed != "yes"))))
    messages += _grouped("resolved", resolved, now, settings)
    for message in messages:
        for kind in channels:
            session.add(OutboxMessage(kind=kind, dedupe_key=f"{kind}:{message.key}", payload=message.payload(),
                                      state="pending", attempts=0, created_at=now))
        for notification in message.notifications:
            if message.route == "resolved":
                notification.labels = {**notification.labels, "resolve_pushed": "yes"}
            else:
                notification.pushed_at = now
                notification.labels = {**notification.labels, "pushed_severity": notification.severity}
    session.flush()
    return len(messages)


@dataclass
class Message:
    route: str
    rule: str
    title: str
    lines: list[str]
    notifications: list[Notification] = field(default_factory=list)
    key: str = ""

    def payload(self) -> dict[str, Any]:
        return {"route": self.route, "rule": self.rule, "title": self.title, "lines": self.lines,
                "ids": [n.id for n in self.notifications]}


def _line(notification: Notification, settings: Settings) -> str:
    where = " ".join(part for part in (notification.vendor_order_id or notification.subject_id,
                                       notification.vendor_code) if part)
    link = settings.order_url.format(order_number=notification.order_number) if notification.order_number else ""
    return f"#{notification.id} [{notification.severity}] {where}: {notification.evidence}" + \
        (f" {link}" if link else "")


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:40]


def _grouped(route: str, notifications: Iterable[Notification], now: datetime, settings: Settings) -> list[Message]:
    groups: dict[str, list[Notification]] = defaultdict(list)
    for notification in notifications:
        groups[notification.rule].append(notification)
    messages = []
    for rule in sorted(groups, key=type_rank):
        members = sorted(groups[rule], key=lambda n: (severity_rank(n.severity), n.id))
        worst = members[0].severity
        verb = "resolved" if route == "resolved" else worst
        title = f"[orderflow] {verb}: {rule.replace('_', ' ')} ({len(members)})"
        messages.append(Message(route, rule, title, [_line(n, settings) for n in members], members,
                                key=_key(route, rule, now.isoformat(), *(n.id for n in members))))
    return messages


def _digest_due(session: Session, settings: Settings, now: datetime, calendar: BusinessCalendar) -> bool:
    local = now.astimezone(calendar.zone)
    if not calendar.is_working_day(local.date()) or local.time() < settings.push.digest_time:
        return False
    key = _key("digest", local.date().isoformat())
    # The digest's own keys, one per channel, looked up by the unique index (a pattern would read the whole
    # outbox, where every customer notice ever sent also lives).
    keys = [f"{kind}:{key}" for kind in KINDS]
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key.in_(keys))) is None


def _digest(warnings: list[Notification], now: datetime, settings: Settings,
            calendar: BusinessCalendar) -> list[Message]:
    """Today's digest of new warnings; none at all when there is nothing new (an empty digest is noise)."""
    if not warnings:
        return []
    day = now.astimezone(calendar.zone).date()
    members = sorted(warnings, key=lambda n: (type_rank(n.rule), n.id))
    lines = [_line(n, settings) for n in members]
    title = f"[orderflow] daily digest {day:%a %d %b}: {len(members)} warning{'s' if len(members) != 1 else ''}"
    return [Message("digest", "digest", title, lines, members, key=_key("digest", day.isoformat()))]


# --- delivery ----------------------------------------------------------------------------------------------

@dataclass
class Delivery:
    sent: int = 0
    waiting: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)


def deliver(*, engine: Engine, settings: Settings, now: datetime, mailer: Callable[[], Mailer] | None = None,
            http: Callable[[], httpx.Client] | None = None) -> Delivery:
    """Send the pending push messages; each is claimed first, so two runs never send one twice.

    Each is marked ``sending`` before it is handed over: a run that dies before recording it leaves it
    ``unknown`` (it may have arrived), never ``pending`` for a later run to send again.
    """
    delivery = Delivery()
    for row in outbox.expire_sending(engine, kinds=KINDS, error=UNKNOWN):
        delivery.problems.append(f"push {row.kind} #{row.id}: {UNKNOWN}")
    # Only the channels configured now: a message planned for one since removed waits, unsent, for its return.
    claimed = outbox.claim(engine, kinds=_channels(settings))
    if not claimed:
        return delivery
    from orderflow.mail import Mailer

    mail = (mailer or (lambda: Mailer.from_settings(settings)))() if any(
        row.kind == "push_email" for row in claimed) else None
    client = (http or _http_client)() if any(row.kind == "push_webhook" for row in claimed) else None
    pending = list(claimed)
    try:
        while pending:
            row = pending.pop(0)
            try:
                send = _prepared(row, settings, now, mail, client)
            except ConfigError as exc:  # it waits for the configuration, like a send that found it wrong
                outbox.settle(engine, row.id, "pending", error=str(exc))
                raise
            except Exception as exc:  # one push's bad data must not stop the pushes behind it
                error = f"the push cannot be written: {type(exc).__name__}: {exc}"
                outbox.settle(engine, row.id, "refused", error=error)
                delivery.refused += 1
                delivery.problems.append(f"push {row.kind} #{row.id} refused: {error}")
                continue
            if outbox.start_sending(engine, row):  # else our lease ran out and another run has it now
                _send(engine, row, send, now, delivery)
    finally:
        outbox.release(engine, pending)
        if mail is not None:
            mail.close()
        if client is not None:
            client.close()
    return delivery


def _send(engine: Engine, row: OutboxMessage, send: Callable[[], None], now: datetime, delivery: Delivery) -> None:
    """Hand one push over and record how it went."""
    try:
        send()
        crash_point("push.after_send")
    except RemoteUnavailable as exc:
        outbox.settle(engine, row.id, "pending", error=str(exc),
                      not_before=datetime.now(UTC) + outbox.retry_delay(row.attempts, exc.retry_after))
        delivery.waiting += 1
        delivery.problems.append(f"push {row.kind} #{row.id}: {exc}; will retry")
        return
    except RemoteRejected as exc:
        outbox.settle(engine, row.id, "refused", error=str(exc))
        delivery.refused += 1
        delivery.problems.append(f"push {row.kind} #{row.id} refused: {exc}")
        return
    except ConfigError as exc:  # found before anything went out: it waits for the configuration
        outbox.settle(engine, row.id, "pending", error=str(exc))
        raise
    outbox.settle(engine, row.id, "sent", sent_at=now)
    delivery.sent += 1


def _prepared(row: OutboxMessage, settings: Settings, now: datetime, mail: Mailer | None,
              client: httpx.Client | None) -> Callable[[], None]:
    """What sends one push, built before it is marked as going out (a message that cannot be built never is)."""
    from orderflow.mail import build_message, stable_message_id
    from orderflow.webhooks import post_json, slack_text

    payload = row.payload
    text = "\n".join(payload["lines"])
    if row.kind == "push_email" and mail is not None and settings.email and settings.push.email:
        sender = settings.email.sender
        message = build_message(sender=sender, to=list(settings.push.email.to), subject=payload["title"], text=text,
                                message_id=stable_message_id("push", row.id, sender=sender), date=now)
        return lambda: mail.send(message)
    if row.kind == "push_webhook" and client is not None and settings.push.webhook:
        url = secret(settings.push.webhook.url_env, setting="push.webhook.url_env")
        document = {"text": f"*{slack_text(payload['title'])}*\n{slack_text(text)}"}
        return lambda: post_json(client, url, document)
    return lambda: None


def _http_client() -> httpx.Client:
    import httpx

    return httpx.Client(timeout=10.0)
