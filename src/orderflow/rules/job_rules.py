"""Rules about the cron jobs themselves: a scheduled command that failed, or that stopped running.

Each rule reads the latest runs of each command (``job_runs``), never the whole history. A command's name is
its job's name; the steps of ``sync`` are taken from :data:`orderflow.schedule.SYNC_STEP_NAMES`, the names
``sync`` builds its steps from, so a step added to the pipeline is watched without a second list to keep in
step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orderflow.db.models import JobOutcome, JobRun
from orderflow.rules.findings import Finding, RuleContext, RuleEntry, Subject, rule_severity
from orderflow.rules.tracking_rules import EVENT_DETAIL_LIMIT, _hours, _when, _zone
from orderflow.schedule import RULES_RUN, SYNC_COMMAND, SYNC_STEP_NAMES

REPORT_COMMAND = "report daily"
SYNC_STEPS = frozenset(SYNC_STEP_NAMES)
"""A shop that runs only ``sync`` runs these too: a successful sync is their heartbeat."""
SCHEDULED_COMMANDS = (*SYNC_STEP_NAMES, REPORT_COMMAND, SYNC_COMMAND)
JOB_INTERVALS: dict[str, timedelta] = {
    **{name: timedelta(hours=1) for name in SYNC_STEP_NAMES if name != RULES_RUN},
    SYNC_COMMAND: timedelta(hours=1),
    REPORT_COMMAND: timedelta(hours=26),
}
"""The dead man's switch per command. ``rules run`` is not here: the run judging is the proof it is alive."""
JOB_COMPLETED = (JobOutcome.OK, JobOutcome.REFUSED, JobOutcome.PARTIAL)
"""A run that refused some input or had one remote failing still ran; those problems have their own rules."""


def job_failed(context: RuleContext) -> list[Finding]:
    """The last finished run of a scheduled command failed. A later completed run clears it.

    Only outcome ``failed`` counts: ``refused`` (some input refused) and ``partial`` (one remote failing, or
    work left at the run's deadline) are the job doing its work, and ``import_refused``, ``vendor_file_refused``
    and the feed rules name those problems. A run still in progress is passed over, so a failure stays found
    until a run completes. Nor does ``abandoned`` (a run killed, closed by the next run): that next run either
    completes, and all is well, or is killed too, and then no run completes and ``job_missing`` says so.
    """
    severity = rule_severity(context, "job_failed", "critical")
    if severity is None:
        return []
    zone, findings = _zone(context), []
    for command in SCHEDULED_COMMANDS:
        run = _last_finished_run(context.session, command, context.now)
        if run is None or run.outcome != JobOutcome.FAILED or run.finished_at is None:
            continue
        error = (run.error or "").strip().splitlines()
        cause = f": {error[0][:EVENT_DETAIL_LIMIT]}" if error else ""
        findings.append(Finding("job_failed", Subject("job", command), severity,
                                f"{command} failed {_when(run.finished_at, zone)}{cause}", factual=True))
    return findings


def job_missing(context: RuleContext) -> list[Finding]:
    """A command that has run before has not completed within its interval (a dead man's switch).

    A command that never ran is not missing (a new install, or one the shop does not schedule). A run that
    completed with refusals or a partial failure still counts as alive. When ``sync`` itself is missing, its
    steps missing with it are one problem, the schedule's: one finding about ``sync`` that names them.
    """
    severity = rule_severity(context, "job_missing", "critical")
    if severity is None:
        return []
    zone, missing = _zone(context), {}
    for command, interval in JOB_INTERVALS.items():
        first_run = context.session.scalar(
            select(func.min(JobRun.started_at)).where(JobRun.command == command, JobRun.started_at <= context.now))
        if first_run is None:
            continue
        heartbeats = (command, "sync") if command in SYNC_STEPS else (command,)
        completed = max((moment for heartbeat in heartbeats
                         if (moment := _last_completed(context.session, heartbeat, context.now)) is not None),
                        default=None)
        if context.now - (completed or first_run) <= interval:
            continue
        since = f"last completed {_when(completed, zone)}" if completed else \
            f"has not completed since it first ran {_when(first_run, zone)}"
        missing[command] = f"{command} {since} (expected every {_hours(interval)})"
    if "sync" in missing:
        steps = [command for command in missing if command in SYNC_STEPS]
        if steps:
            missing["sync"] += f"; nor have its steps {', '.join(steps)}"
        missing = {command: evidence for command, evidence in missing.items() if command not in SYNC_STEPS}
    return [Finding("job_missing", Subject("job", command), severity, evidence, factual=False)
            for command, evidence in missing.items()]


def _last_completed(session: Session, command: str, now: datetime) -> datetime | None:
    """When ``command`` last completed by ``now``: the newest ``finished_at`` of a completed run.

    Walked newest first on the (command, finished_at) index and stopped at the first completed run; a
    ``max()`` over the command's runs read every run of every year the shop has been running.
    """
    return session.scalar(
        select(JobRun.finished_at)
        .where(JobRun.command == command, JobRun.outcome.in_(JOB_COMPLETED), JobRun.finished_at <= now)
        .order_by(JobRun.finished_at.desc()).limit(1))


def _last_finished_run(session: Session, command: str, now: datetime) -> JobRun | None:
    # A run without ``finished_at`` is still going, or crashed; either way it has no outcome yet.
    return session.scalars(
        select(JobRun)
        .where(JobRun.command == command, JobRun.started_at <= now, JobRun.finished_at <= now)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()


JOB_RULES: tuple[RuleEntry, ...] = (
    RuleEntry(name="job_failed", check=job_failed, rank=10),
    RuleEntry(name="job_missing", check=job_missing, rank=20),
)
"""The cron-job rules by their contract names."""
