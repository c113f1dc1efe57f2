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


def next_steps(config: Path) -> list[str]:
    """What a new shop does after ``orderflow init``, in order."""
    where = f" --config {config}" if config.name != "orderflow.toml" or config.parent != Path() else ""
    return [
        f"1. Edit {config}: your vendors, storefront sources, carriers and [email]. Secrets stay out of it: "
        "each *_env key names an environment variable to set in cron's environment.",
        f"2. Run `orderflow{where} check` until every line says ok (`--create` makes missing folders).",
        "3. Install the schedule: copy crontab.example, set its PATH and ORDERFLOW_CONFIG, then `crontab` it.",
    ]
