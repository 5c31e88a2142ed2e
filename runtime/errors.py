"""One error hierarchy, one catalogue of stable codes, one JSON error shape (design §3).

Every error a function answers with is a :class:`FunctionError` carrying a code from :data:`CATALOGUE`, the one
table that gives each code its HTTP status and default message (docs/architecture.md lists it; clients rely on
the codes). Statuses follow the Knative delivery table (platforms.md §3.3), which is what both platforms'
triggers act on: a broker delivery answered 404, 409, 429 or 5xx is retried with backoff; any other 4xx is final
and dead-lettered at once. Over HTTP the same statuses tell a client what a retry can achieve. The body is always::

    {"error": "<stable code>", "message": "<plain sentence>", "details": [{"field": "...", "message": "..."}]}

``details`` appears only when there are field-level problems; every bad field is listed at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Code:
    """A stable error code: the status it answers with and the message used when the raiser gives none."""

    status: int
    message: str


CATALOGUE: dict[str, Code] = {
    # -- the request cannot be read or breaks the contract (400: final) ------------------------------------------
    "bad_request": Code(400, "The request cannot be processed."),
    "invalid_input": Code(400, "The request has invalid fields."),
    "invalid_json": Code(400, "The request body is not valid JSON."),
    "missing_body": Code(400, "This request needs a body."),
    "invalid_multipart": Code(400, "The multipart/form-data body cannot be read."),
    "invalid_idempotency_key": Code(400, "Idempotency-Key must be 1-255 printable characters."),
    "invalid_key": Code(400, "That is not a valid object key."),
    "invalid_cloudevent": Code(400, "The request is not a CloudEvent."),
    "unexpected_event_type": Code(400, "This function does not handle events of that type."),
    "invalid_event": Code(400, "The event's data does not match its type's schema."),
    "missing_signature": Code(400, "The request carries no signature."),
    "invalid_signature": Code(400, "The request's signature does not verify."),
    "several_events": Code(400, "One checkout buys tickets of one event."),
    "event_not_on_sale": Code(400, "The event is not published: it sells no tickets."),
    "event_started": Code(400, "The event has started: it sells no more tickets."),
    # -- who is calling (401/403: final) -------------------------------------------------------------------------
    "unauthorized": Code(401, "Authentication is required."),
    "forbidden": Code(403, "You are not allowed to do this."),
    # -- what is addressed (404: retried by triggers, since a mirror may be behind) ------------------------------
    "not_found": Code(404, "The resource does not exist."),
    # -- the state refuses it (409: retried by triggers; a client re-reads first) --------------------------------
    "conflict": Code(409, "The request conflicts with the current state."),
    "in_progress": Code(409, "A request with this Idempotency-Key is still being processed; retry after Retry-After."),
    "lease_lost": Code(409, "A newer attempt took this invocation over; its result stands."),
    "concurrent_update": Code(409, "The resource kept changing concurrently; try again."),
    "cascade_retry": Code(409, "Related records changed during the cascade; it is retried."),
    "invalid_transition": Code(409, "The resource cannot move to that state from its current one."),
    "event_completed": Code(409, "The event is completed and can no longer change."),
    "event_closed": Code(409, "The event is not open for this any more."),
    "duplicate_type": Code(409, "The event already has a ticket type of that kind."),
    "has_sales": Code(409, "Tickets of this type were sold; it cannot be removed or reduced below the sales."),
    "sold_out": Code(409, "Not enough tickets are left."),
    "checkout_expired": Code(409, "The checkout session has expired."),
    "checkout_cancelled": Code(409, "The checkout session was cancelled."),
    "checkout_settled": Code(409, "The checkout session is already settled."),
    "ticket_not_active": Code(409, "The ticket is not active (already used or cancelled)."),
    "busy": Code(409, "The resource is changing too fast; retry after Retry-After."),
    # -- refused after reading it (422/413: final) ---------------------------------------------------------------
    "idempotency_key_reused": Code(422, "This Idempotency-Key was already used with a different request; use a new "
                                        "key for a new request."),
    "payload_too_large": Code(413, "The request body is too large."),
    # -- try again later (429/503: retried) ----------------------------------------------------------------------
    "too_many_requests": Code(429, "Too many requests; retry after Retry-After."),
    "pending_limit": Code(429, "You hold as many unpaid tickets for this event as one buyer may; pay or cancel first."),
    "unavailable": Code(503, "A dependency is unreachable; retry shortly."),
    "payment_provider_unavailable": Code(503, "The payment provider is unavailable; try again."),
    # -- a bug (500) ---------------------------------------------------------------------------------------------
    "internal": Code(500, "Internal error; it has been logged."),
}


class FunctionError(Exception):
    """Root of every error a function answers with. Leaves set a default ``code``; a raiser may name a more
    precise code of the same status from :data:`CATALOGUE`."""

    code = "internal"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: list[dict[str, str]] | None = None, retry_after_seconds: int | None = None):
        code = code or type(self).code
        entry = CATALOGUE.get(code)
        if entry is None or entry.status != CATALOGUE[type(self).code].status:
            raise TypeError(f"{type(self).__name__} cannot carry the code {code!r} (see runtime.errors.CATALOGUE)")
        self.code = code
        self.status = entry.status
        self.message = message or entry.message
        self.details = details or []
        self.retry_after_seconds = retry_after_seconds
        super().__init__(self.message)

    @property
    def retryable(self) -> bool:
        """Whether a broker trigger redelivers this answer (the Knative table; OpenFaaS' queue-worker agrees)."""
        return is_retryable_status(self.status)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)} if self.retry_after_seconds is not None else {}


