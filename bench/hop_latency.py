"""One event hop: broker → function → store + outbox → broker, latency p50/p99 at a fixed event rate.

The function is bench-local (declared below, not under functions/): triggered by ``event.updated``, it commits one
document whose embedded outbox emits ``event.completed`` for the same ``eventId``; the commit's fast path
publishes it with a confirm. It runs as the local runner runs functions: ``localrunner.bus.RabbitBus`` consumes its
queue ``fn.<name>`` on RabbitMQ and hands each message to ``localrunner.platforms.platform("knative").deliver``
(binary CloudEvent into the func-python ASGI entry point → ``runtime.invoke`` with the idempotency ledger).

A sender publishes ``event.updated`` CloudEvents at ``BENCH_HOP_RATE`` per second (default 50) for
``BENCH_HOP_SECONDS`` (default 10), noting each send time under the event's ``eventId``; a tap queue bound to
``event.completed`` notes the receive time. Latency = receive - send (one process, one monotonic clock).

Baseline, same run, same rate, before the function: a plain consumer (ack after a confirmed publish, as the bus)
that republishes each ``event.updated`` as ``event.completed``: the broker's two hops with no platform, no function,
no store. The run has a namespace of its own: exchange ``bench-hop-<run>``, its queues ``bench-hop-<run>.*``,
database ``bench_hop_<run>_events``; all are deleted at the end, and stale ``bench-hop-*`` queues from an
interrupted run are removed first (best effort, via rabbitmqctl when it is on PATH). ``BENCH_HOP_PROCESSES``
(e.g. ``1,2``) adds the function served by that many worker processes (``bench/hop_workers.py``).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time

import benchlib
import hop_workers
from benchlib import percentile, ratio, table

WARMUP_EVENTS = 20
DRAIN_SECONDS = 20.0
STALE_PREFIXES = ("bench-hop-",)  # every queue of a run is <its exchange>.<name>


def configure_environment() -> None:
    """The Knative adapter builds its runtime from the environment: point it at the bench's store and broker."""
    os.environ["MONGO_URI"] = benchlib.mongo_uri()
    os.environ["AMQP_URL"] = benchlib.amqp_url()
    os.environ["LOG_LEVEL"] = "WARNING"
    # the bench's own key: the function verifies every event as a deployed one does (runtime.signing)
    os.environ.setdefault("SECRET_EVENT_SIGNING_KEYS", f"bench:{secrets.token_urlsafe(32)}")


def exchange_of(run: str) -> str:
    """The run's own exchange: its queues, events and database are its own, removed at the end."""
    return f"bench-hop-{run}"


def use_namespace(run: str) -> None:
    os.environ["EVENT_EXCHANGE"] = exchange_of(run)
    os.environ["DATABASE_PREFIX"] = f"bench_hop_{run}_"


def hop_main(event, ctx):
    """Close the event named in the data: one commit, emitting ``event.completed`` through the outbox."""
    from runtime.contract import Response
    from runtime.store import Emit

    event_id = event.get_data()["eventId"]
    return ctx.commit("hops", {"_id": event_id}, {"$set": {"status": "COMPLETED"}}, reply=Response(202),
                      emit=[Emit("event.completed", {"eventId": event_id}, subject=event_id)], upsert=True)


def declare_function(run: str):
    from runtime.contract import function, on_event

    return function("events-bench-hop", on_event("event.updated"), emits=["event.completed"],
                    single_commit=True)(hop_main)


def connect():
    import pika

    return pika.BlockingConnection(pika.URLParameters(benchlib.amqp_url()))


def updated_event(event_id: str):
    """``event.updated`` signed as the events group's producer signs it."""
    from runtime import envelope
    from runtime.signing import KeyRing

    event = envelope.new_event("event.updated", "/bench/hop", {"eventId": event_id, "status": "COMPLETED"})
    return envelope.to_amqp(benchlib.signed(KeyRing.parse(os.environ["SECRET_EVENT_SIGNING_KEYS"]), event))


def event_id_of(body: bytes) -> str:
    return json.loads(body)["data"]["eventId"]


