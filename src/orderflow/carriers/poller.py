"""``orderflow track``: check the parcels that are due, within each carrier's limits, and plan the next check.

Three phases, so no database work happens while waiting on carriers:

1. Plan (one short transaction): due shipments, most valuable first (never checked; at or near the estimated
   delivery; in exception or out for delivery; label created for over a day; then the longest waiting), and
   each carrier's rate budget taken for the calls that plan needs.
2. Poll (asyncio, ``httpx.AsyncClient``): per carrier at most ``concurrency`` calls at once, FedEx 30 numbers
   a call; the cached OAuth token is used and refreshed once when a 401 comes back; 5xx, timeouts and 429
   (``Retry-After``) are retried with backoff. A shipment with no carrier tries the carriers its number could
   belong to, best first.
3. Store: events, statuses and next checks, while the polling goes on: the answers that have come back are
   stored together, one transaction per batch, in a thread of its own, so the run ends soon after the last
   answer. Then new tokens kept; unused budget given back; per-carrier outcome counts stored for
   ``tracking_feed_unhealthy``; a carrier whose every call failed trips its breaker.

Killed at any point, a run loses nothing: a batch is stored whole or not at all, and a parcel whose answer was
not stored is still due, asked again next run (its events are stored once whatever comes back twice).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, case, select

from orderflow.breaker import pause_notice, record_failure, record_success
from orderflow.carriers.apis import API, CarrierApi, Credentials, credentials
from orderflow.carriers.budgets import Quota, cached_token, give_back, keep_token, take
from orderflow.carriers.http import Request, Token, failed
from orderflow.carriers.numbers import detect
from orderflow.carriers.status import FetchOutcome, TrackingResult
from orderflow.carriers.tracking import (
    CARRIER_FAILURES,
    apply_result,
    known_events,
    load_parcels,
    save_parcels,
    store_events,
)
from orderflow.clock import Clock
from orderflow.config import CarrierSettings, Settings
from orderflow.db.bulk import chunked
from orderflow.db.engine import session_factory
from orderflow.db.models import CarrierPollRun, Shipment
from orderflow.errors import ConfigError, ExitCode, RemoteError, RemoteUnavailable
from orderflow.jobs import WorkResult, time_is_up
from orderflow.orders.lifecycle import roll_up
from orderflow.retries import should_retry

if TYPE_CHECKING:
    import ssl

    import httpx


@dataclass(frozen=True)
class Due:
    shipment_id: int
    number: str
    carriers: tuple[str, ...]
    """The shipment's carrier, or the carriers its number could belong to, best first."""


@dataclass(frozen=True)
class Answer:
    shipment_id: int
    carrier: str
    result: TrackingResult


@dataclass
class TrackIO:
    """How the poller reaches carriers; tests and the demo point it at local servers."""

    http_client: Callable[[str, CarrierSettings], httpx.AsyncClient] | None = None


@dataclass
class CarrierRun:
    """One carrier's part of a run: its calls allowed and made, token, and what came back."""

    api: CarrierApi
    settings: CarrierSettings
    creds: Credentials
    allowed: int
    token: Token | None
    calls: int = 0
    new_token: Token | None = None
    outcomes: Counter[str] = field(default_factory=Counter)


def track(*, engine: Engine, settings: Settings, clock: Clock, carrier: str | None = None, limit: int | None = None,
          io: TrackIO | None = None) -> WorkResult:
    now = clock.now()
    configured: dict[str, CarrierSettings] = {str(code): cs for code, cs in settings.carriers.items() if cs.enabled}
    if carrier and carrier not in configured:
        raise ConfigError(f"carrier {carrier!r} is not configured (known: {', '.join(configured) or 'none'})")
    wanted = [carrier] if carrier else list(configured)
    problems: list[str] = []
    with session_factory(engine)() as session, session.begin():
        for code in list(wanted):
            paused = pause_notice(session, f"carrier:{code}", now, f"carrier {code}")
            if paused:
                problems.append(paused)
                wanted.remove(code)
        due = _due(session, now=now, carriers=wanted, limit=limit or settings.tracking.limit_per_run)
        runs = {code: CarrierRun(API[code], configured[code], credentials(code, configured[code]),
                                 allowed=_allowance(session, code, configured[code], due, now),
                                 token=cached_token(session, code)) for code in wanted}
    events = 0
    if due and runs:
        def store(answers: list[Answer]) -> int:
            return _store(engine, answers, runs, settings=settings, now=now)

        events = asyncio.run(_poll(due, runs, io or TrackIO(), now, store=store, beside=_threads_share(engine)))
    counts = _settle(engine, runs, events, now=now, problems=problems)
    return WorkResult(counts=counts, problems=problems,
                      exit_code=ExitCode.PARTIAL_FAILURE if problems else ExitCode.OK)


