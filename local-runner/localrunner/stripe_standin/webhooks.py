"""Events and their signed webhook delivery, as Stripe does it.

Every event is stored (``GET /v1/events/{id}``) and, when an endpoint is configured, delivered with a
``Stripe-Signature: t=..,v1=..`` header re-signed at each attempt, retried with backoff on any non-2xx answer or
network error (over days at Stripe; seconds here). The delivery thread also runs Stripe's clock: each round first
expires the sessions that are due. Mixed into :class:`~.server.StripeStandIn`, which owns the state.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from .wire import new_id

API_VERSION = "2026-10-28.endive"
DEFAULT_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # Stripe: up to 3 days, exponential; shortened for local runs


class Webhooks:
    """The event log, the delivery queue and the test controls over them (``resend``, ``pause_webhooks``)."""

    webhook_url: str | None
    webhook_headers: dict[str, str]
    webhook_secret: str
    retry_seconds: tuple[float, ...]
    events: dict[str, dict[str, Any]]
    deliveries: list[dict[str, Any]]
    _lock: threading.RLock
    _wake: threading.Condition
    _queue: list[tuple[float, str, int]]
    _paused: bool
    _stop: threading.Event

    def _expire_due(self) -> None:
        """Expire the sessions that are due; the resources layer (:mod:`.resources`) gives it its body."""

    def _emit(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {"id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                 "type": type_, "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}}
        with self._wake:
            self.events[event["id"]] = event
            if self.webhook_url:
                self._queue.append((time.monotonic(), event["id"], 1))
                self._wake.notify_all()
        return event

    def resend(self, event_id: str) -> None:
        """Deliver an event again, as Stripe's dashboard "Resend" (or an at-least-once duplicate) does."""
        with self._wake:
            self._queue.append((time.monotonic(), event_id, 1))
            self._wake.notify_all()

    def pause_webhooks(self, paused: bool = True) -> None:
        with self._wake:
            self._paused = paused
            self._wake.notify_all()

    def signed(self, event: dict[str, Any], *, timestamp: int | None = None,
               secret: str | None = None) -> tuple[bytes, str]:
        """The body and ``Stripe-Signature`` header of one delivery of ``event``."""
        import stripe

        payload = json.dumps(event, indent=2)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, secret or self.webhook_secret, timestamp=timestamp or int(time.time()))
        return payload.encode(), header

    def events_of(self, type_: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events.values() if e["type"] == type_]

    def _deliver_loop(self) -> None:
        import httpx

        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                self._expire_due()
                with self._wake:
                    due = sorted(self._queue)
                    if self._paused or not due or due[0][0] > time.monotonic():
                        wait = 0.2 if self._paused or not due else min(0.2, due[0][0] - time.monotonic())
                        self._wake.wait(max(wait, 0.01))
                        continue
                    item = due[0]
                    self._queue.remove(item)
                    event = self.events[item[1]]
                _, event_id, attempt = item
                body, signature = self.signed(event)
                try:
                    status = client.post(self.webhook_url, content=body, headers={
                        **self.webhook_headers, "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": signature, "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    }).status_code
                except httpx.HTTPError:
                    status = 0
                with self._wake:
                    self.deliveries.append({"event": event_id, "type": event["type"], "attempt": attempt,
                                            "status": status})
                    if not 200 <= status < 300 and attempt <= len(self.retry_seconds):
                        self._queue.append((time.monotonic() + self.retry_seconds[attempt - 1], event_id, attempt + 1))
