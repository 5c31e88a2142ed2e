"""Follows: the profile pages (followers, following, the follow button), what goes over the wire, and a user
dropping all their follows."""
import uuid

from interactions_support import AVATAR, follow, get, idb, ok, person, refused, unfollow, user_ids, wire_data  # noqa: F401  (fixtures)


def info(who):
    return {"userId": who.id, "avatar": AVATAR, "name": who.name, "username": who.username}


def test_following_someone_is_announced_once_and_shows_on_both_profiles(api, person, tap):
    fan, star = person("member"), person("organization")
    wire = tap("interactions.follow.created")
    key = f"follow-{uuid.uuid4()}"

    response = follow(api, fan, star.id, key=key)

    assert ok(response, 201) == {"message": "Follow created successfully", "statusCode": 201}
    assert wire_data(wire.settle(), "interactions.follow.created") == [
        ({"followedId": star.id, "followerId": fan.id, "followerName": fan.name, "followerAvatar": AVATAR}, 1)]
    assert ok(get(api, f"/users/{star.id}/followers")) == {"items": [info(fan)], "totalItems": 1, "limit": 20,
                                                           "offset": 0, "hasMore": False}
    assert ok(get(api, f"/users/{fan.id}/following"))["items"] == [info(star)]
    assert ok(get(api, f"/users/{fan.id}/following/{star.id}")) == {"isFollowing": True}
    assert ok(get(api, f"/users/{star.id}/following/{fan.id}")) == {"isFollowing": False}

    replay = follow(api, fan, star.id, key=key)
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    refused(follow(api, fan, star.id), 409, "conflict", "Already following this user")
    assert len(wire_data(wire.settle(), "interactions.follow.created")) == 1  # the retries emitted nothing


def test_unfollowing_is_announced_and_twice_is_harmless(api, idb, person, tap):
    fan, star = person("member"), person("member")  # any role follows any role
    wire = tap("interactions.follow.created", "interactions.follow.deleted")
    ok(follow(api, fan, star.id), 201)

    assert ok(unfollow(api, fan, star.id)) == {"message": "Follow removed successfully", "statusCode": 200}
    refused(unfollow(api, fan, star.id), 404, "not_found", "Follow relationship not found")
    ok(follow(api, fan, star.id), 201)

    messages = wire.settle()
    assert wire_data(messages, "interactions.follow.deleted") == [({"followedId": star.id, "followerId": fan.id}, 2)]
    assert [seq for _, seq in wire_data(messages, "interactions.follow.created")] == [1, 3]
    assert ok(get(api, f"/users/{star.id}/followers"))["totalItems"] == 1
    assert idb["follows"].count_documents({"followerId": fan.id}) == 1  # one document per pair


def test_who_may_follow_whom(api, idb, person):
    fan, star, other = person("member"), person("organization"), person("member")
    unknown = str(uuid.uuid4())
    keys = [f"refused-{uuid.uuid4()}" for _ in range(6)]

    refused(api.call("POST", "interactions", f"/users/{fan.id}/following", key=keys[0], json={"followedId": star.id}),
            401, "unauthorized")
    on_behalf = api.call("POST", "interactions", f"/users/{fan.id}/following", token=other.token, key=keys[1],
                         json={"followedId": star.id})
    refused(on_behalf, 403, "forbidden", "You are not allowed to follow on behalf of another user")
    for body, key in (({}, keys[2]), ({"followedId": ""}, keys[3]), ({"followedId": star.id, "since": 1}, keys[4])):
        refused(api.call("POST", "interactions", f"/users/{fan.id}/following", token=fan.token, key=key, json=body),
                400, "invalid_input")
    refused(follow(api, fan, unknown, key=keys[5]), 404, "not_found", f"User with ID {unknown} not found")
    refused(follow(api, fan, fan.id), 409, "conflict", "Cannot follow yourself")
    refused(api.call("DELETE", "interactions", f"/users/{fan.id}/following/{star.id}", token=other.token), 403,
            "forbidden")
    refused(unfollow(api, fan, unknown), 404, "not_found")
    refused(get(api, f"/users/{fan.id}/likes", limit=0), 400, "invalid_input")

    assert idb["follows"].count_documents({"followerId": {"$in": [fan.id, other.id]}}) == 0
    ids = [f"interactions-follow-user:{k}" for k in keys]
    assert idb["idempotency"].count_documents({"_id": {"$in": ids}}) == 0  # refused before anything was written


def test_follow_lists_are_paged_newest_first_with_exact_totals(api, person):
    star = person("organization")
    fans = [person("member") for _ in range(3)]
    for fan in fans:
        ok(follow(api, fan, star.id), 201)

    first = ok(get(api, f"/users/{star.id}/followers", limit=2))
    rest = ok(get(api, f"/users/{star.id}/followers", limit=2, offset=2))
    assert user_ids(first) + user_ids(rest) == [f.id for f in reversed(fans)]
    assert (first["totalItems"], first["hasMore"], rest["totalItems"], rest["hasMore"]) == (3, True, 3, False)
    assert ok(get(api, f"/users/{star.id}/followers", offset=3)) == {"items": [], "totalItems": 3, "limit": 20,
                                                                     "offset": 3, "hasMore": False}
    network = ok(get(api, f"/users/{star.id}", limit=2))
    assert network == {"followers": first["items"], "totalFollowers": 3, "following": [], "totalFollowing": 0}
    for path in (f"/users/{star.id}/followers", f"/users/{star.id}/following", f"/users/{star.id}"):
        refused(get(api, path, limit=0), 400, "invalid_input")
    unknown = str(uuid.uuid4())
    for path in (f"/users/{unknown}/followers", f"/users/{unknown}/following", f"/users/{unknown}",
                 f"/users/{unknown}/following/{star.id}", f"/users/{star.id}/following/{unknown}"):
        refused(get(api, path), 404, "not_found")


def test_a_user_drops_every_follow_from_and_to_them(api, idb, person, tap):
    me, friends, fans = person("member"), [person("member") for _ in range(2)], [person("member") for _ in range(2)]
    for friend in friends:
        ok(follow(api, me, friend.id), 201)
    for fan in fans:
        ok(follow(api, fan, me.id), 201)
    wire = tap("interactions.follow.deleted")
    key = f"drop-{uuid.uuid4()}"

    response = api.call("DELETE", "interactions", f"/users/{me.id}", token=me.token, key=key)

    assert ok(response) == {"message": "All follow relationships removed successfully", "statusCode": 200}
    sent = sorted((d["followerId"], d["followedId"], seq) for d, seq in wire_data(wire.settle(),
                                                                                 "interactions.follow.deleted"))
    assert sent == sorted([(me.id, f.id, 2) for f in friends] + [(f.id, me.id, 2) for f in fans])
    assert ok(get(api, f"/users/{me.id}")) == {"followers": [], "totalFollowers": 0, "following": [],
                                               "totalFollowing": 0}
    assert idb["users"].find_one({"_id": me.id})["deleted"] is False  # the user stays; only user.deleted removes

    replay = api.call("DELETE", "interactions", f"/users/{me.id}", token=me.token, key=key)
    assert replay.status_code == 200 and replay.headers.get("idempotent-replayed") == "true"
    assert ok(api.call("DELETE", "interactions", f"/users/{me.id}", token=me.token))["statusCode"] == 200
    assert len(wire.settle()) == 4  # nothing more went out
    refused(api.call("DELETE", "interactions", f"/users/{fans[0].id}", token=me.token), 403, "forbidden")
    refused(api.call("DELETE", "interactions", f"/users/{me.id}"), 401, "unauthorized")
