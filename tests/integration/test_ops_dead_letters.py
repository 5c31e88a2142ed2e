"""``ops dead-letters``: listing leaves every dead letter in place; replaying hands them back to their function,
which handles them this time, and leaves the dead-letter queue empty."""
import uuid

import pika
import pytest

from integration_support import AMQP_URL, signed
from localrunner.bus import RabbitBus, wait_until
from ops_support import run_ops, start_platform
from runtime import envelope

FUNCTION = "chat-mirror-users"


@pytest.fixture(scope="module")
def platform(mongo_uri):
    running = start_platform(mongo_uri)
    yield running
    running.stop(remove=True)


def park(platform, function, event_type, data, status=503):
    """Put a signed event in ``function``'s dead-letter queue as the bus parks one whose retries ran out: with the
    function's last answer and where it was headed in its headers."""
    event = signed(platform.signing_keys, envelope.new_event(event_type, "/tests/ops", data,
                                                             event_id=str(uuid.uuid4()), extensions={"sequence": "1"}))
    message = envelope.to_amqp(event)
    queue = f"{platform.exchange}.{function}"
    headers = {**message.headers, "x-original-routing-key": event_type, "x-last-status": status, "x-retries": 3,
               "ce-knativeerrordest": queue, "ce-knativeerrorcode": str(status)}
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", f"{queue}.dlq", message.body, pika.BasicProperties(
            content_type=message.content_type, message_id=message.message_id, headers=headers, delivery_mode=2))
    finally:
        connection.close()
    return event


def user_created(user_id):
    return {"id": user_id, "username": f"u{user_id[:8]}", "name": "Parked", "email": f"u{user_id[:8]}@example.org",
            "avatar": "http://media.localhost/users/default.png", "bio": None, "interests": None, "language": "en",
            "role": "member"}


def test_a_dead_letter_is_listed_in_place_then_replayed_and_handled(platform, mongo_client):
    # GIVEN a user.created the chat mirror gave up on (the store answered 503 through every retry)
    bus = RabbitBus(AMQP_URL, platform.exchange)
    dlq = f"{bus.queue_name(platform.spec(FUNCTION))}.dlq"
    user_id = str(uuid.uuid4())
    event = park(platform, FUNCTION, "user.created", user_created(user_id))
    mirror = mongo_client[platform.database("chat")]["users"]

    # WHEN the operator lists the dead letters, twice
    listed = [run_ops(platform, "dead-letters", "list", "--json") for _ in range(2)]

    # THEN both show it, with the answer that parked it, and it is still there, unhandled
    for run in listed:
        assert run.code == 0, run.err
        assert [(d["function"], d["type"], d["answer"], d["message_id"]) for d in run.json()] == [
            (FUNCTION, "user.created", "503", event.get_id())]
        assert user_id in run.json()[0]["data"]
    assert bus.depth(dlq) == 1
    assert mirror.find_one({"_id": user_id}) is None

    # WHEN the operator replays that function's dead letters
    replayed = run_ops(platform, "dead-letters", "replay", "--function", FUNCTION)

    # THEN the mirror handles it this time and the dead-letter queue is empty
    assert replayed.code == 0, replayed.err
    assert f"{FUNCTION}: replayed 1" in replayed.out
    assert wait_until(lambda: mirror.find_one({"_id": user_id}) is not None)
    assert bus.depth(dlq) == 0
    assert run_ops(platform, "dead-letters", "list").out.strip() == "no dead letters"


def test_replay_all_takes_at_most_the_limit(platform, mongo_client):
    # GIVEN three dead letters for two functions
    ids = [str(uuid.uuid4()) for _ in range(3)]
    park(platform, "chat-mirror-users", "user.created", user_created(ids[0]))
    park(platform, "ticketing-mirror-users", "user.created", user_created(ids[1]))
    park(platform, "ticketing-mirror-users", "user.created", user_created(ids[2]))

    # WHEN the operator replays all of them but at most two
    run = run_ops(platform, "dead-letters", "replay", "--all", "--limit", "2")

    # THEN two were replayed, in function name order, and one is still parked
    assert run.code == 0, run.err
    assert "chat-mirror-users: replayed 1" in run.out and "ticketing-mirror-users: replayed 1" in run.out
    left = run_ops(platform, "dead-letters", "list", "--json").json()
    assert [(d["function"], d["message_id"] != "") for d in left] == [("ticketing-mirror-users", True)]
    run_ops(platform, "dead-letters", "replay", "--all")
    users = mongo_client[platform.database("ticketing")]["users"]
    assert wait_until(lambda: users.count_documents({"_id": {"$in": ids[1:]}}) == 2)


def test_dead_letters_need_the_broker(platform):
    run = run_ops(platform, "dead-letters", "list", amqp_url=None)

    assert run.code == 2
    assert "in-memory bus" in run.err


def test_an_unknown_function_is_named_with_the_choices(platform):
    run = run_ops(platform, "dead-letters", "replay", "--function", "chat-send-message")

    assert run.code == 2
    assert "chat-send-message is not an event-triggered function" in run.err and "chat-mirror-users" in run.err
