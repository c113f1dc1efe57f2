"""Field values: text in, value out, or a ``ValueError`` with a reason a person can act on.

>>> parse_quantity("2"), parse_money("24.00"), parse_currency("usd"), parse_flag("Yes")
(2, Decimal('24.00'), 'USD', True)
"""

from __future__ import annotations

import re
from decimal import Decimal

from orderflow.parsing.text import shown

_QUANTITY = re.compile(r"[0-9]{1,7}")
_MAX_QUANTITY = 1_000_000
_MONEY = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,10})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"", "0", "false", "no", "n", "f"})


def parse_quantity(text: str) -> int:
    """``'2'`` -> ``2``; anything but a positive whole number is refused."""
    value = text.strip()
    if not _QUANTITY.fullmatch(value) or not 0 < int(value) <= _MAX_QUANTITY:
        raise ValueError(f"not a positive whole number: {shown(text)}")
    return int(value)


def parse_money(text: str) -> Decimal:
    """``'24.00'`` -> ``Decimal('24.00')``: plain non-negative decimals only (no ``$``, exponent or NaN)."""
    value = text.strip()
    if not _MONEY.fullmatch(value):
        raise ValueError(f"not an amount like 24.00: {shown(text)}")
    return Decimal(value)


def parse_currency(text: str) -> str:
    """``'usd'`` -> ``'USD'``: a three-letter ISO 4217 code."""
    value = text.strip().upper()
    if not _CURRENCY.fullmatch(value):
        raise ValueError(f"not a three-letter currency code: {shown(text)}")
    return value


def parse_flag(text: str) -> bool:
    """``'yes'``, ``'true'``, ``'1'``, ``'y'``, ``'t'`` -> ``True``; their opposites and an empty cell -> ``False``."""
    value = text.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(f"expected true or false, got {shown(text)}")
    return value in _TRUE


def ascii_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also passes ``'²'`` and ``'١٢'``, which ``int()`` refuses or misreads."""
    return text.isascii() and text.isdigit()


def strip_spreadsheet_quote(text: str) -> str:
    """``"'04101"`` -> ``'04101'``: spreadsheets prefix one ``'`` to keep leading zeros."""
    return text.strip().removeprefix("'")