class ConsumerThread(threading.Thread):
    """A queue of its own bound to ``routing_key`` on the exchange, consumed on its own connection until stopped.
    The queue is auto-deleted when the consumer goes, so a crash leaves nothing behind."""

    def __init__(self, exchange: str, queue: str, routing_key: str, on_message):
        super().__init__(daemon=True, name=queue)
        self.exchange, self.queue, self.routing_key, self.on_message = exchange, queue, routing_key, on_message
        self.ready, self.stopping = threading.Event(), threading.Event()

    def run(self):
        connection = connect()
        try:
            channel = connection.channel()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            channel.queue_declare(self.queue, auto_delete=True)
            channel.queue_purge(self.queue)
            channel.queue_bind(self.queue, self.exchange, routing_key=self.routing_key)
            channel.basic_qos(prefetch_count=8)
            self.ready.set()
            for method, properties, body in channel.consume(self.queue, inactivity_timeout=0.1):
                if self.stopping.is_set():
                    break
                if method is not None:
                    self.on_message(properties, body)
                    channel.basic_ack(method.delivery_tag)
            channel.cancel()  # auto-delete removes the queue
        finally:
            connection.close()

    def start_and_wait(self):
        self.start()
        if not self.ready.wait(10):
            raise RuntimeError(f"consumer {self.queue} did not start")
        return self

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


class Tap:
    """Receive times of ``event.completed`` by ``eventId``."""

    def __init__(self, run: str):
        self.received: dict[str, float] = {}
        self.consumer = ConsumerThread(exchange_of(run), f"{exchange_of(run)}.tap", "event.completed", self._on_message)

    def _on_message(self, properties, body):
        self.received[event_id_of(body)] = time.perf_counter()


def relay_consumer(run: str, busy: list[float]) -> ConsumerThread:
    """The baseline: republish each ``event.updated`` as ``event.completed`` (confirmed), then ack; the time each
    message kept the consumer busy is appended to ``busy`` (ms)."""
    from runtime import envelope
    from runtime.broker import Publisher

    publisher = Publisher(benchlib.amqp_url(), exchange_of(run))

    def relay(properties, body):
        start = time.perf_counter()
        event_id = event_id_of(body)
        publisher.publish(envelope.to_amqp(envelope.new_event("event.completed", "/bench/relay",
                                                              {"eventId": event_id}, subject=event_id)))
        busy.append((time.perf_counter() - start) * 1000)

    return ConsumerThread(exchange_of(run), f"{exchange_of(run)}.relay", "event.updated", relay)


def send_paced(run: str, prefix: str, count: int, rate: float, tap: Tap) -> dict[str, float]:
    """Publish ``count`` events at ``rate``/s (confirmed); returns send times by eventId and waits for them at the
    tap (up to DRAIN_SECONDS after the last send)."""
    from runtime.broker import Publisher

    publisher = Publisher(benchlib.amqp_url(), exchange_of(run))
    sent: dict[str, float] = {}
    start = time.perf_counter()
    try:
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event_id = f"{prefix}-{i}"
            message = updated_event(event_id)
            sent[event_id] = time.perf_counter()
            publisher.publish(message)
    finally:
        publisher.close_quietly()
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and not all(e in tap.received for e in sent):
        time.sleep(0.05)
    return sent


def latencies_ms(sent: dict[str, float], tap: Tap) -> tuple[list[float], int]:
    got = [(tap.received[e] - t) * 1000 for e, t in sent.items() if e in tap.received]
    return got, len(sent) - len(got)


def run_phase(name: str, run: str, count: int, rate: float, tap: Tap) -> tuple[list[float], int]:
    """Warm up (unmeasured), then the paced run."""
    send_paced(run, f"{name}-warm-{run}", WARMUP_EVENTS, rate, tap)
    return latencies_ms(send_paced(run, f"{name}-{run}", count, rate, tap), tap)


def delete_queues(names) -> None:
    connection = connect()
    try:
        channel = connection.channel()
        for name in names:
            channel.queue_delete(name)
    finally:
        connection.close()


def delete_exchange(name: str) -> None:
    connection = connect()
    try:
        connection.channel().exchange_delete(name)
    finally:
        connection.close()


def function_queues(spec, bus) -> list[str]:
    name = bus.queue_name(spec)
    return [name, f"{name}.dlq"] + [f"{name}.retry.{delay}ms" for delay in bus.schedule(spec)]


def remove_stale_queues() -> None:
    """Queues an interrupted earlier run left (best effort: needs rabbitmqctl on this host)."""
    if shutil.which("rabbitmqctl") is None:
        return
    try:
        out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return
    stale = [line.strip() for line in out.splitlines() if line.strip().startswith(STALE_PREFIXES)]
    if stale:
        delete_queues(stale)
        print(f"removed {len(stale)} stale bench queues from an earlier run")


