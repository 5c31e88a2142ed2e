"""One error hierarchy, one JSON error shape, one status-code mapping (design §3).

Every error a function can answer with is a leaf of :class:`FunctionError`. Its status follows the Knative
data-plane table, so platforms retry exactly what is worth retrying: 400/401/403/422 are final, 404/409/429/5xx
are retried by the broker triggers. The JSON body is always::

    {"error": "<stable code>", "message": "<plain sentence>", "details": [{"field": "...", "message": "..."}]}

``details`` appears only when there are field-level problems; every bad field is listed at once.
"""
from __future__ import annotations

from typing import Any


class FunctionError(Exception):
    """Root of every error a function answers with; a bare instance is a bug (500)."""

    status = 500
    code = "internal"
    retryable = True

    def __init__(self, message: str = "", *, details: list[dict[str, str]] | None = None,
                 retry_after_seconds: int | None = None, code: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details or []
        self.retry_after_seconds = retry_after_seconds
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)} if self.retry_after_seconds is not None else {}


class BadRequest(FunctionError):
    """When the request cannot be read or breaks a rule of the contract."""

    status, code, retryable = 400, "bad_request", False


class InvalidInput(BadRequest):
    """When one or more fields are missing, unknown or malformed (all are listed in ``details``)."""

    code = "invalid_input"


class Unauthorized(FunctionError):
    """When the caller is not authenticated (no, forged, expired or foreign token)."""

    status, code, retryable = 401, "unauthorized", False


class Forbidden(FunctionError):
    """When the caller is authenticated but not allowed to do this."""

    status, code, retryable = 403, "forbidden", False


class NotFound(FunctionError):
    """When the addressed resource does not exist."""

    status, code, retryable = 404, "not_found", False


class Conflict(FunctionError):
    """When the request conflicts with the current state (duplicate, wrong lifecycle state)."""

    status, code, retryable = 409, "conflict", False


class InProgress(Conflict):
    """When another invocation with the same idempotency key is still running; retry after ``Retry-After``."""

    code, retryable = "in_progress", True


class PayloadMismatch(FunctionError):
    """When an idempotency key is reused with a different payload."""

    status, code, retryable = 422, "idempotency_key_reused", False


class Unprocessable(FunctionError):
    """When the request is well formed but the domain refuses it."""

    status, code, retryable = 422, "unprocessable", False


class TooManyRequests(FunctionError):
    """When a dependency asks us to slow down; retry after ``Retry-After``."""

    status, code, retryable = 429, "too_many_requests", True


class Unavailable(FunctionError):
    """When a dependency (store, broker, identity provider, payment provider) is unreachable; retry later."""

    status, code, retryable = 503, "unavailable", True


class LeaseLost(FunctionError):
    """When a worker's idempotency lease was taken over by a newer invocation; its result is discarded."""

    status, code, retryable = 409, "lease_lost", True


class InternalError(FunctionError):
    """When the function hit a bug; the body reveals nothing, the log has the trace."""

    status, code, retryable = 500, "internal", True

    def body(self) -> dict[str, Any]:
        return {"error": "internal", "message": "Internal error; it has been logged."}


def is_retryable_status(status: int) -> bool:
    """The Knative acknowledgement table (platforms.md §3.3): what a trigger redelivers."""
    return status in (404, 409, 429) or status >= 500 or not (200 <= status < 500)
