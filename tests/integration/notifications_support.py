"""Shared helpers of the notifications tests (no tests here): a platform with two Socket.IO replicas, people with
minted tokens, real ``socketio.AsyncClient`` sockets driven from synchronous tests, and broker events as the
interactions, chat and events groups publish them.

The platform here differs from the conftest's only by running the Socket.IO service (two replicas, each its own
process behind the gateway) with a fast presence heartbeat, so a killed replica's sockets expire within seconds.
"""
from __future__ import annotations

import asyncio
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
import socketio

from integration_support import AMQP_URL, Api, broker  # noqa: F401  (resolved against this module's platform)
from localrunner.app import LocalPlatform, Settings, free_port
from localrunner.bus import wait_until

FAST_BACKOFF_MS = (50, 100, 200)
HEARTBEAT_SECONDS, TTL_SECONDS = 1, 3
# The stand-in's inserts cost O(collection size) and it answers one command at a time: batches of 500 into a
# collection of thousands take seconds, long enough for pymongo's monitors to give up on it and cancel what is in
# flight. Smaller batches keep every command short; the walk is the same.
FANOUT_BATCH = 200
SERVER_EVENTS = ("registered", "user-online", "user-offline", "message", "like", "follow", "review", "new_event",
                 "notification")
AVATAR = "http://media.localhost/users/default.png"


@pytest.fixture(scope="module", params=["knative", "openfaas"])
def platform(request, mongo_uri):
    """The whole platform with two Socket.IO replicas (overrides the conftest's for the modules importing it)."""
    settings = Settings(platform=request.param, namespace=f"t{uuid.uuid4().hex[:12]}", mongo_uri=mongo_uri,
                        amqp_url=AMQP_URL, s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL"), port=0,
                        idp_port=free_port(), backoff_ms=FAST_BACKOFF_MS, retry_past_leases=False, relay_seconds=0.5,
                        socket_replicas=2,
                        extra_env={"PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
                                   "PRESENCE_TTL_SECONDS": str(TTL_SECONDS),
                                   "NOTIFICATIONS_FANOUT_BATCH": str(FANOUT_BATCH)})
    running = LocalPlatform(settings).start()
    yield running
    running.stop(remove=True)


@pytest.fixture
def api(platform):
    api = Api(platform)
    yield api
    api.client.close()


@pytest.fixture
def db(platform, mongo_client):
    """The notifications group's database on this module's platform."""
    return mongo_client[platform.database("notifications")]


@dataclass(frozen=True)
class Person:
    id: str
    token: str
    name: str


@pytest.fixture
def people(platform):
    """``people(3)`` → that many users with minted tokens (the notifications group needs no users mirror)."""

    def make(count=1, role="member"):
        made = []
        for _ in range(count):
            user_id = str(uuid.uuid4())
            name = f"{role}-{user_id[:6]}"
            token = platform.idp.mint({"user_id": user_id, "preferred_username": name,
                                       "realm_access": {"roles": [role]}})
            made.append(Person(user_id, token, name))
        return made

    return make


# ---- sockets ------------------------------------------------------------------------------------------------

