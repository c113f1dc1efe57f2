"""Posting to a Slack-compatible incoming webhook: ``{"text": ...}`` as JSON, one call, errors translated.

::

    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        url = secret(settings.push.webhook.url_env, setting="push.webhook.url_env")
        post_json(client, url, {"text": "TB1042-ACME rejected: bad SKU"})

An incoming-webhook URL is a credential (its path is the token), so no error message names it: they say
``webhook <host>`` and nothing more of the address, and a reply body that repeats the path is cut out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from orderflow.errors import ConfigError, RemoteRejected, RemoteUnavailable
from orderflow.retries import retry_after_seconds

_SHOWN_REPLY_CHARS = 120


def slack_text(text: str) -> str:
    """``text`` for a Slack-style message, shown as it came: ``&``, ``<`` and ``>`` are the three characters
    Slack reads as control (``<!channel>`` pings everyone, ``<https://x|here>`` forges a link), so they are
    sent as the entities Slack documents for them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_json(client: httpx.Client, url: str, payload: Mapping[str, Any]) -> None:
    """POST ``payload`` as JSON; return on any 2xx.

    Raises :class:`RemoteUnavailable` for 429 (with the server's ``Retry-After`` as ``retry_after``), 5xx,
    timeouts and connection failures; :class:`RemoteRejected` for any other answer (the URL is wrong or
    revoked, the payload refused); :class:`ConfigError` when ``url`` is not an http(s) URL at all.
    """
    where = f"webhook {urlsplit(url).hostname or '(no host)'}"
    try:
        response = client.post(url, json=dict(payload))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise ConfigError(f"{where}: the webhook URL is not a usable http(s) URL") from None
    except httpx.TimeoutException as exc:
        raise RemoteUnavailable(f"{where}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        # ``from None``: httpx's own exception carries the request, and with it the URL.
        raise RemoteUnavailable(f"{where}: {_scrubbed(str(exc), url) or type(exc).__name__}") from None
    if response.is_success:
        return
    status = f"HTTP {response.status_code}"
    reply = _scrubbed(response.text, url)
    said = f"{status} {reply}".strip()
    if response.status_code == 429:
        retry_after = retry_after_seconds(response.headers)
        wait = f", retry after {retry_after:g}s" if retry_after is not None else ""
        raise RemoteUnavailable(f"{where}: rate limited ({said}){wait}", retry_after=retry_after)
    if response.status_code >= 500:
        raise RemoteUnavailable(f"{where}: {said}")
    raise RemoteRejected(f"{where}: refused ({said})")


def _scrubbed(text: str, url: str) -> str:
    """``text`` on one short line, with every secret-bearing piece of ``url`` cut out."""
    parts = urlsplit(url)
    pieces = [url, parts.path, parts.query, *parts.path.split("/"), *parts.query.replace("=", "&").split("&")]
    line = " ".join(text.split())
    # Short pieces ("/", "v1") are not secret, and cutting them out would garble the rest of the text.
    for piece in sorted({piece for piece in pieces if len(piece) >= 6}, key=len, reverse=True):
        line = line.replace(piece, "…")
    return line if len(line) <= _SHOWN_REPLY_CHARS else line[:_SHOWN_REPLY_CHARS] + "…"
