"""The ``import`` job: files given by a person, one configured source, or every configured source."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.errors import ExitCode, OrderflowError, RemoteError, refusal_lines
from orderflow.jobs import WorkResult, time_is_up
from orderflow.storefronts.intake import ImportResult
from orderflow.storefronts.sources import import_inbox, import_paths
from orderflow.vendors.registry import sync_vendors


def import_orders(*, engine: Engine, settings: Settings, now: datetime, paths: list[Path],
                  source: str | None = None, fmt: str | None = None, retry_refused: bool = False) -> WorkResult:
    """Import and route orders. Refused rows give exit code 4; a source that failed gives 6 (others still ran).

    ``retry_refused``: inbox sources first move their rejected files back, to be read again.
    """
    with session_factory(engine)() as session, session.begin():
        sync_vendors(session=session, settings=settings, now=now)
    if paths:
        result = import_paths(engine=engine, paths=paths, source=source, fmt=fmt, settings=settings, now=now)
        return _work_result(result, failed_sources=[], settings=settings)
    names = [source] if source else list(settings.sources)
    total = ImportResult()
    failed: list[str] = []
    for name in names:
        if time_is_up():
            break
        try:
            total.add(import_source(engine=engine, name=name, settings=settings, now=now,
                                    retry_refused=retry_refused))
        except (RemoteError, OrderflowError) as exc:
            if source:
                raise
            failed.append(f"source {name}: {exc}")
    return _work_result(total, failed_sources=failed, settings=settings)


def import_source(*, engine: Engine, name: str, settings: Settings, now: datetime,
                  retry_refused: bool = False) -> ImportResult:
    configured = settings.source(name)
    if configured.kind == "http":
        from orderflow.storefronts.http_source import import_http_source

        return import_http_source(engine=engine, name=name, settings=settings, now=now)
    return import_inbox(engine=engine, name=name, settings=settings, now=now, retry_refused=retry_refused)


def _work_result(result: ImportResult, *, failed_sources: list[str], settings: Settings) -> WorkResult:
    problems = refusal_lines(result.refusals, settings.limits.refusals_listed) + result.problems + failed_sources
    code = ExitCode.PARTIAL_FAILURE if failed_sources else ExitCode.INPUT_REFUSED if result.refusals \
        else ExitCode.OK
    return WorkResult(counts=result.counts(), problems=problems, exit_code=code, detail=result)