class BadRequest(FunctionError):
    """When the request cannot be read or breaks a rule of the contract."""

    code = "bad_request"


class InvalidInput(BadRequest):
    """When one or more fields are missing, unknown or malformed (all are listed in ``details``)."""

    code = "invalid_input"


class Unauthorized(FunctionError):
    """When the caller is not authenticated (no, forged, expired or foreign token)."""

    code = "unauthorized"


class Forbidden(FunctionError):
    """When the caller is authenticated but not allowed to do this."""

    code = "forbidden"


class NotFound(FunctionError):
    """When the addressed resource does not exist (or is not visible to the caller)."""

    code = "not_found"


class Conflict(FunctionError):
    """When the request conflicts with the current state (duplicate, wrong lifecycle state, concurrent change)."""

    code = "conflict"


class InProgress(Conflict):
    """When another invocation with the same idempotency key is still running; retry after ``Retry-After``."""

    code = "in_progress"


class LeaseLost(Conflict):
    """When a worker's idempotency lease was taken over by a newer invocation; its result is discarded."""

    code = "lease_lost"


class PayloadMismatch(FunctionError):
    """When an idempotency key is reused with a different payload."""

    code = "idempotency_key_reused"


class PayloadTooLarge(FunctionError):
    """When a request body or one of its parts is over the size the function accepts."""

    code = "payload_too_large"


class TooManyRequests(FunctionError):
    """When the caller or a dependency must slow down; retry after ``Retry-After``."""

    code = "too_many_requests"


class Unavailable(FunctionError):
    """When a dependency (store, broker, identity provider, payment provider) is unreachable; retry later."""

    code = "unavailable"


class InternalError(FunctionError):
    """When the function hit a bug; the body reveals nothing, the log has the detail."""

    code = "internal"

    def body(self) -> dict[str, Any]:
        return {"error": "internal", "message": CATALOGUE["internal"].message}


def is_retryable_status(status: int) -> bool:
    """The Knative acknowledgement table (platforms.md §3.3): what a trigger redelivers."""
    return status in (404, 409, 429) or status >= 500 or not (200 <= status < 500)
