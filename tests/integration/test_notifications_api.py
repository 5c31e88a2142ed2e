"""The notifications REST endpoints (what the SPA reads) and the events that fill them: shapes, every status,
validation, ownership, duplicates and reordering, deletions."""
from __future__ import annotations

import uuid

import pytest

from localrunner.bus import wait_until
from notifications_support import (  # noqa: F401  (fixtures)
    AVATAR,
    api,
    broker,
    db,
    follow,
    like,
    message,
    people,
    platform,
    published,
    review,
    unfollow,
)


def listing(api, person, **params):
    answer = api.call("GET", "notifications", "/", token=person.token, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["notifications"]


def stored(db, person) -> int:
    return db["notifications"].count_documents({"userId": person.id})


def likes_for(broker, db, creator, count):
    for liker in fresh(count):
        like(broker, creator, liker)
    assert wait_until(lambda: stored(db, creator) == count)


def fresh(count):
    from notifications_support import Person

    return [Person(str(uuid.uuid4()), "", f"liker-{i}") for i in range(count)]


# ---- GET / -------------------------------------------------------------------------------------------------------

def test_the_list_is_the_references_nested_shape_newest_first(api, broker, db, people):
    creator, liker = people(2)
    first = like(broker, creator, liker, event_name="First")
    assert wait_until(lambda: stored(db, creator) == 1)
    second = review(broker, creator, liker)
    assert wait_until(lambda: stored(db, creator) == 2)
    page = listing(api, creator)
    assert set(page) == {"notifications", "total", "limit", "offset", "hasMore"}
    assert (page["total"], page["limit"], page["offset"], page["hasMore"]) == (2, 20, 0, False)
    newest, oldest = page["notifications"]
    assert set(newest) == {"id", "userId", "type", "metadata", "read", "createdAt", "updatedAt"}
    assert (newest["type"], oldest["type"]) == ("review", "like")
    assert newest["metadata"] == {"eventId": second.get_data()["eventId"], "userId": liker.id,
                                  "userName": liker.name, "userAvatar": AVATAR}
    assert oldest["metadata"] == {"eventId": first.get_data()["eventId"], "eventName": "First", "userId": liker.id,
                                  "userName": liker.name, "userAvatar": AVATAR}
    assert oldest["userId"] == creator.id and oldest["read"] is False and oldest["createdAt"].endswith("Z")
    assert listing(api, liker)["total"] == 0  # nobody else sees them


def test_pages_count_the_whole_set(api, broker, db, people):
    [creator] = people(1)
    likes_for(broker, db, creator, 5)
    page = listing(api, creator, limit=2, offset=2)
    assert (len(page["notifications"]), page["total"], page["limit"], page["offset"], page["hasMore"]) == \
        (2, 5, 2, 2, True)
    last = listing(api, creator, limit=2, offset=4)
    assert (len(last["notifications"]), last["hasMore"]) == (1, False)
    everything = [n["id"] for n in listing(api, creator, limit=100)["notifications"]]
    paged = [n["id"] for offset in (0, 2, 4) for n in listing(api, creator, limit=2, offset=offset)["notifications"]]
    assert paged == everything and len(set(everything)) == 5


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"offset": "-1"},
                                    {"offset": "10001"}, {"unreadOnly": "yes"}, {"unreadOnly": "maybe"}])
