"""The platform under test: the local runner over real RabbitMQ and the MongoDB stand-in (or real MongoDB).

Each test module gets a platform of its own, once per emulated platform, in a namespace of its own: its own
exchange, queues and databases, all removed afterwards. So a test counts exactly its own records and events.
"""
from __future__ import annotations

import os
import threading
import uuid

import pytest

from events_support import callers, events_db  # noqa: F401  (fixtures for every test here)
from integration_support import AMQP_URL, Api, broker  # noqa: F401
from localrunner.app import LocalPlatform, Settings, free_port
from ticketing_support import db, member, on_sale, org, people, stripe  # noqa: F401

FAST_BACKOFF_MS = (50, 100, 200)


@pytest.fixture(scope="module", params=["knative", "openfaas"])
def platform(request, mongo_uri):
    """The whole platform for this module (each function behind that platform's entry point); a module may set
    ``PLATFORM_ENV = {...}``: settings its functions get, as an operator would configure them, and
    ``PLATFORM_WORKERS = N``: N competing worker processes instead of the test's own process (except in the
    clock-ahead pass, which moves only this process's clock)."""
    workers = 0 if request.config.getoption("--clock-ahead-days") else getattr(request.module, "PLATFORM_WORKERS", 0)
    settings = Settings(platform=request.param, namespace=f"t{uuid.uuid4().hex[:12]}", mongo_uri=mongo_uri,
                        amqp_url=AMQP_URL, s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL"), port=0,
                        idp_port=free_port(), backoff_ms=FAST_BACKOFF_MS, retry_past_leases=False, relay_seconds=0.5,
                        workers=workers,
                        extra_env=dict(getattr(request.module, "PLATFORM_ENV", {})))
    running = LocalPlatform(settings).start()
    yield running
    running.stop(remove=True)


@pytest.fixture
def group_db(platform, mongo_client):
    """``group_db("events")``: that group's database on this module's platform."""
    return lambda group: mongo_client[platform.database(group)]


@pytest.fixture
def api(platform):
    api = Api(platform)
    yield api
    api.client.close()


class Tap:
    """A private queue bound to some routing keys on ``eventonight``: what actually went over the wire."""

    def __init__(self, exchange, *routing_keys):
        import pika

        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.channel = self.connection.channel()
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        for key in routing_keys:
            self.channel.queue_bind(self.queue, exchange, routing_key=key)
        self.messages = []

    def drain(self, until=lambda messages: False, timeout=10.0):
        """Collect messages until ``until(messages)`` holds or ``timeout`` passes; returns all collected."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(self.messages):
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            self.messages.append((method, properties, body))
        return self.messages

    def settle(self):
        """Collect what is queued now. Functions publish before they answer (the outbox's fast path waits for the
        broker's confirm), so once a call has answered, everything it emitted is here: nothing needs waiting for."""
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append((method, properties, body))

    def close(self):
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def tap(platform):
    taps = []

    def make(*routing_keys):
        taps.append(Tap(platform.exchange, *routing_keys))
        return taps[-1]

    yield make
    for t in taps:
        t.close()


@pytest.fixture
def concurrently():
    return run_concurrently


def run_concurrently(n, target):
    """Start ``n`` threads on ``target(i)`` at once; return their results in order."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def work(i):
        barrier.wait()
        results[i] = target(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
