"""Keycloak's two error shapes, raised anywhere in the provider and answered by one Starlette exception handler.

The OAuth endpoints answer ``{"error", "error_description"}``; the admin API answers ``{"errorMessage"}`` or a
raw body. Kept apart so every role (accounts, tokens, endpoints) can raise them without importing each other.
"""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class OAuthError(Exception):
    """Answered in Keycloak's OAuth shape ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, self.status)


class AdminError(Exception):
    """Answered as the admin API does: ``{"errorMessage": ...}`` or a raw body."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(str(body))
        self.status, self.body = status, body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, self.status)
