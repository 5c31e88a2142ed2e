"""Stripe's wire format as stripe-python sends and reads it: object ids, form-encoded bracket params
(``a[b][0][c]=v``) and the ``{"error": {...}}`` envelope. Shared by the API and the hosted page; no state.
"""
from __future__ import annotations

import re
import secrets
from typing import Any


def new_id(prefix: str) -> str:
    """A test-mode object id, e.g. ``cs_test_…``."""
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
