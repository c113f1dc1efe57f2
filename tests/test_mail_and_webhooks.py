"""Email over a real SMTP server on loopback, and Slack-compatible webhooks against a local HTTP server."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderflow.config import EmailSettings, Settings
from orderflow.errors import ConfigError, RemoteRejected, RemoteUnavailable
from orderflow.mail import Attachment, Mailer, RecipientsRefused, build_message, stable_message_id
from orderflow.testing.http_server import Answer, LocalHttpServer
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.webhook import FakeWebhook
from orderflow.webhooks import post_json

SENDER = "Tee Barn <ops@teebarn.example>"
CUSTOMER = "jordan.rivera@example.com"
USER_ENV, PASSWORD_ENV = "ORDERFLOW_TEST_SMTP_USER", "ORDERFLOW_TEST_SMTP_PASSWORD"
USERNAME, PASSWORD = "ops-mailer", "pw-Qx7-s3cret"
SENT_AT = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
CSV = b"order_number,carrier,tracking_number\r\n1042,USPS,9400111899223855990014\r\n"
PNG = bytes(range(256)) * 4
WEBHOOK_TOKEN = "yT4kQ9zR2mW8vN1cX6bL3pJ0"
WEBHOOK_PATH = f"/services/T0A1B2C3D/B0E4F5G6H/{WEBHOOK_TOKEN}"


def shipped_message(to: str | list[str] = CUSTOMER, *, key: int = 812) -> EmailMessage:
    """The "your order shipped" email for shipment ``key``: text, HTML and the parcel's CSV."""
    return build_message(
        sender=SENDER, to=to, subject="Your order 1042 has shipped", reply_to="help@teebarn.example",
        text="Hi Jordan,\n\nParcel 1 of 2 is on its way: USPS 9400111899223855990014.\n",
        html="<p>Hi Jordan,</p><p>Parcel 1 of 2 is on its way: <b>USPS 9400111899223855990014</b>.</p>",
        message_id=stable_message_id("shipment", key, sender=SENDER),
        attachments=[Attachment("parcel.csv", CSV, "text/csv")], date=SENT_AT,
    )


