"""The ``new_event`` fan-out with thousands of followers and crashes injected mid-way: exactly one notification
per follower, no gaps, and a push at most once per notification.

The crashes are a process dying inside the walk: the function runs in-process through the real pipeline
(``runtime.invoke``) with a store whose ``notifications`` collection raises a ``BaseException`` (nothing in the
pipeline catches it, as nothing survives a SIGKILL) on a chosen batch insert, optionally after writing half of
that batch. The redelivery is the platform's: the very same CloudEvent published on the broker.
"""
from __future__ import annotations

import os
import uuid

import pytest

from integration_support import signed
from localrunner.bus import wait_until
from notifications_support import FANOUT_BATCH as BATCH
from notifications_support import api, broker, db, people, platform, replica_url, seed_followers, sockets  # noqa: F401  (fixtures)
from runtime import envelope
from runtime.config import Config
from runtime.invoke import RawHttp, invoke
from runtime.process import Runtime
from runtime.store import GroupStore

FOLLOWERS = 2_000  # ten batches of 200 (NOTIFICATIONS_FANOUT_BATCH in these tests; 500 by default)
pytestmark = pytest.mark.usefixtures("api")


class Crash(BaseException):
    """The process dies here."""


class CrashingNotifications:
    """The ``notifications`` collection of a process that dies in its ``at``-th batch insert (after writing
    ``written`` of that batch's documents)."""

    def __init__(self, real, at: int, written: float):
        self.real, self.at, self.written, self.calls = real, at, written, 0

    def insert_many(self, docs, ordered=True):
        self.calls += 1
        if self.calls == self.at:
            part = docs[: int(len(docs) * self.written)]
            if part:
                self.real.insert_many(part, ordered=ordered)
            raise Crash(f"died in batch insert {self.at} after {len(part)} of {len(docs)}")
        return self.real.insert_many(docs, ordered=ordered)

    def __getattr__(self, name):
        return getattr(self.real, name)


class CrashingDb:
    def __init__(self, real, notifications):
        self.real, self.notifications = real, notifications

    def __getitem__(self, name):
        return self.notifications if name == "notifications" else self.real[name]

    def __getattr__(self, name):
        return getattr(self.real, name)


class CrashingRuntime(Runtime):
    """A function process configured as the platform's (same environment), whose walk dies as told."""

    def __init__(self, at: int, written: float):
        super().__init__(Config(dict(os.environ)))
        self.at, self.written = at, written

    def store(self, spec):
        real = super().store(spec)
        crashing = CrashingDb(real.db, CrashingNotifications(real.db["notifications"], self.at, self.written))
        return StoreOver(real, crashing)


class StoreOver(GroupStore):
    """The group's store, over another database object."""

    def __init__(self, store, db):
        super().__init__(store.uri, store.database, store.publisher)
        self._db = db

    @property
    def db(self):
        return self._db


def deliver_in_process(platform, event, runtime) -> None:
    headers, body = envelope.to_http_binary(event)
    invoke(platform.spec("notifications-fan-out-event"), RawHttp("POST", "/", headers, "", body), runtime)


def test_thousands_of_followers_get_exactly_one_notification_each_despite_crashes(platform, broker, db, people,
                                                                                   sockets):
    [organization] = people(1)
    followers = seed_followers(db, organization.id, FOLLOWERS)
    first_half, second_half = BATCH + 10, BATCH + BATCH * 3 // 4  # of batch 2
    watched = {i: followers[i] for i in (0, first_half, second_half, FOLLOWERS - 1)}
    tokens = {i: platform.idp.mint({"user_id": user_id}) for i, user_id in watched.items()}
    watching = {i: sockets.connect(replica_url(platform, i % 2), tokens[i]) for i in watched}
    event_id = str(uuid.uuid4())
    event = signed(platform.signing_keys, envelope.new_event("event.published", "/functions/events-update-event", {
        "eventId": event_id, "name": "Closing party", "creatorId": organization.id,
        "creatorName": organization.name, "date": None}, event_id=str(uuid.uuid4()), extensions={"sequence": "2"}))
    mine = {"type": "new_event", "metadata.eventId": event_id}

    with pytest.raises(Crash):  # dies half-way through writing batch 2
        deliver_in_process(platform, event, CrashingRuntime(at=2, written=0.5))
    assert db["notifications"].count_documents(mine) == BATCH + BATCH // 2
    with pytest.raises(Crash):  # the next attempt resumes at batch 2 and dies before writing batch 3
        deliver_in_process(platform, event, CrashingRuntime(at=2, written=0))
    assert db["notifications"].count_documents(mine) == 2 * BATCH

    broker.publisher.publish(envelope.to_amqp(event))  # the platform's redelivery of the very same CloudEvent
    assert wait_until(lambda: (db["fanouts"].find_one({"_id": event_id}) or {}).get("done"), timeout=120)

    assert db["notifications"].count_documents(mine) == FOLLOWERS
    per_follower = list(db["notifications"].aggregate([{"$match": mine}, {"$group": {"_id": "$userId", "n": {"$sum": 1}}},
                                                       {"$match": {"n": {"$ne": 1}}}]))
    assert per_follower == []
    assert sorted(doc["userId"] for doc in db["notifications"].find(mine, {"userId": 1})) == followers

    # Pushes go out after their batch is stored, once, by the walk that stored it: batch 1 by the first attempt,
    # the second half of batch 2 by the second, the rest by the redelivery; the first half of batch 2 was stored
    # by the walk that died before pushing it (pushes are at-most-once signals; the stored notification is there).
    for i in (0, second_half, FOLLOWERS - 1):
        watching[i].wait_for("new_event")
    assert not wait_until(lambda: any(len(s.of("new_event")) > 1 for s in watching.values()), timeout=1)
    assert {i: len(s.of("new_event")) for i, s in watching.items()} == {0: 1, first_half: 0, second_half: 1,
                                                                      FOLLOWERS - 1: 1}

    # and one more redelivery (or a republication) changes nothing
    before = platform.answered("notifications-fan-out-event")
    broker.publisher.publish(envelope.to_amqp(event))
    assert wait_until(lambda: platform.answered("notifications-fan-out-event") == before + 1, timeout=30)
    assert db["notifications"].count_documents(mine) == FOLLOWERS
