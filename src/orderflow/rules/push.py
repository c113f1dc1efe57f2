"""Pushing notifications to people: critical and high at once (one message per rule per run), warnings in a
daily digest on business days, info never; a "resolved" notice only for what was pushed.

Planning writes outbox rows in the same transaction as the evaluation that decided them, and marks each
notification pushed there too, so a re-run or a crash never plans the same push twice. Delivery is the outbox's
own (:func:`orderflow.outbox.deliver`): it claims the rows, sends (email, Slack-compatible webhook), and marks
them sent; a failure waits for a later run (``Retry-After`` honoured, else a doubling wait), a refusal is kept
with its reason.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from orderflow import outbox
from orderflow.calendars import BusinessCalendar
from orderflow.config import Settings, secret
from orderflow.db.models import Notification, NotificationState, OutboxMessage
from orderflow.errors import RemoteError, RemoteUnavailable
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


def message_key(*parts: object) -> str:
    """A push message's key (its outbox ``dedupe_key`` is the channel's kind, a colon and this): the parts that
    make it that message, e.g. route, rule, instant and notification ids, hashed."""
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
                                key=message_key(route, rule, now.isoformat(), *(n.id for n in members))))
    return messages


def _digest_due(session: Session, settings: Settings, now: datetime, calendar: BusinessCalendar) -> bool:
    local = now.astimezone(calendar.zone)
    if not calendar.is_working_day(local.date()) or local.time() < settings.push.digest_time:
        return False
    key = message_key("digest", local.date().isoformat())
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
    return [Message("digest", "digest", title, lines, members, key=message_key("digest", day.isoformat()))]


# --- delivery ----------------------------------------------------------------------------------------------

def _judged(row: OutboxMessage, error: RemoteError) -> outbox.Verdict:
    """Unavailable: try again after the remote's ``Retry-After``, else a doubling wait. Refused: kept with why."""
    if isinstance(error, RemoteUnavailable):
        return outbox.Verdict("pending", outbox.retry_delay(row.attempts, error.retry_after))
    return outbox.Verdict("refused")


PUSHES = outbox.Traffic(kinds=KINDS, what="push", where=lambda row: f"push {row.kind} #{row.id}", judge=_judged,
                        unwritable="refused", dead=UNKNOWN, crash_point="push.after_send")


def deliver(*, engine: Engine, settings: Settings, now: datetime, mailer: Callable[[], Mailer] | None = None,
            http: Callable[[], httpx.Client] | None = None) -> outbox.Delivery:
    """Send the pending push messages; each is claimed first, so two runs never send one twice.

    Each is marked ``sending`` before it is handed over: a run that dies before recording it leaves it
    ``unknown`` (it may have arrived), never ``pending`` for a later run to send again.
    """
    channels = _Channels(settings, now, mailer, http)
    try:
        # Only the channels configured now: a message planned for one since removed waits, unsent, for its return.
        return outbox.deliver(engine, PUSHES, now=now, ready=_channels(settings), prepare=channels.prepare)
    finally:
        channels.close()


class _Channels:
    """The mail server and the webhook, each connected at its first use and closed at the end of the run."""

    def __init__(self, settings: Settings, now: datetime, mailer: Callable[[], Mailer] | None,
                 http: Callable[[], httpx.Client] | None) -> None:
        self._settings, self._now = settings, now
        self._make_mailer, self._make_http = mailer, http
        self._mailer: Mailer | None = None
        self._client: httpx.Client | None = None

    def prepare(self, row: OutboxMessage) -> Callable[[], None]:
        """What sends one push, built before it is marked as going out (a message that cannot be built never is)."""
        from orderflow.mail import build_message, stable_message_id
        from orderflow.webhooks import post_json, slack_text

        settings, payload = self._settings, row.payload
        text = "\n".join(payload["lines"])
        if row.kind == "push_email" and settings.email and settings.push.email:
            sender = settings.email.sender
            message = build_message(sender=sender, to=list(settings.push.email.to), subject=payload["title"],
                                    text=text, message_id=stable_message_id("push", row.id, sender=sender),
                                    date=self._now)
            return lambda: self._smtp().send(message)
        if row.kind == "push_webhook" and settings.push.webhook:
            url = secret(settings.push.webhook.url_env, setting="push.webhook.url_env")
            document = {"text": f"*{slack_text(payload['title'])}*\n{slack_text(text)}"}
            return lambda: post_json(self._http(), url, document)
        return lambda: None

    def _smtp(self) -> Mailer:
        if self._mailer is None:
            from orderflow.mail import Mailer

            self._mailer = (self._make_mailer or (lambda: Mailer.from_settings(self._settings)))()
        return self._mailer

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = (self._make_http or (lambda: httpx.Client(timeout=10.0)))()
        return self._client

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.close()
        if self._client is not None:
            self._client.close()
