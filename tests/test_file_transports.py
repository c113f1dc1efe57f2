"""Vendor file transports: a local folder, and SFTP against a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderflow.clock import Clock
from orderflow.errors import ConfigError, InputError, RemoteError, RemoteRejected, RemoteUnavailable
from orderflow.testing.sshd import SilentServer, SshServer
from orderflow.vendors.transports.base import FileTransport, RemoteFile
from orderflow.vendors.transports.local import LocalFolderTransport
from orderflow.vendors.transports.sftp import SftpEndpoint, SftpTransport
from tests.support.servers import running_sshd

ARCHIVED_AT = datetime(2024, 3, 1, 10, 15, tzinfo=UTC)
VENDOR_WROTE_AT = datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC)
PO_NAME = "po_TB1042-ACME_20240301101500.csv"


@dataclass(frozen=True)
class ExchangeArea:
    """A transport and, beside it, the same vendor folders as plain paths for arranging and checking."""

    transport: FileTransport
    folder: Path


@pytest.fixture(params=["local", "sftp"])
def area(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExchangeArea]:
    """The same exchange area reached through each transport; SFTP sees ``tmp_path`` by its absolute path."""
    for folder in ("to_vendor", "from_vendor"):
        (tmp_path / folder).mkdir()
    transport: FileTransport
    if request.param == "local":
        transport = LocalFolderTransport(tmp_path, vendor="ACME", clock=Clock(fixed=ARCHIVED_AT))
    else:
        server: SshServer = request.getfixturevalue("sshd")
        transport = SftpTransport(server.endpoint(remote_dir=str(tmp_path)), clock=Clock(fixed=ARCHIVED_AT))
    with transport:
        yield ExchangeArea(transport=transport, folder=tmp_path)


def vendor_drops(area: ExchangeArea, name: str, content: bytes) -> Path:
    """The vendor leaves a file for us, written at a known time."""
    path = area.folder / "from_vendor" / name
    path.write_bytes(content)
    stamp = VENDOR_WROTE_AT.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def error_chain_text(error: BaseException) -> str:
    """Every message in an exception and its causes, as a log with tracebacks would show them."""
    texts = []
    current: BaseException | None = error
    while current is not None:
        texts.append(f"{current!r} {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


# --- both transports ---------------------------------------------------------------------------------

class TestUpload:
    def test_upload_lands_whole_under_its_name_with_no_temp_file_left(self, area: ExchangeArea) -> None:
        """An uploaded purchase order is in to_vendor under its final name and nothing else is."""
        area.transport.upload(PO_NAME, b"po_number,sku\nTB1042-ACME,ACM-G500-BLK-L\n")

        assert names_in(area.folder / "to_vendor") == [PO_NAME]
        assert (area.folder / "to_vendor" / PO_NAME).read_bytes() == b"po_number,sku\nTB1042-ACME,ACM-G500-BLK-L\n"

    def test_sending_the_same_name_again_replaces_the_file(self, area: ExchangeArea) -> None:
        """A re-send leaves one file holding the new content, never a duplicate."""
        area.transport.upload(PO_NAME, b"first attempt, a longer body than the second\n")
        area.transport.upload(PO_NAME, b"second\n")

        assert names_in(area.folder / "to_vendor") == [PO_NAME]
        assert (area.folder / "to_vendor" / PO_NAME).read_bytes() == b"second\n"

    def test_a_name_with_a_folder_in_it_is_refused(self, area: ExchangeArea) -> None:
        """A file name can never climb out of the vendor's folder."""
        with pytest.raises(InputError, match=r"not a plain file name: '\.\./escape\.csv'"):
            area.transport.upload("../escape.csv", b"x")

        assert names_in(area.folder / "to_vendor") == []
        assert not (area.folder.parent / "escape.csv").exists()


    def test_a_write_that_fails_never_takes_the_final_name(self, area: ExchangeArea) -> None:
        """Data the server cannot write (the temp name leads to /dev/full, a disk with no space left) fails the
        upload, and no short file takes the purchase order's name."""
        (area.folder / "to_vendor" / f"{PO_NAME}.tmp").symlink_to("/dev/full")

        with pytest.raises(RemoteError, match=f"upload to_vendor/{PO_NAME}"):
            area.transport.upload(PO_NAME, b"po_number,sku\n" * 5000)

        assert PO_NAME not in names_in(area.folder / "to_vendor")

    def test_a_batch_lands_whole_each_file_under_its_name(self, area: ExchangeArea) -> None:
        """Many files sent together, empty ones and ones of several write requests among them, each arrive
        whole under their own names, with no temp file left."""
        files = [(f"TB{n}-ACME.csv", bytes([65 + n % 26]) * (n * 997 % 120_000)) for n in range(60)]

        assert area.transport.upload_many(files) == {}

        assert names_in(area.folder / "to_vendor") == sorted(name for name, _ in files)
        assert all((area.folder / "to_vendor" / name).read_bytes() == data for name, data in files)

    def test_a_file_refused_in_a_batch_leaves_the_others_delivered(self, area: ExchangeArea) -> None:
        """A folder squatting on one file's temp name makes that one fail, naming it; the files sent with it
        still arrive, and a bad name is refused as it would be alone."""
        (area.folder / "to_vendor" / "TB2-ACME.csv.tmp").mkdir()

        failures = area.transport.upload_many([("TB1-ACME.csv", b"one\n"), ("TB2-ACME.csv", b"two\n"),
                                               ("../TB3-ACME.csv", b"three\n"), ("TB4-ACME.csv", b"four\n")])

        assert sorted(failures) == ["../TB3-ACME.csv", "TB2-ACME.csv"]
        assert isinstance(failures["TB2-ACME.csv"], RemoteError)
        assert "upload to_vendor/TB2-ACME.csv" in str(failures["TB2-ACME.csv"])
        assert isinstance(failures["../TB3-ACME.csv"], InputError)
        assert names_in(area.folder / "to_vendor") == ["TB1-ACME.csv", "TB2-ACME.csv.tmp", "TB4-ACME.csv"]