def email_settings(smtp: SmtpServer, **changes: Any) -> EmailSettings:
    """Settings for the test server: plain text, no login, a short timeout; ``changes`` override."""
    return EmailSettings(**{"host": smtp.host, "port": smtp.port, "starttls": False, "sender": SENDER,
                            "timeout_seconds": 5.0, **changes})


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server
    assert server.errors == []


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The SMTP login in the environment, as cron would have it."""
    monkeypatch.setenv(USER_ENV, USERNAME)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return {"username_env": USER_ENV, "password_env": PASSWORD_ENV}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    text = f"{error} {error!r} {error.args!r}"
    for secret in secrets:
        assert secret not in text


class TestBuildMessage:
    def test_text_and_html_are_alternatives_followed_by_the_attachment(self) -> None:
        """The parts nest as mail clients expect: mixed(alternative(text, html), attachment)."""
        message = shipped_message()
        assert [part.get_content_type() for part in message.walk()] == [
            "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/csv"]
        [attachment] = message.iter_attachments()
        assert attachment.get_filename() == "parcel.csv"
        assert attachment.get_payload(decode=True) == CSV

    def test_plain_text_alone_is_a_single_part(self) -> None:
        """Without HTML or attachments the message is just text/plain."""
        message = build_message(sender=SENDER, to=CUSTOMER, subject="Hello", text="Hi\n", message_id="a@b")
        assert message.get_content_type() == "text/plain"
        assert message.get_content() == "Hi\n"

    def test_headers_are_as_given(self) -> None:
        """From, To, Reply-To, Subject, Date and the stable Message-ID are set."""
        message = shipped_message(["jordan.rivera@example.com", "Sam <sam@example.com>"])
        assert message["From"] == SENDER
        assert message["To"] == "jordan.rivera@example.com, Sam <sam@example.com>"
        assert message["Reply-To"] == "help@teebarn.example"
        assert message["Subject"] == "Your order 1042 has shipped"
        assert message["Date"] == "Mon, 16 Mar 2026 15:00:00 +0000"
        assert message["Message-ID"] == "<orderflow.shipment.812@teebarn.example>"

    def test_message_id_gets_its_angle_brackets(self) -> None:
        """A Message-ID given without brackets is written with them."""
        message = build_message(sender=SENDER, to=CUSTOMER, subject="s", text="t", message_id="report.x@shop")
        assert message["Message-ID"] == "<report.x@shop>"

    @pytest.mark.parametrize("message_id", ["no-at-sign", "two words@shop", "@shop", "x@"])
    def test_malformed_message_id_is_refused(self, message_id: str) -> None:
        """A Message-ID that is not left@right is a programming error, caught before sending."""
        with pytest.raises(ValueError, match="not a Message-ID"):
            build_message(sender=SENDER, to=CUSTOMER, subject="s", text="t", message_id=message_id)

    def test_subject_from_order_data_cannot_add_headers(self) -> None:
        """Line breaks in a subject are folded away, so no header can be smuggled in."""
        message = build_message(sender=SENDER, to=CUSTOMER, subject="Order 1042\r\nBcc: thief@example.com",
                                text="t", message_id="a@b")
        assert message["Subject"] == "Order 1042 Bcc: thief@example.com"
        assert message["Bcc"] is None


class TestStableMessageId:
    def test_same_parts_give_the_same_id_in_the_sender_domain(self) -> None:
        """The id depends only on the parts and the sender's domain, so a re-send is recognisable."""
        assert stable_message_id("shipment", 812, sender=SENDER) == "<orderflow.shipment.812@teebarn.example>"
        assert stable_message_id("shipment", 812, sender="ops@teebarn.example") == \
            stable_message_id("shipment", 812, sender=SENDER)

    def test_different_parts_never_collide(self) -> None:
        """Dots, spaces and other characters inside a part are encoded, so ("a.b",) differs from ("a", "b")."""
        ids = {stable_message_id("a.b", sender=SENDER), stable_message_id("a", "b", sender=SENDER),
               stable_message_id("a b", sender=SENDER), stable_message_id("a=2Eb", sender=SENDER)}
        assert len(ids) == 4
        assert stable_message_id("daily report", "2026-03-16", sender=SENDER) == \
            "<orderflow.daily=20report.2026-03-16@teebarn.example>"


class TestMailerDelivery:
    def test_text_html_and_attachment_arrive_intact(self, smtp: SmtpServer) -> None:
        """The server receives the headers, both bodies and the attachment's exact bytes."""
        message = build_message(
            sender=SENDER, to=CUSTOMER, subject="Daily report 2026-03-16", text="Summary: 3 open.\n",
            html="<h1>Summary</h1><p>3 open.</p>", message_id="<orderflow.report.2026-03-16@teebarn.example>",
            attachments=[Attachment("shipped.csv", CSV, "text/csv"), Attachment("logo.png", PNG, "image/png")],
            date=SENT_AT)
        with Mailer(email_settings(smtp)) as mailer:
            mailer.send(message)

        [mail] = smtp.received
        assert (mail.mail_from, mail.recipients, mail.login, mail.encrypted) == \
            ("ops@teebarn.example", (CUSTOMER,), None, False)
        got = mail.message
        assert got["Message-ID"] == "<orderflow.report.2026-03-16@teebarn.example>"
        assert (got["From"], got["To"], got["Subject"]) == (SENDER, CUSTOMER, "Daily report 2026-03-16")
        assert got["Date"] == "Mon, 16 Mar 2026 15:00:00 +0000"
        text, html = got.get_body(("plain",)), got.get_body(("html",))
        assert text is not None
        assert html is not None
        assert text.get_content() == "Summary: 3 open.\n"
        assert html.get_content() == "<h1>Summary</h1><p>3 open.</p>\n"
        attachments = {part.get_filename(): part.get_payload(decode=True) for part in got.iter_attachments()}
        assert attachments == {"shipped.csv": CSV, "logo.png": PNG}

    def test_bcc_receives_the_message_without_being_shown(self, smtp: SmtpServer) -> None:
        """Bcc recipients are on the envelope but not in the delivered headers."""
        message = shipped_message()
        message["Bcc"] = "archive@teebarn.example"
        with Mailer(email_settings(smtp)) as mailer:
            mailer.send(message)
        [mail] = smtp.received
        assert mail.recipients == (CUSTOMER, "archive@teebarn.example")
        assert mail.message["Bcc"] is None

    def test_one_connection_carries_every_message_of_one_use(self, smtp: SmtpServer) -> None:
        """Messages sent inside one ``with`` share a connection; the next use opens a new one."""
        with Mailer(email_settings(smtp)) as mailer:
            mailer.send(shipped_message(key=1))
            mailer.send(shipped_message(key=2))
        with Mailer(email_settings(smtp)) as mailer:
            mailer.send(shipped_message(key=3))
        first, second, third = smtp.received
        assert first.peer == second.peer
        assert third.peer != first.peer
        assert [mail.message["Message-ID"] for mail in smtp.received] == [
            "<orderflow.shipment.1@teebarn.example>", "<orderflow.shipment.2@teebarn.example>",
            "<orderflow.shipment.3@teebarn.example>"]

    def test_a_message_without_recipients_is_refused_before_connecting(self) -> None:
        """No To, Cc or Bcc is a caller's mistake, reported without touching the network."""
        message = shipped_message()
        del message["To"]
        with Mailer(EmailSettings(host="127.0.0.1", port=closed_port(), starttls=False)) as mailer, \
                pytest.raises(ValueError, match="no recipients"):
            mailer.send(message)


