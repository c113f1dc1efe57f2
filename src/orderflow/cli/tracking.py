"""``orderflow track``: follow parcels with the carriers."""

from __future__ import annotations

import typer

from orderflow.carriers.catalogue import CODES as CARRIER_CODES
from orderflow.carriers.catalogue import NAMES_IN_WORDS
from orderflow.cli import values
from orderflow.cli.context import app_context, run_as_job


def track(
    ctx: typer.Context,
    carrier: str | None = typer.Option(None, "--carrier", parser=values.one_of(*CARRIER_CODES, what="carrier"),
                                       metavar=values.metavar(*CARRIER_CODES), help="Only this carrier."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Check at most this many parcels."),
) -> None:
    """Check the parcels that are due a check with the carriers, and plan their next check (the help shown is
    TRACK_HELP, which names the carriers from their records)."""
    from orderflow.carriers.poller import track as run_track

    state = app_context(ctx)
    run_as_job(ctx, "track", lambda: run_track(engine=state.engine, settings=state.settings, clock=state.clock,
                                               carrier=carrier, limit=limit))


TRACK_HELP = f"""Check the parcels that are due a check with {NAMES_IN_WORDS}, and plan their next check.

Parcels that matter most go first (never checked, near their delivery date, in exception); each carrier's rate
budget is kept across runs, so small quotas are spent where they count. A carrier whose every call fails is
paused for a while and changes no parcel (exit code 6).
"""
