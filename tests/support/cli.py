"""Running orderflow as cron does: the installed entry point in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def orderflow(*args: str, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point in a fresh process, as cron would."""
    return subprocess.run(
        [sys.executable, "-m", "orderflow", *args], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, **(env or {})}, timeout=120, check=False,
    )
