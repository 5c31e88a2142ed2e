"""HTTP to the functions, as the SPA calls them, with a client's patience: a retryable answer is retried with the
same Idempotency-Key until a deadline (the functions' contract makes that safe, docs/architecture.md §4).

Retried: 409 ``in_progress``/``busy``/``concurrent_update``, 429, 502, 503, 504 and refused connections; with
``settling=True`` also 404, for a call that needs another group's mirror to have caught up with an event (a like
needs the interactions group to have heard of the user and the event).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from .target import Target

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
RETRYABLE_CONFLICTS = frozenset({"in_progress", "busy", "concurrent_update", "cascade_retry"})
REPLAY_HEADER = "Idempotent-Replayed"
DEFAULT_PATIENCE_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool  # the function answered an earlier request with this key: nothing new was done

    @property
    def code(self) -> str | None:
        """The stable error code of an error answer (``runtime.errors.CATALOGUE``)."""
        return self.body.get("error") if isinstance(self.body, dict) else None

    def describe(self) -> str:
        message = self.body.get("message") if isinstance(self.body, dict) else str(self.body)[:200]
        return f"{self.status} {self.code or ''} {message or ''}".strip()


class FunctionsClient:
    def __init__(self, target: Target, *, patience_seconds: float = DEFAULT_PATIENCE_SECONDS,
                 timeout_seconds: float = 30.0):
        self.target = target
        self.patience_seconds = patience_seconds
        self.http = httpx.Client(timeout=timeout_seconds)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, group: str, path: str, *, token: str | None = None, key: str | None = None,
             json: Any = None, params: dict[str, Any] | None = None, settling: bool = False) -> Answer:
        base, headers = self.target.address(group)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + self.patience_seconds
        pause = 0.1
        while True:
            answer = self._send(method, base + path, headers, json, params)
            if answer is not None and not self._retryable(answer, settling):
                return answer
            if time.monotonic() + pause > deadline:
                if answer is None:
                    raise httpx.ConnectError(f"{base} refused every connection for {self.patience_seconds:.0f} s")
                return answer
            time.sleep(pause)
            pause = min(2.0, pause * 2)

    def _send(self, method, url, headers, json, params) -> Answer | None:
        try:
            response = self.http.request(method, url, headers=headers, json=json, params=params)
        except httpx.ConnectError:
            return None  # never received: retried like a 503
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        return Answer(response.status_code, body, response.headers.get(REPLAY_HEADER) == "true")

    @staticmethod
    def _retryable(answer: Answer, settling: bool) -> bool:
        return (answer.status in RETRYABLE_STATUSES
                or (answer.status == 409 and answer.code in RETRYABLE_CONFLICTS)
                or (settling and answer.status == 404))
