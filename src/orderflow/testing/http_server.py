"""A real HTTP server on 127.0.0.1, answering from a background thread: the base of every fake remote.

Subclasses implement :meth:`LocalHttpServer.respond`; the server is a context manager with ``url`` set once
started. ``release`` is an event an answer may wait on (an answer held back, added latency); stopping the
server sets it, so no handler outlives the server for long.

Every such server can also break its answers on purpose with :meth:`LocalHttpServer.cut_next`: the
connection is reset before the request is handled (``drop``: it never took effect), or the request is handled
as usual (an order posted is created) and then the connection is reset before a byte of the answer goes back
(``reset``), or the answer arrives as a complete HTTP reply whose body stops half way (``truncate``: JSON cut
off).
"""

from __future__ import annotations

import functools
import socket
import struct
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

Answer = tuple[int, bytes, dict[str, str]]  # status, body, headers
Cut = Literal["drop", "reset", "truncate"]


class LocalHttpServer:
    thread_name = "local-http"

    def __init__(self) -> None:
        self.url = ""
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cut_lock = threading.Lock()
        self._cuts: tuple[Cut, int] = ("reset", 0)

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request (header names lower-case); called from a handler thread."""
        raise NotImplementedError

    def cut_next(self, n: int, how: Cut = "reset") -> None:
        """The next ``n`` requests are cut as ``how`` says (``drop``: the connection is reset unanswered and the
        request never handled; ``reset``: handled, then reset before any byte of the answer; ``truncate``:
        handled, and answered with only the first half of the body). Replaces any cut still queued;
        ``cut_next(0)`` cancels them.
        """
        with self._cut_lock:
            self._cuts = (how, n)

    def take_cut(self) -> Cut | None:
        """How to cut the request just received, if at all (called by the handler, once per request)."""
        with self._cut_lock:
            how, left = self._cuts
            if left <= 0:
                return None
            self._cuts = (how, left - 1)
            return how

    def start(self) -> Self:
        self.release.clear()
        self._server = _QuietServer(("127.0.0.1", 0), functools.partial(_Handler, owner=self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    __enter__ = start

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a timeout, an answer it stopped reading) is normal for a real server, which
    says nothing to the client about it; the standard server prints a traceback to stderr, which in a test
    that runs a command in this process would read as the command's own output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the real APIs speak it (a new connection per call would make clients look slow), with
    # Nagle off so small answers are not held back waiting for the client's delayed ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def __init__(self, *args: Any, owner: LocalHttpServer) -> None:
        self.owner = owner  # set first: the base class handles the request inside __init__
        super().__init__(*args)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        cut = self.owner.take_cut()
        if cut == "drop":
            self._reset()
            return
        status, payload, reply_headers = self.owner.respond(self.command, self.path, headers, body)
        if cut == "reset":
            self._reset()
            return
        if cut == "truncate":
            payload = payload[:len(payload) // 2]
        try:
            self.send_response(status)
            for name, value in {**reply_headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client stopped waiting (it timed out first): nobody is left to answer

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel answers with a TCP RST, as a crashed server or a proxy would."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the fake's own counters and logs instead of stderr."""


def free_loopback_port() -> int:
    """A port on 127.0.0.1 free right now, for servers that cannot be started on port 0 (sshd, aiosmtpd)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
