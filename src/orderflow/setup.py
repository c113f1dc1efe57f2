"""First-run set-up: the example configuration shipped with the package."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def example_config() -> str:
    return resources.files("orderflow").joinpath("orderflow.example.toml").read_text(encoding="utf-8")


def write_example_config(path: Path) -> bool:
    """Write the example configuration to ``path`` with mode 0600; ``False`` if a file is already there."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(example_config())
    return True
