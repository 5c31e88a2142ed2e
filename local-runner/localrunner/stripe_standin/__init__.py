"""A Stripe stand-in for the endpoints ticketing uses, driven through the real ``stripe`` library.

No registry ships a fake with Checkout Sessions (shared docs/standins.md §1), so this one is ours. It speaks
Stripe's wire format as stripe-python 16.1.0 sends and reads it (form-encoded bracket params, ``Idempotency-Key``,
the ``{"error": {...}}`` envelope). One module per role, each layer building on the one below:

* :mod:`.wire`: ids, bracket-param decoding and the error envelope.
* :mod:`.webhooks`: events and their signed delivery to one endpoint, retried with backoff as Stripe does.
* :mod:`.resources`: Checkout Sessions, payments, refunds, and sessions expiring at their ``expires_at``.
* :mod:`.hosted`: the hosted page at the session's ``url`` with "Pay" and "Cancel" (303 to the success/cancel URL).
* :mod:`.api`: the ``/v1`` HTTP API, API-key check and idempotency keys.
* :mod:`.server`: :class:`StripeStandIn`, the state and the HTTP server and delivery thread.
* :mod:`.persistence`: the state in a data directory (``state_dir``), loaded at start and kept up to date.

Test controls are plain methods (the tests hold the object): ``fail_creates``, ``pay``, ``expire_now``,
``deliveries``, ``resend``, ``pause_webhooks``.
"""
from __future__ import annotations

from .server import DEV_SECRET_KEY, DEV_WEBHOOK_SECRET, StripeStandIn
from .webhooks import API_VERSION, DEFAULT_RETRY_SECONDS
from .wire import StripeError, unflatten

__all__ = ["API_VERSION", "DEFAULT_RETRY_SECONDS", "DEV_SECRET_KEY", "DEV_WEBHOOK_SECRET", "StripeError",
           "StripeStandIn", "unflatten"]
