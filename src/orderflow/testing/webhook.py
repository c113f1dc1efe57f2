"""A fake Slack-compatible incoming webhook on 127.0.0.1: real HTTP, Slack's answers, knobs to misbehave.

::

    with FakeWebhook() as slack:
        post_json(client, slack.webhook_url, {"text": "TB1042-ACME rejected"})
        assert slack.posts == [{"text": "TB1042-ACME rejected"}]

Like Slack, it answers ``200 ok`` to a JSON object with ``text`` POSTed to its secret path, ``400
invalid_payload`` to anything else POSTed there, and ``404 no_service`` to any other path. ``posts`` holds
the JSON bodies it accepted, in order; ``requests`` every ``(method, path)`` received. Knobs, safe to set
from any thread: :meth:`rate_limit_next`, :meth:`fail_next`, :meth:`hang_next` (the answer is held until
``release`` is set or ``hang_seconds`` pass: a timeout for the client) and ``cut_next`` (the connection reset
before or after the post is taken).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from orderflow.testing.http_server import Answer, LocalHttpServer

DEFAULT_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


class FakeWebhook(LocalHttpServer):
    """Slack's incoming webhook at ``path`` (its last part is the token, as in a real webhook URL)."""

    def __init__(self, *, path: str = DEFAULT_PATH, hang_seconds: float = 10.0) -> None:
        super().__init__()
        self.thread_name = "fake-webhook"
        self.path = path
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._posts: list[dict[str, Any]] = []
        self._requests: list[tuple[str, str]] = []
        self._faults: list[Answer] = []
        self._hangs = 0

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._posts)

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    # --- knobs ---------------------------------------------------------------------------------------------

    def rate_limit_next(self, n: int, retry_after: int = 1) -> None:
        """The next ``n`` requests get ``429 rate_limited`` with ``Retry-After: retry_after``."""
        with self._lock:
            self._faults += [(429, b"rate_limited", {"Retry-After": str(retry_after)})] * n

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next ``n`` requests get ``status``."""
        with self._lock:
            self._faults += [(status, b"internal_error", {})] * n

    def hang_next(self, n: int) -> None:
        """The next ``n`` requests are held (see ``release``), then answered ``200 ok`` but not recorded."""
        with self._lock:
            self._hangs += n
            self.release.clear()

    # --- answering -----------------------------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        with self._lock:
            self._requests.append((method, target))
            hang, self._hangs = self._hangs > 0, max(0, self._hangs - 1)
            fault = self._faults.pop(0) if self._faults and not hang else None
        if hang:
            self.release.wait(self.hang_seconds)
            return _text(200, b"ok")
        if fault is not None:
            status, text, extra = fault
            return _text(status, text, extra)
        if target != self.path:
            return _text(404, b"no_service")
        if method != "POST":
            return _text(405, b"invalid_method")
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict) or not isinstance(document.get("text"), str):
            return _text(400, b"invalid_payload")
        with self._lock:
            self._posts.append(document)
        return _text(200, b"ok")


def _text(status: int, text: bytes, headers: Mapping[str, str] | None = None) -> Answer:
    return status, text, {**(headers or {}), "Content-Type": "text/plain; charset=utf-8"}
