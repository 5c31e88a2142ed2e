"""``event.published`` → the last follower's push: the notifications fan-out end to end, against the broker.

The platform is the local runner (``LocalPlatform``, Knative semantics) over RabbitMQ with two Socket.IO replicas
(``python -m realtime`` processes) in a namespace of its own. For each size N (1,000 and 10,000 followers):

- followers are written into the follow mirror (as its events leave it), the organization publishes an event
  (one ``event.published`` CloudEvent on the broker), and the fan-out function walks them in batches of 500:
  insert, then push each new notification through python-socketio's write-only Kombu manager;
- a **spy** queue bound to the Socket.IO fanout exchange (as each replica's own queue is) timestamps every push
  message: "last push through the broker" = the N-th ``new_event`` there;
- **connected clients**: ``BENCH_NOTIFY_SAMPLE`` followers (default 100, spread over the walk order and always
  including the last follower, half on each replica) hold real ``socketio.AsyncClient`` websockets; "last
  follower's push" = when the last follower's client received its ``new_event``. Connecting 10,000 clients on
  2 cores would measure the clients, so the others are not connected: the replicas drop their pushes (no socket
  in the room) after receiving them like any other.

Baseline, same run, same N, first: the broker's own delivery of N messages of a push's size, published with kombu
to a fanout exchange exactly as the manager publishes, consumed by the same kind of spy.

Store: ``BENCH_NOTIFY_STORE=mongomock`` (default) runs the functions on an in-process mongomock, because the wire
stand-in's inserts cost O(collection size) (10,000 notifications alone take minutes there: docs/store.md), which
would measure the stand-in; ``BENCH_NOTIFY_STORE=uri`` uses ``MONGO_URI`` (a real MongoDB). The replicas' presence
always uses ``MONGO_URI``. Everything (exchanges, queues, databases) is removed at the end.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid

import benchlib
from benchlib import ratio, table

SIZES = tuple(int(n) for n in os.environ.get("BENCH_NOTIFY_SIZES", "1000,10000").split(","))
SAMPLE = benchlib.env_int("BENCH_NOTIFY_SAMPLE", 100)
STORE = os.environ.get("BENCH_NOTIFY_STORE", "mongomock")
DEADLINE_SECONDS = 600.0


def use_mongomock() -> None:
    """Every in-process function gets one shared mongomock client instead of the wire store."""
    import mongomock

    import runtime.store

    client = mongomock.MongoClient(tz_aware=True)
    runtime.store.mongo_client = lambda uri: client


class Spy(threading.Thread):
    """A queue bound to a fanout exchange; the arrival time of every message whose Socket.IO event is ``name``."""

    def __init__(self, exchange: str, name: str = "new_event"):
        super().__init__(daemon=True, name=f"spy-{exchange}")
        self.exchange, self.name = exchange, name
        self.times: list[float] = []
        self.ready, self.stopping = threading.Event(), threading.Event()

    def run(self):
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(benchlib.amqp_url()))
        try:
            channel = connection.channel()
            channel.exchange_declare(self.exchange, exchange_type="fanout", durable=False)
            queue = channel.queue_declare("", exclusive=True).method.queue
            channel.queue_bind(queue, self.exchange)
            self.ready.set()
            for method, _, body in channel.consume(queue, auto_ack=True, inactivity_timeout=0.1):
                if self.stopping.is_set():
                    break
                if method is not None and json.loads(body).get("event") == self.name:
                    self.times.append(time.perf_counter())
        finally:
            connection.close()

    def begin(self) -> Spy:
        self.start()
        if not self.ready.wait(10):
            raise RuntimeError("spy did not start")
        return self

    def wait_for(self, count: int, timeout: float = DEADLINE_SECONDS) -> float | None:
        deadline = time.monotonic() + timeout
        while len(self.times) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stopping.set()
        return self.times[count - 1] if len(self.times) >= count else None


def broker_baseline(count: int, size: int) -> float:
    """Seconds from the first publish to the ``count``-th receipt: kombu publishes to a fanout exchange (as the
    write-only manager does), a spy consumes."""
    import kombu

    exchange_name = f"bench-notify-base-{uuid.uuid4().hex[:8]}"
    spy = Spy(exchange_name).begin()
    body = json.dumps({"method": "emit", "event": "new_event", "data": ["x" * size], "room": "user:x"})
    exchange = kombu.Exchange(exchange_name, type="fanout", durable=False)
    with kombu.Connection(benchlib.amqp_url()) as connection:
        producer = connection.Producer(exchange=exchange, auto_declare=False)
        start = time.perf_counter()
        for _ in range(count):
            producer.publish(body)
        last = spy.wait_for(count, timeout=120)
        exchange(connection.default_channel).delete()
    return (last - start) if last else float("nan")


class Clients:
    """Real Socket.IO clients on an event loop of their own; the arrival time of each one's first ``new_event``."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.clients, self.received = [], {}

    def connect(self, url: str, user_id: str, token: str) -> None:
        import socketio

        client = socketio.AsyncClient(reconnection=False)
        client.on("new_event", lambda data=None: self.received.setdefault(user_id, time.perf_counter()))
        asyncio.run_coroutine_threadsafe(client.connect(url, auth={"token": token}, transports=["websocket"]),
                                         self.loop).result(30)
        self.clients.append(client)

    def close(self) -> None:
        for client in self.clients:
            try:
                asyncio.run_coroutine_threadsafe(client.disconnect(), self.loop).result(10)
            except Exception:  # noqa: BLE001
                pass
        self.clients = []
        self.loop.call_soon_threadsafe(self.loop.stop)


