"""Delivery guarantees over the real broker: duplicates and reordering, retries then dead letters, broker outages."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from integration_support import signed
from localrunner.bus import RabbitBus, wait_until
from localrunner.platforms import platform as make_platform
from runtime import envelope
from runtime.broker import Publisher
from runtime.contract import function, on_event
from runtime.errors import BadRequest, Unavailable
from runtime.idempotency import Ledger

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def user_event(event_type, user_id, sequence, name="Org", event_id=None):
    data = {"id": user_id} if event_type == "user.deleted" else {
        "id": user_id, "username": "org", "name": name, "email": "org@example.org",
        "avatar": "http://media.localhost/users/default.png", "bio": None, "interests": None, "language": "en",
        "role": "organization"}
    return envelope.new_event(event_type, "/functions/users-test", data, event_id=event_id or str(uuid.uuid4()),
                              extensions={"sequence": str(sequence)})


def handled(group_db, events):
    ledger = Ledger(group_db("events"))  # completed: its record says so, or its commit's receipt
    return all(ledger.answer("events-mirror-users", envelope.dedup_key(e)) is not None for e in events)


def test_duplicated_and_reordered_user_events_leave_one_current_mirror_record(platform, group_db):
    publisher = Publisher(AMQP_URL, platform.exchange)
    user_id = str(uuid.uuid4())
    created = user_event("user.created", user_id, 1, name="First name")
    updated = user_event("user.updated", user_id, 2, name="Second name")
    before = platform.answered("events-mirror-users")

    for event in (updated, created, created, updated, created):  # newest first, then duplicates
        publisher.publish(envelope.to_amqp(signed(platform.signing_keys, event)))

    assert wait_until(lambda: platform.answered("events-mirror-users") >= before + 5, timeout=15)  # all landed
    assert handled(group_db, [created, updated])
    mirror = list(group_db("events")["users"].find({"_id": user_id}))
    assert len(mirror) == 1
    assert mirror[0]["name"] == "Second name" and mirror[0]["_seq"] == 2 and mirror[0]["role"] == "organization"
    publisher.close_quietly()


def test_a_late_user_created_cannot_resurrect_a_deleted_user(platform, group_db):
    publisher = Publisher(AMQP_URL, platform.exchange)
    user_id = str(uuid.uuid4())
    deleted, created = user_event("user.deleted", user_id, 3), user_event("user.created", user_id, 1)

    publisher.publish(envelope.to_amqp(signed(platform.signing_keys, deleted)))
    assert wait_until(lambda: handled(group_db, [deleted]), timeout=15)
    publisher.publish(envelope.to_amqp(signed(platform.signing_keys, created)))
    assert wait_until(lambda: handled(group_db, [created]), timeout=15)

    mirror = group_db("events")["users"].find_one({"_id": user_id})
    assert mirror["deleted"] is True and "role" not in mirror
    publisher.close_quietly()


# ---- retries and dead letters, with functions that fail on purpose (declared here, never deployed) ------------

CALLS: dict[str, list[str]] = {}

@function("events-test-always-unavailable", on_event("event.completed"), state_changing=False)
def always_unavailable(event, ctx):
    CALLS["events-test-always-unavailable"].append(event.get_id())
    raise Unavailable("the dependency is down")


@function("events-test-rejects", on_event("event.completed"), state_changing=False)
def rejects(event, ctx):
    CALLS["events-test-rejects"].append(event.get_id())
    raise BadRequest("this event can never be handled")


@pytest.mark.parametrize("failing, attempts", [(always_unavailable, 4), (rejects, 1)])
def test_failing_deliveries_are_retried_with_backoff_then_dead_lettered(platform, failing, attempts):
    calls = CALLS.setdefault(failing.name, [])
    calls.clear()
    bus = RabbitBus(AMQP_URL, platform.exchange, backoff_ms=(50, 100, 200), retry_past_leases=False)
    bus.declare_all([failing])
    bus.purge(failing)  # start empty: the other test function's events are routed here too
    knative = make_platform("knative")
    bus.start([failing], lambda spec, message: knative.deliver(spec, message)[0])
    event = envelope.new_event("event.completed", "/functions/events-test", {"eventId": str(uuid.uuid4())})
    try:
        Publisher(AMQP_URL, platform.exchange).publish(envelope.to_amqp(signed(platform.signing_keys, event)))
        dead = []
        assert wait_until(lambda: dead.extend(bus.dead_letters(failing)) or dead, timeout=15)
    finally:
        bus.stop()
        bus.delete_all([failing], exchange=False)  # the module's platform still uses the exchange

    assert calls == [event.get_id()] * attempts  # first delivery + one per backoff step, or none for a 4xx
    assert len(dead) == 1 and json.loads(dead[0].body)["id"] == event.get_id()
    assert dead[0].headers["ce-knativeerrorcode"] in ("503", "400")


# ---- the broker goes away in the middle of a burst of commands -----------------------------------------------

def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.mark.chaos
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl to stop the local broker")
def test_broker_stopped_during_50_commands_loses_nothing_and_applies_nothing_twice(api, platform, group_db):
    import pika

    wire = f"{platform.exchange}.chaos-wire"
    setup = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = setup.channel()
    channel.queue_declare(wire, durable=True)  # durable: it must survive the outage, unlike an exclusive tap
    channel.queue_purge(wire)
    channel.queue_bind(wire, platform.exchange, routing_key="user.created")
    setup.close()

    users = [api.register() for _ in range(10)]
    rabbitmqctl("stop_app")
    try:
        users += [api.register() for _ in range(30)]  # committed; their events wait in the outbox
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    users += [api.register() for _ in range(10)]
    ids = {u["id"] for u in users}
    assert len(ids) == 50

    mirror = group_db("events")["users"]
    assert wait_until(lambda: mirror.count_documents({"_id": {"$in": list(ids)}}) == 50, timeout=60)
    seen = []
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not ids <= {json.loads(b)["data"]["id"] for b in seen}:
        method, _, body = channel.basic_get(wire, auto_ack=True)
        if method is None:
            connection.sleep(0.1)
        else:
            seen.append(body)
    channel.queue_delete(wire)
    connection.close()

    delivered = [json.loads(b)["data"]["id"] for b in seen]
    assert ids <= set(delivered)  # every event reached the broker
    docs = list(mirror.find({"_id": {"$in": list(ids)}}))
    assert len(docs) == 50 and all(d["_seq"] == 1 for d in docs)  # each applied once, none lost
    ledger = Ledger(group_db("events"))
    keys = {f"/functions/users-register#{json.loads(b)['id']}" for b in seen}
    assert sum(ledger.answer("events-mirror-users", key) is not None for key in keys) == 50
    pending = group_db("users")["users"].count_documents({"_id": {"$in": list(ids)}, "_outbox_pending": True})
    assert pending == 0
