"""``orderflow notifications``: the staff queue, and what staff do with it."""

from __future__ import annotations

from collections.abc import Callable

import typer

from orderflow.cli import values
from orderflow.cli.context import AppContext, app_context
from orderflow.rules.vocabulary import SEVERITY_ORDER, SILENCE_KEYS, SORTS, STATES

app = typer.Typer(invoke_without_command=True)
silences_app = typer.Typer(help="Silences that have not ended; `silences end ID` lifts one now.",
                           invoke_without_command=True)
app.add_typer(silences_app, name="silences")

IDS = typer.Argument(..., metavar="ID", help="Notification numbers.")
BY = typer.Option(None, "--by", help="Who is acting [default: $ORDERFLOW_USER, else your login name].")
OUTPUT = typer.Option("table", "--format", parser=values.one_of("table", "json", what="format"),
                      metavar=values.metavar("table", "json"), help="One line per notification, or JSON.")


def _rule_names() -> tuple[str, ...]:
    """Every rule, most urgent first; the rules are imported only when a command line names one."""
    from orderflow.rules.catalogue import TYPE_ORDER

    return TYPE_ORDER


def _rule_name(text: str) -> str:
    return values.checked(text, _rule_names(), what="rule")


def actor(by: str | None) -> str:
    """Who did it: ``--by``, else the person at the terminal (``ORDERFLOW_USER``, else the login name)."""
    from orderflow.cli.last_look import person

    return by.strip() if by and by.strip() else person()


@app.callback()
def notifications(
    ctx: typer.Context,
    sort: str = typer.Option("type", "--sort", parser=values.one_of(*SORTS, what="sort"),
                             metavar=values.metavar(*SORTS), help="Group by type, or rank by severity, age or vendor."),
    rule: str | None = typer.Option(None, "--type", parser=_rule_name,
                                    metavar="RULE", help="Only this rule, e.g. vendor_late (see `rules list`)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Only this configured vendor."),
    severity: str | None = typer.Option(None, "--severity", parser=values.one_of(*SEVERITY_ORDER, what="severity"),
                                        metavar=values.metavar(*SEVERITY_ORDER), help="Only this severity."),
    state: str = typer.Option("open", "--state", parser=values.one_of(*STATES, what="state"),
                              metavar=values.metavar(*STATES),
                              help="open (with acknowledged, the default), acknowledged, snoozed, resolved or all."),
    include_hidden: bool = typer.Option(False, "--all", help="Also what inhibition or a silence hides, with why."),
    since: str | None = typer.Option(None, "--since", metavar="WHEN",
                                     help="Only opened since then: a day in the shop's zone, today, -2d, ..."),
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print the list."),
    limit: int = typer.Option(25, "--limit", min=0,
                              help="Table rows shown per type; the rest are counted (0: all). csv and json list all."),
) -> None:
    """The staff queue: problems that need a person, grouped by type, most urgent first.

    The table opens with a summary (how many by severity, the oldest, what is new since your last look), then
    one row per notification: its age in business days (bd: working days of the shop's calendar since it
    opened), its state (acknowledged by whom, snoozed until when), for lateness the vendor's deadline day and
    how late, and the evidence in at most two lines (`why ID` and JSON have it whole). Times are in the shop's
    zone; --utc shows UTC.
    """
    if ctx.invoked_subcommand is not None:
        return
    from orderflow.cli import last_look, render
    from orderflow.db.engine import reader
    from orderflow.rules.listing import JSON_FIELDS, QueueFilter, queue_shown

    context = app_context(ctx)
    now = context.clock.now()
    filters = QueueFilter(state=state, rule=rule, vendor=_vendor(context, vendor), severity=severity,
                          include_hidden=include_hidden,
                          since=values.when(since, now=now, zone=context.zone, option="--since") if since else None)
    with reader(context.engine).connect() as connection:
        documents = queue_shown(connection, filters=filters, sort=sort, per_type=limit if output == "table" else 0)
    if output != "table":
        render.print_rows("Notifications", list(JSON_FIELDS), documents, output)
        return
    from orderflow.calendars import shop_calendar

    calendar = shop_calendar(context.settings.timezone)
    view = render.QueueView(
        age=lambda opened: calendar.business_days_between(opened, now), times=context.times,
        order_url=context.settings.order_url, vendor_zones=context.vendor_zones, show_hidden=include_hidden,
        limit=limit, last_look=last_look.previous(context.settings.database.url, now=now))
    render.print_queue(documents, view)


