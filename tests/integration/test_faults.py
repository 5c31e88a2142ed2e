"""Fault injection under steady load (issue 14): three competing worker processes serve every function on a
RabbitMQ node and a MongoDB stand-in of this module's own; buyers, fans and an organization use the platform
through the gateway while one fault strikes mid-load. After each: no lost event, no duplicated effect, no
oversold ticket, no payment without tickets, no order PENDING past the sweeper's horizon, and dead letters are
visible and replayable.

Each test is one scenario (``Scenario``): setup without faults (an organization, its event on sale with fewer
tickets than buyers, fans following it, a thousand followers in the notifications mirror), then the load (buyers
register, follow, like, buy and pay or walk away; the organization publishes a second event, which fans out to
every follower), the fault in its middle, and the checks once the platform has settled.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from pymongo import MongoClient

from events_support import publishable
from fault_rig import Client, Duplicator, PrivateBroker, PrivateStore
from integration_support import Api, Broker
from localrunner.app import LocalPlatform, Settings, free_port
from localrunner.bus import wait_until
from notifications_support import seed_followers
from runtime.contract import EventTrigger
from ticketing_support import CANCEL_URL, SUCCESS_URL, pay_on_hosted_page

pytestmark = pytest.mark.faults

CAPACITY, BUYERS, FANS, MIRRORED_FOLLOWERS = 10, 14, 4, 1000
LOAD_SECONDS = 12.0  # buyers start evenly over this span
SETTLE_SECONDS = 90.0
STORE_PAUSE_SECONDS = 120.0  # at most: the store is resumed once something was dead-lettered


@pytest.fixture(scope="module")
def rig():
    if shutil.which("rabbitmq-server") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs the fault suite: rabbitmq-server is missing")
        pytest.skip("needs rabbitmq-server to run a broker of its own")
    broker, store, platform = PrivateBroker(), PrivateStore(), None
    try:
        broker.start()
        store.start()
        settings = Settings(platform="knative", namespace=f"f{uuid.uuid4().hex[:12]}", mongo_uri=store.uri,
                            amqp_url=broker.url, s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL"), port=0,
                            idp_port=free_port(), backoff_ms=(100, 300), relay_seconds=0.5, tick_seconds=2.0,
                            workers=3, extra_env={"NOTIFICATIONS_FANOUT_BATCH": "50", "STRIPE_MAX_NETWORK_RETRIES": "0",
                                                  "STRIPE_READ_TIMEOUT_SECONDS": "1",
                                                  "CHECKOUT_SESSION_GRACE_SECONDS": "0"})
        platform = LocalPlatform(settings)
        yield Rig(platform.start(), broker, store)
    finally:  # whatever failed to start: a broker node left running would outlive the run
        if platform is not None:
            platform.stop(remove=True)
        store.stop()
        broker.stop()


@dataclass
class Rig:
    platform: LocalPlatform
    broker: PrivateBroker
    store: PrivateStore
    client: MongoClient = None

    def db(self, group):
        """``group``'s database, read with patient defaults (the functions' short timeouts are theirs)."""
        if self.client is None:
            self.client = MongoClient(self.store.plain_uri, tz_aware=True)
        return self.client[self.platform.database(group)]


@dataclass
class Person:
    id: str
    token: str


@dataclass
class Outcome:
    registered: list[Person] = field(default_factory=list)
    follows: set[str] = field(default_factory=set)
    likes: set[str] = field(default_factory=set)
    orders: dict[str, str] = field(default_factory=dict)  # order id -> buyer id
    paid: set[str] = field(default_factory=set)
    sold_out: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Scenario:
    def __init__(self, rig: Rig):
        self.rig, self.api = rig, Api(rig.platform)
        self.client = Client(self.api)
        self.outcome = Outcome()
        self.org = self.register("organization")
        self.event_a = self.publish_event("Warehouse night")
        self.type_id = self.ticket_type(self.event_a)
        self.fans = [self.register("member") for _ in range(FANS)]
        for fan in self.fans:
            assert self.follow(fan).status_code == 201
        notifications = rig.db("notifications")
        assert wait_until(lambda: notifications["follows"].count_documents({"followedId": self.org.id}) == FANS,
                          timeout=30)
        self.mirrored = seed_followers(notifications, self.org.id, MIRRORED_FOLLOWERS)
        self.event_b = None
        self.replayed: list[str] = []

    # -- the SPA's calls, as a patient client makes them ---------------------------------------------------------
    def register(self, role) -> Person:
        name = f"u{uuid.uuid4().hex[:10]}"
        response = self.client.call("POST", "users", "/register", json={
            "username": name, "email": f"{name}@example.org", "password": "passw0rd!", "role": role})
        assert response.status_code == 201, response.text
        return Person(response.json()["id"], response.json()["accessToken"])

    def publish_event(self, title) -> str:
        response = self.client.call("POST", "events", "/", token=self.org.token, json=publishable(title=title))
        assert response.status_code == 201, response.text
        return response.json()["eventId"]

    def ticket_type(self, event_id) -> str:
        created = {}

        def attempt():
            response = self.client.call("POST", "ticketing", f"/events/{event_id}/ticket-types", token=self.org.token,
                                        json={"type": "STANDARD", "price": 20.0, "quantity": CAPACITY})
            created.update(response.json() if response.status_code == 201 else {})
            return response.status_code == 201  # 404 until ticketing's mirror knows the event

        assert wait_until(attempt, timeout=30, interval=0.3)
        return created["id"]

    def follow(self, who: Person):
        return self.client.call("POST", "interactions", f"/users/{who.id}/following", token=who.token,
                                json={"followedId": self.org.id})

    # -- the load ------------------------------------------------------------------------------------------------
    def buyer(self, index: int) -> None:
        me = self.register("member")
        with self.outcome.lock:
            self.outcome.registered.append(me)
        if self.follow(me).status_code == 201:
            with self.outcome.lock:
                self.outcome.follows.add(me.id)
        liked = self.client.call("POST", "interactions", f"/events/{self.event_a}/likes", token=me.token,
                                 json={"userId": me.id})
        if liked.status_code == 201:
            with self.outcome.lock:
                self.outcome.likes.add(me.id)
        response = self.client.call("POST", "ticketing", "/checkout-sessions", token=me.token, json={
            "userId": me.id, "items": [{"ticketTypeId": self.type_id, "attendeeName": "Guest"}],
            "successUrl": SUCCESS_URL, "cancelUrl": CANCEL_URL})
        if response.status_code == 409:
            with self.outcome.lock:
                self.outcome.sold_out += 1
            return
        assert response.status_code == 201, response.text
        body = response.json()
        with self.outcome.lock:
            self.outcome.orders[body["orderId"]] = me.id
        if index % 4 != 3:  # three in four pay; the rest walk away and their sessions expire
            pay_on_hosted_page(body["redirectUrl"])
            with self.outcome.lock:
                self.outcome.paid.add(body["orderId"])

    def run(self, fault) -> None:
        """The load, with ``fault(scenario)`` run once the first third of the buyers has started."""
        errors: list[BaseException] = []

        def guarded(target, *args):
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = []
        for index in range(BUYERS):
            threads.append(threading.Thread(target=guarded, args=(self.buyer, index), daemon=True))
            threads[-1].start()
            if index == BUYERS // 3:
                threads.append(threading.Thread(target=guarded, args=(fault, self), daemon=True))
                threads[-1].start()
                self.event_b = self.publish_event("Rooftop sunrise")  # fans out during the fault
            time.sleep(LOAD_SECONDS / BUYERS)
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        assert self.client.server_errors == []

    # -- after: the platform settled ----------------------------------------------------------------------------
    def settle_and_check(self, expect_dead_letters: bool = False) -> None:
        """Every promise, waited for while replaying dead letters, as an operator would after an incident."""
        rig, out = self.rig, self.outcome
        ticketing, notifications = rig.db("ticketing"), rig.db("notifications")
        for order_id in set(out.orders) - out.paid:  # what Stripe does at the sessions' expiry
            session = ticketing["orders"].find_one({"_id": order_id})["sessionId"]
            rig.platform.stripe.expire_now(session)
        consumers = ("events-mirror-users", "interactions-mirror-users", "chat-mirror-users", "ticketing-mirror-users")
        people = [p.id for p in out.registered]
        for name in consumers:
            group, _ = name.split("-", 1)
            users = rig.db(group)["users"]
            assert self.replaying(lambda: users.count_documents({"_id": {"$in": people}}) == len(people),
                              timeout=SETTLE_SECONDS), f"{name}: a user.created was lost"
        followers = {f.id for f in self.fans} | out.follows
        follows = notifications["notifications"]
        assert self.replaying(lambda: follows.count_documents({"userId": self.org.id, "type": "follow"}) == len(followers),
                          timeout=SETTLE_SECONDS), "follow notifications lost or doubled"
        assert sorted(d["actorId"] for d in follows.find({"userId": self.org.id, "type": "follow"})) == sorted(followers)
        events = rig.db("events")["events"]
        assert self.replaying(lambda: (events.find_one({"_id": self.event_a}) or {}).get("likes", 0) == len(out.likes),
                          timeout=SETTLE_SECONDS), "likes lost or counted twice"
        assert self.replaying(lambda: follows.count_documents({"userId": self.org.id, "type": "like"}) == len(out.likes),
                          timeout=SETTLE_SECONDS)
        fan_out = {"type": "new_event", "metadata.eventId": self.event_b}
        everyone = {f.id for f in self.fans} | set(self.mirrored)
        assert self.replaying(lambda: everyone <= set(follows.distinct("userId", fan_out)), timeout=SETTLE_SECONDS), \
            "a follower missed the new event"
        assert follows.count_documents(fan_out) == len(set(follows.distinct("userId", fan_out)))  # one each
        orders = ticketing["orders"]
        assert self.replaying(lambda: orders.count_documents({"_id": {"$in": list(out.orders)}, "status": "PENDING"}) == 0,
                          timeout=SETTLE_SECONDS), "an order stayed PENDING past its session's expiry"
        assert self.replaying(lambda: orders.count_documents({"_id": {"$in": list(out.orders)}, "settled": {"$ne": True}})
                          == 0, timeout=SETTLE_SECONDS), "a decided order never settled (holds, tickets)"
        assert not ticketing["ticket_types"].find_one({"_id": self.type_id}).get("holds")
        kind = ticketing["ticket_types"].find_one({"_id": self.type_id})
        completed = {o["_id"] for o in orders.find({"eventId": self.event_a, "status": "COMPLETED"})}
        assert kind["sold"] == len(completed) <= CAPACITY and kind["available"] + kind["sold"] == CAPACITY
        assert ticketing["tickets"].count_documents({"eventId": self.event_a}) == len(completed)
        assert completed <= out.paid  # nobody got tickets without paying
        for order_id in out.paid - completed:  # paid after its hold was released: refunded, never kept
            assert self.replaying(lambda: orders.find_one({"_id": order_id})["status"] in ("REFUNDED", "CANCELLED"),
                              timeout=SETTLE_SECONDS)
        assert out.sold_out + len(out.orders) == BUYERS
        assert bool(self.replayed) is expect_dead_letters, self.replayed
        assert self.replay_dead_letters() == []

    def replaying(self, condition, timeout: float) -> bool:
        """``wait_until(condition)``, replaying the dead letters at every look (``self.replayed`` lists them)."""
        return wait_until(lambda: self.replayed.extend(self.replay_dead_letters()) or condition(), timeout=timeout,
                    interval=0.5)

    def replay_dead_letters(self) -> list[str]:
        bus = self.rig.platform.bus
        replayed = []
        for spec in self.rig.platform.specs:
            if isinstance(spec.trigger, EventTrigger):
                replayed += [f"{spec.name}:{i}" for i in bus.replay_dead_letters(spec)]
        return replayed


def test_a_broker_restart_mid_load_loses_nothing(rig):
    def fault(scenario):
        time.sleep(1.0)
        rig.broker.stop_app()
        time.sleep(4.0)
        rig.broker.start_app()

    scenario = Scenario(rig)
    scenario.run(fault)
    scenario.settle_and_check()


def test_every_event_delivered_twice_and_out_of_order_changes_nothing_twice(rig):
    duplicator = Duplicator(rig.broker.url, rig.platform.exchange).start()
    try:
        scenario = Scenario(rig)
        scenario.run(lambda _: None)
        scenario.settle_and_check()
    finally:
        duplicator.stop()
    assert duplicator.copies > 50  # it really doubled the traffic


def test_workers_killed_mid_checkout_and_mid_fan_out_lose_and_double_nothing(rig):
    notifications = rig.db("notifications")["notifications"]

    def fault(scenario):
        rig.platform.pool.workers[0].kill()  # some checkouts are in flight on it
        assert wait_until(lambda: scenario.event_b and notifications.count_documents(
            {"type": "new_event", "metadata.eventId": scenario.event_b}) > 0, timeout=60)
        for worker in rig.platform.pool.workers:  # every replica at once, mid-walk
            worker.kill()

    scenario = Scenario(rig)
    scenario.run(fault)
    scenario.settle_and_check()
    assert all(w.restarts >= 1 for w in rig.platform.pool.workers)


def test_a_paused_store_dead_letters_what_it_could_not_take_and_the_replay_lands_it(rig):
    late = str(uuid.uuid4())

    def fault(scenario):
        rig.store.pause()
        try:
            # another group's producer keeps working: its event meets a store that does not answer
            publisher = Broker(rig.platform.exchange, rig.platform.signing_keys, amqp_url=rig.broker.url)
            publisher.publish("user.created", {
                "id": late, "username": "late", "name": "late", "email": "late@example.org",
                "avatar": "http://media.localhost/users/default.png", "bio": None, "interests": None,
                "language": "en", "role": "member"}, sequence=1)
            publisher.close()
            # Frozen until a 10 s function (chat's or ticketing's users mirror) has gone through its whole retry
            # schedule (delays past its lease, attempts of about 2 s each against the frozen store) and
            # dead-lettered the event; the 30 s functions' retries outlast the outage and land it themselves.
            bus = rig.platform.bus
            mirrors = [rig.platform.spec(name) for name in ("chat-mirror-users", "ticketing-mirror-users")]
            assert wait_until(lambda: any(bus.depth(f"{bus.queue_name(m)}.dlq") for m in mirrors),
                              timeout=STORE_PAUSE_SECONDS, interval=0.5)
        finally:
            rig.store.resume()

    scenario = Scenario(rig)
    scenario.run(fault)
    scenario.outcome.registered.append(Person(late, ""))
    scenario.settle_and_check(expect_dead_letters=True)


def test_a_failing_then_hanging_payment_provider_holds_nothing_for_good(rig):
    def fault(scenario):
        rig.platform.stripe.fail_creates = True
        time.sleep(3.0)
        rig.platform.stripe.fail_creates = 0
        rig.platform.stripe.api_delay_seconds = 2.0  # beyond the functions' 1 s read timeout
        time.sleep(3.0)
        rig.platform.stripe.api_delay_seconds = 0.0

    scenario = Scenario(rig)
    scenario.run(fault)
    scenario.settle_and_check()
