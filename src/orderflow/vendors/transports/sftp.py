"""A vendor exchange area on the vendor's SFTP server, with the host key verified and every wait bounded.

Use::

    endpoint = SftpEndpoint(vendor="ACME", host="sftp.acme.example", username="tb",
                            key_file=Path("keys/acme"), known_hosts=Path("keys/known_hosts"),
                            remote_dir="/home/tb")
    with SftpTransport(endpoint) as transport:          # connects, verifies, authenticates
        for remote_file in transport.list_inbound():
            content = transport.read(remote_file.name)

The host key must be in ``known_hosts`` (``[host]:port`` for a port other than 22) or match the pinned
``host_key_fingerprint``; an unknown or changed key is refused, never added. paramiko is imported only
when a transport is built, so commands that never talk SFTP do not pay for it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import posixpath
import socket
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orderflow.clock import Clock
from orderflow.errors import ConfigError, InputError, OrderflowError, RemoteRejected, RemoteUnavailable
from orderflow.vendors.transports.base import (
    FileTransport,
    FolderLayout,
    RemoteFile,
    check_file_name,
    kept_aside_names,
)

if TYPE_CHECKING:
    from paramiko import PKey, SFTPAttributes, SFTPClient, Transport

    from orderflow.vendors.transports.sftp_pipeline import Download, Upload


@dataclass(frozen=True, kw_only=True)
class SftpEndpoint:
    """Where and how to reach one vendor's SFTP server. Secrets are kept out of ``repr``."""

    vendor: str
    host: str
    username: str
    port: int = 22
    key_file: Path | None = None
    key_passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    known_hosts: Path | None = None
    host_key_fingerprint: str | None = None
    remote_dir: str = "."
    to_vendor: str = "to_vendor"
    from_vendor: str = "from_vendor"
    archive: str = "archive"
    rejected: str = "rejected"
    temp_suffix: str = ".tmp"
    connect_timeout: float = 10.0
    banner_timeout: float = 10.0
    auth_timeout: float = 10.0
    operation_timeout: float = 30.0

    @property
    def label(self) -> str:
        """How messages name this server: ``sftp ACME (sftp.acme.example:22)``."""
        return f"sftp {self.vendor} ({self.host}:{self.port})"

    @property
    def known_hosts_name(self) -> str:
        """The host as OpenSSH writes it in known_hosts: bare on port 22, else ``[host]:port``."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def layout(self) -> FolderLayout:
        return FolderLayout(to_vendor=self.to_vendor, from_vendor=self.from_vendor, archive=self.archive,
                            rejected=self.rejected, temp_suffix=self.temp_suffix)


def host_key_fingerprint(key: PKey) -> str:
    """The key's fingerprint as ``ssh-keygen -lf`` prints it: ``SHA256:`` and unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


READ_AHEAD_FILES = 32
"""Listed files read together when one is asked for: the ones after it in the listing, read meanwhile."""
READ_AHEAD_BYTES = 1 << 20
"""And about this many bytes of them (the file asked for is read whatever its size)."""


