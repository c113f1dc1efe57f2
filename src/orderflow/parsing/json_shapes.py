"""JSON from outside orderflow (vendors, carriers, storefronts): read so that no body can crash a run, and its
shape checked with the path of what is wrong in the message.

``json.loads`` raises ``ValueError`` for what is not JSON, but ``RecursionError`` for JSON nested deeper than
Python's stack; :func:`loads` makes both a ``ValueError``, so every reader handles one exception. A value of the
wrong shape is a :class:`ShapeError` (a ``ValueError`` too) naming where it is::

    >>> reply = loads(b'{"shipments": [{"id": 7, "events": {}}]}')
    >>> [shipment] = objects_at(reply, "shipments", "reply")
    >>> text_at(shipment, "id", "reply.shipments[0]")
    '7'
    >>> list_at(shipment, "events", "reply.shipments[0]")
    Traceback (most recent call last):
    ...
    orderflow.parsing.json_shapes.ShapeError: reply.shipments[0].events: expected a list, got an object

A key that is missing or ``null`` reads as empty (``{}``, ``[]``, ``""``): senders leave out what they do not have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def loads(data: bytes | str, **options: Any) -> Any:
    """``json.loads(data, **options)``; a document nested too deeply to read is a ``ValueError`` too."""
    try:
        return json.loads(data, **options)
    except RecursionError as exc:
        raise ValueError("nested too deeply to read") from exc


class ShapeError(ValueError):
    """A JSON value not shaped as expected: ``path`` says where (``orders[3].lines``), ``problem`` what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


def path_to(path: str, key: str | int) -> str:
    """The path of ``key`` inside the value at ``path``: ``orders[3]`` + ``lines`` -> ``orders[3].lines``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def kind(value: object) -> str:
    """What a JSON value is, in a message: ``an object``, ``a list``, ``text``, ``a number``, ``true/false``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


def as_object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(path, f"expected an object, got {kind(value)}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(path, f"expected a list, got {kind(value)}")
    return value


def object_at(document: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
    """``document[key]`` as an object; a missing or null key reads as ``{}``."""
    value = document.get(key)
    return {} if value is None else as_object(value, path_to(path, key))


def list_at(document: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """``document[key]`` as a list; a missing or null key reads as ``[]``."""
    value = document.get(key)
    return [] if value is None else as_list(value, path_to(path, key))


def objects_at(document: Mapping[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    """``document[key]`` as a list of objects; a missing or null key reads as ``[]``."""
    where = path_to(path, key)
    return [as_object(item, path_to(where, index)) for index, item in enumerate(list_at(document, key, path))]


def as_text(value: object, path: str) -> str:
    """A JSON value as stripped text; ``null`` reads as ``""``. A number is read as its digits (senders write
    ids and counts either way; with ``parse_float=Decimal`` they are the digits as written)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ShapeError(path, f"expected text, got {kind(value)}")


def text_at(document: Mapping[str, Any], key: str, path: str) -> str:
    """``document[key]`` as stripped text (:func:`as_text`); missing reads as ``""``."""
    return as_text(document.get(key), path_to(path, key))
