"""Text from outside made into one safe piece of a name (a file name, a ``Message-ID``).

>>> safe_token("ACME/../BLANK")
'ACME=2F=2E=2E=2FBLANK'

Letters, digits, ``_`` and ``-`` stay as they are; any other character is written as ``=XX`` per UTF-8 byte,
so the piece can never carry a folder, a dot-dot or a header break, and distinct texts never give the same
piece. Empty text is ``=00``.
"""

from __future__ import annotations

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def safe_token(text: str) -> str:
    """``text`` with everything outside ``[A-Za-z0-9_-]`` written as ``=XX`` per byte."""
    return "".join(char if char in _SAFE else "".join(f"={byte:02X}" for byte in char.encode())
                   for char in text) or "=00"
