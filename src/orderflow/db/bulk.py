"""Working in batches: big imports stream through in chunks so memory stays flat and queries stay short."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

BATCH_SIZE = 500


def chunked(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """``[1, 2, 3, 4, 5]`` in twos gives ``[1, 2]``, ``[3, 4]``, ``[5]``."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