def seed(db, organization: str, count: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    followers = [f"{prefix}-{i:06d}" for i in range(count)]
    docs = [{"_id": f"{f} {organization}", "followerId": f, "followedId": organization, "deleted": False, "_seq": 1}
            for f in followers]
    for start in range(0, count, 1000):
        db["follows"].insert_many(docs[start:start + 1000])
    return followers


def one_size(platform, count: int) -> dict[str, float]:
    from runtime import envelope
    from runtime.broker import Publisher
    from runtime.store import mongo_client

    db = mongo_client(benchlib.mongo_uri())[platform.database("notifications")]
    organization = f"org-{uuid.uuid4().hex[:8]}"
    followers = seed(db, organization, count)
    step = max(1, count // SAMPLE)
    sample = sorted({*followers[::step][: SAMPLE - 1], followers[-1]})
    clients = Clients()
    for i, user_id in enumerate(sample):
        clients.connect(platform.realtime.replicas[i % 2].url, user_id, platform.idp.mint({"user_id": user_id}))
    spy = Spy(f"{platform.exchange}.socketio").begin()
    publisher = Publisher(benchlib.amqp_url(), platform.exchange)
    event = envelope.new_event("event.published", "/bench/notify", {
        "eventId": str(uuid.uuid4()), "name": "Bench night", "creatorId": organization,
        "creatorName": "Bench Org", "date": None}, extensions={"sequence": "2"})
    try:
        start = time.perf_counter()
        publisher.publish(envelope.to_amqp(benchlib.signed(platform.signing_keys, event)))
        last_through_broker = spy.wait_for(count)
        deadline = time.monotonic() + 60
        while len(clients.received) < len(sample) and time.monotonic() < deadline:
            time.sleep(0.01)
        stored = db["notifications"].count_documents({"metadata.eventId": event.get_data()["eventId"]})
        received = sorted(clients.received.values())
        return {"followers": count, "stored": stored, "pushes": len(spy.times), "sample": len(sample),
                "sample_received": len(received),
                "first_push": (spy.times[0] - start) if spy.times else float("nan"),
                "last_push_broker": (last_through_broker - start) if last_through_broker else float("nan"),
                "last_follower": (clients.received[followers[-1]] - start) if followers[-1] in clients.received
                else float("nan"),
                "sample_p50": (received[len(received) // 2] - start) if received else float("nan")}
    finally:
        publisher.close_quietly()
        clients.close()


def drop_real(database: str) -> None:
    from pymongo import MongoClient

    client = MongoClient(benchlib.mongo_uri(), serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(database)
    finally:
        client.close()


def main() -> int:
    from localrunner.app import LocalPlatform, Settings, free_port

    if STORE == "mongomock":
        use_mongomock()
    run = benchlib.run_id()
    settings = Settings(platform="knative", namespace=f"bench-notify-{run}", mongo_uri=benchlib.mongo_uri(),
                        amqp_url=benchlib.amqp_url(), port=free_port(), idp_port=free_port(), schedules=False,
                        stripe=False, socket_replicas=2, extra_env={"LOG_LEVEL": "WARNING"})
    print(f"notify fan-out: sizes {', '.join(map(str, SIZES))}, {SAMPLE} connected followers per size, 2 Socket.IO "
          f"replicas, store {STORE}, run {run}, load {os.getloadavg()[0]:.2f}\n")
    rows, ok = [], True
    platform = LocalPlatform(settings).start()
    try:
        for count in SIZES:
            payload = len(json.dumps({"id": str(uuid.uuid4()), "type": "new_event", "metadata": {
                "creatorId": "x" * 36, "eventId": "x" * 36, "eventName": "Bench night", "creatorName": "Bench Org"},
                "read": False, "createdAt": "x" * 24}))
            base = broker_baseline(count, payload)
            result = one_size(platform, count)
            ok = ok and result["stored"] == count and result["pushes"] == count \
                and result["sample_received"] == result["sample"]
            rows.append([f"{count:,}", f"{base:.2f}", f"{result['first_push']:.2f}",
                         f"{result['last_push_broker']:.2f}", f"{result['last_follower']:.2f}",
                         ratio(result["last_follower"], base), f"{result['last_follower'] / count * 1e6:.0f}",
                         f"{result['stored']:,}", f"{result['pushes']:,}",
                         f"{result['sample_received']}/{result['sample']}"])
    finally:
        platform.stop(remove=True)
        if STORE == "mongomock":  # the replicas' presence lives in the real store
            drop_real(platform.database("notifications"))
    print(table(["followers", "broker alone s", "first push s", "last push via broker s", "last follower's push s",
                 "vs broker", "µs/follower", "stored", "pushes", "sample got it"], rows))
    print("\nbroker alone: kombu publish of N push-sized messages to a fanout exchange until a consumer had all N.")
    if not ok:
        print("MISMATCH: a follower was not notified exactly once, or a sample client missed its push")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
