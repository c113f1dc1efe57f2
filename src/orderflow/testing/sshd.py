"""A real OpenSSH server on 127.0.0.1 for tests, with throw-away host and user keys.

Use it from a pytest fixture::

    @pytest.fixture(scope="module")
    def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
        with SshServer(tmp_path_factory.mktemp("sshd")) as server:
            yield server

    def test_upload(sshd: SshServer) -> None:
        with SftpTransport(sshd.endpoint(vendor="ACME")) as transport:
            transport.upload("po_1.csv", b"po_number\\n")
        assert (sshd.root / "to_vendor" / "po_1.csv").read_bytes() == b"po_number\\n"

The server lets only the current user in, by key, and only for SFTP. SFTP paths are the real paths of
this machine: :attr:`SshServer.root` (with ``to_vendor/`` and ``from_vendor/`` made) is the remote base
directory to configure. It needs ``sshd`` and ``ssh-keygen`` (Debian: ``apt-get install openssh-server``).

To cut a transfer at an exact point, start it with ``cuttable=True`` (SFTP then runs through a small relay)
and call :meth:`SshServer.cut_next_session`::

    sshd.cut_next_session(after_upload_bytes=20_000)   # the next session dies 20 kB into what the client sends
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from orderflow.testing.http_server import free_loopback_port

if TYPE_CHECKING:
    from orderflow.vendors.transports.sftp import SftpEndpoint

PRIVILEGE_SEPARATION_DIR = Path("/run/sshd")
SBIN_FOLDERS = "/usr/sbin:/usr/local/sbin:/sbin"


class SshServerFailed(RuntimeError):
    """sshd could not be started; the message carries the end of its log."""


class SshServerMissing(SshServerFailed):
    """OpenSSH's server programs are not installed here: a test suite may skip rather than fail."""


