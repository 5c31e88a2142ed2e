"""The platform adapters in-process: OpenFaaS ``handle(event, context)`` and the Knative ``new()`` ASGI instance.

A stub runtime stands in for MongoDB: the functions here are queries (no ledger) and never touch ``ctx.db``.
"""
from __future__ import annotations

import json

import httpx
import pytest
from func_python.http import ASGIApplication

from runtime import entry_points
from runtime import process as process_module
from runtime.adapters import knative as knative_adapter
from runtime.config import Config
from runtime.contract import Response, function, http
from runtime.invoke import CORS_HEADERS
from runtime.process import Runtime

PDF = b"%PDF-1.7\n\x00\xff binary"


@function("users-echo", http("GET", "/echo/{thing}"))
def echo(event, ctx):
    return Response(200, {"query": dict(ctx.http.query), "thing": ctx.http.path_params["thing"],
                          "accept": ctx.http.header("Accept"), "size": len(ctx.http.body)})


@function("users-sink", http("POST", "/sink"), state_changing=False, max_body_bytes=knative_adapter.MAX_BODY_BYTES)
def sink(event, ctx):
    """Takes as much as an adapter reads at all, and says how much arrived."""
    return Response(200, {"size": len(ctx.http.body)})


@function("users-ticket-pdf", http("GET", "/ticket.pdf"))
def ticket_pdf(event, ctx):
    return Response(200, PDF, {"Content-Type": "application/pdf"})


echo_handle, echo_new = entry_points(echo)
pdf_handle, pdf_new = entry_points(ticket_pdf)
sink_handle, sink_new = entry_points(sink)


@pytest.fixture(autouse=True)
def offline_runtime(monkeypatch):
    """A runtime with no server behind it: these functions are queries that never touch the store."""
    monkeypatch.setattr(process_module, "_default", Runtime(Config(environ={})))


# ---- OpenFaaS python3-http: handle(event, context) ----------------------------------------------------------------

