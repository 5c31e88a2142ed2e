"""How a ``Response`` goes on the wire, the same for every adapter."""
from __future__ import annotations

import json

from ..contract import Response

MAX_BODY_BYTES = 10 * 1024 * 1024  # what an adapter reads at all; each function declares a smaller limit


def encode_body(response: Response) -> tuple[bytes, dict[str, str]]:
    """The response body as bytes and the headers to send with it (JSON unless the function chose otherwise)."""
    headers = dict(response.headers)
    body = response.body
    if body is None:
        return b"", headers
    if isinstance(body, (bytes, bytearray)):
        headers.setdefault("Content-Type", "application/octet-stream")
        return bytes(body), headers
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body, default=str).encode(), headers
