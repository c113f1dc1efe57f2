"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula, and
a leading tab or carriage return can hide such a start. A customer name or a vendor's rejection reason is
outside text, so every exported cell goes through :func:`defang`: a leading quote makes it plain text.

>>> defang("=HYPERLINK(\\"http://evil.example\\")")
'\\'=HYPERLINK("http://evil.example")'
>>> defang("Jordan Rivera")
'Jordan Rivera'
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula."""


def defang(text: str) -> str:
    """``text`` with a leading ``'`` when it starts like a formula; otherwise unchanged."""
    return "'" + text if text[:1] in FORMULA_STARTS else text
