"""The payment provider boundary: a Stripe client built from config and secrets, and its failures wrapped.

Production talks to Stripe with the ``stripe-secret-key`` secret; the local runner and the tests point the same
real ``stripe`` library at the stand-in with ``STRIPE_API_BASE``. The library retries network failures and 5xx
itself with the request's idempotency key (``STRIPE_MAX_NETWORK_RETRIES``), and every call here passes one.
"""
from __future__ import annotations

import threading
from typing import Any

from runtime import Unavailable

CONNECT_TIMEOUT_SECONDS = 3.0
DEFAULT_READ_TIMEOUT_SECONDS = 6  # well inside the functions' 10-20 s timeouts (STRIPE_READ_TIMEOUT_SECONDS)
_clients: dict[tuple[str, str, int, int], Any] = {}
_lock = threading.Lock()


class PaymentProviderError(Unavailable):
    """When Stripe cannot be reached or answers with a server error; nothing was charged by this call."""

    code = "payment_provider_unavailable"


class SessionMissing(Exception):
    """When Stripe no longer knows a Checkout Session (``resource_missing``): final, nobody can pay it any more."""


def client(config):
    """One pooled ``StripeClient`` per (key, base, retries, read timeout) and process."""
    import stripe

    key = config.secret("stripe-secret-key").reveal()
    base = config.get("STRIPE_API_BASE", "")
    retries = config.get_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    read_timeout = config.get_int("STRIPE_READ_TIMEOUT_SECONDS", DEFAULT_READ_TIMEOUT_SECONDS)
    with _lock:
        if (key, base, retries, read_timeout) not in _clients:
            kwargs: dict[str, Any] = {"base_addresses": {"api": base}} if base else {}
            timeout = (CONNECT_TIMEOUT_SECONDS, float(read_timeout))
            _clients[(key, base, retries, read_timeout)] = stripe.StripeClient(
                key, max_network_retries=retries, http_client=stripe.RequestsClient(timeout=timeout), **kwargs)
        return _clients[(key, base, retries, read_timeout)]


def create_session(config, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _call(lambda c: c.v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key}),
                 config)


def retrieve_session(config, session_id: str) -> dict[str, Any]:
    """The session; ``SessionMissing`` when Stripe does not know it."""
    import stripe

    try:
        return _call(lambda c: c.v1.checkout.sessions.retrieve(session_id), config, passthrough=True)
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "code", None) == "resource_missing":
            raise SessionMissing(session_id) from None
        raise PaymentProviderError("The payment provider refused the request.") from None


def expire_session(config, session_id: str) -> dict[str, Any] | None:
    """Expire an open session; ``None`` when Stripe refuses because it is no longer open (paid or expired), or
    does not know it (then ``retrieve_session`` says so)."""
    import stripe

    try:
        return _call(lambda c: c.v1.checkout.sessions.expire(session_id), config, passthrough=True)
    except stripe.InvalidRequestError:
        return None


def refund(config, payment_intent: str, idempotency_key: str, metadata: dict[str, str]) -> dict[str, Any]:
    """Refund a payment in full; an already refunded payment answers its refund state instead of failing."""
    import stripe

    try:
        return _call(lambda c: c.v1.refunds.create(params={"payment_intent": payment_intent, "metadata": metadata},
                                                   options={"idempotency_key": idempotency_key}),
                     config, passthrough=True)
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "code", None) == "charge_already_refunded":
            return {"id": None, "status": "succeeded", "already": True}
        raise PaymentProviderError(f"Stripe refused the refund: {exc.user_message}") from exc


def _call(action, config, passthrough: bool = False) -> dict[str, Any]:
    import stripe

    try:
        return action(client(config)).to_dict()
    except stripe.InvalidRequestError:
        if passthrough:
            raise
        raise PaymentProviderError("The payment provider refused the request.") from None
    except stripe.StripeError as exc:
        raise PaymentProviderError("The payment provider is unavailable; try again.") from exc
