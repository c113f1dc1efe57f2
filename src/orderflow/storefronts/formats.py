"""Which storefront format a file is in, and reading any of them through one call.

::

    for item in iter_orders(Path("orders_export.csv"), source="shopify"):
        ...  # an IncomingOrder, or a Refusal

    iter_orders(Path("wholesale.csv"), source="wholesale", fmt="mapped_csv", mapping=mapping)

Formats: ``shopify_csv`` (a Shopify order export), ``json`` (WooCommerce or generic order JSON) and
``mapped_csv`` (any CSV, read through a :class:`~orderflow.storefronts.mapped_csv.ColumnMapping`). Without ``fmt``
the format is told from the file's first bytes: JSON starts with ``{`` or ``[`` (or the file is named
``*.json``), a Shopify export has Shopify's header. ``mapped_csv`` is never guessed: it is used when asked for,
or when a mapping is given and the file is neither of the others.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import IncomingOrder
from orderflow.storefronts.mapped_csv import ColumnMapping, iter_mapped_csv
from orderflow.storefronts.shopify import iter_shopify_csv

ORDER_FORMATS = ("shopify_csv", "mapped_csv", "json")
HEAD_BYTES = 64 * 1024
"""How much of a file :func:`iter_orders` reads to tell its format."""

# Enough of Shopify's header to recognise it even when the head cuts the header line short.
_SHOPIFY_SIGNATURE = frozenset({"Name", "Lineitem quantity", "Lineitem sku"})


def detect_format(head: bytes, filename: str) -> str:
    """``"json"`` or ``"shopify_csv"`` from the first bytes of a file; ``InputError`` naming it otherwise."""
    found = _sniff(head, filename)
    if found is None:
        raise InputError("cannot tell the order format: neither JSON nor a Shopify order export; "
                         f"name the format ({', '.join(ORDER_FORMATS)}; mapped_csv needs a column mapping)",
                         file=filename)
    return found


def _sniff(head: bytes, filename: str) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    if text.lstrip().startswith(("{", "[")) or filename.lower().endswith(".json"):
        return "json"
    header_line = text.split("\n", 1)[0].rstrip("\r")
    try:
        names = {name.strip() for name in next(csv.reader([header_line]), [])}
    except csv.Error:
        return None
    return "shopify_csv" if names >= _SHOPIFY_SIGNATURE else None


def iter_orders(path: Path, *, source: str, fmt: str | None = None,
                mapping: ColumnMapping | None = None) -> Iterator[IncomingOrder | Refusal]:
    """Read the orders in ``path`` (format given, or detected): each order, or a ``Refusal`` per bad field."""
    file = str(path)
    chosen = fmt or detect_file_format(path, mapping=mapping)
    if chosen == "shopify_csv":
        yield from iter_shopify_csv(path, source=source, file=file)
    elif chosen == "json":
        from orderflow.storefronts.json_orders import iter_json_orders  # an import of CSV exports needs none of it

        yield from iter_json_orders(_read(path, file=file), source=source, file=file)
    elif chosen == "mapped_csv":
        if mapping is None:
            raise ConfigError(f"{file}: the mapped_csv format needs a column mapping")
        yield from iter_mapped_csv(path, source=source, file=file, mapping=mapping)
    else:
        raise InputError(f"unknown order format {chosen!r}; one of {', '.join(ORDER_FORMATS)}", file=file)


def detect_file_format(path: Path, *, mapping: ColumnMapping | None = None) -> str:
    """The format of the file at ``path``, from its first bytes (see :func:`detect_format`)."""
    file = str(path)
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
    found = _sniff(head, file)
    if found is None and mapping is not None:
        return "mapped_csv"
    return found or detect_format(head, file)


def _read(path: Path, *, file: str) -> bytes:
    # JSON documents are read whole: storefront API pages are small; big exports come as CSV.
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
