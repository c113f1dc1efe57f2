"""The fake carrier servers, read by each carrier's own request builders and parsers over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType

import httpx
import pytest

from orderflow.carriers import dhl, fedex, ups, usps
from orderflow.carriers.http import Request
from orderflow.carriers.status import PROBLEM_STATUSES, FetchOutcome, PackageStatus, TrackingResult
from orderflow.errors import RemoteRejected
from orderflow.testing.carriers import REPORTED_AS, CarrierName, FakeCarrier, Scan

CARRIERS: tuple[CarrierName, ...] = ("ups", "fedex", "usps", "dhl")
MODULES: dict[str, ModuleType] = {"ups": ups, "fedex": fedex, "usps": usps, "dhl": dhl}
NUMBERS = {"ups": "1Z023E2X0214323462", "fedex": "776094337676", "usps": "9400109104250532908587",
           "dhl": "00340434292135100179"}
LABEL = datetime(2026, 3, 16, 14, 0, tzinfo=UTC)
PICKUP = LABEL + timedelta(hours=5)
OUT = LABEL + timedelta(days=2, hours=-1)
ENDING = LABEL + timedelta(days=2, hours=4)
PROMISED = datetime(2026, 3, 18, 22, 0, tzinfo=UTC)
SECRET = "secret"  # FakeCarrier's default client secret
TOKEN_CARRIERS = ["ups", "fedex", "usps"]


class Clock:
    """The simulated time the fake reads; tests move it."""

    def __init__(self) -> None:
        self.moment = ENDING + timedelta(days=1)

    def now(self) -> datetime:
        return self.moment


class Tracker:
    """What orderflow's carrier client does, by hand: a token from the builder, then track calls, then parse."""

    def __init__(self, fake: FakeCarrier, http: httpx.Client, clock: Clock) -> None:
        self.fake, self.http, self.clock = fake, http, clock
        self.module = MODULES[fake.carrier]
        self.token = ""

    def send(self, request: Request) -> httpx.Response:
        return self.http.request(request.method, self.fake.url + request.path, params=request.params,
                                 headers=request.headers, json=request.json, data=request.form)

    def login(self, secret: str = SECRET) -> str:
        response = self.send(self.module.build_token_request("id", secret))
        token = self.module.parse_token_response(response.status_code, response.content, now=self.clock.now(),
                                                 headers=response.headers)
        self.token = token.access_token
        return self.token

    def request(self, numbers: Sequence[str]) -> Request:
        carrier = self.fake.carrier
        if carrier == "dhl":
            return dhl.build_track_request(numbers[0], api_key="key")
        if not self.token:
            self.login()
        if carrier == "ups":
            return ups.build_track_request(numbers[0], token=self.token, transaction_id=str(uuid.uuid4()))
        if carrier == "usps":
            return usps.build_track_request(numbers[0], token=self.token)
        return fedex.build_track_request(list(numbers), token=self.token, transaction_id=str(uuid.uuid4()))

    def track(self, *numbers: str, request: Request | None = None) -> list[TrackingResult]:
        response = self.send(request or self.request(numbers))
        results: list[TrackingResult] = self.module.parse_track_response(
            response.status_code, response.content, requested=list(numbers), headers=response.headers,
            now=self.clock.now())
        return results

    def one(self, number: str) -> TrackingResult:
        [result] = self.track(number)
        return result


def reported(carrier: str, family: PackageStatus) -> PackageStatus:
    return REPORTED_AS[carrier].get(family, family)


