"""Named places where a test can make the process die abruptly, to prove nothing is lost or doubled.

``ORDERFLOW_CRASH_AT=dispatch.after_send orderflow dispatch`` kills the process with SIGKILL the moment it
reaches ``crash_point("dispatch.after_send")``: no cleanup, no commit, exactly like ``kill -9`` or a power cut.
Unset (always, in production) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("ORDERFLOW_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