class SftpTransport(FileTransport):
    """One SFTP connection to one vendor, opened by the constructor and held until :meth:`close`."""

    def __init__(self, endpoint: SftpEndpoint, *, clock: Clock | None = None) -> None:
        self.endpoint = endpoint
        self.layout = endpoint.layout
        self._clock = clock or Clock()
        self._folders_seen: set[str] = set()
        self._listed: list[RemoteFile] = []
        self._read_ahead: dict[str, bytes] = {}
        _check_trust_is_configured(endpoint)
        user_key = _load_user_key(endpoint, endpoint.key_file) if endpoint.key_file is not None else None
        self._ssh, self._sftp = _open_session(endpoint, user_key)

    def list_inbound(self) -> list[RemoteFile]:
        folder = self._path(self.layout.from_vendor)
        with self._talking(f"list {self.layout.from_vendor}"):
            entries = self._sftp.listdir_attr(folder)
        waiting = [_remote_file(entry) for entry in entries
                   if self.layout.is_listable(entry.filename) and _is_plain_file(entry)]
        self._listed = sorted(waiting, key=lambda remote_file: remote_file.name)
        self._read_ahead = {}
        return list(self._listed)

    def read(self, name: str) -> bytes:
        path = self._path(self.layout.from_vendor, check_file_name(name))
        if name not in self._read_ahead:
            self._read_listed_from(name)
        if (data := self._read_ahead.pop(name, None)) is not None:
            return data
        # Sequential reads, not paramiko's prefetch: its helper thread fails noisily if the server dies.
        with self._talking(f"read {self.layout.from_vendor}/{name}"), self._sftp.open(path, "rb") as remote:
            return remote.read()

    def _read_listed_from(self, name: str) -> None:
        """Read the listed file ``name`` and the few listed after it at once, without waiting for each answer
        in turn (a round trip per request was most of a small file's read). A file the server refused or
        answered in short reads is left out, for :meth:`read` to read plainly and say what went wrong."""
        from orderflow.vendors.transports.sftp_pipeline import Download, receive_all

        start = next((index for index, listed in enumerate(self._listed) if listed.name == name), None)
        if start is None:
            return
        downloads: list[Download] = []
        size = 0
        for listed in self._listed[start:start + READ_AHEAD_FILES]:
            if downloads and size + listed.size > READ_AHEAD_BYTES:
                break
            downloads.append(Download(self._path(self.layout.from_vendor, listed.name), listed.size))
            size += listed.size
        with self._talking(f"read {self.layout.from_vendor}/{name}"):
            receive_all(self._sftp, downloads)
        for listed, download in zip(self._listed[start:], downloads, strict=False):
            if download.error is None and not download.short:
                self._read_ahead[listed.name] = download.data

    def upload(self, name: str, data: bytes) -> None:
        failure = self.upload_many([(name, data)]).get(name)
        if failure is not None:
            raise failure

    def upload_many(self, files: Sequence[tuple[str, bytes]]) -> dict[str, OrderflowError]:
        """Upload several files, many under way at once; each lands whole under its name or not at all.

        Returns what went wrong by file name, as :meth:`upload` would raise it; every other file was delivered.
        """
        from paramiko import SSHException

        from orderflow.vendors.transports.sftp_pipeline import Upload, send_all

        failures: dict[str, OrderflowError] = {}
        uploads: dict[str, Upload] = {}
        for name, data in files:
            try:
                final = self._path(self.layout.to_vendor, check_file_name(name))
            except InputError as exc:
                failures[name] = exc
                continue
            uploads[name] = Upload(temp=f"{final}{self.layout.temp_suffix}", final=final, data=data)
        lost: Exception | None = None
        try:
            send_all(self._sftp, list(uploads.values()))
        except (SSHException, EOFError, OSError) as exc:  # the connection failed or went quiet
            lost = exc
        for name, upload in uploads.items():
            if not upload.delivered and (failure := self._upload_failure(name, upload, lost)) is not None:
                failures[name] = failure
        return failures

    def _upload_failure(self, name: str, upload: Upload, lost: Exception | None) -> OrderflowError | None:
        """What became of an upload that was not delivered, in orderflow's words; None once a plain rename
        has put it in place on a server without the atomic one."""
        try:
            with self._talking(f"upload {self.layout.to_vendor}/{name}"):
                if upload.error is None:
                    raise lost or EOFError("the upload was never finished")
                if upload.step == "renaming" and upload.error.errno is None:
                    self._replace(upload.temp, upload.final)
                    return None
                raise upload.error
        except OrderflowError as exc:
            return exc

    def archive(self, name: str) -> None:
        self._keep_aside(name, self.layout.from_vendor, self.layout.archive)

    def reject(self, name: str) -> None:
        self._keep_aside(name, self.layout.from_vendor, self.layout.rejected)

    def archive_many(self, names: Sequence[str]) -> dict[str, OrderflowError]:
        """Archive several files, every rename sent without waiting for the answers in turn. A rename refused
        (a namesake already archived, the file gone) is done again alone, as :meth:`archive` does it and says
        what went wrong."""
        from orderflow.vendors.transports.sftp_pipeline import Move, move_all

        failures: dict[str, OrderflowError] = {}
        moves: dict[str, Move] = {}
        for name in names:
            try:
                source = self._path(self.layout.from_vendor, check_file_name(name))
            except InputError as exc:
                failures[name] = exc
                continue
            moves[name] = Move(source, self._path(self.layout.archive, name))
        with self._talking(f"move {len(moves)} files to {self.layout.archive}"):
            self._ensure_folder(self.layout.archive)
            move_all(self._sftp, list(moves.values()))
        for name, move in moves.items():
            if move.error is not None:
                try:
                    self.archive(name)
                except OrderflowError as exc:
                    failures[name] = exc
        return failures

    def restore_rejected(self) -> list[str]:
        with self._talking(f"list {self.layout.rejected}"):
            if not self._exists(self._path(self.layout.rejected)):
                return []
            entries = self._sftp.listdir_attr(self._path(self.layout.rejected))
        names = sorted(entry.filename for entry in entries
                       if self.layout.is_listable(entry.filename) and _is_plain_file(entry))
        return [self._keep_aside(name, self.layout.rejected, self.layout.from_vendor) for name in names]

    def delete(self, name: str) -> None:
        path = self._path(self.layout.from_vendor, check_file_name(name))
        with self._talking(f"delete {self.layout.from_vendor}/{name}"), contextlib.suppress(FileNotFoundError):
            self._sftp.remove(path)

    def list_folders(self) -> None:
        """List the folders purchase orders go to and vendor files come from; nothing is sent or taken."""
        for folder in (self.layout.to_vendor, self.layout.from_vendor):
            with self._talking(f"list {folder}"):
                self._sftp.listdir(self._path(folder))

    def close(self) -> None:
        from paramiko import SSHException

        with contextlib.suppress(OSError, EOFError, SSHException):
            self._sftp.close()
        self._ssh.close()

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.endpoint.remote_dir, *parts)

    def _replace(self, temp: str, final: str) -> None:
        """Rename over the final name in one step, so a re-send replaces and nobody sees half a file."""
        try:
            self._sftp.posix_rename(temp, final)
        except OSError as exc:
            if exc.errno is not None or not self._connected():
                raise
            # The server lacks OpenSSH's posix-rename and plain SFTP rename refuses an existing target:
            # remove the old copy first. Not atomic, but the vendor still never sees a half-written file.
            with contextlib.suppress(FileNotFoundError):
                self._sftp.remove(final)
            self._sftp.rename(temp, final)

    def _keep_aside(self, name: str, origin: str, destination: str) -> str:
        """Move ``origin/name`` into ``destination``; the name it has there."""
        source = self._path(origin, check_file_name(name))
        with self._talking(f"move {origin}/{name} to {destination}"):
            self._ensure_folder(destination)
            for candidate in kept_aside_names(name, self._clock.now()):
                target = self._path(destination, candidate)
                # Plain SFTP rename never overwrites, so try it first and look only when it fails: a
                # namesake already there survives, and the usual case costs one round trip.
                try:
                    self._sftp.rename(source, target)
                except OSError:
                    if not self._exists(target):
                        raise
                    continue
                return candidate
        raise AssertionError("unreachable: kept_aside_names never runs out")  # pragma: no cover

    def _ensure_folder(self, folder: str) -> None:
        """archive/ and rejected/ are ours to keep; create them the first time they are needed."""
        if folder in self._folders_seen:
            return
        if not self._exists(self._path(folder)):
            self._sftp.mkdir(self._path(folder))
        self._folders_seen.add(folder)

    def _exists(self, path: str) -> bool:
        try:
            self._sftp.stat(path)
        except FileNotFoundError:
            return False
        return True

    def _connected(self) -> bool:
        channel = self._sftp.get_channel()
        return self._ssh.is_active() and channel is not None and not channel.closed

    @contextlib.contextmanager
    def _talking(self, action: str) -> Iterator[None]:
        """Translate what paramiko and the socket raise into orderflow's errors, naming the action."""
        from paramiko import SSHException

        label = self.endpoint.label
        try:
            yield
        except FileNotFoundError as exc:
            raise RemoteRejected(f"{label}: cannot {action}: no such file or folder") from exc
        except PermissionError as exc:
            raise RemoteRejected(f"{label}: cannot {action}: permission denied") from exc
        except TimeoutError as exc:
            # The reply may still arrive and confuse the next request: give the connection up.
            self.close()
            raise RemoteUnavailable(
                f"{label}: no answer within {self.endpoint.operation_timeout:g}s to {action}") from exc
        except (SSHException, EOFError, OSError) as exc:
            if isinstance(exc, SSHException | EOFError | ConnectionError) or not self._connected():
                raise RemoteUnavailable(f"{label}: connection lost trying to {action}") from exc
            raise RemoteRejected(f"{label}: server refused to {action}: {exc}") from exc