def function_phase(run: str, count: int, rate: float, tap: Tap, busy: list[float]):
    """The function behind RabbitBus + Knative delivery; returns (latencies, lost, non-2xx answers). The time each
    delivery took (the function's service time, ms) is appended to ``busy``."""
    from localrunner.bus import RabbitBus
    from localrunner.platforms import platform
    from runtime.broker import publisher_for
    spec = declare_function(run)
    knative = platform("knative")
    failures = []

    def deliver(spec, message):
        start = time.perf_counter()
        status, _, _ = knative.deliver(spec, message)
        busy.append((time.perf_counter() - start) * 1000)
        if not 200 <= status < 300:
            failures.append(status)
        return status

    bus = RabbitBus(benchlib.amqp_url(), exchange_of(run))
    try:
        bus.start([spec], deliver)
        latencies, lost = run_phase("fn", run, count, rate, tap)
    finally:
        bus.stop()
        delete_queues(function_queues(spec, bus))
        publisher_for(benchlib.amqp_url(), exchange_of(run)).close_quietly()
        benchlib.drop_quietly(benchlib.mongo_uri(), f"bench_hop_{run}_events")
    return latencies, lost, failures


def report(results: dict[str, tuple[list[float], int]], busy: dict[str, list[float]]) -> None:
    """Latency table, then the consumers' service time: when latency is far above service time, messages queued
    (the consumer could not keep up at this rate, e.g. because other work took the cores)."""
    base = results["baseline (plain relay)"][0]
    base50, base99 = percentile(base, 50), percentile(base, 99)
    rows = []
    for name, (values, lost) in results.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        rows.append([name, len(values), lost, f"{p50:.2f}", f"{p99:.2f}", f"{max(values):.2f}", ratio(p50, base50),
                     ratio(p99, base99)])
    print(table(["path", "events", "lost", "p50 ms", "p99 ms", "max ms", "p50 vs base", "p99 vs base"], rows))
    print()
    base_busy = percentile(busy["baseline (plain relay)"], 50)
    print(table(["consumer service time per message", "p50 ms", "p99 ms", "p50 vs base"],
                [[name, f"{percentile(values, 50):.2f}", f"{percentile(values, 99):.2f}",
                  ratio(percentile(values, 50), base_busy)] for name, values in busy.items()]))


def main() -> int:
    rate = benchlib.env_float("BENCH_HOP_RATE", 50)
    seconds = benchlib.env_float("BENCH_HOP_SECONDS", 10)
    count = int(rate * seconds)
    processes = [int(n) for n in os.environ.get("BENCH_HOP_PROCESSES", "").split(",") if n.strip()]
    run = benchlib.run_id()
    configure_environment()
    use_namespace(run)
    started = time.monotonic()
    remove_stale_queues()
    print(f"hop latency: {count} events at {rate:g}/s per path, run {run}, broker "
          f"{benchlib.amqp_url().split('@')[-1]}, store {benchlib.mongo_uri().split('?')[0]}\n")
    tap = Tap(run)
    tap.consumer.start_and_wait()
    base, fn = "baseline (plain relay)", "function (bus+knative+ledger+commit+outbox)"
    results, busy = {}, {base: [], fn: []}
    load_before = os.getloadavg()[0]
    try:
        relay = relay_consumer(run, busy[base]).start_and_wait()
        try:
            results[base] = run_phase("base", run, count, rate, tap)
        finally:
            relay.stop()
        latencies, lost, failures = function_phase(run, count, rate, tap, busy[fn])
        results[fn] = (latencies, lost)
        if processes:
            scaled = hop_workers.measure(run, processes, rate, count, benchlib.env_int("BENCH_HOP_BURST", 600), tap)
    finally:
        tap.consumer.stop()
        delete_exchange(exchange_of(run))
    for name in busy:  # drop the warm-up messages
        busy[name] = busy[name][WARMUP_EVENTS:]
    report(results, busy)
    if processes:
        print(f"\nthe function served by worker processes consuming its one queue (bench/hop_workers.py): "
              f"{count} events at {rate:g}/s, then a burst")
        print(table(["served by", "p50 ms", "p99 ms", "lost", "burst events/s", "burst lost", "vs first"], scaled))
    print(f"\n1-minute load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
          f"({os.cpu_count()} cores; other work on the machine shows up as queueing)")
    if failures:
        print(f"\nfunction answered non-2xx {len(failures)} times: {sorted(set(failures))}")
    print(f"took {time.monotonic() - started:.0f} s")
    return 1 if failures or any(lost for _, lost in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
