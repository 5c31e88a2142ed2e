"""The HTTP API under ``/v1`` as stripe-python calls it, plus the dispatch of every request the server receives.

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}`` (``expand[]=line_items``),
  ``GET /v1/checkout/sessions/{id}/line_items``, ``POST /v1/checkout/sessions/{id}/expire``;
- ``POST /v1/refunds``, ``GET /v1/refunds/{id}``; ``GET /v1/events/{id}``.

Bearer API-key check, and idempotency keys as Stripe's: the same key with the same parameters answers the first
response again (``Idempotent-Replayed: true``); with other parameters it is a 400 ``idempotency_error``; 5xx
answers are not stored. Mixed into :class:`~.server.StripeStandIn`, which owns the state.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .hosted import HostedPage
from .wire import StripeError, new_id, unflatten


class Api(HostedPage):
    """``handle(method, target, headers, body) -> (status, headers, body)``: routes to the hosted page or the API."""

    api_key: str
    requests: list[tuple[str, str]]
    _idempotency: dict[str, tuple[str, int, dict[str, Any]]]

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
            return status, {"Content-Type": "application/json", "Request-Id": new_id("req")}, json.dumps(out).encode()
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