class TestInbound:
    def test_listing_offers_the_vendors_files_by_name_skipping_temp_and_hidden(self, area: ExchangeArea) -> None:
        """Half-written (.tmp) and hidden files and folders are not offered; the rest come sorted with size and time."""
        vendor_drops(area, "shp_2.csv", b"12345")
        vendor_drops(area, "ack_1.csv", b"123")
        vendor_drops(area, "inv_3.csv.tmp", b"half")
        vendor_drops(area, ".partial", b"x")
        (area.folder / "from_vendor" / "old").mkdir()

        assert area.transport.list_inbound() == [
            RemoteFile(name="ack_1.csv", size=3, modified_at=VENDOR_WROTE_AT),
            RemoteFile(name="shp_2.csv", size=5, modified_at=VENDOR_WROTE_AT),
        ]

    def test_read_returns_the_exact_bytes(self, area: ExchangeArea) -> None:
        """A large file with a BOM and every byte value comes back unchanged."""
        content = b"\xef\xbb\xbf" + bytes(range(256)) * 800
        vendor_drops(area, "inv_3.csv", content)

        assert area.transport.read("inv_3.csv") == content

    def test_reading_a_file_that_is_gone_is_rejected_naming_it(self, area: ExchangeArea) -> None:
        """A file the vendor removed after the listing is a clear refusal, not a crash."""
        with pytest.raises(RemoteRejected, match=r"\): cannot read from_vendor/ack_9\.csv: no such file or folder$"):
            area.transport.read("ack_9.csv")

    def test_listed_files_read_together_come_back_each_whole(self, area: ExchangeArea) -> None:
        """Files read after a listing (SFTP reads the ones after the file asked for meanwhile) each come back
        exactly: empty, one chunk, many chunks, and exactly a chunk's size."""
        contents = {"a_empty.csv": b"", "b_small.csv": b"po,qty\r\n1,2\r\n",
                    "c_large.csv": bytes(range(256)) * 700, "d_chunk.csv": b"x" * 32_768}
        for name, content in contents.items():
            vendor_drops(area, name, content)
        area.transport.list_inbound()

        assert {name: area.transport.read(name) for name in contents} == contents

    def test_a_listed_file_that_changed_is_read_as_it_is_now(self, area: ExchangeArea) -> None:
        """A file that grew or went after the listing is read as it is now, or refused naming it; the files
        beside it are read whole."""
        vendor_drops(area, "a.csv", b"first")
        vendor_drops(area, "b.csv", b"second")
        vendor_drops(area, "c.csv", b"third")
        area.transport.list_inbound()
        vendor_drops(area, "a.csv", b"first, and more")
        (area.folder / "from_vendor" / "b.csv").unlink()

        assert area.transport.read("a.csv") == b"first, and more"
        with pytest.raises(RemoteRejected, match=r"cannot read from_vendor/b\.csv: no such file or folder$"):
            area.transport.read("b.csv")
        assert area.transport.read("c.csv") == b"third"