def _vendor(context: AppContext, vendor: str | None) -> str | None:
    if vendor is None:
        return None
    return values.checked(vendor, [configured.code for configured in context.settings.vendors], what="vendor",
                          option="--vendor")


def _act(ctx: typer.Context, ids: list[int], output: str, action: Callable[..., object], **kwargs: object) -> None:
    """One staff action on each notification, each in its own transaction: an unknown or refused id is one
    line on stderr and never stops the others (exit 4 at the end)."""
    from orderflow.cli import render
    from orderflow.cli.context import emit
    from orderflow.db.engine import session_factory
    from orderflow.errors import ExitCode, InputError
    from orderflow.rules.queue import StaffOutcome

    context = app_context(ctx)
    outcomes: list[StaffOutcome] = []
    refused = 0
    for notification_id in ids:
        try:
            with session_factory(context.engine)() as session, session.begin():
                outcome = action(session, notification_id, now=context.clock.now(), **kwargs)
        except InputError as exc:
            emit(context, str(exc))
            refused += 1
            continue
        assert isinstance(outcome, StaffOutcome)
        outcomes.append(outcome)
    if output == "json":
        render.print_json(outcomes)
    else:
        render.print_lines(str(outcome) for outcome in outcomes)
    if refused:
        raise typer.Exit(int(ExitCode.INPUT_REFUSED))


@app.command()
def ack(ctx: typer.Context, notification_ids: list[int] = IDS,
        note: str | None = typer.Option(None, "--note", help="What you are doing about it."),
        by: str | None = BY, output: str = OUTPUT) -> None:
    """Acknowledge: someone is on it. It stays until it clears, or comes back to the top if it gets worse."""
    from orderflow.rules.queue import acknowledge

    _act(ctx, notification_ids, output, acknowledge, actor=actor(by), note=note)


@app.command()
def unack(ctx: typer.Context, notification_ids: list[int] = IDS, by: str | None = BY,
          output: str = OUTPUT) -> None:
    """Undo an acknowledgement: open again, nobody on it."""
    from orderflow.rules.queue import unacknowledge

    _act(ctx, notification_ids, output, unacknowledge, actor=actor(by))


@app.command()
def snooze(ctx: typer.Context, notification_ids: list[int] = IDS,
           until: str | None = typer.Option(None, "--until", metavar="WHEN",
                                            help="Until then: a day (its start in the shop's zone), a time, "
                                                 "tomorrow, +2d."),
           for_: str | None = typer.Option(None, "--for", help="For a while: 2d, 6h, 30m, 1w."),
           note: str | None = typer.Option(None, "--note", help="Why it can wait."),
           by: str | None = BY, output: str = OUTPUT) -> None:
    """Snooze: out of sight until then, or earlier if it escalates or its evidence changes."""
    from orderflow.rules.queue import snooze as snooze_notification

    context = app_context(ctx)
    ends = values.until(until, for_, now=context.clock.now(), zone=context.zone)
    _act(ctx, notification_ids, output, snooze_notification, actor=actor(by), until=ends, note=note,
         shown_until=context.times.at(ends))


@app.command()
def unsnooze(ctx: typer.Context, notification_ids: list[int] = IDS, by: str | None = BY,
             output: str = OUTPUT) -> None:
    """Undo a snooze: back in the queue now."""
    from orderflow.rules.queue import unsnooze as unsnooze_notification

    _act(ctx, notification_ids, output, unsnooze_notification, actor=actor(by))


@app.command()
def resolve(ctx: typer.Context, notification_ids: list[int] = IDS,
            note: str = typer.Option(..., "--note", help="What was done (required)."),
            by: str | None = BY, output: str = OUTPUT) -> None:
    """Resolve by hand. If the problem is still there it comes back after one business day."""
    from orderflow.rules.queue import resolve as resolve_notification

    _act(ctx, notification_ids, output, resolve_notification, actor=actor(by), note=note)


