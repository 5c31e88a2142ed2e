"""Likes: the SPA's like button and event cards, what goes over the wire, and the events group's popularity going
up with a like and back down with its removal."""
import json
import uuid

import pytest

import moments
from interactions_support import AVATAR, get, idb, known_event, like, ok, person, refused, unlike, user_ids, wire_data  # noqa: F401  (fixtures)
from localrunner.bus import wait_until
from moments import FUTURE
from runtime import iso

pytestmark = pytest.mark.clock  # likes are weighted by when they happen


def like_doc(idb, event_id, user_id):
    return idb["likes"].find_one({"eventId": event_id, "userId": user_id})


def test_a_like_is_stored_once_announced_once_and_read_back(api, idb, person, known_event, tap):
    org, fan = person("organization"), person("member")
    event_id = known_event(org, name="Moonlight party")
    wire = tap("interactions.like.created")
    key = f"like-{uuid.uuid4()}"

    first = like(api, fan, event_id, key=key)

    assert ok(first, 201) == {"message": "Event liked successfully", "statusCode": 201}
    assert wire_data(wire.settle(), "interactions.like.created") == [(
        {"creatorId": org.id, "eventId": event_id, "eventName": "Moonlight party", "userId": fan.id,
         "userName": fan.name, "userAvatar": AVATAR}, 1)]
    assert ok(get(api, f"/users/{fan.id}/likes/{event_id}")) == {"hasLiked": True}
    assert ok(get(api, f"/events/{event_id}/likes")) == {
        "items": [{"userId": fan.id, "avatar": AVATAR, "name": fan.name, "username": fan.username}],
        "totalItems": 1, "limit": 20, "offset": 0, "hasMore": False}
    assert ok(get(api, f"/users/{fan.id}/likes"))["items"] == [event_id]

    replay = like(api, fan, event_id, key=key)
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    again = like(api, fan, event_id)  # a second like (new key): harmless
    refused(again, 409, "conflict", "Already liked this event")
    assert len(wire_data(wire.settle(), "interactions.like.created")) == 1  # nothing more went out
    assert like_doc(idb, event_id, fan.id)["_version"] == 1


def test_taking_a_like_back_announces_when_it_was_given(api, idb, person, known_event, tap):
    org, fan = person("organization"), person("member")
    event_id = known_event(org)
    wire = tap("interactions.like.created", "interactions.like.deleted")
    ok(like(api, fan, event_id), 201)
    liked_at = like_doc(idb, event_id, fan.id)["likedAt"]

    removed = unlike(api, fan, event_id)

    assert ok(removed) == {"message": "Event unliked successfully", "statusCode": 200}
    assert wire_data(wire.settle(), "interactions.like.deleted") == [
        ({"eventId": event_id, "userId": fan.id, "likedAt": iso(liked_at)}, 2)]
    assert ok(get(api, f"/users/{fan.id}/likes/{event_id}")) == {"hasLiked": False}
    assert ok(get(api, f"/events/{event_id}/likes"))["totalItems"] == 0
    refused(unlike(api, fan, event_id), 404, "not_found", "Like not found")  # twice: harmless
    assert len(wire_data(wire.settle(), "interactions.like.deleted")) == 1

    ok(like(api, fan, event_id), 201)  # liked again: a newer version of the same pair
    assert [seq for _, seq in wire_data(wire.settle(), "interactions.like.created")] == [1, 3]
    assert like_doc(idb, event_id, fan.id)["likedAt"] > liked_at