class SshServer:
    """``sshd -D`` on a free loopback port, configured and keyed inside ``base_dir``.

    :meth:`stop` ends it politely, :meth:`kill` SIGKILLs it and every session it serves (to cut a
    transfer in the middle), :meth:`pause`/:meth:`resume` make it hang and recover, :meth:`restart`
    brings it back on the same port with the same keys. With ``cuttable=True``, :meth:`cut_next_session`
    makes one session die at a chosen byte of the transfer.
    """

    def __init__(self, base_dir: Path | None = None, *, start_timeout: float = 10.0,
                 log_level: str = "VERBOSE", use_pam: bool | None = None, cuttable: bool = False) -> None:
        self._owns_base_dir = base_dir is None
        self.base_dir = Path(tempfile.mkdtemp(prefix="orderflow-sshd-")) if base_dir is None else base_dir
        self.host = "127.0.0.1"
        self.port = 0
        self.username = pwd.getpwuid(os.getuid()).pw_name
        self.root = self.base_dir / "sftp"
        self.host_key_path = self.base_dir / "ssh_host_ed25519_key"
        self.user_key_path = self.base_dir / "user_ed25519"
        self.known_hosts_path = self.base_dir / "known_hosts"
        self.config_path = self.base_dir / "sshd_config"
        self.log_path = self.base_dir / "sshd.log"
        self.relay_path = self.base_dir / "sftp_relay.py"
        self.cut_path = self.base_dir / "cut_next_session.json"
        self.cuttable = cuttable
        self.host_key_fingerprint = ""
        self._start_timeout = start_timeout
        self._log_level = log_level
        # Without PAM, sshd refuses an account it takes as locked; run as non-root it cannot read
        # /etc/shadow and takes every account as locked. As root, PAM would only add noise.
        self._use_pam = os.geteuid() != 0 if use_pam is None else use_pam
        self._sshd = _find_program("sshd")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def start(self) -> Self:
        """Make keys, config and folders (first time only), start sshd and wait for its SSH banner."""
        if not self.port:
            self._prepare()
        self._launch()
        return self

    def stop(self) -> None:
        """End sshd and the sessions it serves with SIGTERM (SIGKILL if it will not go)."""
        self._signal_all(signal.SIGTERM)
        self._signal_all(signal.SIGCONT)  # a paused sshd acts on SIGTERM only once it runs again
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None

    def kill(self) -> None:
        """SIGKILL sshd and every session process: clients see the connection die mid-operation."""
        self._signal_all(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()
        self._process = None

    def pause(self) -> None:
        """SIGSTOP sshd and its sessions: connections stay open but nothing answers (a hung server)."""
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT what :meth:`pause` stopped."""
        self._signal_all(signal.SIGCONT)

    def cut_next_session(self, *, after_upload_bytes: int | None = None,
                         after_download_bytes: int | None = None) -> None:
        """The next SFTP session dies once that many bytes of SFTP traffic went from the client (upload) or
        to it (download): its sshd process is SIGKILLed, as when the server crashes mid-transfer.

        An upload cut is exact: the server has acted on the first ``after_upload_bytes`` bytes (a temp file
        opened and partly written) and on nothing after them. Sessions after that one are not touched.
        """
        if not self.cuttable:
            raise SshServerFailed("cut_next_session needs an SshServer started with cuttable=True")
        self.cut_path.write_text(json.dumps({"upload": after_upload_bytes, "download": after_download_bytes}))

    def restart(self) -> None:
        """Stop (if running) and start again on the same port with the same host key."""
        self.stop()
        self._launch()

    def close(self) -> None:
        """Stop sshd and remove the temporary directory when this object made it."""
        self.stop()
        if self._owns_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def endpoint(self, *, vendor: str = "ACME", **changes: Any) -> SftpEndpoint:
        """An :class:`SftpEndpoint` that reaches this server as the test user; ``changes`` override fields."""
        from orderflow.vendors.transports.sftp import SftpEndpoint

        endpoint = SftpEndpoint(vendor=vendor, host=self.host, port=self.port, username=self.username,
                                key_file=self.user_key_path, known_hosts=self.known_hosts_path,
                                remote_dir=str(self.root), connect_timeout=5.0, banner_timeout=5.0,
                                auth_timeout=5.0, operation_timeout=10.0)
        return dataclasses.replace(endpoint, **changes)

    def generate_key(self, name: str, *, passphrase: str = "") -> Path:
        """A fresh ed25519 key pair in the server's directory (``name`` and ``name.pub``); returns the private key."""
        path = self.base_dir / name
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", f"orderflow-test-{name}",
              "-f", str(path)])
        return path

    def known_hosts_line(self, public_key_path: Path) -> str:
        """A known_hosts line claiming that ``public_key_path`` is this server's key."""
        key_type, key_base64 = public_key_path.read_text().split()[:2]
        return f"[{self.host}]:{self.port} {key_type} {key_base64}\n"

    def _prepare(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        for folder in ("to_vendor", "from_vendor"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.generate_key(self.host_key_path.name)
        self.generate_key(self.user_key_path.name)
        authorized_keys = self.base_dir / "authorized_keys"
        authorized_keys.write_text(Path(f"{self.user_key_path}.pub").read_text())
        self.port = free_loopback_port()
        self.known_hosts_path.write_text(self.known_hosts_line(Path(f"{self.host_key_path}.pub")))
        self.host_key_fingerprint = _fingerprint(Path(f"{self.host_key_path}.pub"))
        if self.cuttable:
            self.relay_path.write_text(_SFTP_RELAY)
        self.config_path.write_text(self._config(authorized_keys))
        if os.geteuid() == 0:
            # Run as root, sshd confines its pre-login process in this directory and refuses to start without it.
            PRIVILEGE_SEPARATION_DIR.mkdir(mode=0o755, exist_ok=True)

    def _config(self, authorized_keys: Path) -> str:
        lines = [
            f"ListenAddress {self.host}",
            f"Port {self.port}",
            f"HostKey {self.host_key_path}",
            f"PidFile {self.base_dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized_keys}",
            f"AllowUsers {self.username}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "StrictModes no",
            f"UsePAM {'yes' if self._use_pam else 'no'}",
            "UseDNS no",
            "PrintMotd no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "Subsystem sftp internal-sftp",
            f"ForceCommand {self._session_command()}",
            f"LogLevel {self._log_level}",
        ]
        if _openssh_version(self._sshd) >= (9, 8):
            # Newer sshd bans a source address after failed logins; tests fail logins on purpose.
            lines.append("PerSourcePenalties no")
        return "\n".join(lines) + "\n"

    def _session_command(self) -> str:
        if not self.cuttable:
            return "internal-sftp"
        # exec: the relay's parent is then the sshd session process itself, the one a cut kills.
        return " ".join(["exec", shlex.quote(sys.executable), shlex.quote(str(self.relay_path)),
                         shlex.quote(_find_sftp_server()), shlex.quote(str(self.cut_path))])

    def _launch(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self._sshd, "-D", "-e", "-f", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            )
        self._wait_until_ready(self._process)

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self._start_timeout
        while not _answers_with_ssh_banner(self.host, self.port):
            if time.monotonic() > deadline:
                self.kill()
                raise SshServerFailed(f"sshd gave no SSH banner within {self._start_timeout:g}s\n"
                                      f"{self._log_tail()}")
            # Waiting on the process paces the polling and notices an sshd that exits at once.
            try:
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            self._process = None
            raise SshServerFailed(f"sshd exited with status {process.returncode}\n{self._log_tail()}")

    def _signal_all(self, signum: signal.Signals) -> None:
        if self._process is None:
            return
        # Session processes call setsid(), so a process-group signal would miss them: name them one by one.
        for pid in [self._process.pid, *_descendants(self._process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no sshd log)"


class SilentServer:
    """A TCP port on 127.0.0.1 that completes connections and then never says a word.

    The kernel finishes the handshake for queued connections, so nothing here ever accepts or answers::

        with SilentServer() as silent:
            endpoint = sshd.endpoint(port=silent.port, banner_timeout=0.5)
    """

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.host = "127.0.0.1"
        self.port: int = self._listener.getsockname()[1]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._listener.close()


_SFTP_RELAY = """\
import json, os, selectors, signal, subprocess, sys

server, control = sys.argv[1], sys.argv[2]
claimed = f"{control}.{os.getpid()}"
try:
    os.rename(control, claimed)  # atomic: exactly one session takes a cut
except FileNotFoundError:
    os.execv(server, [server])
with open(claimed) as handle:
    limits = json.load(handle)
child = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
counted = {"upload": 0, "download": 0}


def die():
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(1)


def write_all(target, data):
    while data:
        data = data[os.write(target, data):]


def forward(data, direction, target):
    limit = limits.get(direction)
    if limit is not None and counted[direction] + len(data) >= limit:
        write_all(target, data[:limit - counted[direction]])
        if direction == "upload":
            child.stdin.close()  # the server acts on what it got, exactly, and nothing more
            child.stdout.read()
            child.wait()
        die()
    counted[direction] += len(data)
    write_all(target, data)


selector = selectors.DefaultSelector()
selector.register(0, selectors.EVENT_READ, ("upload", child.stdin.fileno()))
selector.register(child.stdout.fileno(), selectors.EVENT_READ, ("download", 1))
while True:
    for key, _ in selector.select():
        data = os.read(key.fd, 65536)
        if not data:
            child.kill()
            sys.exit(0)
        forward(data, *key.data)
"""


def _find_sftp_server() -> str:
    for candidate in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/lib/sftp-server",
                      "/usr/libexec/sftp-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SshServerMissing("sftp-server not found; install OpenSSH server (apt-get install openssh-server)")


def _find_program(name: str) -> str:
    search_path = f"{os.environ.get('PATH', '')}:{SBIN_FOLDERS}"
    found = shutil.which(name, path=search_path)
    if found is None:
        raise SshServerMissing(f"{name} not found; install OpenSSH server (apt-get install openssh-server)")
    # sshd re-executes itself for every connection and insists on an absolute path.
    return str(Path(found).resolve())


def _run(command: list[str]) -> str:
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SshServerFailed(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def _fingerprint(public_key_path: Path) -> str:
    """``ssh-keygen -lf`` prints ``256 SHA256:... comment (ED25519)``."""
    return _run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key_path)]).split()[1]


def _openssh_version(sshd: str) -> tuple[int, int]:
    result = subprocess.run([sshd, "-V"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False)
    found = re.search(r"OpenSSH_(\d+)\.(\d+)", result.stdout + result.stderr)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _answers_with_ssh_banner(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as probe:
            return probe.recv(256).startswith(b"SSH-")
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (Linux); elsewhere, none."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found: list[int] = []
    waiting = [pid]
    while waiting:
        below = children.get(waiting.pop(), [])
        found.extend(below)
        waiting.extend(below)
    return found