class TestKeepingFilesAside:
    def test_archive_moves_the_file_out_of_inbound(self, area: ExchangeArea) -> None:
        """After archiving, the file is in archive/ with its content and no longer offered."""
        vendor_drops(area, "ack_1.csv", b"ack")

        area.transport.archive("ack_1.csv")

        assert area.transport.list_inbound() == []
        assert (area.folder / "archive" / "ack_1.csv").read_bytes() == b"ack"

    def test_archive_keeps_an_earlier_namesake_by_stamping_the_newcomer(self, area: ExchangeArea) -> None:
        """A vendor re-using a file name never makes us overwrite the copy archived before."""
        (area.folder / "archive").mkdir(exist_ok=True)
        (area.folder / "archive" / "ack_1.csv").write_bytes(b"monday")
        vendor_drops(area, "ack_1.csv", b"tuesday")
        area.transport.archive("ack_1.csv")
        vendor_drops(area, "ack_1.csv", b"wednesday")
        area.transport.archive("ack_1.csv")

        archive = area.folder / "archive"
        assert names_in(archive) == [
            "ack_1.20240301T101500000000Z-2.csv", "ack_1.20240301T101500000000Z.csv", "ack_1.csv"]
        assert (archive / "ack_1.csv").read_bytes() == b"monday"
        assert (archive / "ack_1.20240301T101500000000Z.csv").read_bytes() == b"tuesday"
        assert (archive / "ack_1.20240301T101500000000Z-2.csv").read_bytes() == b"wednesday"

    def test_archiving_many_moves_each_keeps_namesakes_and_names_the_file_that_is_gone(
            self, area: ExchangeArea) -> None:
        """Files archived together (SFTP sends every rename at once) land as one by one would: a namesake
        archived before is kept, and a file gone meanwhile is named while the others are moved."""
        (area.folder / "archive").mkdir(exist_ok=True)
        (area.folder / "archive" / "ack_1.csv").write_bytes(b"monday")
        for name in ("ack_1.csv", "ack_2.csv", "ack_3.csv"):
            vendor_drops(area, name, name.encode())

        failures = area.transport.archive_many(["ack_1.csv", "ack_2.csv", "ack_9.csv", "ack_3.csv"])

        assert list(failures) == ["ack_9.csv"]
        assert isinstance(failures["ack_9.csv"], RemoteRejected)
        assert "ack_9.csv" in str(failures["ack_9.csv"])
        archive = area.folder / "archive"
        assert names_in(archive) == ["ack_1.20240301T101500000000Z.csv", "ack_1.csv", "ack_2.csv", "ack_3.csv"]
        assert (archive / "ack_1.csv").read_bytes() == b"monday"
        assert (archive / "ack_1.20240301T101500000000Z.csv").read_bytes() == b"ack_1.csv"
        assert names_in(area.folder / "from_vendor") == []

    def test_reject_moves_the_file_to_rejected(self, area: ExchangeArea) -> None:
        """A refused file is kept aside in rejected/ for a person, not left to be read again."""
        vendor_drops(area, "shp_2.csv", b"not,a,shipment")

        area.transport.reject("shp_2.csv")

        assert names_in(area.folder / "from_vendor") == []
        assert (area.folder / "rejected" / "shp_2.csv").read_bytes() == b"not,a,shipment"

    def test_delete_removes_the_file_and_a_second_delete_is_harmless(self, area: ExchangeArea) -> None:
        """Deleting is idempotent, so a re-run after a crash does not fail."""
        vendor_drops(area, "inv_3.csv", b"sku,qty\n")

        area.transport.delete("inv_3.csv")
        area.transport.delete("inv_3.csv")

        assert names_in(area.folder / "from_vendor") == []

    def test_archiving_a_missing_file_is_rejected(self, area: ExchangeArea) -> None:
        """Archiving what is not there says so instead of pretending it worked."""
        with pytest.raises(RemoteRejected, match=r"cannot move from_vendor/ack_9\.csv to archive: no such file"):
            area.transport.archive("ack_9.csv")


