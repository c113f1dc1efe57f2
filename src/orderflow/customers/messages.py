"""The words of a shipment notice: an email from Jinja2 templates a shop can replace, or the storefront's JSON.

Templates (ours are in ``orderflow/customers/templates``; a shop puts its own in the folder named by
``[customers] templates``, file by file: a file it does not have falls back to ours):

- ``shipment_subject.txt``: the subject (folded onto one line);
- ``shipment.txt``: the plain-text body;
- ``shipment.html``: the HTML alternative (values are HTML-escaped).

Each gets ``shop_name``, ``order_number``, ``customer_name``, ``items`` (each with ``sku``, ``name``, ``qty``),
``carrier``, ``tracking_number``, ``tracking_url`` (or none), ``estimated_delivery`` (a date, or none),
``parcels_shipped``, ``parcels_expected``, ``complete`` (nothing left to ship), ``to_come`` (the items still to
ship, like ``items``) and ``reply_to``. A name a template uses that is not among these is an error (a typo
never silently prints nothing).
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orderflow.config import Settings
from orderflow.errors import ConfigError

if TYPE_CHECKING:
    import jinja2

TEMPLATE_NAMES = ("shipment_subject.txt", "shipment.txt", "shipment.html")


class Templates:
    """The shop's templates over ours, loaded once per run: ``Templates(folder).render(context)``.

    ``package`` holds ours (in its ``templates`` folder), ``names`` are the files, and ``what`` names them in an
    error (``customer template shipment.txt:3: ...``)."""

    def __init__(self, folder: Path | None, *, package: str = "orderflow.customers",
                 names: tuple[str, ...] = TEMPLATE_NAMES, what: str = "customer template",
                 setting: str = "customers.templates") -> None:
        import jinja2

        if folder is not None and not folder.is_dir():
            raise ConfigError(f"{setting}: {folder} is not a folder")
        self._what = what
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder)] if folder is not None else []
        self._environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader([*loaders, jinja2.PackageLoader(package, "templates")]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self._templates = {name: self._load(name) for name in names}

    def render_each(self, context: dict[str, Any]) -> list[str]:
        """Every template, in the order of ``names``, with ``context``."""
        import jinja2

        rendered = []
        for name, template in self._templates.items():
            try:
                rendered.append(template.render(context))
            except jinja2.TemplateError as exc:
                raise ConfigError(f"{self._what} {template.filename or name}: {exc}") from None
        return rendered

    def render(self, context: dict[str, Any]) -> tuple[str, str, str]:
        """Subject, text and HTML for one notice."""
        subject, text, html = self.render_each(context)
        return " ".join(subject.split()), text, html

    def _load(self, name: str) -> jinja2.Template:
        import jinja2

        try:
            return self._environment.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{self._what} {exc.filename or name}:{exc.lineno}: {exc.message}") from None


def shipment_email(payload: dict[str, Any], settings: Settings, templates: Templates, now: datetime) -> EmailMessage:
    """The email for one notice, with a ``Message-ID`` that is the same however often it is built."""
    from orderflow.mail import build_message, stable_message_id

    email, customers = settings.email, settings.customers
    if email is None or customers is None:
        raise ConfigError("customer emails need the [email] and [customers] sections")
    sender = customers.sender or email.sender
    reply_to = customers.reply_to or email.reply_to
    context = {
        **{key: payload[key] for key in ("order_number", "customer_name", "items", "carrier", "tracking_number",
                                         "tracking_url", "parcels_shipped", "parcels_expected", "to_come")},
        "shop_name": email.shop_name, "reply_to": reply_to, "complete": not payload["to_come"],
        "estimated_delivery": date.fromisoformat(payload["estimated_delivery"])
        if payload["estimated_delivery"] else None,
    }
    subject, text, html = templates.render(context)
    return build_message(sender=sender, to=formataddr((payload["customer_name"], payload["to"])), subject=subject,
                         text=text, html=html, reply_to=reply_to, date=now,
                         message_id=stable_message_id("shipment", payload["shipment_id"], sender=sender))


def storefront_document(payload: dict[str, Any]) -> dict[str, Any]:
    """The fulfilment the storefront gets: which order, which items, and how to follow the parcel."""
    return {
        "order_number": payload["order_number"],
        "shipment_id": payload["shipment_id"],
        "items": [{"sku": item["sku"], "name": item["name"], "qty": item["qty"]} for item in payload["items"]],
        "carrier": payload["carrier"],
        "carrier_code": payload["carrier_code"],
        "tracking_number": payload["tracking_number"],
        "tracking_url": payload["tracking_url"],
        "shipped_at": payload["shipped_at"],
    }