def test_who_may_like_what(api, idb, person, known_event, platform):
    org, other_org, fan = person("organization"), person("organization"), person("member")
    draft = known_event(org, status="DRAFT")
    published = known_event(org)
    unknown = str(uuid.uuid4())
    keys = [f"refused-{uuid.uuid4()}" for _ in range(6)]

    refused(api.call("POST", "interactions", f"/events/{published}/likes", key=keys[0], json={}), 401,
            "unauthorized")
    refused(like(api, fan, published, key=keys[1], body={"userId": other_org.id}), 403, "forbidden")
    refused(like(api, fan, published, key=keys[2], body={"userId": fan.id, "eventName": "x"}), 400, "invalid_input")
    refused(like(api, fan, unknown, key=keys[3]), 404, "not_found", f"Event with ID {unknown} not found")
    refused(like(api, other_org, draft, key=keys[4]), 404, "not_found")  # a draft is private to its organizers
    stranger = platform.idp.mint({"user_id": str(uuid.uuid4()), "realm_access": {"roles": ["member"]}})
    refused(api.call("POST", "interactions", f"/events/{published}/likes", token=stranger, key=keys[5]), 404,
            "not_found")  # a token for no user: the users group does not know them either
    refused(like(api, org, draft), 400, "bad_request", "It is not possible to like a draft event")
    refused(api.call("DELETE", "interactions", f"/events/{published}/likes/{org.id}", token=fan.token), 403,
            "forbidden", "You are not allowed to unlike on behalf of another user")

    assert idb["likes"].count_documents({"eventId": {"$in": [draft, published, unknown]}}) == 0
    assert idb["idempotency"].count_documents({"_id": {"$in": [f"interactions-like-event:{k}" for k in keys]}}) == 0
    assert ok(like(api, org, published), 201)  # an organizer may like their own event
    assert ok(like(api, fan, published, body={}), 201)  # the body is optional: the liker is the caller


