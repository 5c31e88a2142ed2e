"""Knative func ``func-python`` entry point: ``new()`` returns an ASGI instance (platforms.md §1.2).

Served with the *http* middleware (``func_python.http.serve``), not the cloudevent one, so plain HTTP commands and
Stripe webhooks are accepted; CloudEvents arrive in binary or structured mode and are decoded by the pipeline.
The blocking pipeline (pymongo, pika) runs in a worker thread.
"""
from __future__ import annotations

import asyncio

from ..invoke import RawHttp, invoke
from ..process import default_runtime
from .encoding import MAX_BODY_BYTES, encode_body


class Function:
    def __init__(self, spec):
        self.spec = spec

    def start(self, cfg):  # lifespan start: warm the runtime (config, logging) once
        default_runtime()

    def stop(self):
        pass

    def alive(self):
        return True, "alive"

    def ready(self):
        return True, "ready"

    async def handle(self, scope, receive, send):
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _send(send, 413, b'{"error":"payload_too_large","message":"The body is too large."}',
                            {"Content-Type": "application/json"})
                return
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        raw = RawHttp(method=scope.get("method", "POST"), path=scope.get("path", "/"), headers=headers,
                      query_string=scope.get("query_string", b"").decode("latin-1"), body=bytes(body))
        response = await asyncio.to_thread(invoke, self.spec, raw)
        payload, out_headers = encode_body(response)
        await _send(send, response.status, payload, out_headers)


async def _send(send, status, body: bytes, headers: dict[str, str]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]})
    await send({"type": "http.response.body", "body": body})


def entry_point(spec):
    def new():
        return Function(spec)

    new.__qualname__ = f"new[{spec.name}]"
    return new
