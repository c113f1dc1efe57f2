"""Where orders come from: files named on the command line, and inbox folders watched by cron.

Each file is read and stored in one transaction: a file refused whole (not the format, not UTF-8) changes
nothing; a file with some bad rows keeps its good orders and names the bad rows. An inbox file is recorded in
the ``ingested_files`` ledger by content hash in the same transaction as its orders, and moved to
``archive/`` (or ``rejected/``) only after that commit, so a crash at any point neither loses nor doubles it,
and the same content dropped again under another name is not imported twice.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from orderflow.config import Settings, SourceSettings
from orderflow.crashpoints import crash_point
from orderflow.db.engine import session_factory
from orderflow.db.ledger import ledger_entry
from orderflow.db.models import IngestedFile
from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.jobs import time_is_up
from orderflow.orders.records import IncomingOrder
from orderflow.orders.routing import Catalog
from orderflow.storefronts.formats import detect_file_format, iter_orders
from orderflow.storefronts.intake import ImportResult, upsert_orders
from orderflow.storefronts.mapped_csv import ColumnMapping

DEFAULT_SOURCE_FOR_FORMAT = {"shopify_csv": "shopify", "json": "json", "mapped_csv": "csv"}
"""The source name orders from a file get when no --source is given."""


def column_mapping(name: str, source: SourceSettings) -> ColumnMapping | None:
    if source.format != "mapped_csv":
        return None
    try:
        columns: dict[str, Any] = dict(source.columns)
        return ColumnMapping(**columns, date_format=source.date_format, timezone=source.timezone)
    except TypeError as exc:
        raise ConfigError(f"sources.{name}.columns: {exc}".replace("ColumnMapping.__init__() ", "")) from None


def only_orders(items: Iterable[IncomingOrder | Refusal], refusals: list[Refusal], *,
                file: str) -> Iterator[IncomingOrder]:
    """The orders of a parser's stream that can be stored; its refusals, and these, are collected on the side:

    - an order to ship with no street or no country: no vendor could deliver it;
    - an order number seen before in the same file: which one is meant is not ours to guess, so the first is
      kept and each later one refused.
    """
    seen: set[tuple[str, str]] = set()
    for item in items:
        if isinstance(item, Refusal):
            refusals.append(item)
            continue
        key = (item.source, item.order_number)
        missing = [name for name, value in (("shipping.address1", item.shipping.address1),
                                            ("shipping.country", item.shipping.country)) if not value.strip()]
        if key in seen:
            refusals.append(Refusal(file=file, line=None, field="order_number", reason=(
                f"order {item.order_number} appears again in this file; the first one is kept, this one refused")))
        elif missing and any(not line.fulfilled_at_storefront for line in item.lines) and not item.cancelled_at:
            refusals.append(Refusal(file=file, line=None, field=missing[0], reason=(
                f"order {item.order_number} has no {missing[0].partition('.')[2]}: no vendor could deliver it")))
        else:
            seen.add(key)
            yield item


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_file(*, session: Session, path: Path, source: str, fmt: str | None, mapping: ColumnMapping | None,
                settings: Settings, catalog: Catalog, now: datetime) -> ImportResult:
    """Read and store one file inside the caller's transaction. ``InputError`` means the whole file is refused."""
    size, limit = path.stat().st_size, settings.limits.file_bytes
    if size > limit:
        raise InputError(f"{size} bytes, more than limits.file_bytes ({limit}) allows; split the export, or raise "
                         "the limit", file=str(path))
    refusals: list[Refusal] = []
    orders = only_orders(iter_orders(path, source=source, fmt=fmt, mapping=mapping), refusals, file=str(path))
    result = upsert_orders(session=session, orders=orders, catalog=catalog, po_prefix=settings.po_prefix,
                           now=now, file=str(path))
    result.refusals[:0] = refusals
    result.files = 1
    return result