def test_someone_the_mirrors_have_not_heard_of_yet_is_read_through(api, idb, person, tap):
    fan = api.register("member")
    organization = api.register("organization")
    created = api.call("POST", "events", "/", token=organization["accessToken"], json={
        "title": "Just opened", "description": "Tonight", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Cesena"}})
    event_id = ok(created, 201)["eventId"]
    assert wait_until(lambda: idb["users"].find_one({"_id": fan["id"], "_seq": {"$gte": 1}})
                      and idb["events"].find_one({"_id": event_id, "_seq": {"$gte": 1}}), timeout=10)
    idb["users"].delete_one({"_id": fan["id"]})  # as if user.created and event.created were still on their way
    idb["events"].delete_one({"_id": event_id})
    wire = tap("interactions.like.created")

    response = api.call("POST", "interactions", f"/events/{event_id}/likes", token=fan["accessToken"],
                        json={"userId": fan["id"]})

    assert ok(response, 201)["statusCode"] == 201
    [(sent, _)] = wire_data(wire.settle(), "interactions.like.created")
    assert sent["creatorId"] == organization["id"] and sent["eventName"] == "Just opened"
    assert sent["userId"] == fan["id"] and sent["userName"]
    assert idb["users"].find_one({"_id": fan["id"]})["role"] == "member"  # seeded (or the real event won)


def test_two_likes_at_once_make_one(api, idb, person, known_event, tap, concurrently):
    org, fan = person("organization"), person("member")
    event_id = known_event(org)
    wire = tap("interactions.like.created")

    statuses = sorted(r.status_code for r in concurrently(4, lambda i: like(api, fan, event_id)))

    assert statuses == [201, 409, 409, 409]
    assert len(wire_data(wire.settle(), "interactions.like.created")) == 1
    assert ok(get(api, f"/events/{event_id}/likes"))["totalItems"] == 1


def test_like_lists_are_paged_newest_first_with_exact_totals(api, person, known_event):
    org = person("organization")
    fans = [person("member") for _ in range(3)]
    event_id = known_event(org)
    others = [known_event(org) for _ in range(2)]
    for fan in fans:
        ok(like(api, fan, event_id), 201)
    for other in others:
        ok(like(api, fans[0], other), 201)

    first = ok(get(api, f"/events/{event_id}/likes", limit=2))
    rest = ok(get(api, f"/events/{event_id}/likes", limit=2, offset=2))
    assert user_ids(first) + user_ids(rest) == [f.id for f in reversed(fans)]
    assert (first["totalItems"], first["hasMore"], rest["totalItems"], rest["hasMore"]) == (3, True, 3, False)
    assert ok(get(api, f"/users/{fans[0].id}/likes"))["items"] == list(reversed(others)) + [event_id]
    assert ok(get(api, f"/events/{event_id}/likes", limit=500))["limit"] == 100
    for params in ({"limit": 0}, {"limit": "ten"}, {"offset": -1}, {"offset": 10_001}):
        refused(get(api, f"/events/{event_id}/likes", **params), 400, "invalid_input")
    unknown = str(uuid.uuid4())
    refused(get(api, f"/users/{unknown}/likes"), 404, "not_found", f"User with ID {unknown} not found")
    refused(get(api, f"/users/{fans[0].id}/likes/{unknown}"), 404, "not_found")


# ---- the events group's popularity ------------------------------------------------------------------------------

def ranked(events_db, event_id):
    doc = events_db["events"].find_one({"_id": event_id})
    return doc["likes"], doc["popularity"]


def test_a_like_and_its_removal_leave_the_popularity_where_it_was(api, idb, group_db, person):
    events_db, org, fan = group_db("events"), person("organization"), person("member")
    created = api.call("POST", "events", "/", token=org.token, json={
        "title": "Popular night", "description": "Everyone", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Rimini"}})
    event_id = ok(created, 201)["eventId"]
    assert wait_until(lambda: idb["events"].find_one({"_id": event_id, "status": "PUBLISHED"}), timeout=10)
    likes_before, popularity_before = ranked(events_db, event_id)

    ok(like(api, fan, event_id), 201)
    assert wait_until(lambda: ranked(events_db, event_id)[0] == likes_before + 1, timeout=10)
    assert ranked(events_db, event_id)[1] > popularity_before
    ok(unlike(api, fan, event_id))

    assert wait_until(lambda: ranked(events_db, event_id)[0] == likes_before, timeout=10)
    assert ranked(events_db, event_id)[1] == pytest.approx(popularity_before, rel=1e-12)


def test_a_removal_whose_like_was_never_counted_takes_nothing(api, group_db, broker, person, platform):
    events_db, org, fan = group_db("events"), person("organization"), person("member")
    created = api.call("POST", "events", "/", token=org.token, json={
        "title": "Never liked", "description": "Nobody", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Forli"}})
    event_id = ok(created, 201)["eventId"]
    before = ranked(events_db, event_id)
    counter, dead = platform.spec("events-count-interactions"), []

    removal = broker.publish("interactions.like.deleted", {"eventId": event_id, "userId": fan.id,
                                                           "likedAt": iso(moments.now())}, sequence=2)

    # retried (its like may still be on its way), then dead-lettered: the count never goes below zero
    assert wait_until(lambda: dead.extend(m for m in platform.bus.dead_letters(counter)
                                          if json.loads(m.body)["id"] == removal.get_id()) or dead, timeout=15)
    assert dead[0].headers["ce-knativeerrorcode"] == "409"
    assert ranked(events_db, event_id) == before


# ---- what every route of the group shares ---------------------------------------------------------------------------

WRITES = [("POST", "/events/{e}/likes"), ("DELETE", "/events/{e}/likes/{u}"), ("POST", "/users/{u}/following"),
          ("DELETE", "/users/{u}/following/{u}"), ("DELETE", "/users/{u}"), ("POST", "/events/{e}/reviews"),
          ("PUT", "/events/{e}/reviews/{u}"), ("DELETE", "/events/{e}/reviews/{u}")]


@pytest.mark.parametrize("method, path", WRITES)
def test_every_write_needs_a_token(api, method, path):
    response = api.call(method, "interactions", path.format(e=uuid.uuid4(), u=uuid.uuid4()), json={},
                        headers={"Authorization": "Bearer not-a-token"})

    refused(response, 401, "unauthorized")


def test_health(api):
    assert ok(get(api, "/health")) == {"status": "OK"}


def test_reads_about_a_draft_are_for_its_organizers_only(api, person, known_event):
    org, partner, fan = person("organization"), person("organization"), person("member")
    draft = known_event(org, status="DRAFT", collaborators=[partner.id])
    reads = [f"/events/{draft}/likes", f"/events/{draft}/reviews", f"/events/{draft}/participants",
             f"/users/{fan.id}/likes/{draft}", f"/users/{fan.id}/reviews/{draft}",
             f"/users/{fan.id}/participations/{draft}"]

    for path in reads:
        refused(get(api, path), 404, "not_found")
        refused(get(api, path, token=fan.token), 404, "not_found")
    for who in (org, partner):
        assert ok(get(api, f"/events/{draft}/likes", token=who.token))["totalItems"] == 0
        assert ok(get(api, f"/users/{fan.id}/likes/{draft}", token=who.token)) == {"hasLiked": False}


def test_a_user_unknown_everywhere_cannot_drop_their_follows(api, platform):
    user_id = str(uuid.uuid4())
    token = platform.idp.mint({"user_id": user_id, "realm_access": {"roles": ["member"]}})

    refused(api.call("DELETE", "interactions", f"/users/{user_id}", token=token), 404, "not_found",
            f"User with ID {user_id} not found")
