"""The broker triggers, as the platforms deliver: RabbitMQ for real, or an in-memory bus as the no-install default.

Topology on RabbitMQ, per event-triggered function ``F`` and exchange ``X`` (``eventonight`` unless a namespace
keeps a test or a second deployment apart), declared idempotently at start:

    exchange X (topic) ──type──▶ X.F (quorum, durable; x-delivery-limit as a poison-message guard)
    X.F.retry.<ms> (one per backoff step, x-message-ttl=<ms>) ──expired──▶ X.F
    X.F.dlq (quorum, durable): what failed for good, with the reason in its headers

A delivery is acked only after the function answered: 2xx → ack; a retryable answer (404/409/429/5xx, the
Knative table) → republished to the next retry queue with a confirm, then acked; a final answer (other 4xx) or
the last retry → republished to the DLQ with a confirm, then acked. A crash before the ack redelivers.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from runtime.envelope import AmqpMessage
from runtime.errors import is_retryable_status

log = logging.getLogger("localrunner.bus")

Deliver = Callable[[object, AmqpMessage], int]  # (spec, message) -> HTTP status of the function's answer
DEFAULT_BACKOFF_MS = (1000, 2000, 4000, 8000, 16000)
DELIVERY_LIMIT = 20
PARALLELISM = 4  # concurrent deliveries per function, as the generated Knative Triggers' parallelism annotation


def retry_schedule(backoff_ms: tuple[int, ...], spec, past_leases: bool = True) -> tuple[int, ...]:
    """The delays between ``spec``'s redeliveries: ``backoff_ms``, and for a function with a ledger, doubled on from
    its last step until they outlast the function's lease. A redelivery after a crashed attempt meets its key in
    progress (409) until the lease lapses: it must get to the take-over, not to the dead letters
    (``deploy/knative.py`` gives each Trigger as many retries). ``past_leases=False`` keeps ``backoff_ms`` as is."""
    schedule = list(backoff_ms)
    if past_leases and schedule and getattr(spec, "state_changing", False):
        while sum(schedule) <= spec.lease_seconds * 1000:
            schedule.append(schedule[-1] * 2)
    return tuple(schedule)




class RabbitBus:
    """``parallelism`` consumer threads per function over real RabbitMQ (pika), each reconnecting with backoff.
    Deliveries are therefore not FIFO, as on Knative with parallelism > 1: handlers order by ``sequence``."""

    def __init__(self, amqp_url: str, exchange: str, backoff_ms: tuple[int, ...] = DEFAULT_BACKOFF_MS,
                 prefetch: int = 2, parallelism: int = PARALLELISM, retry_past_leases: bool = True):
        self.amqp_url = amqp_url
        self.exchange = exchange
        self.backoff_ms = tuple(backoff_ms)
        self.retry_past_leases = retry_past_leases
        self.prefetch = prefetch
        self.parallelism = parallelism
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- topology ------------------------------------------------------------------------------------------------
    def _connect(self):
        import pika

        params = pika.URLParameters(self.amqp_url)
        params.heartbeat = 30
        params.connection_attempts = 1
        params.socket_timeout = 3
        return pika.BlockingConnection(params)

    def queue_name(self, spec) -> str:
        return f"{self.exchange}.{spec.name}"

    def schedule(self, spec) -> tuple[int, ...]:
        return retry_schedule(self.backoff_ms, spec, self.retry_past_leases)

    def declare(self, channel, spec) -> None:
        name = self.queue_name(spec)
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.queue_declare(name, durable=True, arguments={
            "x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": f"{name}.dlq"})
        channel.queue_declare(f"{name}.dlq", durable=True, arguments={"x-queue-type": "quorum"})
        for event_type in spec.trigger.types:
            channel.queue_bind(name, self.exchange, routing_key=event_type)
        for delay in self.schedule(spec):
            channel.queue_declare(f"{name}.retry.{delay}ms", durable=True, arguments={
                "x-message-ttl": delay, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": name})

    def delete_all(self, specs, *, exchange: bool = True) -> None:
        """Remove what ``declare`` made for ``specs`` (and the exchanges: the events' and the Socket.IO pushes',
        which whoever pushed last declared): a namespace's topology, gone for good."""
        connection = self._connect()
        try:
            channel = connection.channel()
            for spec in specs:
                name = self.queue_name(spec)
                for queue in (name, f"{name}.dlq", *(f"{name}.retry.{delay}ms" for delay in self.schedule(spec))):
                    channel.queue_delete(queue)
            if exchange:
                channel.exchange_delete(self.exchange)
                channel.exchange_delete(f"{self.exchange}.socketio")
        finally:
            connection.close()

    def declare_all(self, specs) -> None:
        connection = self._connect()
        try:
            channel = connection.channel()
            for spec in specs:
                self.declare(channel, spec)
        finally:
            connection.close()

    # -- consuming -----------------------------------------------------------------------------------------------
    def start(self, specs, deliver: Deliver) -> None:
        self.declare_all(specs)
        for spec in specs:
            for n in range(self.parallelism):
                thread = threading.Thread(target=self._consume_forever, args=(spec, deliver), daemon=True,
                                          name=f"consume-{spec.name}-{n}")
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _consume_forever(self, spec, deliver: Deliver) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                connection = self._connect()
                attempt = 0
                try:
                    channel = connection.channel()
                    channel.confirm_delivery()
                    channel.basic_qos(prefetch_count=self.prefetch)
                    for method, properties, body in channel.consume(self.queue_name(spec), inactivity_timeout=0.2):
                        if self._stop.is_set():
                            break
                        if method is None:
                            continue
                        self._handle(channel, spec, deliver, method, properties, body)
                finally:
                    if connection.is_open:
                        connection.close()
            except Exception as exc:  # noqa: BLE001 - broker gone: reconnect with backoff, the message is requeued
                if self._stop.is_set():
                    return
                delay = min(5.0, 0.2 * (2 ** attempt))
                attempt += 1
                log.warning("consumer %s reconnecting in %.1fs: %r", spec.name, delay, exc, exc_info=True)
                self._stop.wait(delay)

    def _handle(self, channel, spec, deliver: Deliver, method, properties, body: bytes) -> None:
        import pika

        headers = dict(properties.headers or {})
        message = AmqpMessage(routing_key=headers.get("x-original-routing-key", method.routing_key), body=body,
                              content_type=properties.content_type or "", message_id=properties.message_id or "",
                              headers={k: v for k, v in headers.items() if k.startswith("ce-")})
        try:
            status = deliver(spec, message)
        except Exception:  # noqa: BLE001 - a crashing delivery is a 500: retried like one
            log.exception("delivery to %s crashed", spec.name)
            status = 500
        if 200 <= status < 300:
            channel.basic_ack(method.delivery_tag)
            return
        retries = int(headers.get("x-retries", 0))
        name = self.queue_name(spec)
        out_headers = {**headers, "x-original-routing-key": message.routing_key, "x-last-status": status}
        schedule = self.schedule(spec)
        if is_retryable_status(status) and retries < len(schedule):
            target = f"{name}.retry.{schedule[retries]}ms"
            out_headers["x-retries"] = retries + 1
        else:
            target = f"{name}.dlq"
            out_headers.update({"ce-knativeerrordest": name, "ce-knativeerrorcode": str(status)})
        channel.basic_publish("", target, body, pika.BasicProperties(
            content_type=properties.content_type, message_id=properties.message_id, headers=out_headers,
            delivery_mode=2))  # confirmed (confirm_delivery) before the ack below
        channel.basic_ack(method.delivery_tag)

    def purge(self, spec) -> None:
        """Drop whatever waits for ``spec`` (its queue and dead letters): a clean start for tests and demos."""
        connection = self._connect()
        try:
            channel = connection.channel()
            for name in (self.queue_name(spec), f"{self.queue_name(spec)}.dlq"):
                channel.queue_purge(name)
        finally:
            connection.close()

    def depth(self, queue_name: str) -> int:
        """How many messages wait in ``queue_name`` (ready, not being handled)."""
        connection = self._connect()
        try:
            return connection.channel().queue_declare(queue_name, passive=True).method.message_count
        finally:
            connection.close()

    def depths(self, queue_names) -> dict[str, int | None]:
        """``depth`` of each queue over one connection; ``None`` for a queue that is not declared (the broker
        closes the channel of a passive declare that misses, so each miss costs a new channel)."""
        import pika.exceptions

        connection = self._connect()
        found: dict[str, int | None] = {}
        try:
            channel = connection.channel()
            for name in queue_names:
                try:
                    found[name] = channel.queue_declare(name, passive=True).method.message_count
                except pika.exceptions.ChannelClosedByBroker:
                    found[name] = None
                    channel = connection.channel()
        finally:
            connection.close()
        return found

    def replay_dead_letters(self, spec, limit: int | None = None) -> list[str]:
        """Move ``spec``'s dead letters back to its queue with their retry count reset, each confirmed on the queue
        before its dead-letter copy is acked (a replay that dies midway leaves a copy in one place or both, never
        none; the function's ledger drops a copy it already handled). Returns the replayed message ids."""
        import pika

        name = self.queue_name(spec)
        connection = self._connect()
        replayed: list[str] = []
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            while limit is None or len(replayed) < limit:
                method, properties, body = channel.basic_get(f"{name}.dlq", auto_ack=False)
                if method is None:
                    break
                headers = {k: v for k, v in (properties.headers or {}).items()
                           if k not in ("x-retries", "x-last-status", "ce-knativeerrordest", "ce-knativeerrorcode")}
                if "x-original-routing-key" not in headers and headers.get("x-death"):  # the delivery limit's
                    headers["x-original-routing-key"] = headers["x-death"][0]["routing-keys"][0]
                channel.basic_publish("", name, body, pika.BasicProperties(
                    content_type=properties.content_type, message_id=properties.message_id, headers=headers,
                    delivery_mode=2))
                channel.basic_ack(method.delivery_tag)
                replayed.append(properties.message_id or "")
        finally:
            connection.close()
        return replayed

    def peek_dead_letters(self, spec, limit: int | None = None) -> list[AmqpMessage]:
        """The first ``limit`` (all when None) of ``spec``'s dead letters, left in place: the whole DLQ is passed
        once, each message copied to its back (confirmed) before the original is acked, so it ends as it began, in
        the same order. Not a requeue (nack): that counts as a delivery, and RabbitMQ 4's quorum queues drop a
        message after 20 of them."""
        import pika

        dlq = f"{self.queue_name(spec)}.dlq"
        connection = self._connect()
        seen: list[AmqpMessage] = []
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            for _ in range(channel.queue_declare(dlq, passive=True).method.message_count):
                method, properties, body = channel.basic_get(dlq, auto_ack=False)
                if method is None:  # replayed meanwhile
                    break
                headers = {k: v for k, v in (properties.headers or {}).items() if k != "x-delivery-count"}
                channel.basic_publish("", dlq, body, pika.BasicProperties(
                    content_type=properties.content_type, message_id=properties.message_id, headers=headers,
                    timestamp=properties.timestamp, delivery_mode=2))
                channel.basic_ack(method.delivery_tag)
                if limit is None or len(seen) < limit:
                    seen.append(AmqpMessage(method.routing_key, body, properties.content_type or "",
                                            properties.message_id or "", headers))
        finally:
            connection.close()
        return seen

    def dead_letters(self, spec) -> list[AmqpMessage]:
        """Drain and return the DLQ (for tests; operators list with ``peek_dead_letters``, which consumes nothing)."""
        connection = self._connect()
        out = []
        try:
            channel = connection.channel()
            while True:
                method, properties, body = channel.basic_get(f"{self.queue_name(spec)}.dlq", auto_ack=True)
                if method is None:
                    return out
                out.append(AmqpMessage(method.routing_key, body, properties.content_type or "",
                                       properties.message_id or "", dict(properties.headers or {})))
        finally:
            connection.close()