class TestMailerLogin:
    def test_logs_in_with_the_credentials_named_in_settings(self, smtp: SmtpServer,
                                                            credentials: dict[str, str]) -> None:
        """The username and password come from the environment variables the settings name."""
        smtp.require_auth(USERNAME, PASSWORD)
        with Mailer(email_settings(smtp, **credentials)) as mailer:
            mailer.send(shipped_message())
        assert [mail.login for mail in smtp.received] == [USERNAME]

    def test_wrong_password_is_rejected_and_never_shown(self, smtp: SmtpServer,
                                                        credentials: dict[str, str]) -> None:
        """A refused login is final, names the variables to check, and does not contain the password."""
        smtp.require_auth(USERNAME, "the-right-one")
        with Mailer(email_settings(smtp, **credentials)) as mailer, pytest.raises(RemoteRejected) as caught:
            mailer.send(shipped_message())
        assert str(caught.value) == (
            f"mail server 127.0.0.1:{smtp.port}: login refused (535 5.7.8 Authentication credentials invalid); "
            f"check the credentials in {USER_ENV} and {PASSWORD_ENV}")
        assert_no_secret(caught.value, PASSWORD)
        assert smtp.messages == []

    def test_server_that_demands_a_login_refuses_anonymous_mail(self, smtp: SmtpServer) -> None:
        """Without configured credentials the server's 530 comes back as a rejection."""
        smtp.require_auth(USERNAME, PASSWORD)
        with Mailer(email_settings(smtp)) as mailer, pytest.raises(RemoteRejected) as caught:
            mailer.send(shipped_message())
        assert str(caught.value) == (f"mail server 127.0.0.1:{smtp.port}: the server wants a login (530 5.7.0 "
                                     "Authentication required); set email.username_env and email.password_env")

    def test_half_configured_credentials_are_a_config_error(self) -> None:
        """A username without a password (or the reverse) is caught when the mailer is made."""
        with pytest.raises(ConfigError, match="username_env and password_env go together"):
            Mailer(EmailSettings(username_env=USER_ENV))


