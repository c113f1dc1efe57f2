"""How one purchase order reaches one vendor: a file in their folder, or a call to their API.

A channel sends a :class:`PurchaseOrder` and says what the vendor made of it (:class:`SendOutcome`), or raises
from the :mod:`orderflow.errors` tree: ``RemoteUnavailable`` (try again), ``RemoteRejected`` (the vendor
refused *us*: credentials, host key), ``OutcomeUnknown`` (it may or may not have arrived: look it up first).
With ``reconcile=True`` the channel first makes sure a re-send cannot double the order: file names are
deterministic so a re-upload replaces; the Printful API is asked for our id before anything is created;
the JSON API takes our id as its idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import Engine

from orderflow.config import Settings, VendorSettings, secret
from orderflow.errors import ConfigError, InputError, OrderflowError, RemoteRejected, RemoteUnavailable
from orderflow.parsing import json_shapes
from orderflow.retries import retry_after_seconds
from orderflow.vendors.formats.catalogue import FORMATS
from orderflow.vendors.formats.purchase_order_files import po_document
from orderflow.vendors.records import PurchaseOrder
from orderflow.vendors.transports.base import FileTransport

if TYPE_CHECKING:
    import httpx

    from orderflow.vendors.printful import PrintfulAnswer, PrintfulClient


def vendor_line(vendor_code: str, message: str) -> str:
    """``vendor ACME: <message>``, said once: an error that already names the vendor is not prefixed again.

    >>> vendor_line("INKW", "vendor INKW: the printful API needs token_env")
    'vendor INKW: the printful API needs token_env'
    """
    prefix = f"vendor {vendor_code}: "
    return message if message.startswith(prefix) else prefix + message


@dataclass(frozen=True)
class SendOutcome:
    state: Literal["sent", "accepted", "rejected"]
    vendor_reference: str | None = None
    reason: str | None = None
    code: str | None = None


class Channel(Protocol):
    description: str
    checks_by_lookup: bool
    """Whether an unknown outcome must be looked up at the vendor before any re-send (an API that creates)."""

    def send(self, po: PurchaseOrder, *, reconcile: bool) -> SendOutcome: ...

    def close(self) -> None: ...


@dataclass
class FileChannel:
    """Purchase orders as files named by vendor order id (``TB1042-ACME.csv``): a re-send replaces, never adds."""

    transport: FileTransport
    render: Callable[[PurchaseOrder], bytes]
    suffix: str
    description: str
    checks_by_lookup: bool = False

    def file_name(self, po: PurchaseOrder) -> str:
        return f"{po.vendor_order_id}{self.suffix}"

    def send(self, po: PurchaseOrder, *, reconcile: bool) -> SendOutcome:
        self.transport.upload(self.file_name(po), self.render(po))
        return SendOutcome("sent")

    def send_many(self, pos: Sequence[PurchaseOrder]) -> dict[str, SendOutcome | OrderflowError]:
        """Send several purchase orders together, many under way at once where the transport can: for each
        vendor order id its outcome, or what went wrong as :meth:`send` would raise it."""
        results: dict[str, SendOutcome | OrderflowError] = {}
        files: dict[str, str] = {}  # vendor order id by file name
        contents: list[tuple[str, bytes]] = []
        for po in pos:
            try:
                contents.append((self.file_name(po), self.render(po)))
            except InputError as exc:
                results[po.vendor_order_id] = exc
            else:
                files[self.file_name(po)] = po.vendor_order_id
        failures = self.transport.upload_many(contents)
        for name, vendor_order_id in files.items():
            results[vendor_order_id] = failures.get(name) or SendOutcome("sent")
        return results

    def close(self) -> None:
        self.transport.close()


@dataclass
class PrintfulChannel:
    client: PrintfulClient
    http: httpx.Client
    confirm: bool
    description: str
    checks_by_lookup: bool = True

    def send(self, po: PurchaseOrder, *, reconcile: bool) -> SendOutcome:
        if reconcile:
            found = self._lookup(po)
            if found is not None:
                return found
        answer = self.client.create_order(po, confirm=self.confirm)
        if answer.outcome == "rejected" and "already exists" in answer.reason.lower():
            found = self._lookup(po)  # an earlier create did arrive: never a second order
            if found is not None:
                return found
        return _printful_outcome(answer, vendor_order_id=po.vendor_order_id)

    def _lookup(self, po: PurchaseOrder) -> SendOutcome | None:
        """Printful's view of our id: ``None`` if it has no such order, so creating it cannot double it."""
        answer = self.client.get_order(po.vendor_order_id)
        if answer.outcome == "not_found":
            return None
        if answer.outcome == "found" and answer.status == "draft" and self.confirm and answer.printful_id:
            answer = self.client.confirm_order(answer.printful_id)  # an earlier run created it, then died
        if answer.outcome == "found" and answer.status == "failed":
            return SendOutcome("rejected", vendor_reference=answer.printful_id,
                               reason=answer.reason or "failed at Printful", code="printful:failed")
        return _printful_outcome(answer, vendor_order_id=po.vendor_order_id)

    def close(self) -> None:
        self.http.close()


