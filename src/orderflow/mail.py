"""Email over SMTP: build a message with a stable ``Message-ID``, send it with STARTTLS or SSL and a login.

::

    message = build_message(
        sender="Tee Barn <ops@teebarn.example>", to=["jordan.rivera@example.com"],
        subject="Your order 1042 has shipped", text="...", html="<p>...</p>",
        message_id=stable_message_id("shipment", 812, sender="ops@teebarn.example"),
        attachments=[Attachment("shipped.csv", csv_bytes, "text/csv")],
    )
    with Mailer.from_settings(settings) as mailer:   # one SMTP connection for everything sent in the block
        mailer.send(message)

Failures arrive as the orderflow error tree: :class:`~orderflow.errors.RemoteUnavailable` when trying again
later may work (unreachable, timed out, disconnected, any 4xx reply such as 421/450/451 greylisting), and
:class:`~orderflow.errors.RemoteRejected` when it will not (5xx, login refused, certificate not trusted, no
STARTTLS offered). Refused recipients raise :class:`RecipientsRefused`, a ``RemoteRejected`` that says which
addresses failed and which were accepted: when ``accepted`` is not empty the message **was** delivered to
them, so the caller records it as sent and reports the refused addresses; re-sending would double it for the
others. A message handed over just before the connection died may have been delivered anyway: callers give
it a deterministic ``Message-ID`` (see :func:`stable_message_id`) so a re-send is recognisable.

Credentials come from the environment variables the settings name; they never appear in an error message.
"""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from types import TracebackType
from typing import Self

from orderflow.config import EmailSettings, Settings, secret
from orderflow.errors import ConfigError, RemoteError, RemoteRejected, RemoteUnavailable
from orderflow.tokens import safe_token


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message: ``Attachment("shipped.csv", data, "text/csv")``."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


class RecipientsRefused(RemoteRejected):
    """The server refused some or all recipients. ``accepted`` got the message; ``refused`` maps each other
    address to the server's ``(code, reply)``."""

    def __init__(self, message: str, *, refused: Mapping[str, tuple[int, str]], accepted: Sequence[str]) -> None:
        super().__init__(message)
        self.refused = dict(refused)
        self.accepted = tuple(accepted)


def stable_message_id(*parts: str | int, sender: str) -> str:
    """A ``Message-ID`` that is the same every time for the same parts, in the sender's domain.

    >>> stable_message_id("shipment", 812, sender="Tee Barn <ops@teebarn.example>")
    '<orderflow.shipment.812@teebarn.example>'
    """
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{'.'.join(safe_token(str(part)) for part in ('orderflow', *parts))}@{domain}>"


def build_message(*, sender: str, to: str | Sequence[str], subject: str, text: str, html: str | None = None,
                  reply_to: str | None = None, message_id: str, attachments: Iterable[Attachment] = (),
                  date: datetime | None = None, inline: Mapping[str, Attachment] | None = None) -> EmailMessage:
    """A message with a plain-text body, an HTML alternative when ``html`` is given, and the attachments.

    ``inline`` are pictures the HTML shows by ``cid:<key>``: they travel with the HTML in a ``multipart/related``
    part, so mail clients show them without loading anything from elsewhere.

    ``message_id`` is used as given (angle brackets added when missing); ``date`` defaults to now. The subject
    and every address line are folded onto one line, so text taken from an order (a customer's name) can never
    add a header.
    """
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = one_line(", ".join([to] if isinstance(to, str) else to))
    if reply_to:
        message["Reply-To"] = one_line(reply_to)
    message["Subject"] = one_line(subject)
    message["Date"] = email.utils.format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = _checked_message_id(message_id)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        body = message.get_body(("html",))
        for cid, picture in (inline or {}).items():
            maintype, _, subtype = picture.content_type.partition("/")
            assert body is not None  # the HTML part was added just above
            body.add_related(picture.content, maintype=maintype, subtype=subtype, cid=f"<{cid}>",
                             filename=picture.filename, disposition="inline")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


