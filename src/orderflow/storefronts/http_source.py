"""Orders from the website's own order API, read page by page from a cursor kept in the database.

::

    result = import_http_source(engine=engine, name="website", settings=settings, now=clock.now())
    result.stored, result.refusals

The protocol, for a source configured with ``url``, ``auth_header``, ``token_env`` and ``page_size``:

- Request: ``GET <url>?updated_after=<cursor>&limit=<page_size>``, then the same with ``&page_token=<token>``
  for each further page (``updated_after`` stays the run's starting cursor). The cursor is an ISO 8601 UTC
  instant such as ``2026-11-03T14:05:00Z``. The first run, with no cursor stored, sends no ``updated_after``
  and reads every order the storefront has. Headers: ``Accept: application/json`` and, when ``token_env`` is
  set, ``<auth_header>: <the secret>``; for ``Authorization`` a secret without a scheme is sent as
  ``Bearer <secret>`` (one such as ``Token abc`` is sent as it is).
- Reply ``200``: ``{"orders": [...], "next_page_token": "..." | null}``, the generic order JSON of
  :mod:`orderflow.storefronts.json_orders` with an ``updated_at`` (ISO 8601 with offset) on each order. Orders
  come oldest ``updated_at`` first, and ``updated_after`` is inclusive: an order updated exactly at the
  cursor is read again and stored as unchanged, so no order at a page boundary is missed. A null, absent or
  empty ``next_page_token`` ends the run.
- Each page is stored in its own transaction together with the new cursor (the newest ``updated_at`` on the
  pages committed so far, refused orders included, so a refused order is reported once rather than every
  run). A failure part way keeps the earlier pages, and the next run resumes from their cursor.
- Timeouts, connection errors, ``5xx`` and ``429`` are retried with exponential backoff (``Retry-After`` in
  seconds is honoured up to a minute); when the attempts run out the error is :class:`RemoteUnavailable`,
  naming the source and its URL. Any other non-2xx status is :class:`RemoteRejected` at once; redirects are
  not followed, so a custom auth header never leaves for another host.
- A page that is not that JSON ends the run with a refusal naming the page URL as the file; the pages before
  it stay committed. Bad orders on a good page are refused one by one; the others are stored.

WooCommerce's own REST API is not spoken here: it takes other parameters (``modified_after``, ``per_page``,
``page``), so it would need a setting of its own to choose the dialect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import stamina
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from orderflow.config import Settings, SourceSettings, secret
from orderflow.db.engine import session_factory
from orderflow.db.models import SourceCursor
from orderflow.errors import ConfigError, InputError, Refusal, RemoteRejected, RemoteUnavailable
from orderflow.jobs import time_is_up
from orderflow.orders.routing import Catalog
from orderflow.parsing import json_shapes
from orderflow.retries import retry_after_seconds
from orderflow.storefronts.intake import ImportResult, upsert_orders
from orderflow.storefronts.json_orders import iter_json_orders, parse_offset_time
from orderflow.storefronts.sources import only_orders

ATTEMPTS = 4
LONGEST_RETRY_AFTER_S = 60.0  # a longer wait is left to the next cron run rather than holding this one


@dataclass(frozen=True)
class Page:
    """One page as received: its body, its URL (the "file" in refusals), and what it says about paging."""

    body: bytes
    url: str
    next_token: str | None
    newest: datetime | None
    undated: int


def import_http_source(*, engine: Engine, name: str, settings: Settings, now: datetime,
                       client: httpx.Client | None = None) -> ImportResult:
    """Read every order changed since source ``name``'s cursor, page by page; one transaction per page."""
    source = settings.source(name)
    if source.kind != "http" or not source.url:
        raise ConfigError(f"sources.{name}: not an http source with a 'url'")
    http = client or httpx.Client(timeout=source.timeout_seconds)
    try:
        return _import_pages(http=http, name=name, source=source, url=source.url, settings=settings, now=now,
                             make_session=session_factory(engine))
    finally:
        if client is None:
            http.close()


def _import_pages(*, http: httpx.Client, name: str, source: SourceSettings, url: str, settings: Settings,
                  now: datetime, make_session: sessionmaker[Session]) -> ImportResult:
    cursor = _load_cursor(make_session, name)
    first = {"updated_after": _cursor_text(cursor)} if cursor else {}
    first["limit"] = str(source.page_size)
    headers = _auth_headers(name, source)
    where = f"storefront source {name!r} ({url})"
    total = ImportResult()
    token: str | None = None
    while True:
        try:
            body, page_url = _get(http, url, params=first | ({"page_token": token} if token else {}),
                                  headers=headers, where=where, deadline_s=source.timeout_seconds,
                                  limit=settings.limits.file_bytes)
            page = _read_page(body, url=page_url)
        except InputError as exc:
            total.refusals.append(exc.refusal)
            return total
        cursor = max(filter(None, (cursor, page.newest)), default=None)
        total.add(_store_page(make_session, page, name=name, cursor=cursor, settings=settings, now=now))
        if page.next_token is None:
            return total
        if page.next_token == token:
            total.refusals.append(Refusal(file=page.url, line=None, field="next_page_token",
                                          reason="the storefront gave the same page token again; stopped"))
            return total
        token = page.next_token
        if time_is_up():  # the cursor is stored with each page: the next run goes on from here
            return total


