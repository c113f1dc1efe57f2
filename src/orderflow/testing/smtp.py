"""A real SMTP server (aiosmtpd) on 127.0.0.1, with knobs to make it misbehave, for tests and the demo.

::

    with SmtpServer(tls="starttls") as smtp:
        smtp.require_auth("ops", "s3cret")
        settings = EmailSettings(host=smtp.host, port=smtp.port, tls_ca_file=smtp.ca_file, ...)
        with Mailer(settings) as mailer:
            mailer.send(message)
        assert smtp.messages[0]["Message-ID"] == "<orderflow.shipment.812@teebarn.example>"

``tls``: ``"none"`` (plain text), ``"starttls"`` (offers STARTTLS; AUTH only after it, as real servers do)
or ``"ssl"`` (TLS from the first byte). The certificate is made on start by a throw-away certificate
authority whose certificate is ``ca_file``; it names ``127.0.0.1`` and ``localhost``.

Everything accepted is in ``received`` (envelope, login, whether it was encrypted, the parsed message) and
``messages`` (just the parsed messages); both are snapshots, safe to read from any thread. A message is
recorded before the server says 250, so it is there as soon as the client's send returns. Knobs, safe to
set from any thread: :meth:`fail_next`, :meth:`refuse`, :meth:`require_auth`.

Quiet by design: this module never turns on the aiosmtpd options that raise Python warnings
(``auth_required`` without TLS, AUTH interaction logging); authentication is demanded by the handler itself
(530 at MAIL FROM) instead. aiosmtpd's ``mail.log`` logger keeps its level, with one filter that drops the
warning aiosmtpd logs about its own deprecated ``Session.login_data`` at every successful AUTH. An
unexpected error inside the handler is kept in ``errors`` and answered with 500 instead of being logged
(a client that breaks off the TLS handshake is not an error of the server and is not kept).
"""

from __future__ import annotations

import email.parser
import email.policy
import ipaddress
import logging
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from orderflow.testing.http_server import free_loopback_port

Stage = Literal["MAIL", "RCPT", "DATA"]
_SERVER_NAME = "smtp.orderflow.test"