def journey(ending: Scan) -> list[Scan]:
    return [Scan(LABEL, PackageStatus.LABEL_CREATED, "Shipping label created", "Roswell, GA, US"),
            Scan(PICKUP, PackageStatus.IN_TRANSIT, "Arrived at facility", "Atlanta, GA, US"),
            Scan(OUT, PackageStatus.OUT_FOR_DELIVERY, "Out for delivery", "Wayne, NJ, US"),
            ending]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: building its TLS context costs a fifth of a second."""
    with httpx.Client(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.fixture(params=CARRIERS)
def fake(request: pytest.FixtureRequest, clock: Clock) -> Iterator[FakeCarrier]:
    with FakeCarrier(request.param, now=clock.now) as carrier:
        yield carrier


@pytest.fixture
def tracker(fake: FakeCarrier, http: httpx.Client, clock: Clock) -> Tracker:
    return Tracker(fake, http, clock)


class TestScriptedJourney:
    @pytest.mark.parametrize(("moment", "family"), [
        (LABEL, PackageStatus.LABEL_CREATED),
        (PICKUP + timedelta(minutes=1), PackageStatus.IN_TRANSIT),
        (OUT, PackageStatus.OUT_FOR_DELIVERY),
        (ENDING + timedelta(days=3), PackageStatus.DELIVERED),
    ])
    def test_status_follows_the_clock(self, fake: FakeCarrier, tracker: Tracker, clock: Clock,
                                      moment: datetime, family: PackageStatus) -> None:
        """At each moment the carrier's own parser reads the status of the newest scan that has happened."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered", "Wayne, NJ, US")),
                        estimated_delivery=PROMISED)
        clock.moment = moment
        result = tracker.one(number)
        assert (result.outcome, result.status) == (FetchOutcome.OK, reported(fake.carrier, family))
        assert result.events[0].at == max(scan.at for scan in journey(Scan(ENDING, family, "")) if scan.at <= moment)
        assert result.estimated_delivery == PROMISED

    def test_events_come_back_newest_first_with_times_and_places(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """Every scan is returned, newest first, at its exact time and place, and the delivery time is set."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered", "Wayne, NJ, US")))
        result = tracker.one(number)
        assert [(event.at, event.location) for event in result.events] == [
            (ENDING, "Wayne, NJ, US"), (OUT, "Wayne, NJ, US"), (PICKUP, "Atlanta, GA, US"), (LABEL, "Roswell, GA, US")]
        assert result.delivered_at == ENDING
        assert result.estimated_delivery is None

    @pytest.mark.parametrize(("family", "description", "reason"), [
        (PackageStatus.EXCEPTION, "Delivery exception", "refused"),
        (PackageStatus.RETURNED_TO_SENDER, "Returning package to shipper", None),
        (PackageStatus.DELIVERY_ATTEMPTED, "Delivery attempted", "recipient_unavailable"),
        (PackageStatus.AVAILABLE_FOR_PICKUP, "Ready for recipient pickup", None),
        (PackageStatus.DELAYED, "Delay", "weather"),
    ])
    def test_problem_endings(self, fake: FakeCarrier, tracker: Tracker, family: PackageStatus, description: str,
                             reason: str | None) -> None:
        """Each ending is read back as its family (or the carrier's coarser one), with the scripted reason."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, family, description, "Wayne, NJ, US", reason)))
        result = tracker.one(number)
        expected = reported(fake.carrier, family)
        assert result.status is expected
        assert result.exception_reason == (reason if expected in PROBLEM_STATUSES else None)

    def test_a_later_script_replaces_the_earlier_one(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """add_parcel again for the same number is what the tracking API shows from then on."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")))
        fake.add_parcel(number, [Scan(LABEL, PackageStatus.LABEL_CREATED, "Shipping label created")])
        assert tracker.one(number).status is PackageStatus.LABEL_CREATED

    def test_naive_scan_times_are_refused(self, fake: FakeCarrier) -> None:
        """A scan without a time zone is a scripting mistake, caught at once."""
        with pytest.raises(ValueError, match="timezone-aware"):
            fake.add_parcel("X", [Scan(datetime(2026, 3, 16, 14, 0), PackageStatus.IN_TRANSIT, "Arrived")])


NOT_FOUND_CODES = {"ups": "TW0001", "fedex": "TRACKING.TRACKINGNUMBER.NOTFOUND", "usps": "404", "dhl": "404"}
# USPS and DHL document no invalid-number answer. USPS's 400 names the tracking number, so it reads as "no
# record" (one bad number must not count against the feed's health); DHL's 400 reads as a carrier error.
INVALID = {"ups": (FetchOutcome.INVALID_NUMBER, "TV1002"),
           "fedex": (FetchOutcome.INVALID_NUMBER, "TRACKING.TRACKINGNUMBER.INVALID"),
           "usps": (FetchOutcome.NOT_FOUND, "400"), "dhl": (FetchOutcome.CARRIER_ERROR, "400")}


class TestNotFoundAndInvalid:
    def test_a_number_never_added_is_not_found(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """An unknown number gets the carrier's documented not-found answer."""
        result = tracker.one(NUMBERS[fake.carrier])
        assert (result.outcome, result.raw_status_code) == (FetchOutcome.NOT_FOUND, NOT_FOUND_CODES[fake.carrier])

    def test_a_parcel_whose_first_scan_is_still_ahead_is_not_found(self, fake: FakeCarrier, tracker: Tracker,
                                                                   clock: Clock) -> None:
        """Before its first scan a scripted parcel is as unknown to the carrier as any other number."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")))
        clock.moment = LABEL - timedelta(seconds=1)
        assert tracker.one(number).outcome is FetchOutcome.NOT_FOUND

    def test_an_invalid_number_gets_the_invalid_answer(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """invalid=True answers the carrier's invalid-number shape whatever the scans say."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")), invalid=True)
        result = tracker.one(number)
        assert (result.outcome, result.raw_status_code) == INVALID[fake.carrier]


class TestTokens:
    @pytest.mark.parametrize("carrier", TOKEN_CARRIERS)
    def test_token_lives_for_the_configured_lifetime(self, carrier: CarrierName, http: httpx.Client,
                                                     clock: Clock) -> None:
        """The builder's token request is accepted and the parsed token expires token_lifetime seconds on."""
        with FakeCarrier(carrier, now=clock.now, token_lifetime=1800) as fake:
            response = Tracker(fake, http, clock).send(MODULES[carrier].build_token_request("id", SECRET))
            token = MODULES[carrier].parse_token_response(response.status_code, response.content, now=clock.now())
        assert token.expires_at == clock.now() + timedelta(seconds=1800)
        assert fake.token_requests == 1

    @pytest.mark.parametrize("carrier", TOKEN_CARRIERS)
    def test_wrong_secret_is_refused(self, carrier: CarrierName, http: httpx.Client, clock: Clock) -> None:
        """Bad client credentials get a 401 that the token parser turns into a rejection."""
        with FakeCarrier(carrier, now=clock.now) as fake, pytest.raises(RemoteRejected, match="HTTP 401"):
            Tracker(fake, http, clock).login(secret="wrong")

    def test_expired_tokens_get_401_until_refreshed(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """After expire_tokens the next call is an auth error; one refresh makes calls work again."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")))
        assert tracker.one(number).status is PackageStatus.DELIVERED
        fake.expire_tokens()
        if fake.carrier == "dhl":  # DHL has no token: the API key keeps working
            assert tracker.one(number).outcome is FetchOutcome.OK
            return
        assert tracker.one(number).outcome is FetchOutcome.AUTH_ERROR
        tracker.login()
        assert tracker.one(number).outcome is FetchOutcome.OK
        assert fake.token_requests == 2

    @pytest.mark.parametrize("carrier", TOKEN_CARRIERS)
    def test_a_token_past_its_lifetime_is_refused(self, carrier: CarrierName, http: httpx.Client,
                                                  clock: Clock) -> None:
        """Token expiry follows the injected clock: good one second before, refused at the expiry."""
        with FakeCarrier(carrier, now=clock.now) as fake:
            tracker = Tracker(fake, http, clock)
            tracker.login()
            clock.moment += timedelta(seconds=3599)
            assert tracker.one(NUMBERS[carrier]).outcome is FetchOutcome.NOT_FOUND
            clock.moment += timedelta(seconds=1)
            assert tracker.one(NUMBERS[carrier]).outcome is FetchOutcome.AUTH_ERROR

    def test_an_unknown_token_or_key_is_refused(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """A credential the fake never issued gets 401 in the carrier's shape."""
        number = NUMBERS[fake.carrier]
        tracker.token = "forged"
        request = dhl.build_track_request(number, api_key="wrong") if fake.carrier == "dhl" else None
        [result] = tracker.track(number, request=request)
        assert (result.outcome, result.raw_status_code) == (
            FetchOutcome.AUTH_ERROR, {"ups": "250002", "fedex": "NOT.AUTHORIZED.ERROR", "usps": "401",
                                      "dhl": "401"}[fake.carrier])

    def test_ups_requires_its_transaction_headers(self, http: httpx.Client, clock: Clock) -> None:
        """UPS refuses a track call without transId/transactionSrc, as its API does."""
        with FakeCarrier("ups", now=clock.now) as fake:
            tracker = Tracker(fake, http, clock)
            request = ups.build_track_request(NUMBERS["ups"], token=tracker.login(), transaction_id="")
            [result] = tracker.track(NUMBERS["ups"], request=request)
        assert (result.outcome, result.message) == (FetchOutcome.CARRIER_ERROR,
                                                     "transId and transactionSrc headers are required.")


class TestFaults:
    def test_rate_limited_with_retry_after(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """rate_limit_next answers 429 with Retry-After, then the carrier answers normally."""
        number = NUMBERS[fake.carrier]
        fake.rate_limit_next(1, retry_after=7)
        limited = tracker.one(number)
        assert (limited.outcome, limited.retry_after) == (FetchOutcome.RATE_LIMITED, 7.0)
        assert tracker.one(number).outcome is FetchOutcome.NOT_FOUND

    def test_malformed_body_is_a_carrier_error(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """malformed_next sends a 200 cut off halfway, which the parser reports as not JSON."""
        number = NUMBERS[fake.carrier]
        fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")))
        fake.malformed_next(1)
        result = tracker.one(number)
        assert result.outcome is FetchOutcome.CARRIER_ERROR
        assert "the reply is not JSON" in result.message
        assert tracker.one(number).status is PackageStatus.DELIVERED

    def test_failures_are_served_in_order_then_the_carrier_recovers(self, fake: FakeCarrier,
                                                                    tracker: Tracker) -> None:
        """fail_next(2, 502) fails exactly two track calls with that status."""
        number = NUMBERS[fake.carrier]
        fake.fail_next(2, status=502)
        results = [tracker.one(number) for _ in range(3)]
        assert [(r.outcome, r.message) for r in results] == [(FetchOutcome.CARRIER_ERROR, "Bad Gateway")] * 2 + [
            (FetchOutcome.NOT_FOUND, results[2].message)]

    def test_outage_fails_every_call_until_lifted(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """During an outage track calls (and token requests) get 503; afterwards all is well."""
        number = NUMBERS[fake.carrier]
        if fake.carrier != "dhl":
            tracker.login()
        fake.outage(True)
        assert tracker.one(number).outcome is FetchOutcome.CARRIER_ERROR
        if fake.carrier != "dhl":
            response = tracker.send(tracker.module.build_token_request("id", SECRET))
            assert response.status_code == 503
        fake.outage(False)
        assert tracker.one(number).outcome is FetchOutcome.NOT_FOUND

    def test_counters_record_every_track_call(self, fake: FakeCarrier, tracker: Tracker) -> None:
        """track_requests and numbers_requested count failed calls too, in order."""
        fake.fail_next(1)
        for number in ("A1", "B2", "A1"):
            tracker.one(number)
        assert (fake.track_requests, fake.numbers_requested) == (3, ["A1", "B2", "A1"])
        assert fake.token_requests == (0 if fake.carrier == "dhl" else 1)

    def test_latency_holds_the_answer_without_breaking_it(self, http: httpx.Client, clock: Clock) -> None:
        """With a small latency the answer still arrives intact."""
        with FakeCarrier("dhl", now=clock.now, latency=0.01) as fake:
            assert Tracker(fake, http, clock).one(NUMBERS["dhl"]).outcome is FetchOutcome.NOT_FOUND


class TestFedexBatches:
    def test_sixty_one_numbers_take_three_requests(self, http: httpx.Client, clock: Clock) -> None:
        """fedex.batch splits 61 numbers 30/30/1 and every number gets its own answer."""
        numbers = [f"7760943376{index:02d}" for index in range(61)]
        with FakeCarrier("fedex", now=clock.now) as fake:
            for number in numbers[::2]:
                fake.add_parcel(number, journey(Scan(ENDING, PackageStatus.DELIVERED, "Delivered")))
            tracker = Tracker(fake, http, clock)
            results = [result for group in fedex.batch(numbers) for result in tracker.track(*group)]
        assert fake.track_requests == 3
        assert fake.numbers_requested == numbers
        assert [result.tracking_number for result in results] == numbers
        assert [result.outcome for result in results] == [
            FetchOutcome.OK if index % 2 == 0 else FetchOutcome.NOT_FOUND for index in range(61)]

    def test_more_than_thirty_numbers_are_refused(self, http: httpx.Client, clock: Clock) -> None:
        """A request over the FedEx limit gets a 400 request error for every number."""
        numbers = [f"7760943376{index:02d}" for index in range(31)]
        with FakeCarrier("fedex", now=clock.now) as fake:
            tracker = Tracker(fake, http, clock)
            request = fedex.build_track_request(numbers[:30], token=tracker.login(), transaction_id="t")
            assert request.json is not None
            oversized = Request(request.method, request.path, headers=request.headers,
                                json={**request.json, "trackingInfo": [
                                    {"trackingNumberInfo": {"trackingNumber": number}} for number in numbers]})
            results = tracker.track(*numbers, request=oversized)
        assert {(result.outcome, result.raw_status_code) for result in results} == {
            (FetchOutcome.CARRIER_ERROR, "BAD.REQUEST.ERROR")}