class TestLocalFolder:
    def test_missing_folders_are_created_with_the_configured_names(self, tmp_path: Path) -> None:
        """A new vendor's folder tree appears on first use, named as agreed."""
        LocalFolderTransport(tmp_path / "acme", to_vendor="in", from_vendor="out", archive="done",
                             rejected="bad").close()

        assert names_in(tmp_path / "acme") == ["bad", "done", "in", "out"]

    def test_a_folder_outside_the_area_is_a_config_error(self, tmp_path: Path) -> None:
        """Folder names are relative to the vendor's area and cannot leave it."""
        with pytest.raises(ConfigError, match=r"archive folder must be a relative path .*'\.\./elsewhere'"):
            LocalFolderTransport(tmp_path, archive="../elsewhere")


# --- SFTP: trust, login, deadlines, a dying server ---------------------------------------------------

class TestHostKeyVerification:
    def test_a_server_missing_from_known_hosts_is_refused(self, sshd: SshServer, tmp_path: Path) -> None:
        """An empty known_hosts means an unknown server: refuse, never add."""
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text("")

        with pytest.raises(RemoteRejected) as refused:
            SftpTransport(sshd.endpoint(known_hosts=known_hosts))

        assert str(refused.value) == (
            f"sftp ACME (127.0.0.1:{sshd.port}): host key for [127.0.0.1]:{sshd.port} is not in known_hosts "
            f"{known_hosts} — refusing to connect")
        assert known_hosts.read_text() == ""

    def test_a_key_known_for_another_port_does_not_count(self, sshd: SshServer, tmp_path: Path) -> None:
        """known_hosts entries are per [host]:port, as OpenSSH writes them."""
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line(Path(f"{sshd.host_key_path}.pub"))
                               .replace(f":{sshd.port} ", ":1 "))

        with pytest.raises(RemoteRejected, match=r"is not in known_hosts"):
            SftpTransport(sshd.endpoint(known_hosts=known_hosts))

    def test_a_changed_host_key_is_refused_saying_changed(self, sshd: SshServer, tmp_path: Path) -> None:
        """known_hosts holding a different key for this [host]:port is the man-in-the-middle warning."""
        other_key = sshd.generate_key(f"other-host-key-{tmp_path.name}")
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line(Path(f"{other_key}.pub")))
        expected = fingerprint_of(Path(f"{other_key}.pub"))

        with pytest.raises(RemoteRejected) as refused:
            SftpTransport(sshd.endpoint(known_hosts=known_hosts))

        assert str(refused.value) == (
            f"sftp ACME (127.0.0.1:{sshd.port}): host key for [127.0.0.1]:{sshd.port} CHANGED "
            f"(expected {expected}, got {sshd.host_key_fingerprint}; known_hosts {known_hosts}) "
            "— refusing to connect")

    def test_a_hashed_known_hosts_entry_is_honoured(self, sshd: SshServer, tmp_path: Path) -> None:
        """known_hosts hashed with ssh-keygen -H still identifies the server."""
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_path.read_text())
        subprocess.run(["ssh-keygen", "-H", "-f", str(known_hosts)], check=True, capture_output=True)
        assert known_hosts.read_text().startswith("|1|")

        with SftpTransport(sshd.endpoint(known_hosts=known_hosts)) as transport:
            assert transport.list_inbound() == []

    def test_the_pinned_fingerprint_is_accepted(self, sshd: SshServer) -> None:
        """With no known_hosts file, the fingerprint ssh-keygen -lf prints is enough."""
        endpoint = sshd.endpoint(known_hosts=None, host_key_fingerprint=sshd.host_key_fingerprint)

        with SftpTransport(endpoint) as transport:
            assert transport.list_inbound() == []

    def test_a_wrong_pinned_fingerprint_is_refused(self, sshd: SshServer) -> None:
        """A pinned fingerprint that does not match is a changed key."""
        pinned = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        endpoint = sshd.endpoint(known_hosts=None, host_key_fingerprint=pinned)

        with pytest.raises(RemoteRejected) as refused:
            SftpTransport(endpoint)

        assert str(refused.value) == (
            f"sftp ACME (127.0.0.1:{sshd.port}): host key CHANGED "
            f"(expected {pinned}, got {sshd.host_key_fingerprint}) — refusing to connect")

    def test_no_way_to_verify_the_host_is_a_config_error(self, sshd: SshServer) -> None:
        """Without known_hosts or a fingerprint we do not even try to connect."""
        with pytest.raises(ConfigError, match=r"set known_hosts or host_key_fingerprint"):
            SftpTransport(sshd.endpoint(known_hosts=None))


