"""ctx.commit: state, outbox and receipt in one document; the relay publishes in order and loses nothing."""
import pytest

import moments
from runtime.config import Config
from runtime.context import Context
from runtime.contract import Response, function, http
from runtime.errors import InternalError, Unavailable
from runtime.logs import invocation_log
from runtime.outbox import publish_document, sweep
from runtime.process import Runtime
from runtime.signing import KeyRing
from runtime.store import Emit, GroupStore

NOW = moments.now()


@function("events-test-commit", http("POST", "/"), emits=["event.deleted", "event.completed"])
def spec(event, ctx):  # never invoked: only its declaration is used
    raise AssertionError


class Recorder:
    """A publisher that confirms everything, or fails from the n-th message on."""

    def __init__(self, fail_from=None):
        self.sent, self.fail_from = [], fail_from

    def publish(self, message):
        if self.fail_from is not None and len(self.sent) >= self.fail_from:
            raise Unavailable("broker down")
        self.sent.append(message)


KEYS = KeyRing.parse("test-key:" + "k" * 32)


@pytest.fixture
def store(mongo_db, mongo_uri):
    store = GroupStore(mongo_uri, mongo_db.name, Recorder(), lambda: KEYS)
    yield store


def ctx_for(store, key):
    return Context(spec=spec, config=Config({}), now=NOW, log=invocation_log(spec.name, "trace"), key=key,
                   store=store, runtime=Runtime(Config({})))


def test_a_commit_applies_once_per_key_and_replays_the_first_reply(store, mongo_db):
    emit = [Emit("event.deleted", {"eventId": "e1"})]
    first = ctx_for(store, "k1").commit("things", {"_id": "a"}, {"$inc": {"n": 1}}, upsert=True,
                                        reply=Response(201, {"n": 1}), emit=emit)
    second = ctx_for(store, "k1").commit("things", {"_id": "a"}, {"$inc": {"n": 1}}, upsert=True,
                                         reply=Response(201, {"n": 2}), emit=emit)

    assert first == second == Response(201, {"n": 1})
    doc = mongo_db["things"].find_one({"_id": "a"})
    assert doc["n"] == 1 and [r["key"] for r in doc["_receipts"]] == ["k1"]
    assert [m.routing_key for m in store.publisher.sent] == ["event.deleted"]  # published once, at once
    assert doc["_outbox"] == [] and doc["_outbox_pending"] is False


def test_a_filter_that_matches_nothing_returns_none_and_writes_nothing(store, mongo_db):
    mongo_db["things"].insert_one({"_id": "a", "state": "closed"})

    result = ctx_for(store, "k").commit("things", {"_id": "a", "state": "open"}, {"$set": {"state": "x"}},
                                        reply=Response(200))

    assert result is None and mongo_db["things"].find_one({"_id": "a"}) == {"_id": "a", "state": "closed"}


def test_events_must_be_declared_and_match_the_catalogue(store, mongo_db):
    with pytest.raises(InternalError):
        ctx_for(store, "k").commit("things", {"_id": "a"}, {"$set": {"x": 1}}, upsert=True, reply=Response(200),
                                   emit=[Emit("user.created", {"id": "u"})])  # not declared
    with pytest.raises(InternalError):
        ctx_for(store, "k").commit("things", {"_id": "a"}, {"$set": {"x": 1}}, upsert=True, reply=Response(200),
                                   emit=[Emit("event.deleted", {"wrong": "shape"})])
    assert mongo_db["things"].count_documents({}) == 0