def test_bad_query_parameters_are_400_not_500(api, people, params):
    [person] = people(1)
    answer = api.call("GET", "notifications", "/", token=person.token, params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_input"
    assert answer.json()["details"][0]["field"] == next(iter(params))


@pytest.mark.parametrize("value, unread_only", [("true", True), ("TRUE", True), ("1", True), ("false", False),
                                                ("0", False), ("", False)])
def test_unread_only_is_a_real_boolean(api, broker, db, people, value, unread_only):
    [creator] = people(1)
    likes_for(broker, db, creator, 2)
    one = listing(api, creator)["notifications"][0]["id"]
    assert api.call("POST", "notifications", f"/{one}", token=creator.token).status_code == 200
    page = listing(api, creator, unreadOnly=value)
    assert page["total"] == (1 if unread_only else 2)
    assert all(not n["read"] for n in page["notifications"]) or not unread_only


def test_every_endpoint_needs_a_token(api):
    for method, path in (("GET", "/"), ("GET", "/unread-count"), ("POST", "/read-all"), ("POST", f"/{uuid.uuid4()}"),
                         ("GET", f"/users/{uuid.uuid4()}/is-online")):
        answer = api.call(method, "notifications", path)
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"] == "unauthorized"


def test_health_needs_no_token(api):
    answer = api.call("GET", "notifications", "/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "OK"})


# ---- reading ---------------------------------------------------------------------------------------------------

def test_unread_count_mark_one_and_read_all(api, broker, db, people):
    [creator] = people(1)
    likes_for(broker, db, creator, 3)
    count = lambda: api.call("GET", "notifications", "/unread-count", token=creator.token).json()  # noqa: E731
    assert count() == {"count": 3}
    one = listing(api, creator)["notifications"][1]["id"]
    answer = api.call("POST", "notifications", f"/{one}", token=creator.token)
    assert (answer.status_code, answer.json()) == (200, {"success": True, "message": "Notification marked as read"})
    assert count() == {"count": 2}
    assert api.call("POST", "notifications", f"/{one}", token=creator.token).status_code == 200  # again: no change
    assert count() == {"count": 2}
    answer = api.call("POST", "notifications", "/read-all", token=creator.token)
    assert (answer.status_code, answer.json()) == (200, {"success": True,
                                                         "message": "All notifications marked as read"})
    assert count() == {"count": 0}
    assert all(n["read"] for n in listing(api, creator)["notifications"])


def test_someone_elses_or_an_unknown_notification_is_404_and_stays_unread(api, broker, db, people):
    owner, intruder = people(2)
    likes_for(broker, db, owner, 1)
    mine = listing(api, owner)["notifications"][0]["id"]
    for who, notification_id in ((intruder, mine), (owner, str(uuid.uuid4()))):
        answer = api.call("POST", "notifications", f"/{notification_id}", token=who.token)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "not_found"
    assert db["notifications"].find_one({"_id": mine})["read"] is False
    assert api.call("POST", "notifications", "/read-all", token=intruder.token).status_code == 200
    assert db["notifications"].find_one({"_id": mine})["read"] is False  # read-all is the caller's only


# ---- consumed events -------------------------------------------------------------------------------------------

def test_a_like_of_ones_own_event_notifies_nobody(platform, broker, db, people):
    [creator] = people(1)
    before = platform.answered("notifications-notify-like")
    like(broker, creator, creator)
    assert wait_until(lambda: platform.answered("notifications-notify-like") == before + 1)
    assert stored(db, creator) == 0


def test_a_redelivered_event_stores_one_notification(platform, broker, db, people):
    creator, liker = people(2)
    before = platform.answered("notifications-notify-like")
    event = like(broker, creator, liker)
    assert wait_until(lambda: platform.answered("notifications-notify-like") == before + 1)
    assert stored(db, creator) == 1
    broker.publish(event.get_type(), event.get_data(), sequence=1, event_id=event.get_id())  # the same CloudEvent
    assert wait_until(lambda: platform.answered("notifications-notify-like") == before + 2)
    assert stored(db, creator) == 1
    like(broker, creator, liker, event.get_data()["eventId"], sequence=3)  # liked again after an unlike: a new one
    assert wait_until(lambda: stored(db, creator) == 2)


def test_the_follow_mirror_applies_the_newest_and_notifies_current_follows_only(platform, broker, db, people):
    follower, followed, late = people(3)
    unfollow(broker, follower, followed, sequence=2)  # the unfollow overtook the follow
    assert wait_until(lambda: db["follows"].find_one({"followerId": follower.id, "deleted": True}))
    before = platform.answered("notifications-mirror-follows")
    follow(broker, follower, followed, sequence=1)
    assert wait_until(lambda: platform.answered("notifications-mirror-follows") == before + 1)
    assert db["follows"].find_one({"followerId": follower.id})["deleted"] is True
    assert stored(db, followed) == 0
    follow(broker, follower, followed, sequence=3)  # followed again
    assert wait_until(lambda: stored(db, followed) == 1)
    follow(broker, late, followed, sequence=1)
    assert wait_until(lambda: stored(db, followed) == 2)
    unfollow(broker, late, followed, sequence=2)
    assert wait_until(lambda: db["follows"].count_documents({"followedId": followed.id, "deleted": False}) == 1)


def test_a_published_event_notifies_current_followers_once_even_when_redelivered(platform, broker, db, people):
    organization, stays, leaves = people(3)
    follow(broker, stays, organization)
    follow(broker, leaves, organization)
    assert wait_until(lambda: db["follows"].count_documents({"followedId": organization.id, "deleted": False}) == 2)
    unfollow(broker, leaves, organization)
    assert wait_until(lambda: db["follows"].count_documents({"followedId": organization.id, "deleted": False}) == 1)
    before = platform.answered("notifications-fan-out-event")
    event = published(broker, organization, name="Techno Tuesday")
    published(broker, organization, event.get_data()["eventId"], name="Techno Tuesday", event_id_ce=event.get_id())
    published(broker, organization, event.get_data()["eventId"], name="Techno Tuesday")  # republished, new id
    assert wait_until(lambda: platform.answered("notifications-fan-out-event") == before + 3)
    [only] = list(db["notifications"].find({"type": "new_event", "metadata.eventId": event.get_data()["eventId"]}))
    assert only["userId"] == stays.id
    assert only["metadata"] == {"creatorId": organization.id, "eventId": event.get_data()["eventId"],
                                "eventName": "Techno Tuesday", "creatorName": organization.name}


def test_messages_are_pushed_but_never_stored(platform, broker, db, people):
    sender, receiver = people(2)
    before = platform.answered("notifications-push-message")
    message(broker, sender, receiver)
    assert wait_until(lambda: platform.answered("notifications-push-message") == before + 1)
    assert stored(db, receiver) + stored(db, sender) == 0


def test_a_malformed_event_is_dead_lettered_and_stores_nothing(platform, broker, db, people):
    [creator] = people(1)
    broker.publish("interactions.like.created", {"creatorId": creator.id}, sequence=1)
    spec = platform.spec("notifications-notify-like")
    assert wait_until(lambda: any(m for m in platform.bus.dead_letters(spec)), timeout=10)
    assert stored(db, creator) == 0


# ---- deletions -------------------------------------------------------------------------------------------------

def test_a_deleted_user_takes_their_notifications_and_what_they_caused(platform, broker, db, people):
    leaving, friend, organization = people(3)
    like(broker, leaving, friend)  # leaving's own notification
    like(broker, friend, leaving)  # one leaving caused
    follow(broker, leaving, organization)
    assert wait_until(lambda: stored(db, leaving) == 1 and stored(db, friend) == 1 and stored(db, organization) == 1)
    before = platform.answered("notifications-forget-user")
    broker.publish("user.deleted", {"id": leaving.id}, sequence=3)
    assert wait_until(lambda: platform.answered("notifications-forget-user") == before + 1)
    assert (stored(db, leaving), stored(db, friend), stored(db, organization)) == (0, 0, 0)
    assert db["follows"].count_documents({"followerId": leaving.id}) == 0
    follows, likes = platform.answered("notifications-mirror-follows"), platform.answered("notifications-notify-like")
    follow(broker, leaving, organization, sequence=5)  # late: stores nothing
    like(broker, friend, leaving)
    assert wait_until(lambda: platform.answered("notifications-mirror-follows") == follows + 1
                      and platform.answered("notifications-notify-like") == likes + 1)
    assert stored(db, organization) + stored(db, friend) == 0


def test_a_deleted_event_takes_its_notifications(platform, broker, db, people):
    creator, liker = people(2)
    event_id = str(uuid.uuid4())
    like(broker, creator, liker, event_id)
    review(broker, creator, liker)  # another event's
    assert wait_until(lambda: stored(db, creator) == 2)
    broker.publish("event.deleted", {"eventId": event_id}, sequence=4)
    assert wait_until(lambda: stored(db, creator) == 1)
    likes = platform.answered("notifications-notify-like")
    like(broker, creator, liker, event_id, sequence=3)  # late: stores nothing
    assert wait_until(lambda: platform.answered("notifications-notify-like") == likes + 1)
    assert stored(db, creator) == 1