class TestLogin:
    def test_a_key_the_server_does_not_know_is_refused_without_the_passphrase(
            self, sshd: SshServer, tmp_path: Path) -> None:
        """Login refusal names user, host and key file, and never the passphrase."""
        passphrase = "correct horse battery staple"
        stranger_key = sshd.generate_key(f"stranger-{tmp_path.name}", passphrase=passphrase)

        with pytest.raises(RemoteRejected) as refused:
            SftpTransport(sshd.endpoint(key_file=stranger_key, key_passphrase=passphrase))

        assert str(refused.value) == (
            f"sftp ACME (127.0.0.1:{sshd.port}): login refused for user {sshd.username} with key {stranger_key}")
        assert passphrase not in error_chain_text(refused.value)

    def test_a_password_is_refused_and_never_repeated(self, sshd: SshServer) -> None:
        """The test server takes keys only; the refusal does not echo the password."""
        password = "hunter2-s3cret"

        with pytest.raises(RemoteRejected) as refused:
            SftpTransport(sshd.endpoint(key_file=None, password=password))

        assert str(refused.value) == (
            f"sftp ACME (127.0.0.1:{sshd.port}): login refused for user {sshd.username} with password")
        assert password not in error_chain_text(refused.value)

    def test_a_wrong_key_passphrase_is_a_config_error_without_the_passphrase(self, sshd: SshServer) -> None:
        """Our own key that will not open is our configuration's fault, said without the secret."""
        wrong = "not-the-passphrase"

        with pytest.raises(ConfigError) as refused:
            SftpTransport(sshd.endpoint(key_passphrase=wrong, key_file=sshd.generate_key(
                "locked-user-key", passphrase="the-real-one")))

        assert "cannot load key_file" in str(refused.value)
        assert wrong not in error_chain_text(refused.value)

    def test_secrets_stay_out_of_the_endpoint_repr(self) -> None:
        """An endpoint printed in a log shows where, never the password or passphrase."""
        endpoint = SftpEndpoint(vendor="ACME", host="sftp.acme.example", username="tb",
                                password="hunter2-s3cret", key_passphrase="open sesame")

        assert "hunter2" not in repr(endpoint)
        assert "sesame" not in repr(endpoint)
        assert "host='sftp.acme.example'" in repr(endpoint)


