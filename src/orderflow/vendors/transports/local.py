"""A vendor exchange area that is a folder on this machine (a shared mount, or a vendor's drop box synced here).

Use::

    with LocalFolderTransport(Path("vendors/acme"), vendor="ACME") as transport:
        transport.upload("po_TB1042-ACME_20240301101500.csv", po_bytes)
        names = [remote_file.name for remote_file in transport.list_inbound()]
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from orderflow.clock import Clock
from orderflow.errors import RemoteRejected, RemoteUnavailable
from orderflow.vendors.transports.base import (
    FileTransport,
    FolderLayout,
    RemoteFile,
    check_file_name,
    kept_aside_names,
)


class LocalFolderTransport(FileTransport):
    """The four exchange folders under ``root``, created when missing."""

    def __init__(self, root: Path, *, vendor: str | None = None, to_vendor: str = "to_vendor",
                 from_vendor: str = "from_vendor", archive: str = "archive", rejected: str = "rejected",
                 temp_suffix: str = ".tmp", clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.layout = FolderLayout(to_vendor=to_vendor, from_vendor=from_vendor, archive=archive,
                                   rejected=rejected, temp_suffix=temp_suffix)
        self.label = f"local {vendor} ({self.root})" if vendor else f"local ({self.root})"
        self._clock = clock or Clock()
        with self._translated("create the exchange folders under", str(self.root)):
            for folder in (to_vendor, from_vendor, archive, rejected):
                (self.root / folder).mkdir(parents=True, exist_ok=True)

    def list_inbound(self) -> list[RemoteFile]:
        inbound = self.root / self.layout.from_vendor
        with self._translated("list", self.layout.from_vendor), os.scandir(inbound) as entries:
            # A symbolic link is never offered: it could point anywhere on this machine (/etc/passwd).
            waiting = [_remote_file(entry) for entry in entries
                       if self.layout.is_listable(entry.name) and entry.is_file(follow_symlinks=False)]
        return sorted(waiting, key=lambda remote_file: remote_file.name)

    def read(self, name: str) -> bytes:
        path = self._inbound_path(name)
        what = f"{self.layout.from_vendor}/{name}"
        with self._translated("read", what):
            try:
                # O_NOFOLLOW: a file swapped for a link after listing is still not followed; O_NONBLOCK: a
                # named pipe never makes us wait.
                descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise RemoteRejected(f"{self.label}: cannot read {what}: a symbolic link, not a file") from exc
                raise
            with os.fdopen(descriptor, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise RemoteRejected(f"{self.label}: cannot read {what}: not a regular file")
                return handle.read()

    def upload(self, name: str, data: bytes) -> None:
        folder = self.root / self.layout.to_vendor
        final = folder / check_file_name(name)
        temp = folder / f"{name}{self.layout.temp_suffix}"
        with self._translated("upload", f"{self.layout.to_vendor}/{name}"):
            try:
                _write_durably(temp, data)
                # os.replace is atomic: the vendor sees the old file or the new one, never a mix.
                os.replace(temp, final)
            except BaseException:
                with contextlib.suppress(OSError):
                    temp.unlink()
                raise
            _fsync_folder(folder)

    def archive(self, name: str) -> None:
        self._keep_aside(name, self.layout.from_vendor, self.layout.archive)

    def reject(self, name: str) -> None:
        self._keep_aside(name, self.layout.from_vendor, self.layout.rejected)

    def restore_rejected(self) -> list[str]:
        rejected = self.root / self.layout.rejected
        with self._translated("list", self.layout.rejected), os.scandir(rejected) as entries:
            names = sorted(entry.name for entry in entries
                           if self.layout.is_listable(entry.name) and entry.is_file(follow_symlinks=False))
        return [self._keep_aside(name, self.layout.rejected, self.layout.from_vendor) for name in names]

    def delete(self, name: str) -> None:
        path = self._inbound_path(name)
        with self._translated("delete", f"{self.layout.from_vendor}/{name}"):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to release for a local folder."""

    def _inbound_path(self, name: str) -> Path:
        return self.root / self.layout.from_vendor / check_file_name(name)

    def _keep_aside(self, name: str, origin: str, destination: str) -> str:
        """Move ``origin/name`` into ``destination``; the name it has there."""
        source = self.root / origin / check_file_name(name)
        folder = self.root / destination
        with self._translated("move", f"{origin}/{name} to {destination}"):
            for candidate in kept_aside_names(name, self._clock.now()):
                # link() refuses an existing target, so an earlier namesake is never overwritten.
                try:
                    os.link(source, folder / candidate)
                except FileExistsError:
                    continue
                source.unlink()
                break
            _fsync_folder(folder)
            _fsync_folder(source.parent)
        return candidate

    @contextlib.contextmanager
    def _translated(self, action: str, what: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError as exc:
            raise RemoteRejected(f"{self.label}: cannot {action} {what}: no such file or folder") from exc
        except PermissionError as exc:
            raise RemoteRejected(f"{self.label}: cannot {action} {what}: permission denied") from exc
        except OSError as exc:
            raise RemoteUnavailable(f"{self.label}: cannot {action} {what}: {exc.strerror or exc}") from exc


def _remote_file(entry: os.DirEntry[str]) -> RemoteFile:
    stat = entry.stat()
    return RemoteFile(name=entry.name, size=stat.st_size,
                      modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC))


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a rename survive a power cut: the folder entry itself must reach the disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
