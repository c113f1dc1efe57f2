"""Many files uploaded over one SFTP channel without waiting for each reply in turn.

paramiko's own calls wait for every reply, so open, close and rename cost three round trips a file, and on a
busy machine those waits were most of a dispatch. Here up to :data:`WINDOW` files are under way at once. Each
file still goes open, then its writes and close, then the rename to its final name; the rename is asked
only once every write and the close of that file were answered OK, so a file with a failed write never takes
its final name (paramiko's pipelined writes drop the answers to writes, so a short file would have).

Use::

    uploads = [Upload(temp="to_vendor/a.csv.tmp", final="to_vendor/a.csv", data=b"...")]
    send_all(sftp, uploads)          # raises only when the connection fails; see each upload's outcome
    [upload.delivered for upload in uploads]

This speaks through paramiko's request layer, the one its file objects use for pipelined writes and read-ahead:
``_async_request`` sends a request whose answer goes to the ``_async_response`` of the object registered with
it, and ``_read_response()`` reads one answer. That layer is not in paramiko's documented interface, so this
module is the one place that uses it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from paramiko import Message, SFTPClient

WINDOW = 32
"""Files under way at once: each holds an open handle on the server."""
CHUNK = 32_768
"""Bytes a write request carries at most (paramiko's own limit, which every server takes)."""
POSIX_RENAME = "posix-rename@openssh.com"


@dataclass(eq=False)
class Upload:
    """One file: written to ``temp``, then renamed over ``final`` in one step."""

    temp: str
    final: str
    data: bytes
    step: Literal["waiting", "opening", "writing", "renaming"] = "waiting"
    """The step under way, or the last one taken once ``finished``."""
    finished: bool = False
    delivered: bool = False
    error: OSError | None = None
    """The server's refusal of the first step that failed (``step`` says which)."""
    answers_due: int = 0
    _client: Any = field(default=None, repr=False)

    def _async_response(self, kind: int, message: Message, _number: int) -> None:
        """paramiko hands each answer to a request registered with this upload here."""
        from paramiko.sftp import CMD_HANDLE, CMD_STATUS

        refused = _refusal(self._client, message) if kind == CMD_STATUS else None
        if self.step == "opening":
            if kind == CMD_HANDLE:
                self._write(message.get_binary())
            else:
                self._finish(refused or OSError(f"unexpected answer {kind} to open"))
        elif self.step == "writing":
            self.error = self.error or refused
            self.answers_due -= 1
            if self.answers_due == 0 and self.error is None:
                self._rename()
            elif self.answers_due == 0:
                self._finish(self.error)
        elif self.step == "renaming":
            self._finish(refused)

    def _open(self, client: Any) -> None:
        from paramiko import SFTPAttributes
        from paramiko.sftp import CMD_OPEN, SFTP_FLAG_CREATE, SFTP_FLAG_TRUNC, SFTP_FLAG_WRITE

        self._client = client
        self.step = "opening"
        client._async_request(self, CMD_OPEN, self.temp, SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | SFTP_FLAG_TRUNC,
                              SFTPAttributes())

    def _write(self, handle: bytes) -> None:
        """Every write and the close go out together; the close is answered once the writes are done."""
        from paramiko.sftp import CMD_CLOSE, CMD_WRITE, int64

        self.step = "writing"
        offsets = range(0, len(self.data), CHUNK)
        for offset in offsets:
            self._client._async_request(self, CMD_WRITE, handle, int64(offset), self.data[offset:offset + CHUNK])
        self._client._async_request(self, CMD_CLOSE, handle)
        self.answers_due = len(offsets) + 1

    def _rename(self) -> None:
        from paramiko.sftp import CMD_EXTENDED

        self.step = "renaming"
        self._client._async_request(self, CMD_EXTENDED, POSIX_RENAME, self.temp, self.final)

    def _finish(self, error: OSError | None) -> None:
        self.finished = True
        self.error = error
        self.delivered = error is None


def send_all(sftp: SFTPClient, uploads: list[Upload], *, window: int = WINDOW) -> None:
    """Upload every file, up to ``window`` at once. A refusal is kept on its upload and the others go on;
    the connection failing or going quiet (the channel's timeout) is raised, leaving the unfinished ones
    undelivered."""
    client: Any = sftp  # the request layer is not in paramiko's type stubs
    waiting = deque(uploads)
    under_way: list[Upload] = []
    while waiting or under_way:
        while waiting and len(under_way) < window:
            upload = waiting.popleft()
            upload._open(client)
            under_way.append(upload)
        client._read_response()
        under_way = [upload for upload in under_way if not upload.finished]


def _refusal(client: Any, message: Message) -> OSError | None:
    """An SFTP status as paramiko raises it (``PermissionError`` for permission denied, ...), or None for OK."""
    try:
        client._convert_status(message)
    except (OSError, EOFError) as exc:
        return exc if isinstance(exc, OSError) else OSError(str(exc))
    return None
