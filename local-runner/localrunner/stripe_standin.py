"""A Stripe stand-in for the endpoints ticketing uses, driven through the real ``stripe`` library.

No registry ships a fake with Checkout Sessions (shared docs/standins.md §1), so this one is ours. It speaks
Stripe's wire format as stripe-python 16.1.0 sends and reads it (form-encoded bracket params, ``Idempotency-Key``,
the ``{"error": {...}}`` envelope), for:

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}`` (``expand[]=line_items``),
  ``GET /v1/checkout/sessions/{id}/line_items``, ``POST /v1/checkout/sessions/{id}/expire``;
- ``POST /v1/refunds``, ``GET /v1/refunds/{id}``; ``GET /v1/events/{id}``;
- the hosted page at the session's ``url`` with "Pay" and "Cancel", redirecting (303) to the success and cancel
  URLs as Checkout does;
- sessions expiring at their ``expires_at`` (``checkout.session.expired``), as Stripe's own clock does;
- signed webhook delivery (``Stripe-Signature: t=..,v1=..``, re-signed at each attempt) to one endpoint, retried
  with backoff on any non-2xx answer or network error, as Stripe does (over days there; seconds here).

Idempotency keys behave as Stripe's: the same key with the same parameters answers the first response again
(``Idempotent-Replayed: true``); with other parameters it is a 400 ``idempotency_error``.

Test controls are plain methods (the tests hold the object): ``fail_creates``, ``pay``, ``expire_now``,
``deliveries``, ``resend``, ``pause_webhooks``.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("localrunner.stripe")

DEV_SECRET_KEY = "sk_test_eventonight_dev"
DEV_WEBHOOK_SECRET = "whsec_eventonight_dev"
API_VERSION = "2026-10-28.endive"
DEFAULT_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # Stripe: up to 3 days, exponential; shortened for local runs


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` form fields into nested dicts and lists, as Stripe reads them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        if key.endswith("[]"):
            parts.append("")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: Any = value if last else ([] if (parts[i + 1].isdigit() or parts[i + 1] == "") else {})
            if isinstance(node, list):
                index = len(node) if part == "" else int(part)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None or last:
                    node[index] = nxt
                node = node[index]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return root


class StripeError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code

    def body(self) -> dict[str, Any]:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        return {"error": error}


class StripeStandIn:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str = DEV_SECRET_KEY,
                 webhook_secret: str = DEV_WEBHOOK_SECRET, webhook_url: str | None = None,
                 webhook_headers: dict[str, str] | None = None,
                 retry_seconds: tuple[float, ...] = DEFAULT_RETRY_SECONDS):
        self.host, self.port = host, port
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
        self._idempotency: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._queue: list[tuple[float, str, int]] = []  # (due, event id, attempt)
        self._wake = threading.Condition(self._lock)
        self._paused = False
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> StripeStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet
                log.debug(fmt, *args)

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
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

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes):
        split = urlsplit(target)
        path, query = split.path, unflatten(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            if path.startswith("/c/pay/"):
                return self._hosted(method, path, body)
            if headers.get("authorization") != f"Bearer {self.api_key}":
                raise StripeError(401, "Invalid API Key provided.")
            params = unflatten(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
            with self._lock:
                self.requests.append((method, path))
            key = headers.get("idempotency-key")
            if method == "POST" and key:
                return self._idempotent(key, method, path, params)
            status, out = self._api(method, path, {**query, **params})
            return status, {"Content-Type": "application/json", "Request-Id": _id("req")}, json.dumps(out).encode()
        except StripeError as error:
            return error.status, {"Content-Type": "application/json"}, json.dumps(error.body()).encode()

    def _idempotent(self, key: str, method: str, path: str, params: dict[str, Any]):
        fingerprint = hashlib.sha256(json.dumps([method, path, params], sort_keys=True).encode()).hexdigest()
        with self._lock:
            seen = self._idempotency.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters "
                                      "they were first used with.", "idempotency_error")
                return seen[1], {"Content-Type": "application/json", "Idempotent-Replayed": "true"}, \
                    json.dumps(seen[2]).encode()
        try:
            status, out = self._api(method, path, params)
        except StripeError as error:
            if error.status >= 500:  # Stripe does not store 5xx answers: a retry with the key runs again
                raise
            status, out = error.status, error.body()
        with self._lock:
            self._idempotency.setdefault(key, (fingerprint, status, out))
            status, out = self._idempotency[key][1], self._idempotency[key][2]
        return status, {"Content-Type": "application/json"}, json.dumps(out).encode()

    def _api(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["v1", "checkout", "sessions"]:
            if len(parts) == 3 and method == "POST":
                return 200, self.create_session(params)
            if len(parts) == 4 and method == "GET":
                session = self._session(parts[3])
                out = dict(session)
                if "line_items" in (params.get("expand") or []):
                    out["line_items"] = self._line_items_list(parts[3])
                return 200, out
            if len(parts) == 5 and parts[4] == "line_items" and method == "GET":
                self._session(parts[3])
                return 200, self._line_items_list(parts[3])
            if len(parts) == 5 and parts[4] == "expire" and method == "POST":
                return 200, self.expire(parts[3])
        if parts[:2] == ["v1", "refunds"]:
            if len(parts) == 2 and method == "POST":
                return 200, self.create_refund(params)
            if len(parts) == 3 and method == "GET":
                with self._lock:
                    if parts[2] not in self.refunds:
                        raise StripeError(404, f"No such refund: '{parts[2]}'", code="resource_missing")
                    return 200, self.refunds[parts[2]]
        if parts[:2] == ["v1", "events"] and len(parts) == 3 and method == "GET":
            with self._lock:
                if parts[2] not in self.events:
                    raise StripeError(404, f"No such event: '{parts[2]}'", code="resource_missing")
                return 200, self.events[parts[2]]
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    # -- resources -----------------------------------------------------------------------------------------------
    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self.fail_creates:
                if self.fail_creates is not True:
                    self.fail_creates -= 1
                raise StripeError(500, "An unknown error occurred (stand-in failure injection).", "api_error")
        missing = [name for name in ("success_url", "line_items") if not params.get(name)]
        if params.get("mode") != "payment":
            missing.append("mode")
        if missing:
            raise StripeError(400, f"Missing required param: {missing[0]}.", code="parameter_missing")
        now = int(time.time())
        session_id = _id("cs")
        items, total, currency = [], 0, None
        for index, item in enumerate(params["line_items"]):
            data = item.get("price_data") or {}
            try:
                unit, quantity = int(data["unit_amount"]), int(item["quantity"])
                currency = data["currency"].lower()
                name = data["product_data"]["name"]
            except (KeyError, TypeError, ValueError):
                raise StripeError(400, f"Invalid line_items[{index}]: price_data with currency, unit_amount and "
                                  "product_data.name, and a quantity are required.", code="parameter_invalid_integer")
            total += unit * quantity
            items.append({"id": _id("li"), "object": "item", "description": name, "quantity": quantity,
                          "amount_subtotal": unit * quantity, "amount_total": unit * quantity, "currency": currency,
                          "price": {"id": _id("price"), "object": "price", "unit_amount": unit, "currency": currency,
                                    "product": _id("prod"), "type": "one_time"}})
        expires_at = int(params.get("expires_at") or now + 24 * 3600)
        session = {"id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                   "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total, "currency": currency,
                   "metadata": params.get("metadata") or {}, "client_reference_id": params.get("client_reference_id"),
                   "customer_email": params.get("customer_email"), "created": now, "expires_at": expires_at,
                   "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
                   "custom_text": params.get("custom_text"), "payment_intent": None, "livemode": False,
                   "url": f"{self.url}/c/pay/{session_id}"}
        with self._lock:
            self.sessions[session_id] = session
            self.line_items[session_id] = items
        return session

    def _session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise StripeError(404, f"No such checkout.session: '{session_id}'", code="resource_missing")
            return session

    def _line_items_list(self, session_id: str) -> dict[str, Any]:
        return {"object": "list", "data": list(self.line_items.get(session_id, [])), "has_more": False,
                "url": f"/v1/checkout/sessions/{session_id}/line_items"}

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeError(400, "Only Checkout Sessions with a status in [open] can be expired.")
            session["status"] = "expired"
            self._emit("checkout.session.expired", dict(session))
            return dict(session)

    def expire_now(self, session_id: str) -> dict[str, Any]:
        """What Stripe does at ``expires_at`` (tests call it instead of waiting 30 minutes)."""
        return self.expire(session_id)

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays on the hosted page: the session completes and ``checkout.session.completed`` goes out."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open" or session["expires_at"] < time.time():
                raise StripeError(400, "This Checkout Session is no longer active.")
            intent = _id("pi")
            session.update(status="complete", payment_status="paid", payment_intent=intent)
            self.charges[intent] = {"amount": session["amount_total"], "refunded": 0, "currency": session["currency"]}
            self._emit("checkout.session.completed", dict(session))
            return dict(session)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = params.get("payment_intent")
        with self._lock:
            charge = self.charges.get(intent or "")
            if charge is None:
                raise StripeError(400, f"No such payment_intent: '{intent}'", code="resource_missing")
            amount = int(params.get("amount") or charge["amount"] - charge["refunded"])
            if charge["refunded"] >= charge["amount"]:
                raise StripeError(400, f"Charge for payment intent {intent} has already been refunded.",
                                  code="charge_already_refunded")
            if amount <= 0 or charge["refunded"] + amount > charge["amount"]:
                raise StripeError(400, "Refund amount is greater than the unrefunded amount.", code="amount_too_large")
            charge["refunded"] += amount
            refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
                      "payment_intent": intent, "status": "succeeded", "metadata": params.get("metadata") or {},
                      "created": int(time.time())}
            self.refunds[refund["id"]] = refund
            self._emit("charge.refunded", {"object": "charge", "id": _id("ch"), "payment_intent": intent,
                                           "amount_refunded": charge["refunded"], "refunded": True})
            return refund

    # -- hosted page ---------------------------------------------------------------------------------------------
    def _hosted(self, method: str, path: str, body: bytes):
        parts = [p for p in path.split("/") if p]  # c, pay, <id>[, pay|cancel]
        session_id = parts[2] if len(parts) > 2 else ""
        try:
            session = self._session(session_id)
        except StripeError:
            return 404, {"Content-Type": "text/html"}, b"<h1>Checkout Session not found</h1>"
        action = parts[3] if len(parts) > 3 else None
        if method == "GET" and action is None:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self._page(session).encode()
        if method == "POST" and action == "pay":
            try:
                session = self.pay(session_id)
            except StripeError as error:
                return 400, {"Content-Type": "text/html"}, f"<h1>{html.escape(error.message)}</h1>".encode()
            return 303, {"Location": session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)}, b""
        if method == "POST" and action == "cancel":  # Checkout's back link: the session stays open
            target = (session.get("cancel_url") or session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
            return 303, {"Location": target}, b""
        return 405, {"Content-Type": "text/html"}, b"<h1>Method not allowed</h1>"

    def _page(self, session: dict[str, Any]) -> str:
        rows = "".join(f"<li>{html.escape(i['description'])} &times; {i['quantity']}: "
                       f"{i['amount_total'] / 100:.2f} {i['currency'].upper()}</li>"
                       for i in self.line_items.get(session["id"], []))
        message = ((session.get("custom_text") or {}).get("submit") or {}).get("message") or ""
        state = "" if session["status"] == "open" else f"<p>This session is {session['status']}.</p>"
        return (f"<!doctype html><html><head><title>Checkout</title></head><body><h1>Checkout (test mode)</h1>"
                f"<p>{html.escape(message)}</p><ul>{rows}</ul>"
                f"<p>Total: {session['amount_total'] / 100:.2f} {(session['currency'] or '').upper()}</p>{state}"
                f"<form method='post' action='/c/pay/{session['id']}/pay'><button name='pay'>Pay</button></form>"
                f"<form method='post' action='/c/pay/{session['id']}/cancel'><button name='cancel'>Cancel</button>"
                f"</form></body></html>")

    # -- events and webhooks -------------------------------------------------------------------------------------
    def _emit(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {"id": _id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
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

    def _expire_due(self) -> None:
        """Stripe expires open sessions at their ``expires_at`` and says so with ``checkout.session.expired``."""
        now = time.time()
        with self._lock:
            due = [sid for sid, s in self.sessions.items() if s["status"] == "open" and s["expires_at"] <= now]
        for session_id in due:
            try:
                self.expire(session_id)
            except StripeError:
                pass

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
