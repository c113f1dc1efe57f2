"""Text from outside (vendors, carriers, the storefront, customers, file names) made inert for a terminal.

A vendor's rejection reason or a customer's name reaches staff verbatim, but a terminal must never act on it:
an escape sequence (``ESC [ 2 J`` clears the screen, OSC 8 forges a link, OSC 52 writes the clipboard), a bare
carriage return that overwrites what came before, or a right-to-left override that reverses what follows.
:func:`inert` spells every such character out (``\\x1b``, ``\\r``, ``\\u202e``) and leaves all other text,
brackets and markup-like words included, exactly as it came.

>>> inert("[/b] Ship-to unverified\\x1b[2J")
'[/b] Ship-to unverified\\\\x1b[2J'
>>> inert("Zoë O'Brien")
"Zoë O'Brien"
"""

from __future__ import annotations

import re

_C0_C1_DEL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_BIDI_AND_SEPARATORS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]

_SPELLED = {code: f"\\x{code:02x}" for code in _C0_C1_DEL} | {
    code: f"\\u{code:04x}" for code in _BIDI_AND_SEPARATORS} | {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
"""Each character a terminal could act on, as the escape a person reads."""


def inert(text: str) -> str:
    """``text`` with every control, escape and direction-changing character spelled out."""
    return text.translate(_SPELLED)


def is_inert(text: str) -> bool:
    """Whether ``text`` holds nothing a terminal would act on."""
    return not any(ord(char) in _SPELLED for char in text)


_UNESCAPED_BY_JSON = re.compile("[" + "".join(re.escape(chr(code)) for code in _SPELLED if code >= 0x20) + "]")


def json_inert(document: str) -> str:
    """A JSON text whose strings escape what :func:`inert` spells out: ``json.dumps`` escapes C0 controls but
    leaves DEL, C1 and direction controls as they are. The document still decodes to the same values."""
    return _UNESCAPED_BY_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", document)
