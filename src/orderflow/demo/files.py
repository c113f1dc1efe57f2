"""The files that make the demo's shop: its ``orderflow.toml``, its catalog, and the storefront's order exports.

The configuration is a real one, written with the addresses of the simulated servers on 127.0.0.1. Once the
demo is over those servers are gone, but everything that only reads the database (``notifications``,
``order``, ``orders``, ``vendors``, ``jobs``, ``report daily``) still works with it. It names no secrets: the
throw-away credentials of the fakes are handed to the demo's own run only (see :func:`run_settings`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from orderflow.config import CarrierSettings, Settings
from orderflow.demo.plans import OrderPlan, VendorProfile
from orderflow.demo.world import CATALOG, PO_PREFIX, SHOP_ZONE, VENDORS

MARKER = ".orderflow-demo"
"""The file that says a folder is a demo's, so a second run may replace it (and never anything else)."""
CONFIG_NAME = "orderflow.toml"
INBOX = "storefront/inbox"
SHOPIFY_COLUMNS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Accepts Marketing", "Currency",
    "Subtotal", "Shipping", "Taxes", "Total", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem fulfillment status", "Billing Name", "Shipping Name",
    "Shipping Address1", "Shipping Address2", "Shipping City", "Shipping Zip", "Shipping Province",
    "Shipping Country", "Shipping Phone", "Vendor", "Id",
)
SECRETS = {"printful": "ORDERFLOW_DEMO_PRINTFUL_TOKEN", "client_id": "ORDERFLOW_DEMO_CARRIER_CLIENT_ID",
           "client_secret": "ORDERFLOW_DEMO_CARRIER_CLIENT_SECRET", "api_key": "ORDERFLOW_DEMO_DHL_API_KEY"}
"""The environment variables the demo's run reads the fakes' throw-away credentials from."""


def vendor_folder(code: str) -> str:
    return f"vendors/{code.lower()}"


def config_toml(*, printful_urls: Mapping[str, str], carrier_urls: Mapping[str, str], smtp_port: int,
                customer_notices: bool = True) -> str:
    """The shop's whole configuration, with the simulated servers' addresses. Vendors are left on the
    defaults a new user gets (``acknowledges`` is learned); without ``customer_notices`` the storefront tells
    customers about their parcels and there is no ``[customers]`` section."""
    blocks = [
        "# The simulated business of `orderflow demo`. The vendors' APIs, the carriers and the mail server it\n"
        "# names listened on 127.0.0.1 only while the demo ran; commands that read the database still work.\n"
        f'po_prefix = "{PO_PREFIX}"\ntimezone = "{SHOP_ZONE.key}"\n'
        'order_url = "https://admin.threadbare.example/orders/{order_number}"\n\n'
        '[database]\nurl = "sqlite:///orderflow.db"\n\n'
        f'[sources.storefront]\nkind = "inbox"\nformat = "shopify_csv"\npath = "{INBOX}"\nsettle_seconds = 0\n',
    ]
    for vendor in VENDORS:
        blocks.append(_vendor_block(vendor, printful_urls))
    blocks.append(
        f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\nsender = "ops@threadbare.example"\n'
        'shop_name = "Threadbare"\n\n'
        '[report]\nrecipients = ["manager@threadbare.example"]\nout_dir = "reports"\n\n'
        '[push.email]\nto = ["oncall@threadbare.example"]\n')
    if customer_notices:
        blocks.append('[customers]\nnotify_when = "scanned"\nsender = "hello@threadbare.example"\n')
    for carrier, url in carrier_urls.items():
        blocks.append(f'[carriers.{carrier}]\nbase_url = "{url}"\n')
    return "\n".join(blocks)