def _threads_share(engine: Engine) -> bool:
    """Whether another thread sees the same database: not an in-memory SQLite one (one per connection)."""
    return not (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"))


UNLIMITED = 1 << 30


def _allowance(session: Any, code: str, settings: CarrierSettings, due: list[Due], now: datetime) -> int:
    """Calls this run may make: what the plan needs, within the carrier's budget (no quota: no limit)."""
    quota = _quota(API[code], settings)
    if quota is None:
        return UNLIMITED
    return take(session, f"carrier:{code}", quota, _calls_wanted(API[code], due), now)


def _quota(api: CarrierApi, settings: CarrierSettings) -> Quota | None:
    if settings.requests_per_hour or (api.carrier.per_hour and not settings.requests_per_day):
        return Quota(settings.requests_per_hour or api.carrier.per_hour or 0, timedelta(hours=1))
    if settings.requests_per_day or api.carrier.per_day:
        return Quota(settings.requests_per_day or api.carrier.per_day or 0, timedelta(days=1))
    return None


def _due(session: Any, *, now: datetime, carriers: list[str], limit: int) -> list[Due]:
    priority = case(
        (Shipment.last_checked_at.is_(None), 0),
        (and_(Shipment.estimated_delivery.is_not(None), Shipment.estimated_delivery <= now + timedelta(hours=24)), 1),
        (Shipment.status.in_(("exception", "delivery_attempted", "out_for_delivery")), 2),
        (and_(Shipment.status == "label_created", Shipment.reported_at <= now - timedelta(days=1)), 3),
        else_=4)
    rows = session.execute(
        select(Shipment.id, Shipment.tracking_number, Shipment.carrier)
        .where(Shipment.next_check_at <= now, Shipment.tracking_expired_at.is_(None),
               Shipment.status.not_in(("delivered", "cancelled")))
        .order_by(priority, Shipment.next_check_at, Shipment.id).limit(limit))
    due = []
    for shipment_id, number, known in rows:
        options = (known,) if known else tuple(dict.fromkeys(match.courier for match in detect(number)))
        options = tuple(code for code in options if code in carriers)
        if options:
            due.append(Due(shipment_id, number, options))
    return due


def _calls_wanted(api: CarrierApi, due: list[Due]) -> int:
    known = sum(1 for item in due if item.carriers == (api.code,))
    guesses = sum(1 for item in due if len(item.carriers) > 1 and api.code in item.carriers)
    return -(-known // api.carrier.batch_size) + guesses


# --- phase 2: asking the carriers -------------------------------------------------------------------------

STORE_AT_LEAST = 100
"""Answers stored together while polling goes on: fewer transactions than parcels, and few left to store once
the last answer is in."""
STORE_AT_MOST = 500


class _Storer:
    """Stores the answers as they come back, one batch at a time, while the asking goes on.

    A batch is what has come back since the last one began (at least ``STORE_AT_LEAST`` until the polling
    ends); it is stored in a thread of its own, so the event loop keeps asking meanwhile.
    """

    def __init__(self, store: Callable[[list[Answer]], int], *, beside: bool) -> None:
        self._store = store
        self._beside = beside
        self._pending: list[Answer] = []
        self._ready = asyncio.Event()
        self._polling = True
        self.events = 0

    def add(self, answers: list[Answer]) -> None:
        self._pending += answers
        if len(self._pending) >= STORE_AT_LEAST:
            self._ready.set()

    def polled(self) -> None:
        """Every answer is in: what is left is stored now, whatever its size."""
        self._polling = False
        self._ready.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderflow-track-store") as thread:
            while True:
                await self._ready.wait()
                self._ready.clear()
                batch, self._pending = self._pending[:STORE_AT_MOST], self._pending[STORE_AT_MOST:]
                if batch:
                    self.events += (await loop.run_in_executor(thread, self._store, batch) if self._beside
                                    else self._store(batch))
                if not self._polling and not self._pending:
                    return
                if not self._polling or len(self._pending) >= STORE_AT_LEAST:
                    self._ready.set()


async def _poll(due: list[Due], runs: dict[str, CarrierRun], io: TrackIO, now: datetime, *,
                store: Callable[[list[Answer]], int], beside: bool = True) -> int:
    """Ask the carriers about ``due`` and ``store`` the answers in batches as they come; the events stored.

    ``beside``: store in a thread beside the event loop (no: in the loop, for a database only it can see).
    """
    storer = _Storer(store, beside=beside)
    storing = asyncio.ensure_future(storer.run())
    asking = asyncio.ensure_future(_ask_all(due, runs, io, now, storer.add))
    try:
        await asyncio.wait((asking, storing), return_when=asyncio.FIRST_COMPLETED)
        if storing.done():  # it ends early only by failing: the asking stops too
            storing.result()
        asking.result()
        storer.polled()
        await storing
    finally:
        for task in (asking, storing):
            task.cancel()
        await asyncio.gather(asking, storing, return_exceptions=True)
    return storer.events


async def _ask_all(due: list[Due], runs: dict[str, CarrierRun], io: TrackIO, now: datetime,
                   answered: Callable[[list[Answer]], None]) -> None:
    """Ask every carrier its share of ``due``, handing each call's answers to ``answered`` as they come."""
    if io.http_client is not None:
        clients = {code: io.http_client(code, run.settings) for code, run in runs.items()}
    else:
        tls = _tls_context()
        clients = {code: _default_client(code, run.settings, tls) for code, run in runs.items()}
    gates = {code: asyncio.Semaphore(run.settings.concurrency) for code, run in runs.items()}
    locks = {code: asyncio.Lock() for code in runs}

    async def ask(code: str, numbers: list[str]) -> list[TrackingResult] | None:
        run = runs[code]
        async with gates[code]:
            if time_is_up():  # not asked: these parcels stay due for the next run
                return None
            return await _ask(run, clients[code], locks[code], numbers, now)

    async def known_batch(code: str, items: list[Due]) -> list[Answer]:
        results = await ask(code, [item.number for item in items])
        return [] if results is None else [Answer(item.shipment_id, code, result)
                                           for item, result in zip(items, results, strict=True)]

    async def guess(item: Due) -> list[Answer]:
        last: Answer | None = None
        for code in item.carriers:
            results = await ask(code, [item.number])
            if results is None:
                continue
            last = Answer(item.shipment_id, code, results[0])
            if results[0].outcome is FetchOutcome.OK:
                break
        return [] if last is None else [last]

    async def handed_on(asking: Awaitable[list[Answer]]) -> None:
        answered(await asking)

    tasks = []
    for code, run in runs.items():
        mine = [item for item in due if item.carriers == (code,)]
        tasks += [handed_on(known_batch(code, batch)) for batch in chunked(mine, run.api.carrier.batch_size)]
    tasks += [handed_on(guess(item)) for item in due if len(item.carriers) > 1]
    try:
        await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients.values()))