def _check_trust_is_configured(endpoint: SftpEndpoint) -> None:
    if endpoint.known_hosts is None and endpoint.host_key_fingerprint is None:
        raise ConfigError(f"{endpoint.label}: set known_hosts or host_key_fingerprint; "
                          "an unverified host key is never accepted")
    pinned = endpoint.host_key_fingerprint
    if pinned is not None and not pinned.startswith("SHA256:"):
        raise ConfigError(f"{endpoint.label}: host_key_fingerprint must look like SHA256:<base64> "
                          "(as ssh-keygen -lf prints it)")
    if endpoint.key_file is None and endpoint.password is None:
        raise ConfigError(f"{endpoint.label}: set key_file or a password to log in as {endpoint.username}")


def _load_user_key(endpoint: SftpEndpoint, key_file: Path) -> PKey:
    from paramiko import PKey, SSHException

    try:
        passphrase = endpoint.key_passphrase.encode() if endpoint.key_passphrase is not None else None
        # The stubs say str, but paramiko hands the passphrase straight to cryptography, which wants bytes.
        return PKey.from_path(key_file, password=passphrase)  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError, SSHException):
        # The cause is not chained: a decoding error could quote key material or the passphrase.
        raise ConfigError(f"{endpoint.label}: cannot load key_file {key_file} "
                          "(missing, not a private key, or wrong passphrase)") from None