def _vendor_block(vendor: VendorProfile, printful_urls: Mapping[str, str]) -> str:
    calendar = vendor.calendar
    lines = [f'[[vendors]]\ncode = "{vendor.code}"\nname = "{vendor.name}"\nkind = "{vendor.kind}"']
    if vendor.exchange == "printful":
        lines.append(f'format = "printful"\ntransport = "http"\nbase_url = "{printful_urls[vendor.code]}"\n'
                     "# Its webhooks are saved as files in path (news at once); a few lookups a run catch a lost one.\n"
                     f'path = "{vendor_folder(vendor.code)}"\nsettle_seconds = 0\npoll_limit = 2')
    else:
        lines.append(f'format = "{vendor.exchange}"\ntransport = "local"\npath = "{vendor_folder(vendor.code)}"\n'
                     "settle_seconds = 0")
    if vendor.code == "SOCK":
        lines.append('feedback_columns = {po_number = "Cust Ref", tracking_number = "Waybill"}')
    lines.append(f'[vendors.calendar]\ntimezone = "{calendar.timezone}"\ncutoff = "{calendar.cutoff:%H:%M}"\n'
                 f"handling_days = {calendar.handling_days}")
    if vendor.exchange == "x12":
        lines.append(f'[vendors.x12]\nsender_id = "THREADBARE"\nreceiver_id = "{vendor.x12_id}"')
    return "\n".join(lines) + "\n"


def run_settings(settings: Settings, *, uncredentialed: tuple[str, ...] = ()) -> Settings:
    """The configuration as the demo itself runs it: with the names of the variables holding the fakes'
    credentials, which the written file leaves out so that it loads anywhere afterwards; carriers in
    ``uncredentialed`` are left without, as a shop that has not asked that carrier for API keys yet."""
    vendors = tuple(vendor.model_copy(update={"token_env": SECRETS["printful"]}) if vendor.format == "printful"
                    else vendor for vendor in settings.vendors)
    carriers = {code: carrier if code in uncredentialed else _with_credentials(code, carrier)
                for code, carrier in settings.carriers.items()}
    return settings.model_copy(update={"vendors": vendors, "carriers": carriers})


def _with_credentials(code: str, carrier: CarrierSettings) -> CarrierSettings:
    if code == "dhl":
        return carrier.model_copy(update={"api_key_env": SECRETS["api_key"]})
    return carrier.model_copy(update={"client_id_env": SECRETS["client_id"],
                                      "client_secret_env": SECRETS["client_secret"]})


def catalog_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("sku", "vendor", "vendor_sku", "upc", "description", "on_demand", "vendor_variant_id"))
    on_demand = {vendor.code for vendor in VENDORS if vendor.kind == "on_demand"}
    printful = {vendor.code for vendor in VENDORS if vendor.exchange == "printful"}
    for product in CATALOG:
        writer.writerow((product.sku, product.vendor, product.vendor_sku, product.upc, product.description,
                         "yes" if product.vendor in on_demand else "no",
                         product.variant_id if product.vendor in printful else ""))
    return out.getvalue().encode("utf-8")


def shopify_export(orders: Sequence[OrderPlan]) -> bytes:
    """Orders as the storefront's export has them: one row per line, order columns on the first row only."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SHOPIFY_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()
    for order in orders:
        customer = order.customer
        placed = order.placed_at.astimezone(SHOP_ZONE).strftime("%Y-%m-%d %H:%M:%S %z")
        for index, line in enumerate(order.lines):
            row = {"Name": f"#{order.number}", "Lineitem quantity": line.qty,
                   "Lineitem name": line.product.description, "Lineitem price": f"{line.product.price:.2f}",
                   "Lineitem sku": line.product.sku, "Lineitem requires shipping": "true",
                   "Lineitem fulfillment status": "pending", "Vendor": line.product.vendor}
            if index == 0:
                row |= {"Email": customer.email, "Financial Status": "paid", "Paid at": placed,
                        "Fulfillment Status": "unfulfilled", "Accepts Marketing": "no", "Currency": "USD",
                        "Subtotal": f"{order.total:.2f}", "Shipping": "0.00", "Taxes": "0.00",
                        "Total": f"{order.total:.2f}", "Created at": placed, "Billing Name": customer.name,
                        "Shipping Name": customer.name, "Shipping Address1": customer.address1,
                        "Shipping City": customer.city, "Shipping Zip": f"'{customer.zip}",
                        "Shipping Province": customer.province, "Shipping Country": "US",
                        "Shipping Phone": customer.phone, "Id": str(6_401_100_000_000 + int(order.number))}
            writer.writerow(row)
    return out.getvalue().encode("utf-8")