def _tls_context() -> ssl.SSLContext:
    """The one TLS context every carrier's client shares: reading the trusted certificates once, not per carrier."""
    import httpx

    return httpx.create_ssl_context()


def _default_client(code: str, settings: CarrierSettings, tls: ssl.SSLContext) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(base_url=settings.base_url or API[code].carrier.base_url,
                             timeout=settings.timeout_seconds, verify=tls)


class _Retry(RemoteUnavailable):
    def __init__(self, results: list[TrackingResult]) -> None:
        super().__init__(results[0].message if results else "carrier error",
                         retry_after=next((r.retry_after for r in results if r.retry_after is not None), None))
        self.results = results


async def _ask(run: CarrierRun, client: httpx.AsyncClient, token_lock: asyncio.Lock, numbers: list[str],
               now: datetime) -> list[TrackingResult] | None:
    """One call for ``numbers`` with retries; ``None`` when the budget allows no call at all."""
    import stamina

    if run.calls >= run.allowed:
        return None
    try:
        async for attempt in stamina.retry_context(on=should_retry, attempts=3, timeout=60.0, wait_initial=0.5,
                                                   wait_max=10.0):
            with attempt:
                if run.calls >= run.allowed:
                    return failed(numbers, FetchOutcome.RATE_LIMITED, "budget used up for this run")
                results = await _call(run, client, token_lock, numbers, now)
                if all(result.outcome in (FetchOutcome.CARRIER_ERROR, FetchOutcome.RATE_LIMITED) for result in results):
                    raise _Retry(results)
                return results
    except _Retry as exc:
        return exc.results
    return None  # pragma: no cover - the loop returns or raises


