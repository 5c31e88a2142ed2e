"""Publishing to RabbitMQ with publisher confirms (pika), one connection per process, reconnecting on failure.

Consumers are the platforms' business (OpenFaaS connector, Knative trigger dispatcher, or the local runner's
emulation of both in ``local-runner/``); functions only publish, and only through the outbox relay.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from .config import DEFAULT_EXCHANGE
from .envelope import AmqpMessage
from .errors import Unavailable

CONNECT_TIMEOUT_SECONDS = 3


class Publisher:
    """Publishes persistent messages to the topic exchange and waits for the broker's confirm of each."""

    def __init__(self, amqp_url: str, exchange: str = DEFAULT_EXCHANGE):
        self.amqp_url = amqp_url
        self.exchange = exchange
        self._lock = threading.Lock()  # pika's BlockingConnection is not thread-safe
        self._connection = None
        self._channel = None

    def _open(self):
        import pika

        params = pika.URLParameters(self.amqp_url)
        params.socket_timeout = CONNECT_TIMEOUT_SECONDS
        params.blocked_connection_timeout = CONNECT_TIMEOUT_SECONDS * 2
        params.connection_attempts = 1
        params.stack_timeout = CONNECT_TIMEOUT_SECONDS * 2  # TCP + AMQP handshake together (pika's default: 15 s)
        self._connection = pika.BlockingConnection(params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()
        self._channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)

    def publish(self, message: AmqpMessage) -> None:
        """Returns once the broker confirmed the message; raises ``Unavailable`` otherwise (nothing is lost:
        the outbox keeps the entry until a publish is confirmed)."""
        import pika
        from pika.adapters.utils.connection_workflow import AMQPConnectorException
        from pika.exceptions import AMQPError

        with self._lock:
            try:
                if self._channel is None or self._channel.is_closed:
                    self.close_quietly()
                    self._open()
                self._channel.basic_publish(
                    self.exchange, message.routing_key, message.body,
                    pika.BasicProperties(content_type=message.content_type, message_id=message.message_id,
                                         headers=dict(message.headers), delivery_mode=2, type=message.routing_key))
            # AMQPConnectorException: a broker that takes the connection but never completes the handshake (not an
            # AMQPError); ValueError: pika refuses the URL.
            except (AMQPError, AMQPConnectorException, OSError, ValueError) as exc:
                self.close_quietly()
                raise Unavailable(f"broker publish failed: {exc.__class__.__name__}") from exc

    def close_quietly(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must never mask the original error
            pass
        self._connection = self._channel = None


_publishers: dict[tuple[str, str], object] = {}
_publishers_lock = threading.Lock()
_transports: dict[str, Callable[[str, str], object]] = {}


def register_transport(scheme: str, factory: Callable[[str, str], object]) -> None:
    """Serve ``<scheme>://`` URLs with another publisher, made by ``factory(url, exchange)`` (the local runner's
    in-memory bus registers ``memory``); anything else is AMQP through pika. Publishers an earlier factory made for
    the scheme are forgotten: they were another platform's (a local platform restarted in the same process would
    otherwise publish into the bus of the one before)."""
    with _publishers_lock:
        _transports[scheme] = factory
        for key in [key for key in _publishers if key[0].split(":", 1)[0] == scheme]:
            del _publishers[key]


def publisher_for(amqp_url: str, exchange: str = DEFAULT_EXCHANGE):
    """The process-wide publisher for ``amqp_url`` and ``exchange`` (an object with ``publish(AmqpMessage)``)."""
    with _publishers_lock:
        if (amqp_url, exchange) not in _publishers:
            factory = _transports.get(amqp_url.split(":", 1)[0], Publisher)
            _publishers[(amqp_url, exchange)] = factory(amqp_url, exchange)
        return _publishers[(amqp_url, exchange)]
