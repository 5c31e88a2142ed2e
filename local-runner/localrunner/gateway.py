"""The HTTP gateway: routes ``<group>.<host>`` + method + path to a function, as the generated HTTPRoutes do.

Literal paths win over templated ones (``GET /health`` before ``GET /{userId}``), as Gateway API's Exact matches
take precedence over regular expressions. CORS as the reference's gateway: any origin; preflights answer 204.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from runtime.contract import HttpTrigger
from runtime.invoke import CORS_HEADERS


async def read_body(receive) -> bytes:
    """An ASGI request's whole body, however many messages it came in."""
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


def _not_found(message: str) -> tuple[int, dict[str, str], bytes]:
    return 404, {"Content-Type": "application/json"}, json.dumps({"error": "not_found", "message": message}).encode()


class Routes:
    def __init__(self, specs: Iterable):
        http_specs = [s for s in specs if isinstance(s.trigger, HttpTrigger)]
        # Literal routes first, then templated ones with more literal segments first.
        self._table = sorted(http_specs, key=lambda s: ("{" in s.trigger.path,
                                                         -s.trigger.path.count("/"), s.trigger.path))

    def match(self, group: str, method: str, path: str):
        for spec in self._table:
            if spec.group == group and spec.trigger.method == method and spec.trigger.pattern().match(path):
                return spec
        return None

def create_app(specs: Iterable, platform, socket_proxy=None):
    """A plain ASGI app (served by uvicorn): the gateway in front of every HTTP function, and in front of the
    Socket.IO service's replicas when ``socket_proxy`` is given (``localrunner.socketproxy``)."""
    routes = Routes(specs)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if socket_proxy is not None:
                        await socket_proxy.close()
                    if hasattr(platform, "close"):  # the worker pool's client
                        await platform.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if socket_proxy is not None and socket_proxy.handles(scope):
            await socket_proxy(scope, receive, send)
            return
        if scope["type"] == "websocket":  # no function speaks websocket
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").split(":")[0]
        group = host.split(".")[0]
        method, path = scope["method"], scope["path"]
        body = await read_body(receive)
        if method == "OPTIONS":
            status, out_headers, payload = 204, {}, b""
        else:
            spec = routes.match(group, method, path)
            if spec is None:
                status, out_headers, payload = _not_found(f"No function serves {method} {path} on {host}")
            elif hasattr(platform, "call_http_async"):
                status, out_headers, payload = await platform.call_http_async(
                    spec, method, path, scope.get("query_string", b"").decode("latin-1"), headers, body)
            else:
                status, out_headers, payload = await asyncio.to_thread(
                    platform.call_http, spec, method, path, scope.get("query_string", b"").decode("latin-1"),
                    headers, body)
        out = {**{k.lower(): v for k, v in out_headers.items()}, **{k.lower(): v for k, v in CORS_HEADERS.items()}}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in out.items()]})
        await send({"type": "http.response.body", "body": payload})

    return app
