"""``ops status``: the depth of each event function's queue and dead-letter queue, and each group's outbox lag,
read from RabbitMQ and MongoDB as they are; and a clear word instead of depths when the bus is in memory."""
import uuid
from datetime import timedelta

import pytest

from integration_support import Broker
from localrunner.bus import RabbitBus, wait_until
from moments import now
from ops_support import run_ops, start_platform
from runtime.outbox import OUTBOX, PENDING

HOURLY = 3600.0
PROBE = "ops_status_probe"  # a collection of this test's own in the ticketing database


@pytest.fixture(scope="module")
def platform(mongo_uri):
    """Event functions scaled to zero (their consumers stopped: what is published waits in their queues) and
    relays that sweep hourly (an entry left unpublished stays so until a test runs the relay)."""
    running = start_platform(mongo_uri, relay_seconds=HOURLY)
    running.bus.stop()
    yield running
    running.stop(remove=True)


def by_function(report):
    return {q["function"]: q for q in report["queues"]}


def by_group(report):
    return {o["group"]: o for o in report["outboxes"]}


def user_created(user_id):
    return {"id": user_id, "username": f"u{user_id[:8]}", "name": "Probe", "email": f"u{user_id[:8]}@example.org",
            "avatar": "http://media.localhost/users/default.png", "bio": None, "interests": None, "language": "en",
            "role": "member"}


def test_status_shows_what_waits_in_a_function_queue(platform):
    # GIVEN three user.created events published while the mirrors are scaled to zero
    broker = Broker(platform.exchange, platform.signing_keys)
    try:
        for _ in range(3):
            broker.publish("user.created", user_created(str(uuid.uuid4())), sequence=1)
    finally:
        broker.close()
    queue = RabbitBus(platform.settings.amqp_url, platform.exchange).queue_name(platform.spec("chat-mirror-users"))
    assert wait_until(lambda: RabbitBus(platform.settings.amqp_url, platform.exchange).depth(queue) == 3)

    # WHEN the operator asks for the status
    run = run_ops(platform, "status", "--json")

    # THEN each mirror of users shows three waiting, nothing dead, and a function bound elsewhere shows none
    assert run.code == 0, run.err
    queues = by_function(run.json())
    for mirror in ("chat-mirror-users", "events-mirror-users", "interactions-mirror-users", "ticketing-mirror-users"):
        assert (queues[mirror]["waiting"], queues[mirror]["dead_letters"]) == (3, 0), mirror
    assert queues["notifications-notify-like"]["waiting"] == 0
    assert queues["chat-mirror-users"]["queue"] == f"{platform.exchange}.chat-mirror-users"


def test_status_shows_an_unpublished_outbox_entry_until_the_relay_sends_it(platform, mongo_client):
    # GIVEN an order rejection committed 90 s ago whose publish never happened (a crash after the commit)
    db = mongo_client[platform.database("ticketing")]
    queued = now() - timedelta(seconds=90)
    entry = {"id": str(uuid.uuid4()), "type": "payments.order.rejected", "source": "/functions/ticketing-sweep-orders",
             "time": queued, "queued_at": queued, "data": {"orderId": "o1", "userId": "u1", "eventId": "e1"}}
    db[PROBE].insert_one({"_id": "o1", OUTBOX: [entry], PENDING: True})

    # WHEN the operator asks for the ticketing function's status
    lagging = run_ops(platform, "status", "--function", "ticketing-mirror-events", "--json").json()

    # THEN the ticketing group shows one entry, on one document, about 90 s old (and only that group is shown)
    assert [o["group"] for o in lagging["outboxes"]] == ["ticketing"]
    ticketing = by_group(lagging)["ticketing"]
    assert (ticketing["unpublished"], ticketing["documents"]) == (1, 1)
    assert 90 <= ticketing["oldest_seconds"] < 150

    # WHEN the group's relay runs, THEN the lag is gone
    platform.tick("ticketing-outbox-relay")
    relayed = by_group(run_ops(platform, "status", "--json").json())["ticketing"]
    assert (relayed["unpublished"], relayed["documents"], relayed["oldest_seconds"]) == (0, 0, None)


def test_status_table_names_its_columns(platform):
    run = run_ops(platform, "status")

    assert run.code == 0, run.err
    for column in ("function", "queue", "waiting", "dead letters", "group", "unpublished", "oldest"):
        assert column in run.out


def test_status_says_the_in_memory_bus_cannot_be_seen_from_outside(platform):
    # GIVEN no AMQP_URL (the local runner's default: its bus lives in its own process)
    run = run_ops(platform, "status", amqp_url=None)

    # THEN status says so instead of failing, and still shows the outboxes
    assert run.code == 0, run.err
    assert "in-memory bus" in run.out and "AMQP_URL" in run.out
    assert "Outboxes" in run.out