def one_line(text: str) -> str:
    """``text`` as one header line: line breaks, tabs and other control characters become single spaces.

    >>> one_line("Evil\\r\\nBcc: x@example.com")
    'Evil Bcc: x@example.com'
    """
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def _checked_message_id(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    left, at, right = bare.partition("@")
    if not (left and at and right) or any(char.isspace() or char in "<>" for char in bare):
        raise ValueError(f"not a Message-ID (want left@right): {message_id!r}")
    return f"<{bare}>"


class Mailer:
    """Sends messages through the configured SMTP server over one connection, opened at the first send.

    Use it as a context manager (or call :meth:`close`). ``ssl = true`` means TLS from the first byte (port
    465) and wins over ``starttls``; with ``starttls = true`` a server that does not offer STARTTLS is refused
    rather than spoken to in clear. The envelope sender (where bounces go) is the configured ``sender``.
    """

    def __init__(self, settings: EmailSettings) -> None:
        if bool(settings.username_env) != bool(settings.password_env):
            raise ConfigError("email: username_env and password_env go together (set both or neither)")
        self._settings = settings
        self._where = f"mail server {settings.host}:{settings.port}"
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        """The mailer for the ``[email]`` section, its CA file resolved beside the configuration file."""
        if settings.email is None:
            raise ConfigError("email is not configured: add an [email] section")
        ca_file = settings.email.tls_ca_file
        email_settings = settings.email.model_copy(
            update={"tls_ca_file": settings.path(ca_file) if ca_file is not None else None})
        return cls(email_settings)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server for everyone in its To, Cc and Bcc (Bcc is not transmitted)."""
        recipients = _recipients(message)
        if not recipients:
            raise ValueError("the message has no recipients (To, Cc or Bcc)")
        envelope_sender = email.utils.parseaddr(self._settings.sender)[1] or self._settings.sender
        try:
            with self._translated():
                refused = self._connected().send_message(message, from_addr=envelope_sender,
                                                         to_addrs=recipients)
        except RemoteError:
            self._drop()  # the session's state is unknown after a failure: the next send starts afresh
            raise
        if refused:
            raise _recipients_refused(self._where, refused, recipients)

    def check(self) -> None:
        """Connect, start TLS and log in exactly as a send would, and send nothing (``orderflow check``)."""
        try:
            with self._translated():
                self._connected()
        except RemoteError:
            self._drop()
            raise

    def close(self) -> None:
        """Say goodbye to the server (politely if it still listens). Safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _connected(self) -> smtplib.SMTP:
        if self._connection is not None and not _still_open(self._connection):
            self._drop()
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        credentials = self._credentials()
        tls = self._tls_context() if settings.ssl or settings.starttls else None
        connection: smtplib.SMTP
        if settings.ssl:
            connection = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds,
                                          context=tls)
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        try:
            if settings.starttls and not settings.ssl:
                connection.starttls(context=tls)
            if credentials is not None:
                connection.login(*credentials)
        except BaseException:
            connection.close()
            raise
        return connection

    def _credentials(self) -> tuple[str, str] | None:
        if not (self._settings.username_env and self._settings.password_env):
            return None
        return (secret(self._settings.username_env, setting="email.username_env"),
                secret(self._settings.password_env, setting="email.password_env"))

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self._settings.tls_ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"email.tls_ca_file: cannot use {ca_file}: {exc}") from exc

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """smtplib's and the socket's errors, said as orderflow errors about this server."""
        where = self._where
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            raise _recipients_refused(where, exc.recipients, ()) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise RemoteRejected(f"{where}: login refused ({_reply(exc.smtp_code, exc.smtp_error)}); check the "
                                 f"credentials in {self._settings.username_env} and "
                                 f"{self._settings.password_env}") from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 530:
                raise RemoteRejected(f"{where}: the server wants a login ({_reply(exc.smtp_code, exc.smtp_error)}); "
                                     "set email.username_env and email.password_env") from exc
            raise _by_code(exc.smtp_code, f"{where}: sender {exc.sender} refused "
                                          f"({_reply(exc.smtp_code, exc.smtp_error)})") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"{where}: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise RemoteUnavailable(f"{where}: {exc or 'connection closed unexpectedly'}") from exc
        except smtplib.SMTPException as exc:  # no STARTTLS or AUTH offered, no usable AUTH mechanism
            raise RemoteRejected(f"{where}: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise RemoteRejected(f"{where}: TLS certificate not trusted: {exc.verify_message}") from exc
        except ssl.SSLError as exc:
            raise RemoteRejected(f"{where}: TLS failed: {exc.reason or exc}") from exc
        except TimeoutError as exc:
            raise RemoteUnavailable(f"{where}: no answer within {self._settings.timeout_seconds:g}s") from exc
        except OSError as exc:
            raise RemoteUnavailable(f"{where}: cannot reach it: {exc.strerror or exc}") from exc


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(value) for header in ("To", "Cc", "Bcc") for value in message.get_all(header, [])]
    return list(dict.fromkeys(address for _, address in email.utils.getaddresses(fields) if address))


def _still_open(connection: smtplib.SMTP) -> bool:
    # A server may drop an idle connection between two sends; finding out now beats failing the next message.
    try:
        return connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _text(text: bytes | str) -> str:
    return " ".join((text.decode("utf-8", "replace") if isinstance(text, bytes) else text).split())


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {_text(text)}".strip()


def _by_code(code: int, message: str) -> RemoteError:
    # 4xx is the server's own "try again later" (greylisting, busy, shutting down); 5xx is final.
    return RemoteUnavailable(message) if 400 <= code < 500 else RemoteRejected(message)


def _recipients_refused(where: str, refused: Mapping[str, tuple[int, bytes | str]],
                        recipients: Sequence[str]) -> RemoteError:
    replies = {address: (code, _text(text)) for address, (code, text) in refused.items()}
    accepted = [address for address in recipients if address not in refused]
    listed = "; ".join(f"{address} ({_reply(code, text)})" for address, (code, text) in replies.items())
    if not accepted and replies and all(400 <= code < 500 for code, _ in replies.values()):
        return RemoteUnavailable(f"{where}: recipient(s) deferred, try again later: {listed}")
    sent_to = f"; delivered to {', '.join(accepted)}" if accepted else ""
    return RecipientsRefused(f"{where}: recipient(s) refused: {listed}{sent_to}", refused=replies,
                             accepted=accepted)

