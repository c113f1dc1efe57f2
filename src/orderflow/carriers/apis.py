"""The carriers' APIs behind one shape: each carrier's record joined with its connector.

Base URLs default to each carrier's documented production host; quotas default to the documented ones (USPS
about 60 calls an hour, DHL 250 a day) and are settings. Both live in the carrier's record
(:mod:`orderflow.carriers.catalogue`); the pure request builders and readers in its connector module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orderflow.carriers.catalogue import CARRIERS, Carrier
from orderflow.carriers.connector import Connector, Credentials, TrackRequest
from orderflow.carriers.http import Request, Token
from orderflow.carriers.status import TrackingResult
from orderflow.config import CarrierSettings, secret

__all__ = ["API", "CarrierApi", "Credentials", "credentials"]


@dataclass(frozen=True, kw_only=True)
class CarrierApi:
    """One carrier's record and its connector, as the poller and ``check`` use them."""

    carrier: Carrier
    connector: Connector

    @property
    def code(self) -> str:
        return self.carrier.code

    @property
    def name(self) -> str:
        return self.carrier.name

    @property
    def default_base_url(self) -> str:
        return self.carrier.base_url

    @property
    def batch_size(self) -> int:
        return self.carrier.batch_size

    @property
    def default_per_hour(self) -> float | None:
        return self.carrier.per_hour

    @property
    def default_per_day(self) -> float | None:
        return self.carrier.per_day

    @property
    def token_request(self) -> Callable[[Credentials], Request] | None:
        return self.connector.token_request

    @property
    def parse_token(self) -> Callable[..., Token] | None:
        return self.connector.parse_token

    @property
    def track_request(self) -> TrackRequest:
        return self.connector.track_request

    def read_track(self, status_code: int, body: bytes, *, requested: Sequence[str], headers: Mapping[str, str],
                   now: datetime) -> list[TrackingResult]:
        return self.connector.read_track(status_code, body, requested=requested, headers=headers, now=now)


API: dict[str, CarrierApi] = {carrier.code: CarrierApi(carrier=carrier, connector=carrier.load_connector())
                              for carrier in CARRIERS}


def credentials(code: str, settings: CarrierSettings) -> Credentials:
    """Carrier ``code``'s secrets, read from the environment variables its settings name."""
    def read(key: str) -> str:
        variable = getattr(settings, key)
        return secret(variable, setting=f"carriers.{code}.{key}") if variable else ""

    return Credentials(client_id=read("client_id_env"), client_secret=read("client_secret_env"),
                       api_key=read("api_key_env"))
