"""The carriers' APIs behind one shape: each carrier's record joined with its connector.

Base URLs default to each carrier's documented production host; quotas default to the documented ones (USPS
about 60 calls an hour, DHL 250 a day) and are settings. Both live in the carrier's record
(:mod:`orderflow.carriers.catalogue`); the pure request builders and readers in its connector module.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderflow.carriers.catalogue import CARRIERS, Carrier
from orderflow.carriers.connector import Connector, Credentials
from orderflow.config import CarrierSettings, Settings, secret

__all__ = ["API", "CarrierApi", "Credentials", "credentials"]


@dataclass(frozen=True, kw_only=True)
class CarrierApi(Connector):
    """One carrier's connector with its record (base URL, numbers per call, quotas), as the poller and ``check``
    use them."""

    carrier: Carrier

    @property
    def code(self) -> str:
        return self.carrier.code

    @property
    def name(self) -> str:
        return self.carrier.name


def _api(carrier: Carrier) -> CarrierApi:
    connector = carrier.load_connector()
    return CarrierApi(carrier=carrier, track_request=connector.track_request, parse_track=connector.parse_track,
                      token_request=connector.token_request, parse_token=connector.parse_token)


API: dict[str, CarrierApi] = {carrier.code: _api(carrier) for carrier in CARRIERS}


def credentials(code: str, settings: CarrierSettings) -> Credentials:
    """Carrier ``code``'s secrets, read from the environment variables its settings name."""
    def read(key: str) -> str:
        variable = getattr(settings, key)
        return secret(variable, setting=f"carriers.{code}.{key}") if variable else ""

    return Credentials(client_id=read("client_id_env"), client_secret=read("client_secret_env"),
                       api_key=read("api_key_env"))


def carriers_we_cannot_ask(settings: Settings) -> dict[str, str]:
    """Carrier code -> why orderflow cannot ask it, for every carrier it knows that is not usable here."""
    unusable = {}
    for code, api in API.items():
        configured = settings.carriers.get(code)
        if configured is None:
            unusable[code] = f"no [carriers.{code}] section"
        elif not configured.enabled:
            unusable[code] = f"[carriers.{code}] is switched off (enabled = false)"
        elif not (configured.client_id_env and configured.client_secret_env if api.token_request
                  else configured.api_key_env):
            keys = "client_id_env and client_secret_env" if api.token_request else "api_key_env"
            unusable[code] = f"[carriers.{code}] has no credentials ({keys})"
    return unusable