def test_a_broker_outage_leaves_the_rest_of_the_outbox_in_order_for_the_relay(mongo_db, mongo_uri):
    failing = GroupStore(mongo_uri, mongo_db.name, Recorder(fail_from=1), lambda: KEYS)
    emit = [Emit("event.deleted", {"eventId": "e1"}), Emit("event.completed", {"eventId": "e1"})]

    reply = ctx_for(failing, "k").commit("things", {"_id": "a"}, {"$set": {"x": 1}}, upsert=True,
                                         reply=Response(200), emit=emit)

    assert reply == Response(200)  # the commit stands; publishing is the relay's job now
    doc = mongo_db["things"].find_one({"_id": "a"})
    assert [e["type"] for e in doc["_outbox"]] == ["event.completed"] and doc["_outbox_pending"] is True
    healthy = Recorder()
    assert sweep(mongo_db, healthy, KEYS) == 1
    assert [m.routing_key for m in healthy.sent] == ["event.completed"]
    assert mongo_db["things"].find_one({"_id": "a"})["_outbox_pending"] is False


def test_a_commit_publishes_its_own_entries_and_leaves_another_commits_to_it(mongo_db, mongo_uri):
    """A busy document: a commit whose entries are still pending (its committer is between its write and its
    publish) must not be published by the next commit too, or the event reaches the wire twice."""
    in_flight = GroupStore(mongo_uri, mongo_db.name, None)  # committed, not yet published
    ctx_for(in_flight, "k1").commit("things", {"_id": "a"}, {"$inc": {"n": 1}}, upsert=True, reply=Response(200),
                                    emit=[Emit("event.deleted", {"eventId": "e1"})])
    [theirs] = mongo_db["things"].find_one({"_id": "a"})["_outbox"]

    ctx_for(store := GroupStore(mongo_uri, mongo_db.name, Recorder(), lambda: KEYS), "k2").commit(
        "things", {"_id": "a"}, {"$inc": {"n": 1}}, reply=Response(200), emit=[Emit("event.completed", {"eventId": "e1"})])

    assert [m.routing_key for m in store.publisher.sent] == ["event.completed"]
    doc = mongo_db["things"].find_one({"_id": "a"})
    assert [e["id"] for e in doc["_outbox"]] == [theirs["id"]] and doc["_outbox_pending"] is True
    relay = Recorder()  # the committer died: the relay publishes what it left
    assert sweep(mongo_db, relay, KEYS) == 1 and relay.sent[0].message_id == theirs["id"]


def test_republishing_after_a_crash_keeps_the_event_id(mongo_db, mongo_uri):
    store = GroupStore(mongo_uri, mongo_db.name, None)  # no publisher: as if the process died after the commit
    ctx_for(store, "k").commit("things", {"_id": "a"}, {"$set": {"x": 1}}, upsert=True, reply=Response(200),
                               emit=[Emit("event.deleted", {"eventId": "e1"})])
    stored_id = mongo_db["things"].find_one({"_id": "a"})["_outbox"][0]["id"]
    relay = Recorder()

    assert publish_document(mongo_db["things"], "a", relay, KEYS) == 1
    assert relay.sent[0].message_id == stored_id


def test_the_relay_gives_up_with_unavailable_and_keeps_everything(mongo_db, mongo_uri):
    store = GroupStore(mongo_uri, mongo_db.name, None)
    ctx_for(store, "k").commit("things", {"_id": "a"}, {"$set": {"x": 1}}, upsert=True, reply=Response(200),
                               emit=[Emit("event.deleted", {"eventId": "e1"})])

    with pytest.raises(Unavailable):
        sweep(mongo_db, Recorder(fail_from=0), KEYS, attempts=2)
    assert len(mongo_db["things"].find_one({"_id": "a"})["_outbox"]) == 1


def test_an_unreachable_store_answers_503_not_500():
    from runtime.invoke import RawHttp, invoke

    runtime = Runtime(Config({"MONGO_URI": "mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=200",
                              "AMQP_URL": "memory://none"}))
    raw = RawHttp("POST", "/", {"content-type": "application/json"}, "", b"{}")

    response = invoke(spec, raw, runtime)

    assert response.status == 503 and response.body["error"] == "unavailable" and response.headers["Retry-After"]