class TestMailerTls:
    def test_starttls_verified_with_the_test_ca(self, credentials: dict[str, str]) -> None:
        """STARTTLS upgrades the connection, the certificate verifies against ``tls_ca_file``, then AUTH."""
        with SmtpServer(tls="starttls") as smtp:
            smtp.require_auth(USERNAME, PASSWORD)
            with Mailer(email_settings(smtp, starttls=True, tls_ca_file=smtp.ca_file, **credentials)) as mailer:
                mailer.send(shipped_message())
            [mail] = smtp.received
        assert (mail.encrypted, mail.login) == (True, USERNAME)

    def test_implicit_ssl(self, credentials: dict[str, str]) -> None:
        """``ssl = true`` speaks TLS from the first byte."""
        with SmtpServer(tls="ssl") as smtp:
            smtp.require_auth(USERNAME, PASSWORD)
            settings = email_settings(smtp, ssl=True, starttls=True, tls_ca_file=smtp.ca_file, **credentials)
            with Mailer(settings) as mailer:
                mailer.send(shipped_message())
            [mail] = smtp.received
        assert (mail.encrypted, mail.login) == (True, USERNAME)

    def test_ca_file_relative_to_the_configuration(self, tmp_path: Path) -> None:
        """``Mailer.from_settings`` finds a relative ``tls_ca_file`` beside the configuration file."""
        with SmtpServer(tls="starttls") as smtp:
            assert smtp.ca_file is not None
            shutil.copy(smtp.ca_file, tmp_path / "relay-ca.pem")
            settings = Settings(base_dir=tmp_path, email=email_settings(
                smtp, starttls=True, tls_ca_file=Path("relay-ca.pem")))
            with Mailer.from_settings(settings) as mailer:
                mailer.send(shipped_message())
            assert [mail.encrypted for mail in smtp.received] == [True]

    def test_untrusted_certificate_is_rejected(self) -> None:
        """A certificate that does not verify against the system's CAs is refused, and nothing is sent."""
        with SmtpServer(tls="starttls") as smtp:
            with Mailer(email_settings(smtp, starttls=True)) as mailer, pytest.raises(RemoteRejected) as caught:
                mailer.send(shipped_message())
            assert smtp.messages == []
        assert str(caught.value) == (f"mail server 127.0.0.1:{smtp.port}: TLS certificate not trusted: "
                                     "unable to get local issuer certificate")

    def test_no_plain_text_fallback_when_starttls_is_missing(self, smtp: SmtpServer) -> None:
        """A server that does not offer STARTTLS is refused rather than spoken to in clear."""
        with Mailer(email_settings(smtp, starttls=True)) as mailer, \
                pytest.raises(RemoteRejected, match="STARTTLS extension not supported"):
            mailer.send(shipped_message())
        assert smtp.messages == []

    def test_unknown_mailer_configuration_is_a_config_error(self) -> None:
        """Without an [email] section there is no mailer."""
        with pytest.raises(ConfigError, match=r"add an \[email\] section"):
            Mailer.from_settings(Settings())