def _printful_outcome(answer: PrintfulAnswer, *, vendor_order_id: str) -> SendOutcome:
    if answer.outcome in ("created", "found"):
        # A draft is with Printful but not in production: sent, not yet accepted.
        return SendOutcome("sent" if answer.status == "draft" else "accepted", vendor_reference=answer.printful_id)
    if answer.outcome == "rejected":
        return SendOutcome("rejected", reason=answer.reason or "rejected by Printful", code="printful")
    if answer.outcome == "unauthorized":
        raise RemoteRejected(f"printful: not authorised ({answer.reason or 'check the token'})")
    raise RemoteUnavailable(f"printful: {answer.outcome} for {vendor_order_id}: {answer.reason}".rstrip(": "),
                            retry_after=answer.retry_after)


@dataclass
class JsonApiChannel:
    """The generic JSON vendor API: ``POST {base_url}/orders`` with our id as ``Idempotency-Key``.

    2xx: ``{"status": "accepted" | "rejected" | "received", "reason": ..., "reference": ...}`` (received means
    sent; the answer comes later). 409: the vendor has it already (sent). 400/422: the vendor refuses the
    order (rejected, with its ``reason``). 401/403: refused us. 429 and 5xx: try again. Because the key makes
    a repeat harmless, a timed-out call is simply retried.
    """

    http: httpx.Client
    headers: dict[str, str]
    description: str
    checks_by_lookup: bool = False

    def send(self, po: PurchaseOrder, *, reconcile: bool) -> SendOutcome:
        import httpx

        try:
            response = self.http.post("/orders", json=po_document(po),
                                      headers={**self.headers, "Idempotency-Key": po.vendor_order_id})
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"{self.description}: {type(exc).__name__}") from None
        return _json_api_outcome(response.status_code, _json_body(response.content),
                                 retry_after_seconds(response.headers), self.description)

    def close(self) -> None:
        self.http.close()


