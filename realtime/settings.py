"""The service's settings, read once from the environment through the runtime's ``Config`` (the same variables
the functions read: ``MONGO_URI``, ``AMQP_URL``, ``EVENT_EXCHANGE``, ``DATABASE_PREFIX``, ``OIDC_*``,
``PUBLIC_HOST``) plus its own:

- ``SOCKETIO_CORS_ORIGINS``: comma-separated origins allowed with credentials (default: the SPA's dev server
  ``http://localhost:5173`` and ``http(s)://<PUBLIC_HOST>``);
- ``REALTIME_REPLICA``: this replica's name in the shared presence (default: host name + a random suffix, so a
  restarted replica is a new one);
- ``SOCKETIO_TRANSPORTS``: ``polling,websocket`` (default) or ``websocket`` where replicas have no session
  affinity (Knative): a client then skips long-polling instead of failing on another replica;
- ``PRESENCE_HEARTBEAT_SECONDS`` (5) and ``PRESENCE_TTL_SECONDS`` (3 heartbeats): how often a replica says it is
  alive and sweeps dead replicas' sockets, and how long its sockets count after its last heartbeat.
"""
from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from runtime.config import Config

GROUP = "notifications"
DEV_SPA_ORIGIN = "http://localhost:5173"


def channel_of(exchange: str) -> str:
    """The fanout exchange the replicas and the functions' pushes share (functions.notifications.push)."""
    return f"{exchange}.socketio"


@dataclass(frozen=True)
class Settings:
    config: Config
    replica: str
    cors_origins: tuple[str, ...]
    heartbeat: timedelta
    ttl: timedelta
    transports: tuple[str, ...] = ("polling", "websocket")

    @property
    def channel(self) -> str:
        return channel_of(self.config.exchange)

    @property
    def database(self) -> str:
        return self.config.database(GROUP)

    @property
    def broadcast(self) -> bool:
        """Whether replicas share emits over RabbitMQ (not with the local runner's in-memory bus)."""
        return not self.config.amqp_url.startswith("memory:")

    @classmethod
    def from_config(cls, config: Config | None = None) -> Settings:
        config = config or Config()
        host = config.public_host
        default_origins = f"{DEV_SPA_ORIGIN},http://{host},https://{host}"
        origins = tuple(o.strip().rstrip("/") for o in config.get("SOCKETIO_CORS_ORIGINS", default_origins).split(",")
                        if o.strip())
        heartbeat = config.get_int("PRESENCE_HEARTBEAT_SECONDS", 5)
        replica = config.get("REALTIME_REPLICA", "") or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        transports = tuple(t.strip() for t in config.get("SOCKETIO_TRANSPORTS", "polling,websocket").split(",")
                           if t.strip())
        return cls(config=config, replica=replica, cors_origins=origins, heartbeat=timedelta(seconds=heartbeat),
                   ttl=timedelta(seconds=config.get_int("PRESENCE_TTL_SECONDS", 3 * heartbeat)),
                   transports=transports)
