"""The names of what cron runs: ``sync`` and, in order, the commands it runs as its steps.

Names only, so that what watches the schedule (the job rules) knows it without importing the pipeline, which
itself runs the rules. :data:`orderflow.sync.STEPS` is built from these names, so the two cannot differ.
"""

from __future__ import annotations

SYNC_COMMAND = "sync"
IMPORT, DISPATCH, FETCH, TRACK, NOTIFY_CUSTOMERS, RULES_RUN = (
    "import", "dispatch", "fetch", "track", "customers notify", "rules run")
SYNC_STEP_NAMES: tuple[str, ...] = (IMPORT, DISPATCH, FETCH, TRACK, NOTIFY_CUSTOMERS, RULES_RUN)
"""The pipeline in order: import, dispatch, fetch, track, customers notify, then rules run, which judges what
the steps before it just did."""