class TestMailerFailures:
    @pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
    def test_451_is_temporary_and_the_retry_is_delivered(self, smtp: SmtpServer, stage: Any) -> None:
        """A 451 at any stage is RemoteUnavailable; sending again through the same mailer succeeds once."""
        smtp.fail_next(1, 451, at=stage)
        with Mailer(email_settings(smtp)) as mailer:
            with pytest.raises(RemoteUnavailable) as caught:
                mailer.send(shipped_message())
            assert not isinstance(caught.value, RemoteRejected)
            assert "451 4.3.0 Try again later" in str(caught.value)
            mailer.send(shipped_message())
        assert [message["Message-ID"] for message in smtp.messages] == ["<orderflow.shipment.812@teebarn.example>"]

    @pytest.mark.parametrize("code", [421, 450])
    def test_other_4xx_replies_are_temporary(self, smtp: SmtpServer, code: int) -> None:
        """421 (closing) and 450 (mailbox busy) are worth trying again later."""
        smtp.fail_next(1, code, at="DATA")
        with Mailer(email_settings(smtp)) as mailer, pytest.raises(RemoteUnavailable, match=str(code)):
            mailer.send(shipped_message())

    def test_5xx_at_data_is_final(self, smtp: SmtpServer) -> None:
        """A 554 for the message is RemoteRejected."""
        smtp.fail_next(1, 554, at="DATA")
        with Mailer(email_settings(smtp)) as mailer, pytest.raises(RemoteRejected) as caught:
            mailer.send(shipped_message())
        assert str(caught.value) == f"mail server 127.0.0.1:{smtp.port}: 554 5.7.1 Requested action not taken"

    def test_refused_recipient_is_named_and_the_password_is_not(self, smtp: SmtpServer,
                                                               credentials: dict[str, str]) -> None:
        """A 550 for the only recipient is final, names the address, and leaks no credential."""
        smtp.require_auth(USERNAME, PASSWORD)
        smtp.refuse(["gone@example.com"])
        with Mailer(email_settings(smtp, **credentials)) as mailer, pytest.raises(RecipientsRefused) as caught:
            mailer.send(shipped_message("gone@example.com"))
        error = caught.value
        assert str(error) == (f"mail server 127.0.0.1:{smtp.port}: recipient(s) refused: gone@example.com "
                              "(550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown)")
        assert error.refused == {"gone@example.com": (550, "5.1.1 <gone@example.com>: Recipient address "
                                                           "rejected: User unknown")}
        assert error.accepted == ()
        assert_no_secret(error, PASSWORD)
        assert smtp.messages == []

    def test_partial_refusal_says_who_got_it_and_who_did_not(self, smtp: SmtpServer) -> None:
        """With one of two recipients refused, the message reaches the other and the error lists both."""
        smtp.refuse(["gone@example.com"])
        with Mailer(email_settings(smtp)) as mailer, pytest.raises(RecipientsRefused) as caught:
            mailer.send(shipped_message([CUSTOMER, "gone@example.com"]))
        assert caught.value.accepted == (CUSTOMER,)
        assert list(caught.value.refused) == ["gone@example.com"]
        assert str(caught.value).endswith(f"; delivered to {CUSTOMER}")
        assert [mail.recipients for mail in smtp.received] == [(CUSTOMER,)]

    def test_temporarily_refused_recipient_is_unavailable(self, smtp: SmtpServer) -> None:
        """A 450 for every recipient (greylisting) is worth trying again, and names the address."""
        smtp.fail_next(1, 450, at="RCPT")
        with Mailer(email_settings(smtp)) as mailer, pytest.raises(RemoteUnavailable) as caught:
            mailer.send(shipped_message())
        assert str(caught.value) == (f"mail server 127.0.0.1:{smtp.port}: recipient(s) deferred, try again "
                                     f"later: {CUSTOMER} (450 4.3.0 Try again later)")

    def test_closed_port_is_unavailable_at_once(self) -> None:
        """Nothing listening: RemoteUnavailable straight away, naming the server."""
        port = closed_port()
        started = time.monotonic()
        with Mailer(EmailSettings(host="127.0.0.1", port=port, starttls=False, timeout_seconds=0.5)) as mailer, \
                pytest.raises(RemoteUnavailable, match=f"mail server 127.0.0.1:{port}: cannot reach it"):
            mailer.send(shipped_message())
        assert time.monotonic() - started < 2.0

    def test_silent_server_times_out(self) -> None:
        """A server that accepts the connection but never greets is given up after the timeout."""
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            port = silent.getsockname()[1]
            started = time.monotonic()
            settings = EmailSettings(host="127.0.0.1", port=port, starttls=False, timeout_seconds=0.2)
            with Mailer(settings) as mailer, pytest.raises(RemoteUnavailable, match="timed out"):
                mailer.send(shipped_message())
        assert time.monotonic() - started < 2.0


class EchoingNotFound(LocalHttpServer):
    """A web server whose 404 page repeats the request path, as many frameworks' do."""

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        return 404, f"Cannot {method} {target}".encode(), {"Content-Type": "text/plain"}


@pytest.fixture
def webhook() -> Iterator[FakeWebhook]:
    with FakeWebhook(path=WEBHOOK_PATH) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0)) as http:
        yield http