async def _call(run: CarrierRun, client: httpx.AsyncClient, token_lock: asyncio.Lock, numbers: list[str],
                now: datetime) -> list[TrackingResult]:
    try:
        token = await _token(run, client, token_lock, refresh=False)
        run.calls += 1
        results = await _send(run, client, token, numbers, now)
        if token and all(result.outcome is FetchOutcome.AUTH_ERROR for result in results):
            token = await _token(run, client, token_lock, refresh=True, stale=token)
            run.calls += 1
            results = await _send(run, client, token, numbers, now)
        return results
    except RemoteError as exc:
        outcome = FetchOutcome.CARRIER_ERROR if isinstance(exc, RemoteUnavailable) else FetchOutcome.AUTH_ERROR
        return failed(numbers, outcome, str(exc), retry_after=exc.retry_after)


async def _send(run: CarrierRun, client: httpx.AsyncClient, token: str, numbers: list[str],
                now: datetime) -> list[TrackingResult]:
    import httpx

    request = run.api.track_request(numbers, run.creds, token, uuid.uuid4().hex)
    try:
        response = await _http(client, request)
    except httpx.HTTPError as exc:
        return failed(numbers, FetchOutcome.CARRIER_ERROR, f"{run.api.name}: {type(exc).__name__}")
    return run.api.read_track(response.status_code, response.content, requested=numbers, headers=response.headers,
                              now=now)


async def _token(run: CarrierRun, client: httpx.AsyncClient, lock: asyncio.Lock, *, refresh: bool,
                 stale: str | None = None) -> str:
    """The carrier's access token: cached, fetched when missing, refreshed once after a 401 (one fetch for all)."""
    import httpx

    if run.api.token_request is None or run.api.parse_token is None:
        return ""
    async with lock:
        current = run.new_token or run.token
        if current is not None and current.usable_at(datetime.now(UTC)) and not (refresh and
                                                                                 current.access_token == stale):
            return current.access_token
        try:
            response = await _http(client, run.api.token_request(run.creds))
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"{run.api.name} token: {type(exc).__name__}") from None
        run.new_token = run.api.parse_token(response.status_code, response.content, now=datetime.now(UTC),
                                            headers=response.headers)
        return run.new_token.access_token


async def _http(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    return await client.request(request.method, request.path, params=request.params or None,
                                headers=request.headers, json=request.json, data=request.form)


# --- phase 3: storing what came back ---------------------------------------------------------------------

def _store(engine: Engine, answers: list[Answer], runs: dict[str, CarrierRun], *, settings: Settings,
           now: datetime) -> int:
    """Store one batch of answers in one transaction; the new events stored."""
    with session_factory(engine)() as session, session.begin():
        ids = [answer.shipment_id for answer in answers]
        parcels = load_parcels(session, ids)
        stored = known_events(session, ids)
        new = {answer.shipment_id: apply_result(parcels[answer.shipment_id], answer.result, carrier=answer.carrier,
                                                now=now, policy=settings.tracking, stored=stored[answer.shipment_id])
               for answer in answers}
        save_parcels(session, list(parcels.values()))
        store_events(session, new, now=now)
        roll_up(session=session, now=now, vendor_order_ids={
            parcel.vendor_order_id for parcel in parcels.values() if parcel.status == "delivered"})
    events = sum(len(added) for added in new.values())
    for answer in answers:  # counted once stored: a batch that failed counts for nothing
        runs[answer.carrier].outcomes[answer.result.outcome] += 1
    return events


def _settle(engine: Engine, runs: dict[str, CarrierRun], events: int, *, now: datetime,
            problems: list[str]) -> dict[str, int]:
    """After the last answer is stored: tokens kept, unused budget given back, each carrier's health."""
    with session_factory(engine)() as session, session.begin():
        for code, run in runs.items():
            if run.new_token is not None:
                keep_token(session, code, run.new_token)
            if run.allowed != UNLIMITED:
                give_back(session, f"carrier:{code}", run.allowed - run.calls)
            polls = sum(run.outcomes.values())
            failures = sum(count for outcome, count in run.outcomes.items() if outcome in CARRIER_FAILURES)
            if polls:
                session.add(CarrierPollRun(carrier=code, at=now, outcomes=dict(run.outcomes), polls=polls,
                                           failures=failures))
            if polls and failures == polls:
                error = f"every poll failed ({', '.join(f'{n} {o}' for o, n in run.outcomes.items())})"
                problems.append(f"carrier {code}: {error}")
                record_failure(session, f"carrier:{code}", now, error)
            elif polls:
                record_success(session, f"carrier:{code}", now)
    total = Counter[str]()
    for run in runs.values():
        total.update(run.outcomes)
    return {"polled": sum(total.values()), "events": events,
            **{str(outcome): total.get(outcome, 0) for outcome in FetchOutcome},
            "calls": sum(run.calls for run in runs.values())}