class TestDeadlines:
    def test_a_server_that_accepts_but_never_speaks_is_abandoned(self, tmp_path: Path) -> None:
        """A silent server costs the banner deadline, then RemoteUnavailable."""
        with SilentServer() as silent:
            endpoint = SftpEndpoint(vendor="ACME", host=silent.host, port=silent.port, username="tb",
                                    password="unused", host_key_fingerprint="SHA256:unused",
                                    connect_timeout=0.5, banner_timeout=0.5, auth_timeout=0.5,
                                    operation_timeout=0.5)
            started = time.monotonic()
            with pytest.raises(RemoteUnavailable, match=rf"^sftp ACME \(127\.0\.0\.1:{silent.port}\): "):
                SftpTransport(endpoint)

        assert time.monotonic() - started < 10

    def test_a_closed_port_is_unavailable(self) -> None:
        """Nobody listening is a transient failure, worth retrying later."""
        with SilentServer() as gone:
            port = gone.port
        endpoint = SftpEndpoint(vendor="ACME", host="127.0.0.1", port=port, username="tb", password="unused",
                                host_key_fingerprint="SHA256:unused", connect_timeout=0.5)

        with pytest.raises(RemoteUnavailable, match=rf"^sftp ACME \(127\.0\.0\.1:{port}\): cannot connect: "):
            SftpTransport(endpoint)

    def test_a_server_that_hangs_mid_session_is_abandoned_at_the_operation_deadline(
            self, own_sshd: SshServer) -> None:
        """Once connected, each operation waits at most operation_timeout for an answer."""
        with SftpTransport(own_sshd.endpoint(operation_timeout=0.5)) as transport:
            own_sshd.pause()
            started = time.monotonic()
            try:
                with pytest.raises(RemoteUnavailable) as unavailable:
                    transport.list_inbound()
            finally:
                own_sshd.resume()

        assert time.monotonic() - started < 10
        assert str(unavailable.value) == (
            f"sftp ACME (127.0.0.1:{own_sshd.port}): no answer within 0.5s to list from_vendor")


class TestServerDies:
    def test_the_next_operation_after_sshd_is_killed_is_unavailable(self, own_sshd: SshServer) -> None:
        """A killed server mid-session is RemoteUnavailable, for this operation and the ones after."""
        with SftpTransport(own_sshd.endpoint()) as transport:
            transport.upload(PO_NAME, b"first\n")
            own_sshd.kill()

            with pytest.raises(RemoteUnavailable) as unavailable:
                transport.upload(PO_NAME, b"second\n")
            with pytest.raises(RemoteUnavailable):
                transport.list_inbound()

        assert str(unavailable.value) == (
            f"sftp ACME (127.0.0.1:{own_sshd.port}): connection lost trying to upload to_vendor/{PO_NAME}")
        assert (own_sshd.root / "to_vendor" / PO_NAME).read_bytes() == b"first\n"

    def test_a_batch_cut_off_midway_delivers_what_was_finished_and_names_the_rest(self, tmp_path: Path) -> None:
        """The server dies partway through a batch: each file reported delivered is there whole; each other
        one is reported lost, naming it, and never appears under its own name."""
        files = [(f"TB{n}-ACME.csv", f"{n},".encode() * 3000) for n in range(100)]
        with running_sshd(tmp_path / "sshd", cuttable=True) as server:
            server.cut_next_session(after_upload_bytes=sum(len(data) for _, data in files) // 2)
            with SftpTransport(server.endpoint()) as transport:
                failures = transport.upload_many(files)
            arrived = set(names_in(server.root / "to_vendor"))

        assert 0 < len(failures) < len(files)
        port = server.port
        for name, data in files:
            if name in failures:
                assert str(failures[name]) == f"sftp ACME (127.0.0.1:{port}): connection lost trying to upload " \
                                              f"to_vendor/{name}"
                assert name not in arrived
            else:
                assert (server.root / "to_vendor" / name).read_bytes() == data

    def test_a_restarted_server_takes_new_connections_with_the_same_host_key(self, own_sshd: SshServer) -> None:
        """After a restart the same known_hosts still verifies and work resumes."""
        own_sshd.kill()
        own_sshd.restart()

        with SftpTransport(own_sshd.endpoint()) as transport:
            transport.upload(PO_NAME, b"again\n")

        assert (own_sshd.root / "to_vendor" / PO_NAME).read_bytes() == b"again\n"


def fingerprint_of(public_key: Path) -> str:
    printed = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
                             check=True, capture_output=True, text=True).stdout
    return printed.split()[1]
