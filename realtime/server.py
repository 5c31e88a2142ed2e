"""The Socket.IO server: authentication at the handshake, the user's room, presence across replicas.

- Handshake: the access token from ``auth.token`` or ``Authorization: Bearer``, verified as every function
  verifies tokens (``runtime.auth``); refusals carry the reference's messages.
- On connect the socket joins ``user:<id>``, gets ``registered {userId}``, and its presence is recorded in the
  group's database (``functions.notifications.presence``); the user's first socket anywhere announces
  ``user-online {userId, timestamp}`` to everyone else, the last one gone ``user-offline``.
- Pushes come from the functions through the RabbitMQ fanout exchange (``AsyncAioPikaManager``), so they reach
  the user's sockets on whichever replica holds them.
- Every replica heartbeats and sweeps the sockets of replicas that stopped (``presence.sweep``), announcing
  ``user-offline`` for users who had no socket left elsewhere.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import socketio

from runtime.auth import bearer_token, verifier_for
from runtime.dates import iso
from runtime.errors import Unauthorized, Unavailable
from runtime.store import mongo_client

from .settings import Settings
from functions.notifications import presence

log = logging.getLogger("realtime")
NO_TOKEN = "Authentication error: No token provided"
INVALID_TOKEN = "Authentication error: Invalid token"
UNAVAILABLE = "Authentication error: Identity provider unavailable"
PREFETCH = 200


def now() -> datetime:
    return datetime.now(timezone.utc)


def room_of(user_id: str) -> str:
    return f"user:{user_id}"


def token_of(environ: dict, auth) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"].strip():
        return auth["token"].strip().removeprefix("Bearer ").strip()
    return bearer_token(environ.get("HTTP_AUTHORIZATION"))


class Manager(socketio.AsyncAioPikaManager):
    """python-socketio's RabbitMQ manager, telling when its queue is bound (pushes before that would be lost)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.listening = asyncio.Event()

    async def _channel(self, connection):
        """python-socketio consumes with prefetch 1 (one broker round trip per push); a fan-out sends thousands,
        so let ``PREFETCH`` be in flight (each is still acknowledged after it was emitted)."""
        channel = await super()._channel(connection)
        set_qos = channel.set_qos

        async def more(prefetch_count: int = 0, **kwargs):
            return await set_qos(prefetch_count=max(prefetch_count, PREFETCH), **kwargs)

        channel.set_qos = more
        return channel

    async def _queue(self, channel, exchange):
        queue = await super()._queue(channel, exchange)
        self.listening.set()
        return queue


class Realtime:
    """One replica: the ``AsyncServer``, its handlers and its presence upkeep."""

    def __init__(self, settings: Settings):
        self.settings = settings
        manager = Manager(settings.config.amqp_url, channel=settings.channel) if settings.broadcast else None
        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, cors_credentials=True,
                                        cors_allowed_origins=list(settings.cors_origins),
                                        transports=list(settings.transports))
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self._upkeep: asyncio.Task | None = None

    @property
    def db(self):
        return mongo_client(self.settings.config.mongo_uri)[self.settings.database]

    async def _db(self, operation, *args):
        return await asyncio.to_thread(operation, self.db, *args)

    # -- handlers ------------------------------------------------------------------------------------------------
    async def connect(self, sid, environ, auth=None):
        token = token_of(environ, auth)
        if not token:
            raise socketio.exceptions.ConnectionRefusedError(NO_TOKEN)
        try:
            principal = await asyncio.to_thread(verifier_for(self.settings.config).verify, token)
        except Unauthorized:
            raise socketio.exceptions.ConnectionRefusedError(INVALID_TOKEN) from None
        except Unavailable:
            raise socketio.exceptions.ConnectionRefusedError(UNAVAILABLE) from None
        user_id = principal.user_id
        await self.sio.save_session(sid, {"userId": user_id})
        await self.sio.enter_room(sid, room_of(user_id))
        first = await self._db(presence.connect, user_id, sid, self.settings.replica, now())
        if first:
            await self.sio.emit("user-online", {"userId": user_id, "timestamp": iso(now())}, skip_sid=sid)
        # After the handshake is answered: an emit from inside the handler would precede the CONNECT packet.
        self.sio.start_background_task(self.sio.emit, "registered", {"userId": user_id}, to=sid)

    async def disconnect(self, sid, reason=None):
        session = await self.sio.get_session(sid)
        user_id = session.get("userId") if session else None
        if user_id and await self._db(presence.disconnect, user_id, sid, now()):
            await self.offline(user_id)

    async def offline(self, user_id: str) -> None:
        await self.sio.emit("user-offline", {"userId": user_id, "timestamp": iso(now())})

    # -- presence upkeep -----------------------------------------------------------------------------------------
    async def beat(self) -> None:
        """Say this replica is alive, then claim the sockets of replicas that are not."""
        s = self.settings
        await self._db(presence.heartbeat, s.replica, now(), s.ttl)
        for user_id in await self._db(presence.sweep, now()):
            await self.offline(user_id)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat.total_seconds())
            try:
                await self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the TTL tolerates a few
                log.exception("presence heartbeat failed")

    async def startup(self) -> None:
        await self._db(presence.ensure_indexes)
        if isinstance(self.sio.manager, Manager):  # listen now, not at the first connection as by default
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
            await asyncio.wait_for(self.sio.manager.listening.wait(), timeout=30)
        await self.beat()
        self._upkeep = asyncio.create_task(self._beat_forever())
        log.info("replica %s serving (channel %s)", self.settings.replica, self.settings.channel)

    async def shutdown(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
        await self._db(presence.retire, self.settings.replica)


async def health(scope, receive, send):
    """Anything that is not Socket.IO: ``GET /health`` answers ``{"status": "OK"}``, the rest 404."""
    if scope["type"] != "http":
        return
    ok = scope["path"].rstrip("/") in ("/health", "/health/readiness", "/health/liveness")
    body = b'{"status":"OK"}' if ok else b'{"error":"not_found","message":"Not found."}'
    await send({"type": "http.response.start", "status": 200 if ok else 404,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> socketio.ASGIApp:
    realtime = Realtime(settings or Settings.from_config())
    app = socketio.ASGIApp(realtime.sio, other_asgi_app=health, on_startup=realtime.startup,
                           on_shutdown=realtime.shutdown)
    app.realtime = realtime
    return app
