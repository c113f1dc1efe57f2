"""The daily report by email: one message per day to ``report.recipients``, never twice unless asked.

The day's message is an outbox row keyed ``report_daily:<date>``, so a second cron run (or a second host) finds it
sent and sends nothing; ``--resend`` adds a row with a new key on purpose. The outbox's delivery
(:func:`orderflow.outbox.deliver`) claims the row and marks it ``sending`` before the message goes out: a run
that dies while sending leaves it ``unknown`` (it may have arrived), and only ``--resend`` sends it again. A
mail server that is down leaves the row ``pending`` and the next run tries at once; one that refuses it
(``refused``) gets another try on the next run too, since nothing was delivered. The message is built before the
row is marked, so a template that fails leaves the row untouched for the next run.

The ``Message-ID`` is fixed per row, so a copy that did arrive twice is recognisable as one message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from orderflow import outbox
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import OutboxMessage
from orderflow.errors import ConfigError, ExitCode, RemoteError, RemoteUnavailable
from orderflow.mail import Attachment, Mailer, RecipientsRefused, build_message, stable_message_id
from orderflow.reports.report_day import DailyReport
from orderflow.reports.summary import render, report_templates, subject

KIND = "report_email"


@dataclass
class Sending:
    """What became of the day's email: ``outcome`` is ``emailed``, ``already_sent``, ``being_sent`` (another run
    holds it), ``maybe_sent`` (a run died while sending it) or ``not_sent``."""

    outcome: str
    problems: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK


def _judged(row: OutboxMessage, error: RemoteError) -> outbox.Verdict:
    """Down: the next run tries again at once. Refused: kept with why (the next run tries again all the same).
    Some recipients refused: it went to the others, so it is sent."""
    if isinstance(error, RecipientsRefused):
        return outbox.Verdict("sent" if error.accepted else "refused")
    return outbox.Verdict("pending" if isinstance(error, RemoteUnavailable) else "refused")


DIED = "a run died while sending it: it may have arrived"
REPORTS = outbox.Traffic(kinds=(KIND,), what="report", where=lambda row: f"the report for {row.payload['day']}",
                         judge=_judged, unwritable="refused", dead=DIED)


def send_report(*, engine: Engine, settings: Settings, report: DailyReport, now: datetime, resend: bool = False,
                mailer: Callable[[], Mailer] | None = None) -> Sending:
    """Email ``report`` once for its day (again with ``resend``); the CSV files go as attachments."""
    if settings.email is None:
        raise ConfigError("--email needs an [email] section")
    day = report.day.day.isoformat()
    key = f"report_daily:{day}" + (f":resend:{uuid.uuid4().hex}" if resend else "")
    early = _open(engine, key, now=now, payload={"day": day, "files": list(report.files),
                                                 "to": list(settings.report.recipients)})
    if early is not None:
        return early
    sender = settings.email.sender
    folder = settings.report.templates
    text, html = render(report.summary, report_templates(settings.path(folder) if folder is not None else None))

    def prepare(row: OutboxMessage) -> Callable[[], None]:
        message = build_message(
            sender=sender, to=list(settings.report.recipients), subject=subject(report.summary),
            text=text, html=html, reply_to=settings.email.reply_to if settings.email else None, date=now,
            message_id=stable_message_id("report", "daily", day, row.id, sender=sender),
            attachments=[Attachment(name, content, "text/csv") for name, content in report.files.items()],
            inline={chart.cid: Attachment(chart.filename, report.charts[chart.filename], "image/png")
                    for chart in report.summary.charts})

        def send() -> None:
            with (mailer or (lambda: Mailer.from_settings(settings)))() as mail:
                mail.send(message)
        return send

    delivery = outbox.deliver(engine, REPORTS, now=now, ready=(KIND,), keys=(key,), prepare=prepare)
    if not delivery.outcomes:
        return Sending("being_sent", [f"the report for {day} is held by another run (one that stopped while "
                                      f"sending it?); run again in {outbox.LEASE.seconds // 60} minutes"],
                       ExitCode.PARTIAL_FAILURE)
    outcome = delivery.outcomes[-1]
    if isinstance(outcome.cause, RecipientsRefused) and outcome.state == "sent":
        return Sending("emailed", [f"the report for {day} went to {', '.join(outcome.cause.accepted)} only: "
                                   f"{outcome.error}"], ExitCode.PARTIAL_FAILURE)
    if outcome.state == "sent":
        return Sending("emailed")
    if outcome.state == "pending":
        return Sending("not_sent", [f"the report for {day} was not sent: {outcome.error}; the next run tries again"],
                       ExitCode.REMOTE_UNAVAILABLE)
    return Sending("not_sent", [f"the report for {day} was not sent: {outcome.error}"],
                   ExitCode.REMOTE_REJECTED if outcome.state == "refused" else ExitCode.REMOTE_UNAVAILABLE)


def _open(engine: Engine, key: str, *, now: datetime, payload: dict[str, Any]) -> Sending | None:
    """Make the row for ``key`` on first use; why it is not to be sent now, or ``None`` when it is."""
    day = payload["day"]
    outbox.expire_sending(engine, kinds=(KIND,), error=DIED)
    with session_factory(engine)() as session, session.begin():
        outbox.add_once(session, {"kind": KIND, "dedupe_key": key, "state": "pending", "attempts": 0,
                                  "created_at": now, "payload": payload})
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()
        if row.state == "sent":
            return Sending("already_sent")
        if row.state == "unknown":
            return Sending("maybe_sent", [f"the report for {day} may have been sent already ({row.last_error}); "
                                          "send it again with --resend if it did not arrive"], ExitCode.PARTIAL_FAILURE)
        if row.state == "refused":
            row.state, row.claimed_until = "pending", None  # nothing was delivered: the fault may be mended now
    return None