class TestPostJson:
    def test_accepted_post_is_recorded(self, webhook: FakeWebhook, client: httpx.Client) -> None:
        """A 200 returns quietly and the fake holds exactly the JSON sent."""
        post_json(client, webhook.webhook_url, {"text": "TB1042-ACME rejected: unknown SKU TB-MTN-S"})
        assert webhook.posts == [{"text": "TB1042-ACME rejected: unknown SKU TB-MTN-S"}]

    def test_rate_limit_carries_retry_after(self, webhook: FakeWebhook, client: httpx.Client) -> None:
        """429 is RemoteUnavailable with the server's Retry-After, and the token is not in the message."""
        webhook.rate_limit_next(1, retry_after=30)
        with pytest.raises(RemoteUnavailable) as caught:
            post_json(client, webhook.webhook_url, {"text": "hello"})
        assert caught.value.retry_after == 30.0
        assert str(caught.value) == "webhook 127.0.0.1: rate limited (HTTP 429 rate_limited), retry after 30s"
        assert_no_secret(caught.value, WEBHOOK_TOKEN)
        post_json(client, webhook.webhook_url, {"text": "hello"})
        assert webhook.posts == [{"text": "hello"}]

    def test_server_error_is_temporary(self, webhook: FakeWebhook, client: httpx.Client) -> None:
        """500 is RemoteUnavailable without a retry time."""
        webhook.fail_next(1, status=500)
        with pytest.raises(RemoteUnavailable) as caught:
            post_json(client, webhook.webhook_url, {"text": "hello"})
        assert not isinstance(caught.value, RemoteRejected)
        assert caught.value.retry_after is None
        assert str(caught.value) == "webhook 127.0.0.1: HTTP 500 internal_error"
        assert webhook.posts == []

    def test_unknown_webhook_is_rejected_without_its_token(self, webhook: FakeWebhook,
                                                           client: httpx.Client) -> None:
        """404 (a revoked or mistyped webhook) is final and says only "webhook" and the host."""
        revoked = f"{webhook.url}/services/T0A1B2C3D/B0E4F5G6H/{WEBHOOK_TOKEN}x"
        with pytest.raises(RemoteRejected) as caught:
            post_json(client, revoked, {"text": "hello"})
        assert str(caught.value) == "webhook 127.0.0.1: refused (HTTP 404 no_service)"
        assert_no_secret(caught.value, WEBHOOK_TOKEN, "/services/")

    def test_refused_payload_is_final(self, webhook: FakeWebhook, client: httpx.Client) -> None:
        """400 for a payload without text is RemoteRejected with Slack's reason."""
        with pytest.raises(RemoteRejected, match=r"refused \(HTTP 400 invalid_payload\)"):
            post_json(client, webhook.webhook_url, {"blocks": []})

    def test_reply_that_repeats_the_path_is_scrubbed(self, client: httpx.Client) -> None:
        """A 404 page echoing the URL path does not carry the token into the error."""
        with EchoingNotFound() as server, pytest.raises(RemoteRejected) as caught:
            post_json(client, server.url + WEBHOOK_PATH, {"text": "hello"})
        assert str(caught.value) == "webhook 127.0.0.1: refused (HTTP 404 Cannot POST …)"
        assert_no_secret(caught.value, WEBHOOK_TOKEN)

    def test_timeout_is_temporary(self, webhook: FakeWebhook) -> None:
        """No answer within the client's timeout is RemoteUnavailable."""
        webhook.hang_next(1)
        with httpx.Client(timeout=httpx.Timeout(0.2)) as impatient, pytest.raises(RemoteUnavailable) as caught:
            post_json(impatient, webhook.webhook_url, {"text": "hello"})
        assert str(caught.value) == "webhook 127.0.0.1: timed out (ReadTimeout)"
        assert_no_secret(caught.value, WEBHOOK_TOKEN)

    def test_nothing_listening_is_temporary(self, client: httpx.Client) -> None:
        """A refused connection is RemoteUnavailable, and neither the message nor its cause holds the token."""
        with pytest.raises(RemoteUnavailable) as caught:
            post_json(client, f"http://127.0.0.1:{closed_port()}{WEBHOOK_PATH}", {"text": "hello"})
        assert str(caught.value).startswith("webhook 127.0.0.1: ")
        assert caught.value.__cause__ is None
        assert_no_secret(caught.value, WEBHOOK_TOKEN)

    def test_not_an_http_url_is_a_config_error(self, client: httpx.Client) -> None:
        """A value that is not an http(s) URL is a configuration mistake, reported without the value."""
        with pytest.raises(ConfigError) as caught:
            post_json(client, f"ftp://hooks.example.com{WEBHOOK_PATH}", {"text": "hello"})
        assert str(caught.value) == "webhook hooks.example.com: the webhook URL is not a usable http(s) URL"
