"""The invocation pipeline's key rules, through ``runtime.invoke.invoke`` against the store under test."""
import json

import pytest

from runtime.config import Config
from runtime.contract import Response, function, http
from runtime.invoke import RawHttp, invoke
from runtime.process import Runtime

RUNS: list[str] = []


@function("events-test-provider-keyed", http("POST", "/hook"),
          idempotency_key=lambda event, ctx: f"provider:{event.get_data()['id']}")
def provider_keyed(event, ctx):
    RUNS.append(event.get_data()["id"])
    return Response(200, {"handled": event.get_data()["id"]})


@pytest.fixture
def runtime(mongo_uri, mongo_db, mongo_client):
    """A runtime whose group databases are this test's own (``<test db>_events``), dropped afterwards."""
    RUNS.clear()
    yield Runtime(Config({"MONGO_URI": mongo_uri, "AMQP_URL": "memory://none", "DATABASE_PREFIX": f"{mongo_db.name}_"}))
    mongo_client.drop_database(f"{mongo_db.name}_events")


def post(runtime, body, **headers):
    return invoke(provider_keyed, RawHttp("POST", "/hook", {"content-type": "application/json", **headers}, "",
                                          json.dumps(body).encode()), runtime)


def test_a_declared_key_replaces_the_transport_key(runtime):
    import uuid

    delivery = str(uuid.uuid4())
    first = post(runtime, {"id": delivery}, **{"Idempotency-Key": "a"})
    second = post(runtime, {"id": delivery}, **{"Idempotency-Key": "b"})  # a redelivery with another request id

    assert first.status == second.status == 200 and RUNS == [delivery]
    assert second.headers["Idempotent-Replayed"] == "true"


def test_without_any_key_each_http_request_is_its_own_invocation(runtime):
    @function("events-test-unkeyed", http("POST", "/plain"))
    def unkeyed(event, ctx):
        RUNS.append(ctx.key)
        return Response(200)

    for _ in range(2):
        invoke(unkeyed, RawHttp("POST", "/plain", {}, "", b""), runtime)

    assert len(RUNS) == 2 and RUNS[0] != RUNS[1]  # a fresh key each: nothing is silently skipped


def test_an_oversized_idempotency_key_is_a_400(runtime):
    response = post(runtime, {"id": "x"}, **{"Idempotency-Key": "k" * 300})

    assert response.status == 400 and response.body["error"] == "invalid_idempotency_key" and RUNS == []
