"""The notifications group's store rules against the MongoDB under test: insert-once notifications, the resumable
fan-out, and presence shared by replicas (first and last socket, dead replicas swept once)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from runtime.config import Config

from functions.notifications import fanout, model, presence

TTL = timedelta(hours=1)  # long: the store's TTL monitor (real MongoDB's, the stand-in's) runs on its own clock


# ---- insert-once ---------------------------------------------------------------------------------------------

def test_store_answers_only_what_it_inserted(mongo_db):
    docs = [model.notification("c#1", user, "like", {}, "x", now()) for user in ("a", "b", "c")]
    assert [d["userId"] for d in model.store(mongo_db, docs[:2])] == ["a", "b"]
    assert [d["userId"] for d in model.store(mongo_db, docs)] == ["c"]
    assert model.store(mongo_db, docs) == [] and model.store(mongo_db, []) == []
    assert mongo_db["notifications"].count_documents({}) == 3


# ---- the fan-out ---------------------------------------------------------------------------------------------

class Died(BaseException):
    pass


def context(db, dies_at=None):
    calls = {"n": 0}

    class Notifications:
        def __getattr__(self, name):
            return getattr(db["notifications"], name)

        def insert_many(self, docs, ordered=True):
            calls["n"] += 1
            if calls["n"] == dies_at:
                db["notifications"].insert_many(docs[:1], ordered=ordered)
                raise Died()
            return db["notifications"].insert_many(docs, ordered=ordered)

    class Db:
        def __getitem__(self, name):
            return Notifications() if name == "notifications" else db[name]

    config = Config({"AMQP_URL": "memory://local"})  # no broker: pushes are counted as not sent
    return SimpleNamespace(db=Db(), now=datetime.now(timezone.utc), config=config, log=logging.getLogger("test"))


def follow(db, follower, followed, deleted=False):
    db["follows"].insert_one({"_id": model.follow_id(follower, followed), "followerId": follower,
                              "followedId": followed, "deleted": deleted, "_seq": 1})


PUBLISHED = {"eventId": "e1", "name": "Opening", "creatorId": "org", "creatorName": "Org"}


def test_the_fan_out_walks_followers_in_batches_and_resumes_after_a_death(mongo_db):
    followers = [f"f{i:02d}" for i in range(11)]
    for f in followers:
        follow(mongo_db, f, "org")
    follow(mongo_db, "gone", "org", deleted=True)
    follow(mongo_db, "f00", "other")
    with pytest.raises(Died):
        fanout.fan_out(context(mongo_db, dies_at=3), PUBLISHED, batch=4)
    assert mongo_db["notifications"].count_documents({}) == 9  # two batches and one document of the third
    assert mongo_db["fanouts"].find_one({"_id": "e1"})["after"] == "f07"
    done = fanout.fan_out(context(mongo_db), PUBLISHED, batch=4)
    assert done == {"inserted": 2, "pushed": 0, "batches": 1}
    stored = sorted(d["userId"] for d in mongo_db["notifications"].find({"metadata.eventId": "e1"}))
    assert stored == followers
    assert fanout.fan_out(context(mongo_db), PUBLISHED, batch=4) == {"inserted": 0, "pushed": 0, "batches": 0}


def test_the_marker_never_goes_back(mongo_db):
    for f in ("a", "b", "c"):
        follow(mongo_db, f, "org")
    mongo_db["fanouts"].insert_one({"_id": "e1", "after": "b"})
    fanout.fan_out(context(mongo_db), PUBLISHED, batch=1)
    assert sorted(d["userId"] for d in mongo_db["notifications"].find()) == ["c"]


# ---- presence -----------------------------------------------------------------------------------------------

@pytest.fixture
def replicas(mongo_db):
    presence.ensure_indexes(mongo_db)
    for name in ("r1", "r2"):
        presence.heartbeat(mongo_db, name, now(), TTL)
    return mongo_db


def now():
    return datetime.now(timezone.utc)


def test_online_at_the_first_socket_anywhere_offline_at_the_last(replicas):
    db, moment = replicas, now()
    assert presence.connect(db, "u", "s1", "r1", moment) is True
    assert presence.connect(db, "u", "s2", "r2", moment) is False
    assert presence.is_online(db, "u", moment) and sorted(presence.sockets_of(db, "u", moment)) == ["s1", "s2"]
    assert presence.disconnect(db, "u", "s1", moment) is False
    assert presence.disconnect(db, "u", "s2", moment) is True
    assert presence.disconnect(db, "u", "s2", moment) is False  # already gone: said once
    assert not presence.is_online(db, "u", moment) and db["presence"].count_documents({}) == 0


def test_a_silent_replicas_sockets_stop_counting_and_one_sweep_claims_them(replicas):
    db, moment = replicas, now()
    presence.connect(db, "alone", "a1", "r2", moment)
    presence.connect(db, "both", "b1", "r1", moment)
    presence.connect(db, "both", "b2", "r2", moment)
    later = moment + TTL + timedelta(seconds=1)
    presence.heartbeat(db, "r1", later, TTL)  # r2 stopped beating
    assert not presence.is_online(db, "alone", later) and presence.is_online(db, "both", later)
    assert presence.sweep(db, later) == ["alone"]
    assert presence.sweep(db, later) == []  # a second sweeper finds nothing left to claim
    assert db["presence"].find_one({"_id": "both"})["sockets"] == [{"sid": "b1", "replica": "r1"}]


def test_a_last_disconnect_also_drops_dead_sockets_so_no_sweep_repeats_it(replicas):
    db, moment = replicas, now()
    presence.connect(db, "u", "dead", "r2", moment)
    presence.connect(db, "u", "live", "r1", moment)
    later = moment + TTL + timedelta(seconds=1)
    presence.heartbeat(db, "r1", later, TTL)
    assert presence.disconnect(db, "u", "live", later) is True
    assert presence.sweep(db, later) == []


def test_a_first_socket_after_only_dead_ones_is_online_again(replicas):
    db, moment = replicas, now()
    presence.connect(db, "u", "dead", "r2", moment)
    later = moment + TTL + timedelta(seconds=1)
    presence.heartbeat(db, "r1", later, TTL)
    assert presence.connect(db, "u", "new", "r1", later) is True
    assert presence.sweep(db, later) == []  # the dead one goes quietly: the user is online
    presence.retire(db, "r1")
    assert not presence.is_online(db, "u", later)
