"""A country's public holidays for one year, from the ``holidays`` package, remembered between runs.

Looking one country up makes the package import every country it knows (~0.25 s), which would be most of what
a quick command such as ``orderflow notifications`` costs. A year's holidays only change with the package, so
the answer is kept in a small file under ``$XDG_CACHE_HOME/orderflow`` (``~/.cache/orderflow``), valid for
the installed copy of the package it came from (one file per copy, named by its path, size and modification
time, so an upgrade starts afresh). A missing or unreadable file only means asking the package again; one that
cannot be written is not an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from datetime import date
from pathlib import Path

from orderflow.errors import ConfigError


def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (and ``subdivision``) in ``year``; ``ConfigError`` for an unknown one."""
    installed = _installed_package()
    key = f"{country}/{subdivision or ''}/{year}"
    remembered = _read(installed)
    if key in remembered:
        with contextlib.suppress(TypeError, ValueError):
            return frozenset(date.fromisoformat(day) for day in remembered[key])
    found = _ask_package(country, subdivision, year)
    _write(installed, {**remembered, key: sorted(day.isoformat() for day in found)})
    return found


def _ask_package(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())
    except NotImplementedError as exc:
        raise ConfigError(f"calendar: holidays: {exc}") from None


def _installed_package() -> str:
    """Which copy of the package answers: a reinstall or upgrade changes it, and so drops what was kept."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return ""
    try:
        found = os.stat(spec.origin)
    except OSError:
        return ""
    return f"{spec.origin}:{found.st_size}:{found.st_mtime_ns}"


def _cache_file(installed: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    name = hashlib.sha256(installed.encode()).hexdigest()[:16]
    return Path(base) / "orderflow" / f"public-holidays-{name}.json"


def _read(installed: str) -> dict[str, list[str]]:
    if not installed:
        return {}
    try:
        kept = json.loads(_cache_file(installed).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("package") != installed or not isinstance(kept.get("years"), dict):
        return {}
    years: dict[str, list[str]] = kept["years"]
    return years


def _write(installed: str, years: dict[str, list[str]]) -> None:
    if not installed:
        return
    path = _cache_file(installed)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps({"package": installed, "years": years}), encoding="utf-8")
        partial.replace(path)
