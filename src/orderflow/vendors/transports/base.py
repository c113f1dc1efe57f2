"""What every vendor file transport offers: the folders, the file listing and the moves between folders.

A transport sees one vendor's exchange area as four folders (names agreed per vendor)::

    to_vendor/     purchase orders we upload; the vendor picks them up
    from_vendor/   acknowledgements, tracking and inventory the vendor leaves for us ("inbound")
    archive/       inbound files we have ingested
    rejected/      inbound files we could not accept, kept aside for a person

Use::

    with LocalFolderTransport(Path("vendors/acme"), vendor="ACME") as transport:
        transport.upload("po_TB1042-ACME_20240301101500.csv", po_bytes)
        for remote_file in transport.list_inbound():
            content = transport.read(remote_file.name)
            ...                               # ingest and commit first
            transport.archive(remote_file.name)
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from orderflow.errors import ConfigError, InputError, OrderflowError

ARCHIVE_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class RemoteFile:
    """One file waiting in the vendor's outbound folder (our inbound)."""

    name: str
    size: int
    modified_at: datetime


@dataclass(frozen=True)
class FolderLayout:
    """The folder names agreed with a vendor, relative to the exchange area's base directory."""

    to_vendor: str = "to_vendor"
    from_vendor: str = "from_vendor"
    archive: str = "archive"
    rejected: str = "rejected"
    temp_suffix: str = ".tmp"

    def __post_init__(self) -> None:
        for role in ("to_vendor", "from_vendor", "archive", "rejected"):
            _check_relative_folder(role, getattr(self, role))
        if not self.temp_suffix or "/" in self.temp_suffix:
            raise ConfigError(f"temp_suffix must be a non-empty file-name suffix, not {self.temp_suffix!r}")

    def is_listable(self, name: str) -> bool:
        """Half-written uploads (temp suffix) and hidden files are never offered for ingestion."""
        return not name.startswith(".") and not name.endswith(self.temp_suffix)


class FileTransport(Protocol):
    """One vendor's exchange area, over whatever carries the files (a local folder, SFTP).

    Errors are orderflow's: ``RemoteUnavailable`` when the area cannot be reached (try again later),
    ``RemoteRejected`` when it answered no (missing file, permission, credentials, host key).
    """

    def list_inbound(self) -> list[RemoteFile]:
        """The vendor's files waiting for us, sorted by name; temp and hidden files are left out."""
        ...

    def read(self, name: str) -> bytes:
        """The whole content of one inbound file."""
        ...

    def upload(self, name: str, data: bytes) -> None:
        """Write ``name`` into the vendor's folder atomically; a re-send replaces the earlier file."""
        ...

    def upload_many(self, files: Sequence[tuple[str, bytes]]) -> dict[str, OrderflowError]:
        """Upload several files: what went wrong, by file name, as :meth:`upload` raises it; every other file
        was delivered. One by one here; a transport that can have many under way at once does so."""
        failures: dict[str, OrderflowError] = {}
        for name, data in files:
            try:
                self.upload(name, data)
            except OrderflowError as exc:
                failures[name] = exc
        return failures

    def archive(self, name: str) -> None:
        """Move an ingested inbound file to the archive; an archived namesake is kept, not overwritten."""
        ...

    def archive_many(self, names: Sequence[str]) -> dict[str, OrderflowError]:
        """Archive several files: what went wrong, by file name, as :meth:`archive` raises it; every other file
        was moved. One by one here; a transport that can have many under way at once does so."""
        failures: dict[str, OrderflowError] = {}
        for name in names:
            try:
                self.archive(name)
            except OrderflowError as exc:
                failures[name] = exc
        return failures

    def reject(self, name: str) -> None:
        """Move an inbound file we refused to the rejected folder, keeping any earlier namesake."""
        ...

    def delete(self, name: str) -> None:
        """Remove an inbound file (for vendors who want that instead of archiving); a missing file is fine."""
        ...

    def restore_rejected(self) -> list[str]:
        """Move every file in the rejected folder back to the inbound folder, to be read again once the cause
        of its refusal is fixed; the names they have there (an inbound namesake is never overwritten)."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def check_file_name(name: str) -> str:
    """A vendor file name is one plain name: no folders, so a file can never land outside its folder."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\x00" in name:
        raise InputError(f"not a plain file name: {name!r}", field="name")
    return name


def kept_aside_names(name: str, now: datetime) -> Iterator[str]:
    """Names to try when moving ``name`` into archive/rejected: itself, then stamped with ``now``.

    ``ack_1.csv`` becomes ``ack_1.20240301T101500000000Z.csv``, then ``ack_1.20240301T101500000000Z-2.csv``
    and so on, so a vendor that re-sends a file name never makes us overwrite the earlier copy.
    """
    yield name
    stem, dot, extension = name.rpartition(".")
    if not stem:  # no extension, or a name like ".csv": stamp at the end
        stem, dot, extension = name, "", ""
    stamped = f"{stem}.{now.strftime(ARCHIVE_STAMP_FORMAT)}"
    yield f"{stamped}{dot}{extension}"
    copy = 2
    while True:
        yield f"{stamped}-{copy}{dot}{extension}"
        copy += 1


def _check_relative_folder(role: str, folder: str) -> None:
    parts = posixpath.normpath(folder).split("/") if folder else []
    if not folder or folder.startswith("/") or ".." in parts or "\\" in folder:
        raise ConfigError(f"{role} folder must be a relative path inside the exchange area, not {folder!r}")