@app.command()
def reopen(ctx: typer.Context, notification_ids: list[int] = IDS, by: str | None = BY,
           output: str = OUTPUT) -> None:
    """Undo a resolve: open again now (the next `rules run` resolves it again if its problem is gone)."""
    from orderflow.rules.queue import reopen as reopen_notification

    _act(ctx, notification_ids, output, reopen_notification, actor=actor(by))


@app.command()
def why(ctx: typer.Context,
        notification_id: int = typer.Argument(..., metavar="ID", help="Notification number.")) -> None:
    """Print a notification's whole story: every transition, when, why and by whom."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import history

    context = app_context(ctx)
    with session_factory(reader(context.engine))() as session:
        notification, events = history(session, notification_id)
        render.print_history(notification, events, times=context.times)


@app.command()
def silence(ctx: typer.Context,
            match: list[str] = typer.Option(..., "--match", help=f"key=value: {', '.join(SILENCE_KEYS)}; "
                                                                 "vendor and rule must be known ones."),
            until: str | None = typer.Option(None, "--until", metavar="WHEN",
                                             help="Until then: a day (its start in the shop's zone), a time, +2d."),
            for_: str | None = typer.Option(None, "--for", help="For a while: 2d, 6h, 30m, 1w."),
            comment: str = typer.Option(..., "--comment", help="Why (required)."),
            by: str | None = BY) -> None:
    """Silence matching notifications until a time: hidden at once, still tracked and shown with --all,
    never pushed."""
    from orderflow.cli import render
    from orderflow.db.engine import session_factory
    from orderflow.rules.queue import add_silence

    context = app_context(ctx)
    matchers = _matchers(context, match)
    now = context.clock.now()
    ends = values.until(until, for_, now=now, zone=context.zone)
    with session_factory(context.engine)() as session, session.begin():
        created, hidden = add_silence(session, matchers=matchers, until=ends, comment=comment, actor=actor(by),
                                      now=now)
        render.print_lines([f"silence #{created.id} until {context.times.at(created.ends_at)}: hides {hidden} "
                            f"open notification{'' if hidden == 1 else 's'} now"])


def _matchers(context: AppContext, match: list[str]) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in match]
    if any(len(pair) != 2 or not pair[1] for pair in pairs):
        raise typer.BadParameter("--match takes key=value, e.g. --match vendor=ACME", param_hint="--match")
    matchers = {values.checked(key, SILENCE_KEYS, what="key", option="--match"): value for key, value in pairs}
    known = {"vendor": [v.code for v in context.settings.vendors], "rule": _rule_names(),
             "severity": SEVERITY_ORDER}
    for key, valid in known.items():
        if key in matchers:
            matchers[key] = values.checked(matchers[key], valid, what=key, option="--match")
    return matchers


@silences_app.callback()
def silences(ctx: typer.Context,
             output: str = typer.Option("table", "--format",
                                        parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                                        metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print them.")
             ) -> None:
    """List silences that have not ended."""
    if ctx.invoked_subcommand is not None:
        return
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import active_silences

    context = app_context(ctx)
    with session_factory(reader(context.engine))() as session:
        rows = [{"id": s.id, "matchers": " ".join(f"{k}={v}" for k, v in s.matchers.items()), "until": s.ends_at,
                 "by": s.created_by, "comment": s.comment} for s in active_silences(session, context.clock.now())]
    render.print_rows("Silences", ["id", "matchers", "until", "by", "comment"], rows, output, times=context.times)


@silences_app.command("end")
def end(ctx: typer.Context, silence_id: int = typer.Argument(..., metavar="ID", help="Silence number."),
        by: str | None = BY) -> None:
    """End a silence now: what it hid is shown at once."""
    from orderflow.cli import render
    from orderflow.db.engine import session_factory
    from orderflow.rules.queue import end_silence

    context = app_context(ctx)
    with session_factory(context.engine)() as session, session.begin():
        ended, shown = end_silence(session, silence_id, actor=actor(by), now=context.clock.now())
        render.print_lines([f"silence #{ended.id} ended {context.times.at(ended.ends_at)}: shows {shown} "
                            f"notification{'' if shown == 1 else 's'} again"])
