"""JSON from outside orderflow (vendors, carriers, storefronts), read so that no body can crash a run.

``json.loads`` raises ``ValueError`` for what is not JSON, but ``RecursionError`` for JSON nested deeper than
Python's stack; :func:`loads` makes both a ``ValueError``, so every reader handles one exception.
"""

from __future__ import annotations

import json
from typing import Any


def loads(data: bytes | str, **options: Any) -> Any:
    """``json.loads(data, **options)``; a document nested too deeply to read is a ``ValueError`` too."""
    try:
        return json.loads(data, **options)
    except RecursionError as exc:
        raise ValueError("nested too deeply to read") from exc