def _json_body(content: bytes) -> dict[str, Any]:
    try:
        body = json_shapes.loads(content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json_api_outcome(status: int, body: dict[str, Any], retry_after: float | None, where: str) -> SendOutcome:
    reason = str(body.get("reason") or body.get("error") or body.get("message") or "")
    reference = body.get("reference") or body.get("id")
    if 200 <= status < 300:
        verdict = str(body.get("status", "received")).lower()
        if verdict == "rejected":
            return SendOutcome("rejected", reason=reason or "rejected", code=str(body.get("code") or "rejected"))
        return SendOutcome("accepted" if verdict == "accepted" else "sent",
                           vendor_reference=str(reference) if reference else None)
    if status == 409:
        return SendOutcome("sent")
    if status in (400, 422):
        return SendOutcome("rejected", reason=reason or f"HTTP {status}", code=str(status))
    if status in (401, 403):
        raise RemoteRejected(f"{where}: HTTP {status} (check the token)")
    raise RemoteUnavailable(f"{where}: HTTP {status}", retry_after=retry_after)


def open_channel(vendor: VendorSettings, *, settings: Settings, engine: Engine, now: Callable[[], datetime],
                 http_client: Callable[[VendorSettings], httpx.Client] | None = None) -> Channel:
    """Connect to one vendor (one connection per vendor per run). Raises ``RemoteError`` when it cannot."""
    where = f"{vendor.code} ({vendor.format} over {vendor.transport})"
    if vendor.transport == "http":
        http = (http_client or default_http_client)(vendor)
        if vendor.format == "printful":
            return PrintfulChannel(client=printful_client(vendor, http, settings), http=http, confirm=vendor.confirm,
                                   description=where)
        headers = {"Authorization": f"Bearer {vendor_token(vendor, settings)}"} if vendor.token_env else {}
        return JsonApiChannel(http=http, headers=headers, description=where)
    fmt = FORMATS[vendor.format]
    if fmt.renderer is None or fmt.suffix is None:
        raise ConfigError(f"vendor {vendor.code}: the {fmt.name} format goes only through its API (transport http)")
    return FileChannel(transport=file_transport(vendor, settings), render=fmt.renderer(vendor, engine, now),
                       suffix=fmt.suffix, description=where)


def vendor_token(vendor: VendorSettings, settings: Settings) -> str:
    """An API vendor's token, read now from the variable its ``token_env`` names."""
    if not vendor.token_env:
        raise ConfigError(f"vendor {vendor.code}: the {vendor.format} API needs token_env")
    return secret(vendor.token_env, setting=settings.vendor_setting(vendor, "token_env"))


def printful_client(vendor: VendorSettings, http: httpx.Client, settings: Settings) -> PrintfulClient:
    from orderflow.vendors.printful import PrintfulClient

    return PrintfulClient(base_url=str(vendor.base_url), token=vendor_token(vendor, settings),
                          store_id=vendor.store_id, client=http)


def default_http_client(vendor: VendorSettings) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=str(vendor.base_url), timeout=vendor.timeout_seconds)


def file_transport(vendor: VendorSettings, settings: Settings) -> FileTransport:
    """The vendor's exchange folders: local, or over SFTP (one connection, opened here)."""
    if vendor.transport == "local":
        from orderflow.vendors.transports.local import LocalFolderTransport

        return LocalFolderTransport(settings.path(vendor.path or "."), vendor=vendor.code, to_vendor=vendor.to_vendor,
                                    from_vendor=vendor.from_vendor, archive=vendor.archive, rejected=vendor.rejected)
    from orderflow.vendors.transports.sftp import SftpEndpoint, SftpTransport

    # timeout_seconds bounds each SFTP operation; connecting, the SSH banner and the login get at most 10s of it
    # (the default 30s keeps SftpEndpoint's own defaults).
    setup_timeout = min(10.0, vendor.timeout_seconds)
    endpoint = SftpEndpoint(
        connect_timeout=setup_timeout, banner_timeout=setup_timeout, auth_timeout=setup_timeout,
        operation_timeout=vendor.timeout_seconds,
        vendor=vendor.code, host=str(vendor.host), port=vendor.port, username=str(vendor.username),
        key_file=settings.path(vendor.key_file) if vendor.key_file else None,
        key_passphrase=secret(vendor.key_passphrase_env, setting=settings.vendor_setting(vendor, "key_passphrase_env"))
        if vendor.key_passphrase_env else None,
        password=secret(vendor.password_env, setting=settings.vendor_setting(vendor, "password_env"))
        if vendor.password_env else None,
        known_hosts=settings.path(vendor.known_hosts) if vendor.known_hosts else None,
        host_key_fingerprint=vendor.host_key_fingerprint, remote_dir=vendor.remote_dir, to_vendor=vendor.to_vendor,
        from_vendor=vendor.from_vendor, archive=vendor.archive, rejected=vendor.rejected)
    return SftpTransport(endpoint)
