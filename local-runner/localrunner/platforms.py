"""How each platform calls a function, reproduced in-process from the platforms' contracts (platforms.md).

- ``openfaas``: the ``python3-http`` template's ``handle(event, context)``; broker deliveries as the RabbitMQ
  connectors make them (the message body posted with ``X-Topic``, ``X-Msg-Id``, ``X-Connector``, text/plain);
  cron ticks as the cron-connector's empty POST.
- ``knative``: func-python's ASGI instance from ``new()``; broker deliveries as the RabbitMQ broker's dispatcher
  makes them (binary-mode CloudEvent, ``Prefer: reply``); ticks as a PingSource's CloudEvent.

Both answer ``(status, headers, body)``; nothing here knows what a function does.
"""
from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from runtime import entry_points, envelope
from runtime.envelope import AmqpMessage

Reply = tuple[int, dict[str, str], bytes]


class MultiDict(dict):
    """The bit of werkzeug's MultiDict the template's ``event.query`` offers: ``getlist``."""

    def __init__(self, pairs):
        super().__init__()
        self._lists: dict[str, list[str]] = {}
        for k, v in pairs:
            self._lists.setdefault(k, []).append(v)
            self[k] = self._lists[k][0]

    def getlist(self, key):
        return list(self._lists.get(key, []))


@dataclass
class OpenFaaSEvent:
    """python3-http's ``Event``: body (bytes), headers, method, query, path."""

    body: bytes
    headers: dict[str, str]
    method: str
    query: MultiDict
    path: str


@dataclass
class OpenFaaSContext:
    hostname: str = field(default_factory=socket.gethostname)


class OpenFaaS:
    name = "openfaas"

    def call_http(self, spec, method: str, path: str, query_string: str, headers: dict[str, str],
                  body: bytes) -> Reply:
        event = OpenFaaSEvent(body, headers, method, MultiDict(parse_qsl(query_string, keep_blank_values=True)), path)
        handle, _ = entry_points(spec)  # what the function's module exports as handle
        result = handle(event, OpenFaaSContext())
        if isinstance(result, tuple):  # (bytes, status, headers), passed to Flask unchanged by the template
            payload, status, out_headers = result
            return status, dict(out_headers), payload
        body_out = result.get("body", "")
        if isinstance(body_out, dict):
            body_out = json.dumps(body_out)
        return result.get("statusCode", 200), dict(result.get("headers") or {}), str(body_out).encode()

    def deliver(self, spec, message: AmqpMessage) -> Reply:
        headers = {"Content-Type": "text/plain", "X-Topic": message.routing_key, "X-Msg-Id": message.message_id,
                   "X-Connector": "connector-sdk"}
        return self.call_http(spec, "POST", "/", "", headers, message.body)

    def tick(self, spec, event) -> Reply:
        return self.call_http(spec, "POST", "/", "", {"X-Connector": "cron-connector"}, b"")


class Knative:
    name = "knative"

    def __init__(self):
        self._instances: dict[str, object] = {}

    def _instance(self, spec):
        if spec.name not in self._instances:
            _, new = entry_points(spec)  # what the function's module exports as new
            instance = new()
            instance.start({})
            self._instances[spec.name] = instance
        return self._instances[spec.name]

    def call_http(self, spec, method: str, path: str, query_string: str, headers: dict[str, str],
                  body: bytes) -> Reply:
        return asyncio.run(self.call_http_async(spec, method, path, query_string, headers, body))

    async def call_http_async(self, spec, method, path, query_string, headers, body) -> Reply:
        scope = {"type": "http", "method": method, "path": path, "query_string": query_string.encode("latin-1"),
                 "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
        sent = {"status": 500, "headers": {}, "body": bytearray()}
        delivered = False

        async def receive():
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["headers"] = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                sent["body"] += message.get("body", b"")

        await self._instance(spec).handle(scope, receive, send)
        return sent["status"], sent["headers"], bytes(sent["body"])

    def deliver(self, spec, message: AmqpMessage) -> Reply:
        event = envelope.from_amqp(message.body, message.content_type, message.headers)
        headers, body = envelope.to_http_binary(event)
        return self.call_http(spec, "POST", "/", "", {**headers, "Prefer": "reply"}, body)

    def tick(self, spec, event) -> Reply:
        headers, body = envelope.to_http_binary(event)
        return self.call_http(spec, "POST", "/", "", headers, body)


def platform(name: str):
    return {"openfaas": OpenFaaS, "knative": Knative}[name]()
