"""Many files uploaded, read or moved over one SFTP channel without waiting for each reply in turn.

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
from itertools import pairwise
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


@dataclass(eq=False)
class Download:
    """One file read whole: its open, then every read of the size it was listed with and one read past that
    (which finds the end, or that the file grew), then its close, all sent without waiting."""

    path: str
    size: int
    finished: bool = False
    error: OSError | None = None
    """The server's refusal of the open or of a read."""
    short: bool = False
    """A read came back shorter than asked before the end: the parts do not join up, read the file plainly."""
    _parts: dict[int, bytes] = field(default_factory=dict)
    _offsets: dict[int, int] = field(default_factory=dict)
    """The offset each read request asked for, by request number."""
    _close: int | None = None
    _client: Any = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        return b"".join(self._parts[offset] for offset in sorted(self._parts))

    def _open(self, client: Any) -> None:
        from paramiko import SFTPAttributes
        from paramiko.sftp import CMD_OPEN, SFTP_FLAG_READ

        self._client = client
        client._async_request(self, CMD_OPEN, self.path, SFTP_FLAG_READ, SFTPAttributes())

    def _async_response(self, kind: int, message: Message, number: int) -> None:
        from paramiko.sftp import CMD_DATA, CMD_HANDLE, CMD_STATUS

        if kind == CMD_HANDLE:
            self._read(message.get_binary())
        elif number == self._close:
            self.finished = True
        elif number in self._offsets and kind == CMD_DATA:
            self._parts[self._offsets[number]] = message.get_string()
        elif number in self._offsets and kind == CMD_STATUS and (refused := _refusal(self._client, message)):
            self.error = self.error or (refused if not isinstance(refused, _EndOfFile) else None)
        elif number not in self._offsets:  # the open refused
            self.error = _refusal(self._client, message) if kind == CMD_STATUS else OSError(
                f"unexpected answer {kind} to open")
            self.finished = True
        if self.finished and self.error is None:
            offsets = sorted(self._parts)
            gap = any(offset + len(self._parts[offset]) != after for offset, after in pairwise(offsets))
            self.short = gap or sum(map(len, self._parts.values())) < self.size

    def _read(self, handle: bytes) -> None:
        from paramiko.sftp import CMD_CLOSE, CMD_READ, int64

        for offset in range(0, self.size + 1, CHUNK):
            number = self._client._async_request(self, CMD_READ, handle, int64(offset), CHUNK)
            self._offsets[number] = offset
        self._close = self._client._async_request(self, CMD_CLOSE, handle)


@dataclass(eq=False)
class Move:
    """One plain SFTP rename, which never replaces a file already at ``target``."""

    source: str
    target: str
    finished: bool = False
    error: OSError | None = None
    _client: Any = field(default=None, repr=False)

    def _open(self, client: Any) -> None:
        from paramiko.sftp import CMD_RENAME

        self._client = client
        client._async_request(self, CMD_RENAME, self.source, self.target)

    def _async_response(self, kind: int, message: Message, _number: int) -> None:
        from paramiko.sftp import CMD_STATUS

        self.error = _refusal(self._client, message) if kind == CMD_STATUS else OSError(
            f"unexpected answer {kind} to rename")
        self.finished = True


def send_all(sftp: SFTPClient, uploads: list[Upload], *, window: int = WINDOW) -> None:
    """Upload every file, up to ``window`` at once. A refusal is kept on its upload and the others go on;
    the connection failing or going quiet (the channel's timeout) is raised, leaving the unfinished ones
    undelivered."""
    _pipelined(sftp, uploads, window)


def receive_all(sftp: SFTPClient, downloads: list[Download], *, window: int = WINDOW) -> None:
    """Read every file, up to ``window`` at once; as :func:`send_all`, a refusal stays on its download."""
    _pipelined(sftp, downloads, window)


def move_all(sftp: SFTPClient, moves: list[Move], *, window: int = WINDOW) -> None:
    """Rename every file, up to ``window`` at once; as :func:`send_all`, a refusal stays on its move."""
    _pipelined(sftp, moves, window)


def _pipelined(sftp: SFTPClient, transfers: list[Upload] | list[Download] | list[Move], window: int) -> None:
    client: Any = sftp  # the request layer is not in paramiko's type stubs
    waiting: deque[Upload | Download | Move] = deque(transfers)
    under_way: list[Upload | Download | Move] = []
    while waiting or under_way:
        while waiting and len(under_way) < window:
            transfer = waiting.popleft()
            transfer._open(client)
            under_way.append(transfer)
        client._read_response()
        under_way = [transfer for transfer in under_way if not transfer.finished]


class _EndOfFile(OSError):
    """The answer to a read at or past the end of a file."""


def _refusal(client: Any, message: Message) -> OSError | None:
    """An SFTP status as paramiko raises it (``PermissionError`` for permission denied, ...), or None for OK."""
    try:
        client._convert_status(message)
    except EOFError as exc:
        return _EndOfFile(str(exc))
    except OSError as exc:
        return exc
    return None
