"""Deletions cascade (the reference never did): a deleted user takes their likes, follows both ways, reviews and
participations with them, a deleted event its likes, reviews and participations; counts and statistics follow, and
replayed, duplicated or late deliveries change nothing. The mirrors keep the newest of reordered events."""
import uuid

import pytest

import moments
from interactions_support import (  # noqa: F401  (fixtures)
    broker,
    confirm_order,
    follow,
    get,
    handled,
    idb,
    known_event,
    like,
    move_event,
    ok,
    person,
    refused,
    review,
    reviewable,
    user_data,
    wire_data,
)
from localrunner.bus import wait_until
from moments import FUTURE

pytestmark = pytest.mark.clock  # popularity is weighted by when likes happen
PLATFORM_WORKERS = 3  # competing replicas, as the platforms scale out (localrunner.workers)


def live(idb, collection, **match):
    return idb[collection].count_documents({**match, "active": True})


def versions(idb, **match):
    return {d["_id"]: d.get("_version") for name in ("likes", "follows", "reviews")
            for d in idb[name].find(match)} | {d["_id"]: d.get("orderCount") for d in idb["participations"].find(match)}


def test_a_deleted_user_takes_their_interactions_with_them(api, idb, group_db, broker, person, known_event,
                                                          reviewable, tap, platform):
    org, gone, friend, fan = person("organization"), person("member"), person("member"), person("member")
    completed = reviewable(org, [gone, fan])
    published = known_event(org)
    confirm_order(broker, idb, published, gone.id)
    created = api.call("POST", "events", "/", token=org.token, json={
        "title": "Counted", "description": "Likes count", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Imola"}})
    ranked = ok(created, 201)["eventId"]
    assert wait_until(lambda: idb["events"].find_one({"_id": ranked}), timeout=10)
    for event_id in (completed, published, ranked):
        ok(like(api, gone, event_id), 201)
    ok(like(api, fan, published), 201)
    ok(follow(api, gone, friend.id), 201)
    ok(follow(api, fan, gone.id), 201)
    ok(review(api, gone, completed, rating=1), 201)
    ok(review(api, fan, completed, rating=5), 201)
    events_db = group_db("events")
    assert wait_until(lambda: events_db["events"].find_one({"_id": ranked})["likes"] == 1, timeout=10)
    assert ok(get(api, f"/organizations/{org.id}/reviews/statistics"))["averageRating"] == 3.0
    wire = tap("interactions.like.deleted", "interactions.follow.deleted")

    deletion = broker.publish("user.deleted", {"id": gone.id}, sequence=2)

    assert wait_until(lambda: handled(idb, "interactions-mirror-users", deletion), timeout=15)
    messages = wire.settle()
    assert sorted((d["eventId"], seq) for d, seq in wire_data(messages, "interactions.like.deleted")) == sorted(
        (e, 2) for e in (completed, published, ranked))
    assert sorted((d["followerId"], d["followedId"]) for d, _ in wire_data(messages, "interactions.follow.deleted")) \
        == sorted([(gone.id, friend.id), (fan.id, gone.id)])
    assert live(idb, "likes", userId=gone.id) + live(idb, "reviews", userId=gone.id) == 0
    assert live(idb, "follows", followerId=gone.id) + live(idb, "follows", followedId=gone.id) == 0
    assert ok(get(api, f"/events/{published}/likes"))["totalItems"] == 1
    assert ok(get(api, f"/events/{published}/participants"))["totalItems"] == 0
    assert ok(get(api, f"/users/{friend.id}/followers"))["totalItems"] == 0
    assert ok(get(api, f"/users/{fan.id}/following"))["totalItems"] == 0
    assert ok(get(api, f"/organizations/{org.id}/reviews/statistics")) == {
        "averageRating": 5.0, "ratingDistribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}, "totalReviews": 1}
    refused(get(api, f"/users/{gone.id}/likes"), 404, "not_found")
    assert wait_until(lambda: events_db["events"].find_one({"_id": ranked})["likes"] == 0, timeout=10)

    # replayed (same id), duplicated (new id) and late deliveries change nothing
    left, answered = versions(idb, userId=gone.id), platform.answered("interactions-mirror-users")
    broker.publish("user.deleted", {"id": gone.id}, sequence=2, event_id=deletion.get_id())
    broker.publish("user.deleted", {"id": gone.id}, sequence=2)
    broker.publish("user.created", user_data(gone.id, gone.name, gone.username, "member"), sequence=1)
    order = broker.publish("payments.order.confirmed", {"orderId": f"order_{uuid.uuid4()}", "userId": gone.id,
                                                        "eventId": completed})
    assert wait_until(lambda: platform.answered("interactions-mirror-users") >= answered + 3
                      and handled(idb, "interactions-record-participation", order), timeout=10)
    assert versions(idb, userId=gone.id) == left
    assert idb["users"].find_one({"_id": gone.id})["deleted"] is True
    refused(like(api, gone, published), 404, "not_found", f"User with ID {gone.id} not found")
    assert len(wire.settle()) == 5  # nothing more went out


def test_a_redelivery_finishes_what_a_cascade_left(api, idb, broker, person, known_event, tap):
    org, gone = person("organization"), person("member")
    event_id = known_event(org)
    deletion = broker.publish("user.deleted", {"id": gone.id}, sequence=2)
    assert wait_until(lambda: handled(idb, "interactions-mirror-users", deletion), timeout=10)
    # a like that committed while the cascade was running, after it had looked (the token was still valid)
    idb["likes"].insert_one({"_id": f"like_straggler_{uuid.uuid4()}", "eventId": event_id, "userId": gone.id,
                             "active": True, "likedAt": moments.now(), "_version": 1})
    wire = tap("interactions.like.deleted")

    redelivery = broker.publish("user.deleted", {"id": gone.id}, sequence=2)

    assert wait_until(lambda: handled(idb, "interactions-mirror-users", redelivery), timeout=10)
    assert [(d["eventId"], d["userId"], seq) for d, seq in wire_data(wire.settle(), "interactions.like.deleted")] \
        == [(event_id, gone.id, 2)]
    assert live(idb, "likes", userId=gone.id) == 0


def test_a_deleted_event_takes_its_interactions_with_it(api, idb, broker, person, reviewable, tap):
    org, fans = person("organization"), [person("member") for _ in range(2)]
    event_id = reviewable(org, fans)
    for fan in fans:
        ok(like(api, fan, event_id), 201)
    ok(review(api, fans[0], event_id, rating=2), 201)
    wire = tap("interactions.like.deleted")

    deletion = broker.publish("event.deleted", {"eventId": event_id}, sequence=3)

    assert wait_until(lambda: handled(idb, "interactions-mirror-events", deletion), timeout=15)
    assert sorted((d["userId"], seq) for d, seq in wire_data(wire.settle(), "interactions.like.deleted")) == sorted(
        (f.id, 2) for f in fans)
    refused(get(api, f"/events/{event_id}/likes"), 404, "not_found", f"Event with ID {event_id} not found")
    for fan in fans:
        assert ok(get(api, f"/users/{fan.id}/likes"))["totalItems"] == 0
        assert ok(get(api, f"/users/{fan.id}/participations"))["totalItems"] == 0
    assert ok(get(api, f"/users/{fans[0].id}/reviews"))["totalReviews"] == 0
    assert ok(get(api, f"/organizations/{org.id}/reviews/statistics"))["totalReviews"] == 0

    left = versions(idb, eventId=event_id)
    repeats = [broker.publish("event.deleted", {"eventId": event_id}, sequence=3, event_id=deletion.get_id()),
               broker.publish("event.deleted", {"eventId": event_id}, sequence=3),
               broker.publish("event.completed", {"eventId": event_id}, sequence=2)]
    assert wait_until(lambda: all(handled(idb, "interactions-mirror-events", e) for e in repeats[1:]), timeout=10)
    assert versions(idb, eventId=event_id) == left
    assert idb["events"].find_one({"_id": event_id})["deleted"] is True
    assert len(wire.settle()) == 2


def test_the_mirrors_keep_the_newest_of_reordered_events(api, idb, broker, person, known_event):
    star, fan = person("organization"), person("member")
    ok(follow(api, fan, star.id), 201)
    renamed = {**user_data(star.id, "New Name", "newname", "organization"), "avatar": "http://media.localhost/a.png"}

    newer = broker.publish("user.updated", renamed, sequence=3)
    older = broker.publish("user.updated", user_data(star.id, "Old Name", "oldname", "organization"), sequence=2)
    assert wait_until(lambda: handled(idb, "interactions-mirror-users", newer)
                      and handled(idb, "interactions-mirror-users", older), timeout=10)

    assert ok(get(api, f"/users/{fan.id}/following"))["items"] == [
        {"userId": star.id, "avatar": "http://media.localhost/a.png", "name": "New Name", "username": "newname"}]

    event_id = str(uuid.uuid4())
    move_event(broker, idb, event_id, "event.completed", 3)  # before its event.created
    late = broker.publish("event.created", {"eventId": event_id, "creatorId": star.id, "collaboratorIds": [],
                                            "name": "Late", "date": FUTURE, "status": "DRAFT", "tags": None,
                                            "instant": 1767225600000, "locationName": None}, sequence=1)
    assert wait_until(lambda: handled(idb, "interactions-mirror-events", late), timeout=10)
    assert {k: v for k, v in idb["events"].find_one({"_id": event_id}).items() if k in ("status", "_seq")} == {
        "status": "COMPLETED", "_seq": 3}
