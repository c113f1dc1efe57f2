"""``orderflow notifications``: the staff queue, and what staff do with it."""

from __future__ import annotations

import getpass
import re
from datetime import datetime, timedelta

import typer

from orderflow.cli.context import app_context

app = typer.Typer(help="The staff queue: problems that need a person, most urgent first.",
                  invoke_without_command=True)


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "staff"


@app.callback()
def notifications(
    ctx: typer.Context,
    sort: str = typer.Option("type", "--sort", help="type, severity, age or vendor."),
    rule: str | None = typer.Option(None, "--type", help="Only this rule, e.g. vendor_late."),
    vendor: str | None = typer.Option(None, "--vendor", help="Only this vendor."),
    severity: str | None = typer.Option(None, "--severity", help="critical, high, warning or info."),
    state: str = typer.Option("open", "--state", help="open (and acknowledged), acknowledged, snoozed, resolved, all."),
    include_hidden: bool = typer.Option(False, "--all", help="Also what inhibition or a silence hides, with why."),
    since: str | None = typer.Option(None, "--since", help="Only opened on or after this date/time."),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
    limit: int = typer.Option(25, "--limit", min=0,
                              help="Table rows shown per type; the rest are counted (0: all). csv and json list all."),
) -> None:
    """List notifications, grouped by type with a count per group, most urgent first."""
    if ctx.invoked_subcommand is not None:
        return
    from orderflow.cli import render
    from orderflow.clock import parse_instant
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import JSON_FIELDS, QueueFilter, queue_documents

    state_obj = app_context(ctx)
    filters = QueueFilter(state=state, rule=rule, vendor=vendor, severity=severity, include_hidden=include_hidden,
                          since=parse_instant(since, what="--since") if since else None)
    with session_factory(reader(state_obj.engine))() as session:
        documents = queue_documents(session, filters=filters, sort=sort)
    if output == "table":
        from orderflow.rules.engine import shop_calendar

        calendar, now = shop_calendar(state_obj.settings), state_obj.clock.now()
        render.print_queue(documents, age=lambda opened: f"{calendar.business_days_between(opened, now):.1f}bd",
                           order_url=state_obj.settings.order_url, show_hidden=include_hidden, limit=limit)
    else:
        render.print_rows("Notifications", list(JSON_FIELDS), documents, output)


def _staff_action(ctx: typer.Context, action: str, notification_id: int, **kwargs: object) -> None:
    from orderflow.db.engine import session_factory
    from orderflow.rules import queue

    state = app_context(ctx)
    with session_factory(state.engine)() as session, session.begin():
        getattr(queue, action)(session, notification_id, actor=_actor(), now=state.clock.now(), **kwargs)


@app.command()
def ack(ctx: typer.Context, notification_id: int = typer.Argument(..., metavar="ID", help="Notification number."),
        note: str | None = typer.Option(None, "--note", help="What you are doing about it.")) -> None:
    """Acknowledge: someone is on it. It stays until it clears, or comes back to the top if it gets worse."""
    _staff_action(ctx, "acknowledge", notification_id, note=note)


def parse_until(until: str | None, for_: str | None, now: datetime) -> datetime:
    """``--until 2026-11-05`` or ``--for 2d`` / ``6h`` / ``30m``."""
    from orderflow.clock import parse_instant
    from orderflow.errors import InputError

    if until:
        return parse_instant(until, what="--until")
    match = re.fullmatch(r"(\d+)([dhm])", (for_ or "").strip())
    if not match:
        raise InputError("give --until DATE or --for like 2d, 6h or 30m")
    amount, unit = int(match.group(1)), match.group(2)
    return now + {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}[unit]


@app.command()
def snooze(ctx: typer.Context, notification_id: int = typer.Argument(..., metavar="ID", help="Notification number."),
           until: str | None = typer.Option(None, "--until", help="Until this date/time."),
           for_: str | None = typer.Option(None, "--for", help="For a while: 2d, 6h, 30m."),
           note: str | None = typer.Option(None, "--note", help="Why it can wait.")) -> None:
    """Snooze: out of sight until then, or earlier if it escalates or its evidence changes."""
    now = app_context(ctx).clock.now()
    _staff_action(ctx, "snooze", notification_id, until=parse_until(until, for_, now), note=note)


@app.command()
def resolve(ctx: typer.Context, notification_id: int = typer.Argument(..., metavar="ID", help="Notification number."),
            note: str = typer.Option(..., "--note", help="What was done (required).")) -> None:
    """Resolve by hand. If the problem is still there it comes back after one business day."""
    _staff_action(ctx, "resolve", notification_id, note=note)


@app.command()
def why(ctx: typer.Context,
        notification_id: int = typer.Argument(..., metavar="ID", help="Notification number.")) -> None:
    """Print a notification's whole story: every transition, when, why and by whom."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import history

    with session_factory(reader(app_context(ctx).engine))() as session:
        notification, events = history(session, notification_id)
    typer.echo(f"#{notification.id} {notification.rule} ({notification.severity}) on {notification.subject_type} "
               f"{notification.subject_id}: {notification.evidence}")
    if notification.suppressed_by:
        typer.echo(f"hidden: {notification.suppressed_by}")
    for event in events:
        typer.echo(f"{render.short_time(event.at)}  {event.from_state or '-':>12} -> {event.to_state:<12} "
                   f"{event.actor}: {event.reason}")


@app.command()
def silence(ctx: typer.Context,
            match: list[str] = typer.Option(..., "--match", help="key=value: rule, vendor, carrier, order, "
                                                                 "vendor_order, severity, subject."),
            until: str | None = typer.Option(None, "--until", help="Until this date/time."),
            for_: str | None = typer.Option(None, "--for", help="For a while: 2d, 6h, 30m."),
            comment: str = typer.Option(..., "--comment", help="Why (required).")) -> None:
    """Silence matching notifications until a time: still tracked and shown with --all, never pushed."""
    from orderflow.db.engine import session_factory
    from orderflow.errors import InputError
    from orderflow.rules.queue import add_silence

    pairs = [item.split("=", 1) for item in match]
    if any(len(pair) != 2 or not pair[1] for pair in pairs):
        raise InputError("--match takes key=value, e.g. --match vendor=ACME")
    state = app_context(ctx)
    now = state.clock.now()
    with session_factory(state.engine)() as session, session.begin():
        created = add_silence(session, matchers=dict(pairs), until=parse_until(until, for_, now), comment=comment,
                              actor=_actor(), now=now)
        typer.echo(f"silence #{created.id} until {created.ends_at:%Y-%m-%d %H:%M} UTC", err=True)


@app.command()
def silences(ctx: typer.Context, output: str = typer.Option("table", "--format", help="table or json.")) -> None:
    """List silences that have not ended."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import active_silences

    state = app_context(ctx)
    with session_factory(reader(state.engine))() as session:
        rows = [{"id": s.id, "matchers": " ".join(f"{k}={v}" for k, v in s.matchers.items()), "until": s.ends_at,
                 "by": s.created_by, "comment": s.comment} for s in active_silences(session, state.clock.now())]
    render.print_rows("Silences", ["id", "matchers", "until", "by", "comment"], rows,
                      "json" if output == "json" else "table")
