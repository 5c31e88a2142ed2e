"""Pushes from functions to the Socket.IO service: a write-only python-socketio manager on RabbitMQ.

Every replica of the Socket.IO service (``realtime/``) listens on the fanout exchange ``<EVENT_EXCHANGE>.socketio``
through ``AsyncAioPikaManager``; a function emits to a room (``user:<id>``) through a write-only ``KombuManager``
on the same exchange, and whichever replica holds that user's sockets delivers. Pushes are at-most-once UI signals
(no publisher confirms): the stored notifications are the truth. With the local runner's in-memory bus there is no
broker to push through, so nothing is pushed.

The manager (one connection) is kept per process and used under a lock: the platforms run deliveries in threads.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

REQUIREMENTS = ("python-socketio", "python-engineio", "kombu")  # what a pushing function's image adds

_managers: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def channel_of(exchange: str) -> str:
    """The Socket.IO fanout exchange of a deployment (or a test namespace): ``<exchange>.socketio``."""
    return f"{exchange}.socketio"


def room_of(user_id: str) -> str:
    return f"user:{user_id}"


def _manager(amqp_url: str, channel: str):
    key = (amqp_url, channel)
    if key not in _managers:
        import socketio

        class Manager(socketio.KombuManager):
            """Keeps one producer (python-socketio makes one per emit): a fan-out pushes thousands."""

            _publish_one = None

            def _producer_publish(self, connection):
                if self._publish_one is None:
                    self._publish_one = super()._producer_publish(connection)
                return self._publish_one

        # The exchange is declared once here, so each push is one publish (not a declare and a publish).
        manager = Manager(amqp_url, channel=channel, write_only=True, producer_options={"auto_declare": False})
        manager._exchange()(manager.publisher_connection.default_channel).declare()
        _managers[key] = manager
    return _managers[key]


def push(ctx, pushes: Iterable[tuple[str, str, Mapping[str, Any]]]) -> int:
    """Emit each ``(user_id, event_name, payload)`` to the room ``user:<user_id>``; answers how many went out.
    A broker problem is logged, never raised: the notifications are stored already."""
    amqp_url = ctx.config.amqp_url
    pushes = list(pushes)
    if not pushes or amqp_url.startswith("memory:"):
        return 0
    sent = 0
    with _lock:
        try:
            manager = _manager(amqp_url, channel_of(ctx.config.exchange))
            for user_id, name, payload in pushes:
                manager.emit(name, dict(payload), room=room_of(user_id))
                sent += 1
        except Exception as exc:  # noqa: BLE001 - a lost push is a lost UI signal, not a failed invocation
            _managers.pop((amqp_url, channel_of(ctx.config.exchange)), None)
            ctx.log.warning("push failed", fields={"error": exc.__class__.__name__, "sent": sent})
    return sent


def push_stored(ctx, docs: Iterable[Mapping[str, Any]]) -> int:
    """Push stored notifications to their recipients under their type's event name (``like``, ``new_event``...)."""
    from functions.notifications.model import push_payload

    return push(ctx, ((doc["userId"], doc["type"], push_payload(doc)) for doc in docs))