class MultiDict:
    """Flask's ``request.args`` (werkzeug ImmutableMultiDict): iterates unique keys, ``getlist`` gives all values."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __iter__(self):
        return iter(dict.fromkeys(k for k, _ in self.pairs))

    def __getitem__(self, key):
        return next(v for k, v in self.pairs if k == key)

    def items(self):
        return [(k, self[k]) for k in self]

    def getlist(self, key):
        return [v for k, v in self.pairs if k == key]


class Event:
    def __init__(self, method="GET", path="/", query=None, headers=None, body=b""):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers or {}, body


class Context:
    hostname = "test-pod"


def test_openfaas_keeps_repeated_query_keys():
    query = MultiDict([("tag", "rock"), ("q", "a b"), ("tag", "jazz"), ("empty", "")])
    answer = echo_handle(Event(path="/echo/x", query=query, headers={"Accept": "application/json"}), Context())
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "application/json"
    assert isinstance(answer["body"], str)  # the template str()s anything but a dict
    body = json.loads(answer["body"])
    assert body["query"] == {"tag": ["rock", "jazz"], "q": ["a b"], "empty": [""]}
    assert body["thing"] == "x" and body["accept"] == "application/json"


def test_openfaas_accepts_a_plain_dict_query_and_no_query():
    answer = echo_handle(Event(path="/echo/y", query={"q": "1"}), Context())
    assert json.loads(answer["body"])["query"] == {"q": ["1"]}
    answer = echo_handle(Event(path="/echo/y", query=None), Context())
    assert json.loads(answer["body"])["query"] == {}


def test_openfaas_bytes_body_comes_back_as_the_tuple():
    answer = pdf_handle(Event(path="/ticket.pdf"), Context())
    assert isinstance(answer, tuple)
    body, status, headers = answer
    assert (body, status) == (PDF, 200)
    assert headers == {"Content-Type": "application/pdf"}


def test_openfaas_errors_are_the_json_shape():
    answer = echo_handle(Event(method="POST", path="/echo/x"), Context())
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"] == "not_found"


# ---- Knative func-python: the new() ASGI instance ---------------------------------------------------------------

def http_scope(method="GET", path="/", headers=(), query_string=b""):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query_string, "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers], "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 50000)}


async def call(instance, scope, chunks=(b"",)):
    """Call the instance with a hand-built scope; returns (status, headers, body, how many chunks were read)."""
    chunks = list(chunks)
    read = 0
    sent = []

    async def receive():
        nonlocal read
        read += 1
        body = chunks[read - 1]
        return {"type": "http.request", "body": body, "more_body": read < len(chunks)}

    async def send(message):
        sent.append(message)

    await instance.handle(scope, receive, send)
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in bodies), read


@pytest.mark.asyncio
async def test_knative_answers_a_preflight_with_cors():
    status, headers, body, _ = await call(echo_new(), http_scope("OPTIONS", "/echo/x", [
        ("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET")]))
    assert status == 204 and body == b""
    assert headers == {k.lower(): v for k, v in CORS_HEADERS.items()}


@pytest.mark.asyncio
async def test_knative_passes_query_path_and_headers():
    status, headers, body, _ = await call(echo_new(), http_scope(
        "GET", "/echo/z", [("Accept", "text/plain")], b"tag=a&tag=b"), [b"ab", b"cd"])
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"query": {"tag": ["a", "b"]}, "thing": "z", "accept": "text/plain",
                                "size": 0}  # a GET's body is never read


@pytest.mark.asyncio
async def test_knative_reads_a_body_sent_in_chunks():
    status, _, body, read = await call(sink_new(), http_scope("POST", "/sink"), [b"ab", b"cd"])
    assert (status, json.loads(body), read) == (200, {"size": 4}, 2)


@pytest.mark.asyncio
async def test_a_body_over_the_functions_own_limit_is_413_before_decoding():
    status, _, body, _ = await call(echo_new(), http_scope("GET", "/echo/x"), [b"x" * (256 * 1024 + 1)])
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"


@pytest.mark.asyncio
async def test_knative_refuses_a_body_over_10_mib(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("an oversized body must not reach the pipeline")

    monkeypatch.setattr(knative_adapter, "invoke", must_not_run)
    mib = b"x" * (1024 * 1024)
    chunks = [mib] * 12
    status, headers, body, read = await call(echo_new(), http_scope("GET", "/echo/x"), chunks)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == "payload_too_large"
    assert read == 11  # stops reading as soon as the limit is passed


@pytest.mark.asyncio
async def test_knative_accepts_exactly_10_mib():
    chunks = [b"x" * (1024 * 1024)] * 10
    status, _, body, _ = await call(sink_new(), http_scope("POST", "/sink"), chunks)
    assert status == 200, body
    assert json.loads(body)["size"] == knative_adapter.MAX_BODY_BYTES


@pytest.mark.asyncio
async def test_knative_bytes_body_is_sent_as_is():
    status, headers, body, _ = await call(pdf_new(), http_scope("GET", "/ticket.pdf"))
    assert (status, body, headers["content-type"]) == (200, PDF, "application/pdf")


@pytest.mark.asyncio
async def test_knative_instance_behind_func_python_application():
    """What knative_main serves: func-python's ASGIApplication around new(), over httpx's ASGI transport."""
    app = ASGIApplication(echo_new())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fn") as client:
        preflight = await client.options("/echo/x", headers={"Access-Control-Request-Method": "PUT"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert (await client.get("/health/readiness")).text == "ready"
        assert (await client.get("/health/liveness")).text == "alive"
        response = await client.get("/echo/q?tag=1&tag=2")
        assert response.status_code == 200
        assert response.json()["query"] == {"tag": ["1", "2"]}
        too_big = await client.post("/echo/q", content=b"x" * (knative_adapter.MAX_BODY_BYTES + 1))
        assert too_big.status_code == 413
