"""The gateway's proxy for ``notifications.<host>/socket.io/``: websockets and Engine.IO long-polling, across the
Socket.IO replicas, sticky by the Engine.IO session id.

A request without ``sid`` opens a session: it goes to the next live replica in turn, and for polling the
``sid`` of the open packet in the answer is remembered with that replica. Every later request of that session
(polls, posts, the websocket upgrade) goes to the same replica, as a load balancer with session affinity does;
once that replica is gone its sessions get 502 or a closed socket, and the client reconnects (a new session,
on a live replica). Upstream answers pass unchanged (Engine.IO sets its own CORS headers).
"""
from __future__ import annotations

import asyncio
import itertools
import json
from urllib.parse import parse_qs

from .gateway import read_body

HOP_BY_HOP = {"host", "date", "server", "connection", "upgrade", "keep-alive", "transfer-encoding", "content-length", "te",
              "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
              "sec-websocket-protocol"}
PATH = "/socket.io"


class SocketProxy:
    def __init__(self, replicas):
        self.replicas = replicas  # objects with .url and .alive
        self._owners: dict[str, object] = {}
        self._turn = itertools.count()
        self._session = None

    def handles(self, scope) -> bool:
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        return host.split(".")[0] == "notifications" and scope.get("path", "").startswith(PATH)

    def _pick(self, query: str):
        sid = (parse_qs(query).get("sid") or [None])[0]
        if sid is not None:
            return self._owners.get(sid), sid
        live = [r for r in self.replicas if r.alive] or self.replicas
        return live[next(self._turn) % len(live)], None

    def _client(self):
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90), auto_decompress=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __call__(self, scope, receive, send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        replica, sid = self._pick(query)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []
                   if k.decode("latin-1").lower() not in HOP_BY_HOP}
        target = f"{replica.url if replica else ''}{scope['path']}" + (f"?{query}" if query else "")
        if scope["type"] == "websocket":
            await self._websocket(replica, target, headers, receive, send)
        else:
            await self._http(replica, sid, scope["method"], target, headers, receive, send)

    async def _http(self, replica, sid, method, target, headers, receive, send) -> None:
        import aiohttp

        body = await read_body(receive)
        try:
            if replica is None:
                raise aiohttp.ClientConnectionError("unknown session")
            async with self._client().request(method, target, headers=headers, data=body) as answer:
                payload = await answer.read()
                status, out = answer.status, [(k.lower(), v) for k, v in answer.headers.items()
                                              if k.lower() not in HOP_BY_HOP]
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status, out, payload = 502, [("content-type", "application/json")], b'{"error":"bad_gateway"}'
        if sid is None and status == 200:
            self._remember(payload, replica)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out]})
        await send({"type": "http.response.body", "body": payload})

    def _remember(self, payload: bytes, replica) -> None:
        """The open packet ``0{"sid": ...}`` of a polling handshake names the session this replica holds."""
        text = payload.decode("utf-8", "replace")
        if text.startswith("0{"):
            try:
                self._owners[json.loads(text[1:].split("\x1e")[0])["sid"]] = replica
            except (ValueError, KeyError):
                pass

    async def _websocket(self, replica, target, headers, receive, send) -> None:
        import aiohttp

        if (await receive())["type"] != "websocket.connect":
            return
        try:
            if replica is None:
                raise aiohttp.ClientConnectionError("unknown session")
            upstream = await self._client().ws_connect(target.replace("http://", "ws://", 1), headers=headers,
                                                       autoping=False, max_msg_size=0)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            await send({"type": "websocket.close", "code": 1011})
            return
        await send({"type": "websocket.accept"})

        async def downstream():
            async for message in upstream:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await send({"type": "websocket.send", "text": message.data})
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await send({"type": "websocket.send", "bytes": message.data})
            await send({"type": "websocket.close", "code": 1000})

        async def upstream_side():
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await upstream.send_str(message["text"])
                elif message.get("bytes") is not None:
                    await upstream.send_bytes(message["bytes"])

        tasks = [asyncio.ensure_future(downstream()), asyncio.ensure_future(upstream_side())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except Exception:  # noqa: BLE001 - either side going away ends the relay
            pass
        finally:
            for task in tasks:
                task.cancel()
            await upstream.close()
