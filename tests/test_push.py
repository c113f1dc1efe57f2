"""Pushes: critical and high at once, once; warnings in a daily digest; a resolved notice only for what was pushed.

Against a real SMTP server (aiosmtpd on loopback) and a local Slack-style webhook.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import OutboxMessage
from orderflow.rules.engine import evaluate, shop_calendar
from orderflow.rules.findings import Finding
from orderflow.rules.push import deliver, plan_pushes
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.webhook import FakeWebhook
from tests.support.shop_with_vendors import place_orders, push_block, vendor_block, write_settings
from tests.support.stand_in_rules import ALL, MON, World, late, rejected


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as server:
        yield server


@pytest.fixture
def shop(engine: Engine, tmp_path: Path, smtp: SmtpServer, webhook: FakeWebhook,
         monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TEST_SLACK_WEBHOOK", webhook.webhook_url)
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                              push_block(smtp.host, smtp.port, webhook_env="TEST_SLACK_WEBHOOK"))
    place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME"]})
    return settings


def cycle(engine: Engine, settings: Settings, world: World, when: object) -> None:
    """One rules run: evaluate and plan in one transaction, then deliver."""
    with session_factory(engine)() as session, session.begin():
        evaluate(session=session, settings=settings, now=when, rules=world.rules(*ALL))  # type: ignore[arg-type]
        plan_pushes(session=session, settings=settings, now=when, calendar=shop_calendar(settings))  # type: ignore[arg-type]
    deliver(engine=engine, settings=settings, now=when)  # type: ignore[arg-type]


class TestPush:
    def test_a_critical_is_pushed_once_by_email_and_webhook(self, engine: Engine, shop: Settings, smtp: SmtpServer,
                                                            webhook: FakeWebhook) -> None:
        """A rejection goes out at once on both channels, and never again while it stays the same."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        for minutes in (0, 10, 20):
            cycle(engine, shop, world, MON + timedelta(minutes=minutes))
        [mail] = smtp.messages
        assert mail["Subject"] == "[orderflow] critical: vendor rejected (1)"
        assert "TB9101-ACME" in mail.get_body().get_content()  # type: ignore[union-attr]
        [post] = webhook.posts
        assert post["text"].startswith("*[orderflow] critical: vendor rejected (1)*")

    def test_outside_text_reaches_the_webhook_as_text(self, engine: Engine, shop: Settings,
                                                       webhook: FakeWebhook) -> None:
        """A vendor reason with Slack's control characters is sent escaped: it pings nobody and links nowhere."""
        world = World()
        world.true["vendor_rejected"] = [Finding("vendor_rejected", rejected().subject, "critical",
                                                 "line 1: <!channel> see <https://evil.example|the portal> & call")]
        cycle(engine, shop, world, MON)
        [post] = webhook.posts
        assert "line 1: &lt;!channel&gt; see &lt;https://evil.example|the portal&gt; &amp; call" in post["text"]
        assert "<" not in post["text"]

    def test_warnings_wait_for_the_daily_digest(self, engine: Engine, shop: Settings, smtp: SmtpServer) -> None:
        """A warning is not pushed at once; it comes in the next business-day digest, once."""
        world = World()
        world.true["vendor_late"] = [late()]
        cycle(engine, shop, world, MON)  # Monday 10:00 New York: after 08:00, digest goes today
        digest = [m for m in smtp.messages if "digest" in m["Subject"]]
        assert len(digest) == 1
        assert "TB9101-ACME" in digest[0].get_body().get_content()  # type: ignore[union-attr]
        cycle(engine, shop, world, MON + timedelta(hours=2))
        assert len([m for m in smtp.messages if "digest" in m["Subject"]]) == 1

    def test_resolved_notice_only_for_what_was_pushed(self, engine: Engine, shop: Settings,
                                                      smtp: SmtpServer) -> None:
        """The rejection was pushed, so its resolution is told; nothing else is."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        cycle(engine, shop, world, MON)
        world.true = {}
        cycle(engine, shop, world, MON + timedelta(hours=1))
        subjects = [m["Subject"] for m in smtp.messages]
        assert subjects == ["[orderflow] critical: vendor rejected (1)", "[orderflow] resolved: vendor rejected (1)"]

    def test_a_rate_limited_webhook_is_sent_later_not_twice(self, engine: Engine, shop: Settings,
                                                            webhook: FakeWebhook) -> None:
        """429 with Retry-After: the message waits, then goes once."""
        webhook.rate_limit_next(1, retry_after=0)
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        cycle(engine, shop, world, MON)
        assert webhook.posts == []
        deliver(engine=engine, settings=shop, now=MON + timedelta(minutes=5))
        assert len(webhook.posts) == 1
        deliver(engine=engine, settings=shop, now=MON + timedelta(minutes=10))
        assert len(webhook.posts) == 1

    def test_a_message_for_a_channel_since_removed_waits_unsent(self, engine: Engine, shop: Settings,
                                                                 smtp: SmtpServer, webhook: FakeWebhook,
                                                                 tmp_path: Path) -> None:
        """Email pushes planned, then [push.email] removed: none is marked sent or posted elsewhere; back, it goes."""
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        with session_factory(engine)() as session, session.begin():
            evaluate(session=session, settings=shop, now=MON, rules=world.rules(*ALL))
            plan_pushes(session=session, settings=shop, now=MON, calendar=shop_calendar(shop))
        webhook_only = write_settings(tmp_path / "webhook-only", vendor_block("ACME", "csv", "local", path="acme"),
                                      push_block(smtp.host, smtp.port, webhook_env="TEST_SLACK_WEBHOOK")
                                      .replace('[push.email]\nto = ["oncall@teebarn.example"]\n', ""))
        assert webhook_only.push.email is None
        delivered = deliver(engine=engine, settings=webhook_only, now=MON)
        assert (delivered.sent, len(webhook.posts), smtp.messages) == (1, 1, [])
        deliver(engine=engine, settings=shop, now=MON + timedelta(minutes=10))
        assert [m["Subject"] for m in smtp.messages] == ["[orderflow] critical: vendor rejected (1)"]
        assert len(webhook.posts) == 1

    def test_a_push_that_cannot_be_written_is_refused_alone(self, engine: Engine, shop: Settings,
                                                           smtp: SmtpServer, webhook: FakeWebhook) -> None:
        """An outbox row whose snapshot has no lines is refused with why; the push planned after it still goes."""
        with session_factory(engine)() as session, session.begin():
            session.add(OutboxMessage(kind="push_email", dedupe_key="push_email:broken", payload={"title": "x"},
                                      state="pending", attempts=0, created_at=MON))
        world = World()
        world.true["vendor_rejected"] = [rejected()]
        with session_factory(engine)() as session, session.begin():
            evaluate(session=session, settings=shop, now=MON, rules=world.rules(*ALL))
            plan_pushes(session=session, settings=shop, now=MON, calendar=shop_calendar(shop))
        delivered = deliver(engine=engine, settings=shop, now=MON)
        assert (delivered.sent, delivered.refused) == (2, 1)
        assert delivered.problems == ["push push_email #1 refused: the push cannot be written: KeyError: 'lines'"]
        assert [m["Subject"] for m in smtp.messages] == ["[orderflow] critical: vendor rejected (1)"]
        assert len(webhook.posts) == 1