def _open_session(endpoint: SftpEndpoint, user_key: PKey | None) -> tuple[Transport, SFTPClient]:
    """Connect, verify the host key, log in and open the SFTP channel, each step under its deadline."""
    from paramiko import SFTPClient, SSHException, Transport

    sock = _connect_socket(endpoint)
    ssh = Transport(sock)
    try:
        ssh.banner_timeout = endpoint.banner_timeout
        ssh.handshake_timeout = endpoint.operation_timeout
        ssh.auth_timeout = endpoint.auth_timeout
        ssh.channel_timeout = endpoint.operation_timeout
        _prefer_known_key_types(ssh, endpoint)
        _negotiate(ssh, endpoint)
        _verify_host_key(endpoint, ssh.get_remote_server_key())
        _authenticate(ssh, endpoint, user_key)
        sftp = SFTPClient.from_transport(ssh)
        channel = sftp.get_channel() if sftp is not None else None
        if sftp is None or channel is None:
            raise SSHException("the server opened no SFTP channel")
        channel.settimeout(endpoint.operation_timeout)
    except BaseException as exc:
        ssh.close()
        sock.close()
        if isinstance(exc, TimeoutError):
            raise RemoteUnavailable(f"{endpoint.label}: no answer within "
                                    f"{endpoint.operation_timeout:g}s while opening SFTP") from exc
        if isinstance(exc, SSHException | EOFError | OSError):
            raise RemoteUnavailable(f"{endpoint.label}: SSH connection failed: {exc}") from exc
        raise
    return ssh, sftp


def _connect_socket(endpoint: SftpEndpoint) -> socket.socket:
    try:
        return socket.create_connection((endpoint.host, endpoint.port), timeout=endpoint.connect_timeout)
    except TimeoutError as exc:
        raise RemoteUnavailable(
            f"{endpoint.label}: no TCP connection within {endpoint.connect_timeout:g}s") from exc
    except OSError as exc:
        raise RemoteUnavailable(f"{endpoint.label}: cannot connect: {exc.strerror or exc}") from exc