def import_paths(*, engine: Engine, paths: list[Path], source: str | None, fmt: str | None, settings: Settings,
                 now: datetime) -> ImportResult:
    """Import files named by a person; each in its own transaction, a refused file never stops the others."""
    configured = settings.sources.get(source) if source else None
    mapping = column_mapping(source, configured) if source and configured else None
    fmt = fmt or (configured.format if configured else None)
    total = ImportResult()
    make_session = session_factory(engine)
    for path in paths:
        try:
            name = source or DEFAULT_SOURCE_FOR_FORMAT[fmt or detect_file_format(path, mapping=mapping)]
            with make_session() as session, session.begin():
                catalog = Catalog.load(session, settings.vendors)
                total.add(import_file(session=session, path=path, source=name, fmt=fmt, mapping=mapping,
                                      settings=settings, catalog=catalog, now=now))
        except InputError as exc:
            total.refusals.append(exc.refusal)
    return total


def _inbox_files(folder: Path, settle_seconds: float) -> list[Path]:
    """Files ready to read: not hidden, not temporary, not modified in the last ``settle_seconds`` (still growing)."""
    if not folder.is_dir():
        raise ConfigError(f"inbox folder {folder} does not exist")
    ready_before = time.time() - settle_seconds  # the file system's clock, not business time
    return sorted(
        path for path in folder.iterdir()
        if stat.S_ISREG(path.lstat().st_mode) and not path.name.startswith(".")  # never a link to elsewhere
        and not path.name.endswith((".tmp", ".part", ".partial"))
        and path.stat().st_mtime <= ready_before
    )


def import_inbox(*, engine: Engine, name: str, settings: Settings, now: datetime,
                 retry_refused: bool = False) -> ImportResult:
    """Import every new file in source ``name``'s inbox folder exactly once, then move it aside.

    ``retry_refused`` first moves the files in its rejected folder back into the inbox, to be read again once the
    cause of their refusal is fixed (a refusal is not a taking: the same bytes are read afresh).
    """
    source = settings.source(name)
    if source.path is None:
        raise ConfigError(f"sources.{name}: an inbox source needs 'path'")
    folder = settings.path(source.path)
    rejected = folder / source.rejected
    if retry_refused and rejected.is_dir():
        for path in sorted(rejected.iterdir()):
            if stat.S_ISREG(path.lstat().st_mode):
                _move_aside(path, folder)
    mapping = column_mapping(name, source)
    total = ImportResult()
    make_session = session_factory(engine)
    for path in _inbox_files(folder, source.settle_seconds):
        if time_is_up():
            break
        digest = file_digest(path)
        refused_whole = False
        with make_session() as session, session.begin():
            ledger = ledger_entry(session, origin=f"source:{name}", path=str(path), size=path.stat().st_size,
                                  digest=digest, kind=source.format or "orders", now=now)
            if ledger is not None:
                refused_whole = _ingest_inbox_file(session=session, path=path, name=name, ledger=ledger,
                                                   fmt=source.format, mapping=mapping, settings=settings, now=now,
                                                   total=total)
        crash_point("import.after_file_commit")
        _move_aside(path, folder / (source.rejected if refused_whole else source.archive))
    return total


def _ingest_inbox_file(*, session: Session, path: Path, name: str, ledger: IngestedFile, fmt: str | None,
                       mapping: ColumnMapping | None, settings: Settings, now: datetime, total: ImportResult) -> bool:
    """Store one inbox file and fill its ledger row; returns whether the file was refused whole."""
    try:
        with session.begin_nested():
            result = import_file(session=session, path=path, source=name, fmt=fmt, mapping=mapping,
                                 settings=settings, catalog=Catalog.load(session, settings.vendors), now=now)
    except InputError as exc:
        ledger.rows_refused = 1
        ledger.error = str(exc)
        ledger.refusals = [_as_json(exc.refusal)]
        total.refusals.append(exc.refusal)
        total.files += 1
        return True
    ledger.rows_ok = result.stored + result.updated + result.unchanged
    ledger.rows_refused = result.refused
    ledger.refusals = [_as_json(refusal) for refusal in result.refusals[:settings.limits.refusals_listed]]
    total.add(result)
    return False


def _as_json(refusal: Refusal) -> dict[str, object]:
    return {"file": refusal.file, "line": refusal.line, "field": refusal.field, "reason": refusal.reason}


def _move_aside(path: Path, folder: Path) -> None:
    """Move a handled file into ``folder``; a name already there is kept and the newcomer gets a suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem}.{counter}{path.suffix}"
    shutil.move(str(path), target)
