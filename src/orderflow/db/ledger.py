"""The ledger of files taken in: each content (origin + SHA-256) is applied once, and a refusal is not a taking.

::

    entry = ledger_entry(session, origin="vendor:ACME", path="ack_1.csv", size=len(data), digest=digest, now=now)
    if entry is None:
        ...                         # applied before: a copy, nothing to do
    else:
        ...                         # fill entry.kind, rows_ok, rows_refused, refusals (error when refused whole)

A file refused whole (``error`` set) is remembered only as a refusal: the same content read again (a person
fixed the configuration and dropped the file back) is read afresh, and its row is rewritten with the new outcome,
so the refused-file rules see the file as it stands now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.db.models import IngestedFile


def taken(session: Session, *, origin: str, digest: str) -> bool:
    """Whether this content was applied before (a refusal does not count)."""
    return session.scalar(select(IngestedFile.id).where(
        IngestedFile.origin == origin, IngestedFile.sha256 == digest, IngestedFile.error.is_(None))) is not None


def ledger_entry(session: Session, *, origin: str, path: str, size: int, digest: str, kind: str,
                 now: datetime) -> IngestedFile | None:
    """The row to record this file in (part of the caller's transaction), or ``None`` when it was applied before."""
    entry = session.scalar(select(IngestedFile).where(IngestedFile.origin == origin, IngestedFile.sha256 == digest))
    if entry is not None and entry.error is None:
        return None
    if entry is None:
        entry = IngestedFile(origin=origin, sha256=digest)
        session.add(entry)
    entry.path, entry.size, entry.kind, entry.ingested_at = path, size, kind, now
    entry.rows_ok, entry.rows_refused, entry.refusals, entry.error = 0, 0, [], None
    return entry
