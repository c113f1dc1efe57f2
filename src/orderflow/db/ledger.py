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

Many files at once (a vendor's folder) read their rows in one query and pass them on, so each file's entry costs
no query of its own::

    known = ledger_entries(session, origin="vendor:ACME", digests=[digest_1, digest_2])
    entry = ledger_entry(session, origin="vendor:ACME", ..., digest=digest_1, now=now, known=known)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.db.bulk import chunked
from orderflow.db.models import IngestedFile


def taken(session: Session, *, origin: str, digests: Iterable[str]) -> set[str]:
    """Which of these contents were applied before (a refusal does not count), a few hundred a query."""
    found: set[str] = set()
    for chunk in chunked(sorted(set(digests))):
        found.update(session.scalars(select(IngestedFile.sha256).where(
            IngestedFile.origin == origin, IngestedFile.sha256.in_(chunk), IngestedFile.error.is_(None))))
    return found


def ledger_entries(session: Session, *, origin: str, digests: Iterable[str]) -> dict[str, IngestedFile]:
    """The rows kept for these contents (applied or refused) by digest, a few hundred a query: what
    :func:`ledger_entry` is given as ``known`` for the files of one transaction."""
    entries: dict[str, IngestedFile] = {}
    for chunk in chunked(sorted(set(digests))):
        entries |= {entry.sha256: entry for entry in session.scalars(select(IngestedFile).where(
            IngestedFile.origin == origin, IngestedFile.sha256.in_(chunk)))}
    return entries


def ledger_entry(session: Session, *, origin: str, path: str, size: int, digest: str, kind: str,
                 now: datetime, known: dict[str, IngestedFile] | None = None) -> IngestedFile | None:
    """The row to record this file in (part of the caller's transaction), or ``None`` when it was applied before.

    ``known``: the rows :func:`ledger_entries` read, in this transaction, for every digest it may be asked about;
    a digest not in it has no row. The new row is added to it, so the same content met again is a copy.
    """
    if known is None:
        entry = session.scalar(select(IngestedFile).where(IngestedFile.origin == origin,
                                                          IngestedFile.sha256 == digest))
    else:
        entry = known.get(digest)
    if entry is not None and entry.error is None:
        return None
    if entry is None:
        entry = IngestedFile(origin=origin, sha256=digest)
        session.add(entry)
        if known is not None:
            known[digest] = entry
    entry.path, entry.size, entry.kind, entry.ingested_at = path, size, kind, now
    entry.rows_ok, entry.rows_refused, entry.refusals, entry.error = 0, 0, [], None
    return entry
