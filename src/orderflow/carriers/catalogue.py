"""The carriers orderflow follows, one record each: everything the rest of the code knows about a carrier.

A record says how vendors name the carrier (``aliases``: names and SCAC codes), which courier codes of the
packaged tracking-number data are its numbers (``courier_codes``), its API's production host, numbers per call
and default quotas, and which module under ``orderflow.carriers`` speaks its API (``connector``). The
settings' carrier choices, ``track --carrier``, tracking-number detection, the demo and the docs all read these
records, so adding a carrier is one record here plus its connector module and tests.

The module imports nothing: the settings and the command line read it before anything heavy is loaded, and a
connector is imported only when a carrier is about to be asked.

    >>> [carrier.code for carrier in CARRIERS]
    ['ups', 'fedex', 'usps', 'dhl']
    >>> BY_CODE["fedex"].name
    'FedEx'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orderflow.parsing.text import in_words

if TYPE_CHECKING:
    from orderflow.carriers.connector import Connector


@dataclass(frozen=True, kw_only=True)
class Carrier:
    """One carrier orderflow can track with."""

    code: str
    """Our code for it: the ``[carriers.<code>]`` section, ``shipments.carrier``, ``track --carrier``."""
    name: str
    """How staff and customers read it."""
    aliases: tuple[str, ...]
    """How vendors name it (upper case, words apart): names and SCAC codes; a known name followed by a service
    ("UPS Ground") counts too."""
    courier_codes: tuple[str, ...]
    """The packaged tracking-number data's courier codes whose numbers are this carrier's."""
    connector: str
    """The module under ``orderflow.carriers`` whose ``CONNECTOR`` builds its requests and reads its answers."""
    base_url: str
    """Its API's documented production host; ``[carriers.<code>] base_url`` overrides it."""
    batch_size: int = 1
    """Tracking numbers per call."""
    per_hour: float | None = None
    """The documented hourly call quota, if it has one (a setting can change it)."""
    per_day: float | None = None
    """The documented daily call quota, if it has one (a setting can change it)."""
    s10_country: str | None = None
    """The country whose S10 numbers (the postal format every post office uses) it issues; such a carrier also
    tracks the domestic leg of S10 numbers from any other country."""
    sscc: bool = False
    """It labels parcels with a GS1 SSCC (``00`` and 18 digits), a form other carriers' check digits also pass:
    only the vendor's naming tells them apart."""

    def load_connector(self) -> Connector:
        """Its connector, imported now (the rest of the record is read without it)."""
        module = importlib.import_module(f"orderflow.carriers.{self.connector}")
        connector: Connector = module.CONNECTOR
        return connector


CARRIERS: tuple[Carrier, ...] = (
    Carrier(code="ups", name="UPS", aliases=("UPS", "UPSN", "UNITED PARCEL SERVICE"), courier_codes=("ups",),
            connector="ups", base_url="https://onlinetools.ups.com"),
    # FedEx with the SCACs of Express, Ground and Freight
    Carrier(code="fedex", name="FedEx",
            aliases=("FEDEX", "FEDERAL EXPRESS", "FDX", "FDE", "FDEN", "FDEG", "FXFE", "FXNL"),
            courier_codes=("fedex",), connector="fedex", base_url="https://apis.fedex.com", batch_size=30),
    # USPS (its SCAC is USPS too)
    Carrier(code="usps", name="USPS", aliases=("USPS", "US POSTAL SERVICE", "UNITED STATES POSTAL SERVICE", "US MAIL"),
            courier_codes=("usps",), connector="usps", base_url="https://apis.usps.com", per_hour=60.0,
            s10_country="US"),
    Carrier(code="dhl", name="DHL", aliases=("DHL", "DHLE"), courier_codes=("dhl",), connector="dhl",
            base_url="https://api-eu.dhl.com", per_day=250.0, sscc=True),
)
"""Every carrier, in the order detection prefers them when a number fits several."""

BY_CODE: dict[str, Carrier] = {carrier.code: carrier for carrier in CARRIERS}
CODES: tuple[str, ...] = tuple(BY_CODE)
NAMES_IN_WORDS = in_words(carrier.name for carrier in CARRIERS)
"""The carriers as help text names them: "UPS, FedEx, USPS and DHL"."""
