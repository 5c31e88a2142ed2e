"""Presence across two Socket.IO replicas: ``user-online`` on a user's first socket anywhere, ``user-offline``
when the last one closes, ``GET /users/{id}/is-online`` from the shared presence, and a replica killed without
saying goodbye (its sockets expire and a live replica announces them offline, once). The kill is the module's
last test: the platform keeps one replica afterwards."""
from __future__ import annotations

import pytest

from localrunner.bus import wait_until
from notifications_support import TTL_SECONDS, api, db, people, platform, replica_url, sockets  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("db")


def is_online(api, asker, user) -> bool:
    answer = api.call("GET", "notifications", f"/users/{user.id}/is-online", token=asker.token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["userId"] == user.id
    return answer.json()["isOnline"]


def presence_of(socket, user):
    return [(e, p["userId"]) for e, p in list(socket.received) if e in ("user-online", "user-offline")
            and p["userId"] == user.id]


def test_online_on_the_first_socket_anywhere_and_offline_when_the_last_one_closes(platform, api, sockets, people):
    watcher, user = people(2)
    watching = sockets.connect(replica_url(platform, 0), watcher.token)
    assert is_online(api, watcher, user) is False
    first = sockets.connect(replica_url(platform, 1), user.token)
    [online] = watching.wait_for("user-online", count=1)
    assert online["userId"] == user.id and online["timestamp"].endswith("Z")
    assert first.of("user-online") == []  # not announced to the user's own sockets
    second = sockets.connect(replica_url(platform, 0), user.token)
    assert is_online(api, watcher, user) is True
    sockets.disconnect(first)
    assert is_online(api, watcher, user) is True  # still connected on the other replica
    sockets.disconnect(second)
    watching.wait_for("user-offline")
    assert wait_until(lambda: is_online(api, watcher, user) is False, timeout=5)
    assert presence_of(watching, user) == [("user-online", user.id), ("user-offline", user.id)]


def test_is_online_needs_a_token(api, people):
    [user] = people(1)
    assert api.call("GET", "notifications", f"/users/{user.id}/is-online").status_code == 401


def test_simultaneous_first_sockets_on_both_replicas_announce_online_once(platform, api, sockets, people):
    watcher, user = people(2)
    watching = sockets.connect(replica_url(platform, 0), watcher.token)

    async def both():
        import asyncio

        import socketio

        clients = [socketio.AsyncClient(reconnection=False) for _ in range(2)]
        await asyncio.gather(*(c.connect(replica_url(platform, i), auth={"token": user.token},
                                         transports=["websocket"]) for i, c in enumerate(clients)))
        return clients

    clients = sockets.run(both())
    assert wait_until(lambda: presence_of(watching, user) == [("user-online", user.id)])
    assert not wait_until(lambda: len(presence_of(watching, user)) > 1, timeout=1.5)
    for client in clients:
        sockets.run(client.disconnect())
    assert wait_until(lambda: presence_of(watching, user) == [("user-online", user.id), ("user-offline", user.id)])


def test_a_killed_replicas_sockets_go_offline_once_and_the_others_stay(platform, api, sockets, people):
    watcher, only_there, on_both = people(3)
    watching = sockets.connect(replica_url(platform, 0), watcher.token)
    doomed = sockets.connect(replica_url(platform, 1), only_there.token)
    sockets.connect(replica_url(platform, 0), on_both.token)
    sockets.connect(replica_url(platform, 1), on_both.token)
    assert wait_until(lambda: is_online(api, watcher, only_there) and is_online(api, watcher, on_both))

    platform.realtime.replicas[1].kill()
    assert wait_until(lambda: not doomed.connected, timeout=5)
    assert wait_until(lambda: presence_of(watching, only_there) == [("user-online", only_there.id),
                                                                     ("user-offline", only_there.id)],
                      timeout=TTL_SECONDS + 5)
    assert is_online(api, watcher, only_there) is False
    assert is_online(api, watcher, on_both) is True  # its socket on the live replica still counts
    assert not wait_until(lambda: ("user-offline", on_both.id) in presence_of(watching, on_both), timeout=2)
    assert presence_of(watching, only_there).count(("user-offline", only_there.id)) == 1

    # the user reconnects (the SPA does, through the gateway, to a live replica): online again
    sockets.connect(replica_url(platform, 0), only_there.token)
    assert wait_until(lambda: presence_of(watching, only_there)[-1] == ("user-online", only_there.id))
    assert is_online(api, watcher, only_there) is True