class MemoryBus:
    """The in-process stand-in for ``up`` without RabbitMQ: same routing, retry and dead-letter rules, no
    durability (a restart loses what is in flight; use AMQP_URL for anything that matters)."""

    scheme = "memory"

    def __init__(self, backoff_ms: tuple[int, ...] = DEFAULT_BACKOFF_MS, retry_past_leases: bool = True):
        self.backoff_ms = tuple(backoff_ms)
        self.retry_past_leases = retry_past_leases
        self._subscriptions: list[tuple[object, queue.Queue]] = []
        self._dead: dict[str, list[AmqpMessage]] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def publish(self, message: AmqpMessage) -> None:
        for spec, inbox in self._subscriptions:
            if message.routing_key in spec.trigger.types:
                inbox.put((message, 0))

    def start(self, specs, deliver: Deliver) -> None:
        for spec in specs:
            inbox: queue.Queue = queue.Queue()
            self._subscriptions.append((spec, inbox))
            thread = threading.Thread(target=self._consume, args=(spec, inbox, deliver), daemon=True,
                                      name=f"consume-{spec.name}")
            thread.start()
            self._threads.append(thread)

    def _consume(self, spec, inbox: queue.Queue, deliver: Deliver) -> None:
        while not self._stop.is_set():
            try:
                message, retries = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                status = deliver(spec, message)
            except Exception:  # noqa: BLE001
                log.exception("delivery to %s crashed", spec.name)
                status = 500
            if 200 <= status < 300:
                continue
            schedule = retry_schedule(self.backoff_ms, spec, self.retry_past_leases)
            if is_retryable_status(status) and retries < len(schedule):
                timer = threading.Timer(schedule[retries] / 1000, inbox.put, args=((message, retries + 1),))
                timer.daemon = True
                timer.start()
            else:
                self._dead.setdefault(spec.name, []).append(message)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def dead_letters(self, spec) -> list[AmqpMessage]:
        return self._dead.pop(spec.name, [])


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
