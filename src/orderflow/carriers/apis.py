"""The four carrier APIs behind one shape: how to get a token, how to ask about numbers, how to read answers.

Everything here is pure (it builds :class:`~orderflow.carriers.http.Request` descriptions and reads bodies); the
poller does the IO. Base URLs default to each carrier's documented production host; quotas default to the
documented ones (USPS about 60 calls an hour, DHL 250 a day) and are settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orderflow.carriers import dhl, fedex, ups, usps
from orderflow.carriers.http import Request, Token
from orderflow.carriers.status import TrackingResult
from orderflow.config import CarrierSettings, secret


@dataclass(frozen=True)
class Credentials:
    client_id: str = ""
    client_secret: str = ""
    api_key: str = ""


@dataclass(frozen=True)
class CarrierApi:
    code: str
    name: str
    default_base_url: str
    batch_size: int
    default_per_hour: float | None
    default_per_day: float | None
    token_request: Callable[[Credentials], Request] | None
    parse_token: Callable[..., Token] | None
    track_request: Callable[[Sequence[str], Credentials, str, str], Request]
    parse_track: Callable[..., list[TrackingResult]]

    def read_track(self, status_code: int, body: bytes, *, requested: Sequence[str], headers: Mapping[str, str],
                   now: datetime) -> list[TrackingResult]:
        return self.parse_track(status_code, body, requested=list(requested), headers=headers, now=now)


API = {
    "ups": CarrierApi(
        "ups", "UPS", "https://onlinetools.ups.com", 1, None, None,
        lambda c: ups.build_token_request(c.client_id, c.client_secret), ups.parse_token_response,
        lambda numbers, _c, token, tx: ups.build_track_request(numbers[0], token=token, transaction_id=tx),
        ups.parse_track_response),
    "fedex": CarrierApi(
        "fedex", "FedEx", "https://apis.fedex.com", 30, None, None,
        lambda c: fedex.build_token_request(c.client_id, c.client_secret), fedex.parse_token_response,
        lambda numbers, _c, token, tx: fedex.build_track_request(numbers, token=token, transaction_id=tx),
        fedex.parse_track_response),
    "usps": CarrierApi(
        "usps", "USPS", "https://apis.usps.com", 1, 60.0, None,
        lambda c: usps.build_token_request(c.client_id, c.client_secret), usps.parse_token_response,
        lambda numbers, _c, token, _tx: usps.build_track_request(numbers[0], token=token),
        usps.parse_track_response),
    "dhl": CarrierApi(
        "dhl", "DHL", "https://api-eu.dhl.com", 1, None, 250.0, None, None,
        lambda numbers, c, _token, _tx: dhl.build_track_request(numbers[0], api_key=c.api_key),
        dhl.parse_track_response),
}


def credentials(code: str, settings: CarrierSettings) -> Credentials:
    """Carrier ``code``'s secrets, read from the environment variables its settings name."""
    def read(key: str) -> str:
        variable = getattr(settings, key)
        return secret(variable, setting=f"carriers.{code}.{key}") if variable else ""

    return Credentials(client_id=read("client_id_env"), client_secret=read("client_secret_env"),
                       api_key=read("api_key_env"))
