"""The stand-in's state and lifecycle: :class:`StripeStandIn` holds every object, event and delivery, and
``start()`` serves :meth:`~.api.Api.handle` over HTTP and runs the webhook/expiry thread until ``stop()``.
"""
from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .api import Api
from .persistence import persist
from .webhooks import DEFAULT_RETRY_SECONDS

log = logging.getLogger("localrunner.stripe")

DEV_SECRET_KEY = "sk_test_eventonight_dev"
DEV_WEBHOOK_SECRET = "whsec_eventonight_dev"


class StripeStandIn(Api):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str = DEV_SECRET_KEY,
                 webhook_secret: str = DEV_WEBHOOK_SECRET, webhook_url: str | None = None,
                 webhook_headers: dict[str, str] | None = None,
                 retry_seconds: tuple[float, ...] = DEFAULT_RETRY_SECONDS, state_dir: Path | None = None):
        self.host, self.port = host, port
        self.state_dir = state_dir  # None: in memory; else loaded from and saved to there (.persistence)
        self._saver = None
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.webhook_url, self.webhook_headers = webhook_url, dict(webhook_headers or {})
        self.retry_seconds = retry_seconds
        self.sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}  # payment intent id -> {amount, refunded, currency}
        self.deliveries: list[dict[str, Any]] = []  # every webhook attempt: event id, type, attempt, status
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.fail_creates: int | bool = 0  # a number of session creations to fail with 500, or True for all
        self.api_delay_seconds = 0.0  # answer every API call (not the hosted page) this late: a slow or hung Stripe
        self._idempotency: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._queue: list[tuple[float, str, int]] = []  # (due, event id, attempt)
        self._wake = threading.Condition(self._lock)
        self._paused = False
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> StripeStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK
            # of the headers: 40 ms per call on a kept-alive connection (Stripe itself answers in one piece).
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):  # quiet
                log.debug(fmt, *args)

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if standin.api_delay_seconds and self.path.startswith("/v1/"):
                    time.sleep(standin.api_delay_seconds)
                status, headers, payload = standin.handle(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        if self.state_dir is not None:
            try:
                self._saver = persist(self, self.state_dir)  # once the url is known: sessions' pages point at it
            except BaseException:
                self._server.server_close()
                raise
        for target, name in ((self._server.serve_forever, "stripe-standin"), (self._deliver_loop, "stripe-webhooks")):
            thread = threading.Thread(target=target, daemon=True, name=name)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._saver is not None:
            self._saver.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
