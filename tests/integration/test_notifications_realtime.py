"""The Socket.IO service with real ``socketio.AsyncClient``s against two replicas: handshake auth, pushes reaching
exactly the right users on either replica, presence across replicas (also after a replica is killed)."""
from __future__ import annotations

import pytest

from localrunner.bus import wait_until
from notifications_support import (  # noqa: F401  (fixtures)
    api,
    broker,
    db,
    follow,
    gateway,
    like,
    message,
    people,
    platform,
    published,
    replica_url,
    review,
    sockets,
)

pytestmark = pytest.mark.usefixtures("api", "db")


def test_a_like_reaches_the_creators_sockets_on_both_replicas_and_nobody_else(platform, sockets, people, broker):
    creator, liker, bystander = people(3)
    on_first = sockets.connect(replica_url(platform, 0), creator.token)
    on_second = sockets.connect(replica_url(platform, 1), creator.token)
    liker_socket = sockets.connect(replica_url(platform, 1), liker.token)
    bystander_socket = sockets.connect(replica_url(platform, 0), bystander.token)
    sent = like(broker, creator, liker)
    for socket in (on_first, on_second):
        [push] = socket.wait_for("like")
        assert push["type"] == "like" and push["read"] is False
        assert push["metadata"] == {"eventId": sent.get_data()["eventId"], "eventName": "Summer Rave",
                                    "userId": liker.id, "userName": liker.name, "userAvatar": sent.get_data()["userAvatar"]}
    assert on_first.of("like")[0]["id"] == on_second.of("like")[0]["id"]
    assert wait_until(lambda: platform.answered("notifications-notify-like") == 1)
    assert liker_socket.of("like") == [] and bystander_socket.of("like") == []


def test_a_follow_reaches_the_followed_user_only(platform, sockets, people, broker):
    follower, followed = people(2)
    followed_socket = sockets.connect(replica_url(platform, 1), followed.token)
    follower_socket = sockets.connect(replica_url(platform, 0), follower.token)
    follow(broker, follower, followed)
    [push] = followed_socket.wait_for("follow")
    assert push["metadata"] == {"followerId": follower.id, "followerName": follower.name,
                                "followerAvatar": "http://media.localhost/users/default.png"}
    assert set(push) == {"id", "type", "metadata", "read", "createdAt"}
    assert wait_until(lambda: platform.answered("notifications-mirror-follows") >= 1)
    assert follower_socket.of("follow") == []


def test_a_review_reaches_the_creator_on_the_other_replica(platform, sockets, people, broker):
    creator, reviewer = people(2)
    creator_socket = sockets.connect(replica_url(platform, 1), creator.token)
    reviewer_socket = sockets.connect(replica_url(platform, 0), reviewer.token)
    sent = review(broker, creator, reviewer)
    [push] = creator_socket.wait_for("review")
    assert push["metadata"] == {"eventId": sent.get_data()["eventId"], "userId": reviewer.id,
                                "userName": reviewer.name, "userAvatar": sent.get_data()["userAvatar"]}
    assert reviewer_socket.of("review") == []


def test_a_message_reaches_both_participants_on_either_replica_and_nobody_else(platform, sockets, people, broker):
    sender, receiver, bystander = people(3)
    sender_socket = sockets.connect(replica_url(platform, 0), sender.token)
    receiver_socket = sockets.connect(replica_url(platform, 1), receiver.token)
    bystander_socket = sockets.connect(replica_url(platform, 1), bystander.token)
    sent = message(broker, sender, receiver, "see you at the opening")
    expected = {"type": "message", "metadata": {k: v for k, v in sent.get_data().items() if k != "receiverId"}}
    assert receiver_socket.wait_for("message") == [expected]
    assert sender_socket.wait_for("message") == [expected]
    assert wait_until(lambda: platform.answered("notifications-push-message") == 1)
    assert bystander_socket.of("message") == []


def test_a_published_event_reaches_the_organizations_followers_only(platform, sockets, people, broker, db):
    organization, *followers = people(3)
    stranger = people(1)[0]
    for follower in followers:
        follow(broker, follower, organization)
    assert wait_until(lambda: db["follows"].count_documents({"followedId": organization.id, "deleted": False}) == 2)
    follower_sockets = [sockets.connect(replica_url(platform, i), f.token) for i, f in enumerate(followers)]
    others = [sockets.connect(replica_url(platform, 0), organization.token),
              sockets.connect(replica_url(platform, 1), stranger.token)]
    sent = published(broker, organization, name="Opening night")
    for follower, socket in zip(followers, follower_sockets):
        [push] = socket.wait_for("new_event")
        assert push["metadata"] == {"creatorId": organization.id, "eventId": sent.get_data()["eventId"],
                                    "eventName": "Opening night", "creatorName": organization.name}
    assert wait_until(lambda: platform.answered("notifications-fan-out-event") == 1)
    assert [s.of("new_event") for s in others] == [[], []]


# ---- the handshake ----------------------------------------------------------------------------------------------

def test_a_missing_token_is_refused_with_the_references_message(platform, sockets):
    assert sockets.refusal(replica_url(platform, 0)) == {"message": "Authentication error: No token provided"}


@pytest.mark.parametrize("kind", ["garbage", "expired", "foreign key"])
def test_a_bad_or_expired_token_is_refused_at_the_handshake(platform, sockets, kind):
    from cryptography.hazmat.primitives.asymmetric import rsa

    token = {"garbage": lambda: "not-a-jwt",
             "expired": lambda: platform.idp.mint({"user_id": "someone"}, expired=True),
             "foreign key": lambda: platform.idp.mint({"user_id": "someone"}, key=rsa.generate_private_key(
                 public_exponent=65537, key_size=2048))}[kind]()
    refusal = sockets.refusal(replica_url(platform, 1), auth={"token": token})
    assert refusal == {"message": "Authentication error: Invalid token"}


def test_the_token_may_come_in_the_authorization_header(platform, sockets, people):
    [person] = people(1)
    socket = sockets.connect(replica_url(platform, 0), headers={"Authorization": f"Bearer {person.token}"})
    assert socket.of("registered") == [{"userId": person.id}]


# ---- through the gateway, as the SPA connects -------------------------------------------------------------------

@pytest.mark.parametrize("transports", [("websocket",), ("polling",), ("polling", "websocket")])
def test_the_gateway_serves_socketio_over_websocket_and_polling(platform, sockets, people, broker, transports):
    creator, liker = people(2)
    url, headers = gateway(platform)
    socket = sockets.connect(url, creator.token, headers=headers, transports=transports)
    assert socket.of("registered") == [{"userId": creator.id}]
    like(broker, creator, liker)
    assert len(socket.wait_for("like")) == 1


def test_polling_answers_cors_with_credentials_for_the_spas_origin(platform):
    import httpx

    url, headers = gateway(platform)
    origin = "http://localhost:5173"
    answer = httpx.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                       headers={**headers, "Origin": origin}, timeout=10)
    assert answer.status_code == 200 and answer.text.startswith("0{")
    assert answer.headers["access-control-allow-origin"] == origin
    assert answer.headers["access-control-allow-credentials"] == "true"
    foreign = httpx.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers={**headers, "Origin": "http://evil.example"}, timeout=10)
    assert foreign.status_code == 400