def _worth_retrying(exc: Exception) -> bool | float:
    """stamina's hook: retry what is transient, after the server's own ``Retry-After`` when it gave one."""
    if not isinstance(exc, RemoteUnavailable):
        return False
    if exc.retry_after is None:
        return True
    return exc.retry_after if exc.retry_after <= LONGEST_RETRY_AFTER_S else False


@stamina.retry(on=_worth_retrying, attempts=ATTEMPTS, wait_initial=0.5, wait_max=10.0, timeout=120.0)
def _get(http: httpx.Client, url: str, *, params: dict[str, str], headers: dict[str, str], where: str,
         deadline_s: float, limit: int) -> tuple[bytes, str]:
    """One page's body and URL, read as it streams in: refused past ``limit`` bytes, given up after ``deadline_s``
    seconds in all (a server dripping a byte a second never holds the run, nor fills the memory)."""
    started = time.monotonic()
    try:
        with http.stream("GET", url, params=params, headers=headers) as response:
            status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            if response.status_code == 429 or response.status_code >= 500:
                raise RemoteUnavailable(f"{where}: {status}", retry_after=retry_after_seconds(response.headers))
            if not 200 <= response.status_code < 300:
                # The body is left out: a storefront may echo the request, credentials included.
                raise RemoteRejected(f"{where}: {status}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise InputError(f"the page is larger than limits.file_bytes ({limit}); ask for smaller "
                                     "pages (page_size) or raise the limit", file=str(response.url))
                if time.monotonic() - started > deadline_s:
                    raise RemoteUnavailable(f"{where}: no whole page within {deadline_s:g}s")
            return bytes(body), str(response.url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{where}: not a usable URL: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise RemoteUnavailable(f"{where}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise RemoteUnavailable(f"{where}: {exc or type(exc).__name__}") from exc


def _auth_headers(name: str, source: SourceSettings) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if source.token_env:
        token = secret(source.token_env, setting=f"sources.{name}.token_env").strip()
        if source.auth_header.lower() == "authorization" and " " not in token:
            token = f"Bearer {token}"
        headers[source.auth_header] = token
    return headers


def _read_page(body: bytes, *, url: str) -> Page:
    """The paging facts of one reply; :class:`InputError` when it is not the page JSON at all."""
    try:
        document: Any = json_shapes.loads(body)
    except ValueError as exc:
        raise InputError(f"not valid JSON: {exc}", file=url) from exc
    if not isinstance(document, dict) or not isinstance(document.get("orders"), list):
        raise InputError('expected a page {"orders": [...], "next_page_token": ...}', file=url)
    token = document.get("next_page_token")
    if token is not None and not isinstance(token, str):
        raise InputError("expected text or null", file=url, field="next_page_token")
    stamps = [_updated_at(order) for order in document["orders"]]
    known = [stamp for stamp in stamps if stamp is not None]
    return Page(body=body, url=url, next_token=token or None, newest=max(known, default=None),
                undated=len(stamps) - len(known))


def _updated_at(order: object) -> datetime | None:
    value = order.get("updated_at") if isinstance(order, dict) else None
    try:
        return parse_offset_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _store_page(make_session: sessionmaker[Session], page: Page, *, name: str, cursor: datetime | None,
                settings: Settings, now: datetime) -> ImportResult:
    refusals: list[Refusal] = []
    with make_session() as session, session.begin():
        orders = only_orders(iter_json_orders(page.body, source=name, file=page.url), refusals, file=page.url)
        result = upsert_orders(session=session, orders=orders, catalog=Catalog.load(session, settings.vendors),
                               po_prefix=settings.po_prefix, now=now, file=page.url)
        if cursor is not None:
            _save_cursor(session, name, cursor, now)
    result.refusals[:0] = refusals
    result.files = 1
    if page.undated:
        result.problems.append(f"{page.url}: {page.undated} order(s) without a readable updated_at; "
                               "they do not move the cursor")
    return result


def _cursor_text(moment: datetime) -> str:
    """``2026-11-03T14:05:00Z``: ISO 8601 UTC, with a ``Z`` so the query string needs no ``+``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _load_cursor(make_session: sessionmaker[Session], name: str) -> datetime | None:
    with make_session() as session:
        stored = session.get(SourceCursor, name)
    return parse_offset_time(stored.cursor) if stored else None


def _save_cursor(session: Session, name: str, cursor: datetime, now: datetime) -> None:
    stored = session.get(SourceCursor, name) or SourceCursor(source=name)
    stored.cursor = _cursor_text(cursor)
    stored.updated_at = now
    session.add(stored)
