"""The Socket.IO service with real ``socketio.AsyncClient``s against two replicas: handshake auth, pushes reaching
exactly the right users on either replica, presence across replicas (also after a replica is killed)."""
from __future__ import annotations

import pytest

from localrunner.bus import wait_until
from notifications_support import (
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
