"""A broker that accepts connections but never speaks AMQP (a hung or restarting RabbitMQ) is ``Unavailable``:
the outbox keeps the events for the relay and the invocation answers as committed, not 500."""
import socket
import threading
import time

import pytest

from runtime.broker import CONNECT_TIMEOUT_SECONDS, Publisher
from runtime.envelope import AmqpMessage
from runtime.errors import Unavailable


@pytest.fixture
def silent_broker():
    """A TCP listener that accepts and then says nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/%2F"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    server.close()


def test_a_broker_that_never_completes_the_handshake_is_unavailable_within_the_connect_budget(silent_broker):
    publisher = Publisher(silent_broker, "bench-none")
    started = time.monotonic()

    with pytest.raises(Unavailable):
        publisher.publish(AmqpMessage(routing_key="event.created", body=b"{}", content_type="application/json",
                                      message_id="m1", headers={}))

    assert time.monotonic() - started < CONNECT_TIMEOUT_SECONDS * 2 + 3
