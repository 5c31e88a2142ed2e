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


class Recorder:
    """A broker that confirms everything it is given (registered for ``recording://`` URLs)."""

    sent: list = []

    def __init__(self, url, exchange):
        pass

    def publish(self, message):
        Recorder.sent.append(message)


@function("events-test-query", http("GET", "/q"))
def a_query(event, ctx):
    return Response(200, {"ok": True})


@function("events-test-emitter", http("POST", "/emit"), emits=["event.deleted"])
def an_emitter(event, ctx):
    from runtime import Emit

    return ctx.commit("things", {"_id": ctx.derived_id()}, {"$set": {"x": 1}}, upsert=True, reply=Response(201),
                      emit=[Emit("event.deleted", {"eventId": "e1"})])


def test_events_leave_at_once_whichever_function_of_the_group_ran_first(mongo_uri, mongo_db, mongo_client):
    """Bug: the first function of a group to touch the store decided its publisher; a query first meant no
    publisher, so every commit's events waited for the relay."""
    from runtime.broker import register_transport

    register_transport("recording", Recorder)
    Recorder.sent.clear()
    runtime = Runtime(Config({"MONGO_URI": mongo_uri, "AMQP_URL": "recording://x", "DATABASE_PREFIX": f"{mongo_db.name}_",
                              "SECRET_EVENT_SIGNING_KEYS": "test:" + "k" * 32}))
    try:
        assert invoke(a_query, RawHttp("GET", "/q", {}, "", b""), runtime).status == 200
        response = invoke(an_emitter, RawHttp("POST", "/emit", {"Idempotency-Key": "once"}, "", b""), runtime)

        assert response.status == 201
        assert [m.routing_key for m in Recorder.sent] == ["event.deleted"]  # published by the invocation itself
    finally:
        mongo_client.drop_database(f"{mongo_db.name}_events")


@function("events-test-store-dies", http("POST", "/dies"))
def store_dies(event, ctx):
    from pymongo.errors import AutoReconnect

    raise AutoReconnect("the primary stepped down")


def test_a_store_outage_after_the_claim_is_recorded_as_the_503_the_caller_got(runtime, mongo_db):
    response = invoke(store_dies, RawHttp("POST", "/dies", {"Idempotency-Key": "k"}, "", b""), runtime)

    record = runtime.store(store_dies).db["idempotency"].find_one({"_id": "events-test-store-dies:k"})
    assert response.status == 503 and response.body["error"] == "unavailable"
    assert record["status"] == "FAILED" and record["error"]["status"] == 503 and record["error"]["error"] == "unavailable"
