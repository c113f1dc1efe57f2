"""Named places where a test can make the process die abruptly, to prove nothing is lost or doubled.

``ORDERFLOW_CRASH_AT=dispatch.after_send orderflow dispatch`` kills the process with SIGKILL the moment it
reaches ``crash_point("dispatch.after_send")``: no cleanup, no commit, exactly like ``kill -9`` or a power cut.
Unset (always, in production) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = {
    "import.after_batch_insert": "a batch of orders is inserted, its transaction not yet committed",
    "import.after_file_commit": "an inbox file's orders are committed, the file not yet archived",
    "dispatch.after_send": "a vendor has the purchase order, our record of sending it is not committed",
    "fetch.after_ingest_commit": "a vendor file is applied and ledgered, not yet archived",
    "customers.after_send": "the SMTP server or storefront took a customer's email, it is not yet marked sent",
    "push.after_send": "a push is handed to the SMTP server or webhook, not yet marked sent",
    "migrate.mid_step": "a migration step is applied with its version row, not yet committed",
}
"""Every crash point compiled into orderflow, with the moment it stands for."""


def crash_point(name: str) -> None:
    if os.environ.get("ORDERFLOW_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