def _negotiate(ssh: Transport, endpoint: SftpEndpoint) -> None:
    """Banner and key exchange. paramiko's own wait can return unfinished, so we wait on our event."""
    from paramiko import SSHException

    finished = threading.Event()
    ssh.start_client(event=finished)
    deadline = endpoint.banner_timeout + endpoint.operation_timeout
    if not finished.wait(deadline):
        raise RemoteUnavailable(f"{endpoint.label}: no SSH handshake within {deadline:g}s")
    if not ssh.is_active():
        raise ssh.get_exception() or SSHException("SSH negotiation failed")


def _known_host_keys(endpoint: SftpEndpoint) -> list[PKey]:
    from paramiko import HostKeys

    if endpoint.known_hosts is None:
        return []
    try:
        known = HostKeys(str(endpoint.known_hosts))
    except OSError as exc:
        raise ConfigError(f"{endpoint.label}: cannot read known_hosts {endpoint.known_hosts}: "
                          f"{exc.strerror or exc}") from exc
    entries = known.lookup(endpoint.known_hosts_name)
    return list(entries.values()) if entries else []


def _prefer_known_key_types(ssh: Transport, endpoint: SftpEndpoint) -> None:
    """Ask for a host key of a type we hold, so a server with several keys is not taken as changed."""
    known_types = [key.get_name() for key in _known_host_keys(endpoint)]
    if not known_types:
        return
    options = ssh.get_security_options()
    offered = list(options.key_types)
    preferred = [name for name in known_types if name in offered]
    options.key_types = preferred + [name for name in offered if name not in preferred]


def _verify_host_key(endpoint: SftpEndpoint, server_key: PKey) -> None:
    got = host_key_fingerprint(server_key)
    refusing = "refusing to connect"
    pinned = endpoint.host_key_fingerprint
    if pinned is not None and pinned.rstrip("=") != got:
        raise RemoteRejected(f"{endpoint.label}: host key CHANGED (expected {pinned}, got {got}) — {refusing}")
    if endpoint.known_hosts is None:
        return
    known = _known_host_keys(endpoint)
    if not known:
        raise RemoteRejected(f"{endpoint.label}: host key for {endpoint.known_hosts_name} is not in "
                             f"known_hosts {endpoint.known_hosts} — {refusing}")
    if not any(key.asbytes() == server_key.asbytes() for key in known):
        same_type = [key for key in known if key.get_name() == server_key.get_name()] or known
        expected = host_key_fingerprint(same_type[0])
        raise RemoteRejected(f"{endpoint.label}: host key for {endpoint.known_hosts_name} CHANGED "
                             f"(expected {expected}, got {got}; known_hosts {endpoint.known_hosts}) — {refusing}")


def _authenticate(ssh: Transport, endpoint: SftpEndpoint, user_key: PKey | None) -> None:
    """Key first, then password; a refusal names the user and host, never the secret."""
    from paramiko import AuthenticationException

    started = time.monotonic()
    try:
        if user_key is not None:
            try:
                ssh.auth_publickey(endpoint.username, user_key)
            except AuthenticationException:
                if endpoint.password is None or not ssh.is_active():
                    raise
        if not ssh.is_authenticated() and endpoint.password is not None:
            ssh.auth_password(endpoint.username, endpoint.password)
    except AuthenticationException as exc:
        if not ssh.is_active() or time.monotonic() - started >= endpoint.auth_timeout:
            raise RemoteUnavailable(f"{endpoint.label}: no answer to login as {endpoint.username} "
                                    f"within {endpoint.auth_timeout:g}s") from exc
        raise RemoteRejected(_refused_login(endpoint)) from exc
    if not ssh.is_authenticated():
        raise RemoteRejected(_refused_login(endpoint))


def _refused_login(endpoint: SftpEndpoint) -> str:
    means = f"key {endpoint.key_file}" if endpoint.key_file is not None else "password"
    return f"{endpoint.label}: login refused for user {endpoint.username} with {means}"


def _remote_file(entry: SFTPAttributes) -> RemoteFile:
    # OpenSSH always sends size and mtime; a server that omits mtime is treated as "long unchanged".
    modified = datetime.fromtimestamp(entry.st_mtime or 0, tz=UTC)
    return RemoteFile(name=entry.filename, size=entry.st_size or 0, modified_at=modified)


def _is_plain_file(entry: SFTPAttributes) -> bool:
    return entry.st_mode is None or stat.S_ISREG(entry.st_mode)
