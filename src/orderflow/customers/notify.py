"""``orderflow customers notify``: one notice per parcel (an email, or a POST to the storefront), never two.

Two steps, like every outbox in orderflow (:mod:`orderflow.outbox`):

1. **Decide**, in one transaction: each parcel the policy says is ready (:mod:`orderflow.customers.selection`)
   gets an outbox row keyed by its shipment id, holding what the notice will say. The row *is* the decision:
   a parcel with one is never decided again, whatever the channel, and two runs at once write the key once.
2. **Deliver**: rows are claimed under a lease; each is marked ``sending`` (committed) just before it is handed
   to the mail server or the storefront, then ``sent`` in one transaction with ``shipments.customer_notified_at``.

What can go wrong, and what happens:

- the mail server or the storefront is unavailable or refuses us (down, login, 4xx/5xx, 429): the notice waits
  for the next run, the error kept in ``outbox.last_error``; after three such failures in a row a run stops
  trying that channel, and the rest wait untouched;
- the customer has no usable address, or the mail server refuses it: the notice is ``failed`` with the reason,
  one problem line; it is tried again only once the order has another address (a later import);
- the run dies between handing a notice over and recording it (``kill -9``, a power cut): the row stays
  ``sending`` until its lease ends, then becomes ``unknown`` with a problem line. It may have arrived, so it is
  never sent again: a person decides.

Until a notice is sent ``shipments.customer_notified_at`` stays empty, so the ``customer_not_notified`` rule
tells staff. A notice handed over at the very moment the connection broke may arrive and be sent again on the
next run: it carries the same ``Message-ID`` (``Idempotency-Key`` for the storefront) both times, so the
receiving end can tell it is the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from orderflow import outbox
from orderflow.clock import Clock
from orderflow.config import Settings, secret
from orderflow.customers.selection import NoticeWriter, due_parcels, notice_key, usable_address
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, OutboxMessage, Shipment, VendorOrder
from orderflow.errors import ConfigError, ExitCode, RemoteError
from orderflow.jobs import WorkResult

if TYPE_CHECKING:
    import httpx

    from orderflow.customers.messages import Templates
    from orderflow.mail import Mailer

EMAIL, STOREFRONT = "customer_email", "customer_storefront"
KINDS = (EMAIL, STOREFRONT)
FAILURES_BEFORE_PAUSE = 3
UNKNOWN = "the run sending this notice died before recording it; it may have arrived, so it is not sent again"


def notify_customers(*, engine: Engine, settings: Settings, clock: Clock,
                     mailer: Callable[[], Mailer] | None = None,
                     http: Callable[[], httpx.Client] | None = None) -> WorkResult:
    """Decide which parcels to announce now, then send every notice that is due (earlier failures included).

    Without a ``[customers]`` section nothing is done. ``mailer`` and ``http`` make the SMTP connection and the
    storefront's HTTP client (default: from the settings).
    """
    customers = settings.customers
    if customers is None:
        return WorkResult()
    if customers.channel == "email" and settings.email is None:
        raise ConfigError("customers.channel is 'email' but there is no [email] section to send with")
    now = clock.now()
    with session_factory(engine)() as session, session.begin():
        planned, refused = plan_notices(session=session, settings=settings, now=now)
    delivery = deliver_notices(engine=engine, settings=settings, now=now, mailer=mailer, http=http)
    failed = len(refused) + delivery.failed
    if delivery.waiting and not delivery.sent:
        code = ExitCode.REMOTE_UNAVAILABLE
    elif delivery.waiting or delivery.unknown:
        code = ExitCode.PARTIAL_FAILURE
    else:
        code = ExitCode.INPUT_REFUSED if failed else ExitCode.OK
    counts = {"planned": planned, "sent": delivery.sent, "waiting": delivery.waiting, "failed": failed,
              "unknown": delivery.unknown}
    return WorkResult(counts=counts, problems=refused + delivery.problems, exit_code=code)


def plan_notices(*, session: Session, settings: Settings, now: datetime) -> tuple[int, list[str]]:
    """Write an outbox row for every parcel due a notice; how many, and a problem line per customer we cannot reach.

    The caller owns the transaction: the rows are the decision, and commit with it.
    """
    customers = settings.customers
    if customers is None:
        return 0, []
    kind = EMAIL if customers.channel == "email" else STOREFRONT
    writer = NoticeWriter(session, dict(customers.tracking_urls), ZoneInfo(settings.timezone))
    planned, problems = 0, []
    for shipment, order in due_parcels(session, customers, now):
        payload = writer.payload(shipment, order)
        error = None
        if kind == EMAIL and not payload["to"]:
            error = f"no usable customer email address on the order ({order.customer_email or 'none given'!r})"
        row = {"kind": kind, "dedupe_key": notice_key(shipment.id), "payload": payload, "attempts": 0,
               "state": "failed" if error else "pending", "last_error": error, "created_at": now}
        if outbox.add_once(session, row):
            planned += 1
            if error:
                problems.append(f"{_parcel(payload)}: {error}")
    _readdress(session, now - timedelta(days=customers.max_age_days))
    return planned, problems


def _readdress(session: Session, since: datetime) -> None:
    """A notice that failed for its address goes out once the order has another usable one."""
    rows = {row.payload["shipment_id"]: row for row in session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == EMAIL, OutboxMessage.state == "failed",
                                    OutboxMessage.created_at >= since))}
    if not rows:
        return
    current = session.execute(
        select(Shipment.id, Order.customer_email, Order.customer_name)
        .join(VendorOrder, Shipment.vendor_order_id == VendorOrder.id).join(Order, VendorOrder.order_id == Order.id)
        .where(Shipment.id.in_(list(rows)), Shipment.customer_notified_at.is_(None)))
    for shipment_id, address_text, name in current:
        row, address = rows[shipment_id], usable_address(address_text)
        if address and address != row.payload["to"]:
            row.payload = {**row.payload, "to": address, "customer_name": name}
            row.state, row.last_error, row.claimed_until = "pending", None, None


def _judged(row: OutboxMessage, error: RemoteError) -> outbox.Verdict:
    """A refused address fails the notice; any other failure of the channel leaves it for the next run (after the
    wait the remote asked for, if it named one)."""
    from orderflow.mail import RecipientsRefused

    if isinstance(error, RecipientsRefused):
        return outbox.Verdict("failed")
    return outbox.Verdict("pending", timedelta(seconds=error.retry_after) if error.retry_after else None)


def _mark_notified(session: Session, row: OutboxMessage, now: datetime) -> None:
    shipment = session.get(Shipment, row.payload["shipment_id"])
    if shipment is not None and shipment.customer_notified_at is None:
        shipment.customer_notified_at = now


NOTICES = outbox.Traffic(kinds=KINDS, what="notice", where=lambda row: _parcel(row.payload), judge=_judged,
                         dead=UNKNOWN, crash_point="customers.after_send", on_sent=_mark_notified,
                         pause_after=FAILURES_BEFORE_PAUSE, until_deadline=True)


def deliver_notices(*, engine: Engine, settings: Settings, now: datetime,
                    mailer: Callable[[], Mailer] | None = None,
                    http: Callable[[], httpx.Client] | None = None) -> outbox.Delivery:
    """Send the notices that are due; each is claimed first and marked before it goes, so none goes twice."""
    channels = _Channels(settings, now, mailer, http)
    try:
        return outbox.deliver(engine, NOTICES, now=now, ready=channels.kinds, prepare=channels.prepare)
    finally:
        channels.close()


def _parcel(payload: dict[str, Any]) -> str:
    return f"order {payload['order_number']} parcel {payload['tracking_number']}"


class _Channels:
    """The mail server and the storefront, each connected at its first use and closed at the end of the run."""

    def __init__(self, settings: Settings, now: datetime, mailer: Callable[[], Mailer] | None,
                 http: Callable[[], httpx.Client] | None) -> None:
        self._settings, self._now = settings, now
        self._make_mailer, self._make_http = mailer, http
        self._storefront_settings = settings.customers.storefront if settings.customers else None
        self._templates: Templates | None = None
        self._mailer: Mailer | None = None
        self._client: httpx.Client | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of notice this configuration can deliver (a channel given up on leaves its notices waiting)."""
        return (*([EMAIL] if self._settings.email else []), *([STOREFRONT] if self._storefront_settings else []))

    def prepare(self, row: OutboxMessage) -> Callable[[], None]:
        """What sends this notice; the message is built now, so a template error stops the run before sending."""
        if row.kind == EMAIL:
            from orderflow.customers.messages import Templates, shipment_email

            if self._templates is None:
                folder = self._settings.customers.templates if self._settings.customers else None
                self._templates = Templates(self._settings.path(folder) if folder is not None else None)
            message = shipment_email(row.payload, self._settings, self._templates, self._now)
            return lambda: self._smtp().send(message)
        from orderflow.customers.messages import storefront_document
        from orderflow.webhooks import post_json

        document = storefront_document(row.payload)
        key = f"orderflow-shipment-{row.payload['shipment_id']}"

        def post() -> None:
            client, url = self._storefront()
            client.headers["Idempotency-Key"] = key
            post_json(client, url, document)
        return post

    def _smtp(self) -> Mailer:
        if self._mailer is None:
            from orderflow.mail import Mailer

            self._mailer = (self._make_mailer or (lambda: Mailer.from_settings(self._settings)))()
        return self._mailer

    def _storefront(self) -> tuple[httpx.Client, str]:
        storefront = self._storefront_settings
        assert storefront is not None, "only the kinds this configuration delivers are claimed"
        if self._client is None:
            import httpx

            self._client = (self._make_http or (lambda: httpx.Client(timeout=storefront.timeout_seconds)))()
            self._client.headers["Accept"] = "application/json"
            if storefront.token_env:
                token = secret(storefront.token_env, setting="customers.storefront.token_env").strip()
                if storefront.auth_header.lower() == "authorization" and " " not in token:
                    token = f"Bearer {token}"
                self._client.headers[storefront.auth_header] = token
        return self._client, storefront.url

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.close()
        if self._client is not None:
            self._client.close()