@dataclass
class Socket:
    """One real Socket.IO client; ``received`` holds every server → client event in arrival order."""

    client: socketio.AsyncClient
    received: list[tuple[str, Any]] = field(default_factory=list)

    def of(self, name: str) -> list[Any]:
        return [payload for event, payload in list(self.received) if event == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        assert wait_until(lambda: len(self.of(name)) >= count, timeout=timeout), \
            f"{name}: {len(self.of(name))} of {count} after {timeout} s; got {[e for e, _ in self.received]}"
        return self.of(name)

    @property
    def connected(self) -> bool:
        return self.client.connected


class Sockets:
    """Runs ``socketio.AsyncClient``s on an event loop of their own, so synchronous tests drive them."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="socket-clients")
        self.thread.start()
        self.opened: list[Socket] = []

    def run(self, coroutine, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def _client(self, refusals: list[Any]) -> Socket:
        client = socketio.AsyncClient(reconnection=False)
        socket = Socket(client)
        for name in SERVER_EVENTS:
            client.on(name, (lambda n: lambda data=None: socket.received.append((n, data)))(name))
        client.on("connect_error", lambda data=None: refusals.append(data))
        return socket

    def connect(self, url: str, token: str | None = None, *, auth: dict | None = None, headers: dict | None = None,
                transports=("websocket",), registered: bool = True) -> Socket:
        """A connected socket (``auth.token`` = ``token`` unless ``auth`` is given), once ``registered`` arrived."""
        refusals: list[Any] = []
        socket = self._client(refusals)
        auth = auth if auth is not None else ({"token": token} if token else None)

        async def go():
            if headers and "Host" in headers:  # as a browser sends it on every request, not on the first only
                import aiohttp

                socket.client.eio.http = aiohttp.ClientSession(headers={"Host": headers["Host"]})
            await socket.client.connect(url, auth=auth, headers=headers or {}, transports=list(transports),
                                        wait_timeout=10)

        self.run(go())
        self.opened.append(socket)
        if registered:
            socket.wait_for("registered")
        return socket

    def refusal(self, url: str, *, auth: dict | None = None, headers: dict | None = None) -> Any:
        """The ``connect_error`` data of a handshake the server refuses."""
        refusals: list[Any] = []
        socket = self._client(refusals)

        async def go():
            try:
                await socket.client.connect(url, auth=auth, headers=headers or {}, transports=["websocket"],
                                            wait_timeout=10)
            except socketio.exceptions.ConnectionError:
                return
            await socket.client.disconnect()
            raise AssertionError("the handshake was accepted")

        self.run(go())
        assert wait_until(lambda: refusals, timeout=5)
        return refusals[0]

    def disconnect(self, socket: Socket) -> None:
        self.run(socket.client.disconnect())

    def close(self) -> None:
        for socket in self.opened:
            try:
                self.run(socket.client.disconnect(), timeout=10)
            except Exception:  # noqa: BLE001 - already gone with its replica
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def sockets():
    clients = Sockets()
    yield clients
    clients.close()


def replica_url(platform, index: int) -> str:
    """A replica's own URL (tests choose which replica holds which socket)."""
    return platform.realtime.replicas[index].url


def gateway(platform) -> tuple[str, dict[str, str]]:
    """The gateway's URL and the Host header the SPA's ``notifications.<host>`` gives."""
    return platform.url, {"Host": f"notifications.localhost:{platform.port}"}


# ---- events as the producers publish them -------------------------------------------------------------------

def like(broker, creator, liker, event_id=None, *, sequence=1, event_name="Summer Rave"):
    return broker.publish("interactions.like.created", {
        "creatorId": creator.id, "eventId": event_id or str(uuid.uuid4()), "eventName": event_name,
        "userId": liker.id, "userName": liker.name, "userAvatar": AVATAR}, sequence=sequence)


def review(broker, creator, reviewer, event_id=None):
    return broker.publish("interactions.review.created", {
        "creatorId": creator.id, "eventId": event_id or str(uuid.uuid4()), "userId": reviewer.id,
        "userName": reviewer.name, "userAvatar": AVATAR})


def follow(broker, follower, followed, *, sequence=1, event_id=None):
    return broker.publish("interactions.follow.created", {
        "followerId": follower.id, "followedId": followed.id, "followerName": follower.name,
        "followerAvatar": AVATAR}, sequence=sequence, event_id=event_id)


def unfollow(broker, follower, followed, *, sequence=2):
    return broker.publish("interactions.follow.deleted", {"followerId": follower.id, "followedId": followed.id},
                          sequence=sequence)


def published(broker, creator, event_id=None, *, name="Opening night", event_id_ce=None):
    return broker.publish("event.published", {"eventId": event_id or str(uuid.uuid4()), "name": name,
                                              "creatorId": creator.id, "creatorName": creator.name,
                                              "date": None}, sequence=2, event_id=event_id_ce)


def message(broker, sender, receiver, text="hello there"):
    return broker.publish("chat.message.created", {
        "receiverId": receiver.id, "conversationId": str(uuid.uuid4()), "senderId": sender.id,
        "senderName": sender.name, "message": text, "messageId": str(uuid.uuid4()), "senderAvatar": AVATAR,
        "createdAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")})


def seed_followers(db, followed_id: str, count: int, prefix: str | None = None) -> list[str]:
    """``count`` followers of ``followed_id`` written straight into the follow mirror (as its events leave it):
    thousands of follow events through the broker would only test the broker."""
    prefix = prefix or uuid.uuid4().hex[:8]
    ids = [f"{prefix}-{i:06d}" for i in range(count)]
    docs = [{"_id": f"{f} {followed_id}", "followerId": f, "followedId": followed_id, "deleted": False, "_seq": 1}
            for f in ids]
    for start in range(0, len(docs), FANOUT_BATCH):  # short commands (see FANOUT_BATCH)
        db["follows"].insert_many(docs[start:start + FANOUT_BATCH])
    return ids
