"""When this person last looked at the queue, so its summary can say what is new since.

Kept per person (``ORDERFLOW_USER``, else the login name) and per database in a small file under
``$XDG_STATE_HOME/orderflow`` (``~/.local/state/orderflow``): it is a convenience of one terminal, not shop
data, so it never touches the database, and a home folder that cannot be written only loses the "new" count.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path


def _state_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "orderflow" / "last-look.json"


def person() -> str:
    """Who is at the terminal: ``ORDERFLOW_USER``, else the login name (which may be a shared one)."""
    try:
        return os.environ.get("ORDERFLOW_USER", "").strip() or getpass.getuser()
    except (KeyError, OSError):
        return "staff"


def previous(database_url: str, *, now: datetime) -> datetime | None:
    """The last look before ``now`` (None the first time), and ``now`` remembered as the new last look."""
    key = hashlib.sha256(f"{database_url}\0{person()}".encode()).hexdigest()[:16]
    path = _state_file()
    try:
        looks = json.loads(path.read_text(encoding="utf-8"))
        before = datetime.fromisoformat(looks[key]) if isinstance(looks, dict) and key in looks else None
    except (OSError, ValueError, TypeError):
        looks, before = {}, None
    if not isinstance(looks, dict):
        looks = {}
    looks[key] = now.isoformat()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(looks), encoding="utf-8")
        partial.replace(path)
    return before if before is not None and before.tzinfo is not None and before < now else None