@dataclass(frozen=True)
class TlsFiles:
    """A throw-away certificate authority and a server certificate it signed (PEM files)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_test_certificates(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> TlsFiles:
    """Write a new CA and a server certificate for ``names`` (host names or IP addresses) into ``directory``.

    Both have the extensions strict verifiers insist on (key usages, key identifiers), so a client that
    trusts ``ca_file`` verifies the server exactly as it would a public one.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orderflow test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    alternative_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative_names.append(x509.DNSName(name))
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(ca_file=directory / "ca.pem", cert_file=directory / "server.pem",
                     key_file=directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return files


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope, who logged in (if anyone), whether TLS was on, the message.

    ``peer`` is the client's ``host:port``: messages sent over one connection share it.
    """

    peer: str
    mail_from: str
    recipients: tuple[str, ...]
    login: str | None
    encrypted: bool
    message: EmailMessage


class SmtpServer:
    """aiosmtpd's threaded ``Controller`` on a free loopback port; ``host`` and ``port`` are set on start."""

    def __init__(self, *, tls: Literal["none", "starttls", "ssl"] = "none") -> None:
        self.tls = tls
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file: Path | None = None
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self._faults: list[tuple[Stage, int]] = []
        self._refused: set[str] = set()
        self._credentials: tuple[bytes, bytes] | None = None
        self._directory: Path | None = None
        self._controller: Any = None

    # --- what arrived ------------------------------------------------------------------------------------

    @property
    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [mail.message for mail in self._received]

    # --- knobs -------------------------------------------------------------------------------------------

    def fail_next(self, n: int, code: int = 451, *, at: Stage = "MAIL") -> None:
        """The next ``n`` transactions get ``code`` at ``at`` (MAIL FROM, RCPT TO or the end of DATA)."""
        with self._lock:
            self._faults += [(at, code)] * n

    def refuse(self, addresses: set[str] | list[str] | tuple[str, ...]) -> None:
        """Answer 550 (no such user) to RCPT TO for these addresses, from now on."""
        with self._lock:
            self._refused |= {address.lower() for address in addresses}

    def require_auth(self, username: str, password: str) -> None:
        """Demand AUTH (PLAIN or LOGIN) with these credentials before MAIL FROM."""
        with self._lock:
            self._credentials = (username.encode(), password.encode())

    # --- running -----------------------------------------------------------------------------------------

    def start(self) -> Self:
        from aiosmtpd.controller import Controller

        _quiet_aiosmtpd()
        self._directory = Path(tempfile.mkdtemp(prefix="orderflow-smtp-"))
        tls_context = self._server_tls_context(self._directory) if self.tls != "none" else None
        self.port = free_loopback_port()
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, server_hostname=_SERVER_NAME,
            ssl_context=tls_context if self.tls == "ssl" else None,
            tls_context=tls_context if self.tls == "starttls" else None,
            authenticator=self._authenticate,
            # Plain-text AUTH is fine on loopback; over STARTTLS it is offered only once TLS is up.
            auth_require_tls=self.tls == "starttls",
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    __enter__ = start

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _server_tls_context(self, directory: Path) -> ssl.SSLContext:
        files = make_test_certificates(directory)
        self.ca_file = files.ca_file
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.cert_file, files.key_file)
        return context

    # --- called by the server thread ---------------------------------------------------------------------

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        with self._lock:
            expected = self._credentials
        offered = (auth_data.login, auth_data.password) if isinstance(auth_data, LoginPassword) else None
        # handled=False: aiosmtpd then answers 535 itself (True would leave the client waiting for a reply).
        return AuthResult(success=expected is not None and offered == expected, handled=False,
                          auth_data=auth_data)

    def _fault(self, stage: Stage) -> int | None:
        with self._lock:
            for index, (at, code) in enumerate(self._faults):
                if at == stage:
                    del self._faults[index]
                    return code
            return None

    def _needs_login(self, session: Any) -> bool:
        with self._lock:
            return self._credentials is not None and not session.authenticated

    def _is_refused(self, address: str) -> bool:
        with self._lock:
            return address.lower() in self._refused

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._received.append(mail)


class _Handler:
    """aiosmtpd's hook object: each hook answers one command and returns the SMTP reply line."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.owner._needs_login(session):
            return "530 5.7.0 Authentication required"
        code = self.owner._fault("MAIL")
        if code is not None:
            return _fault_reply(code)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.owner._is_refused(address):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        code = self.owner._fault("RCPT")
        if code is not None:
            return _fault_reply(code)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        code = self.owner._fault("DATA")
        if code is not None:
            return _fault_reply(code)
        # Read as a mail client stores it: lines end in LF, not the wire's CRLF (encoded parts are unaffected).
        message = email.parser.BytesParser(_class=EmailMessage, policy=email.policy.default).parsebytes(
            envelope.original_content.replace(b"\r\n", b"\n"))
        login = session.auth_data.login.decode() if session.authenticated else None
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        peer = ":".join(str(part) for part in session.peer[:2])
        self.owner._record(ReceivedMail(peer=peer, mail_from=envelope.mail_from, recipients=tuple(envelope.rcpt_tos),
                                        login=login, encrypted=encrypted, message=message))
        return "250 2.0.0 Message accepted"

    async def handle_exception(self, error: Exception) -> str:
        from aiosmtpd.smtp import TLSSetupException

        # A client refusing our certificate is what TLS tests are about, not a fault of this server.
        if not isinstance(error, TLSSetupException):
            self.owner.errors.append(error)
        return "500 5.0.0 Error in the test server (see SmtpServer.errors)"


class _DropDeprecatedLoginData(logging.Filter):
    """aiosmtpd 1.4 logs a warning about its own deprecated ``Session.login_data`` on every successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


def _quiet_aiosmtpd() -> None:
    logger = logging.getLogger("mail.log")
    if not any(isinstance(installed, _DropDeprecatedLoginData) for installed in logger.filters):
        logger.addFilter(_DropDeprecatedLoginData())


def _fault_reply(code: int) -> str:
    if 400 <= code < 500:
        return f"{code} 4.3.0 Try again later"
    return f"{code} 5.7.1 Requested action not taken"
