"""The sweeper: orders a crash, a lost webhook or an abandoned checkout left behind, repaired on the wall
clock's schedule; orders Stripe no longer knows never hide the ones behind them."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from localrunner.bus import wait_until
from ticketing_support import (
    add_type,
    checkout,
    order_status,
    pay_on_hosted_page,
    sent_for,
    stock,
)

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead


def sweep(platform):
    """One sweeper tick, as the platform's scheduler sends it (the wall clock is the sweeper's clock)."""
    status, _, body = platform.tick("ticketing-sweep-orders")
    assert status == 200, body
    return json.loads(body)


def age(db, order_id, **moved_back):
    """The test's own order as the store will hold it later: its ``createdAt``/``expiresAt`` moved into the past
    (schedule ticks carry no authority to move the clock ahead: runtime.invoke TICK_SKEW)."""
    now = datetime.now(timezone.utc)
    db["orders"].update_one({"_id": order_id}, {"$set": {name: now - delta for name, delta in moved_back.items()}})


@pytest.fixture
def healthy_stripe(stripe):
    yield stripe
    stripe.fail_creates = 0
    stripe.pause_webhooks(False)


def test_a_process_killed_between_the_phases_is_repaired_by_the_sweeper(api, platform, db, org, member, on_sale,
                                                                        monkeypatch, tap):
    from functions.ticketing import payments

    wire = tap("payments.order.rejected")
    type_id = add_type(api, org, on_sale, quantity=3)["id"]

    def killed(*args, **kwargs):  # the process dies here: nothing after phase 1 runs, no compensation
        raise RuntimeError("SIGKILL")

    monkeypatch.setattr(payments, "create_session", killed)
    assert checkout(api, member, [type_id, type_id]).status_code == 500
    monkeypatch.undo()
    order = db["orders"].find_one({"userId": member.id})
    assert order["status"] == "PENDING" and order["sessionId"] is None and stock(db, type_id) == (1, 2, 1)

    assert sweep(platform)["neverCreated"] == 0  # within the grace: a checkout may still be running
    assert order_status(db, order["_id"]) == "PENDING"
    age(db, order["_id"], createdAt=timedelta(minutes=3))
    assert sweep(platform)["neverCreated"] == 1

    assert order_status(db, order["_id"]) == "CANCELLED" and stock(db, type_id) == (3, 0, 0)
    assert sent_for(wire, "payments.order.rejected", orderId=order["_id"]) == [
        {"orderId": order["_id"], "userId": member.id, "eventId": on_sale, "reason": "session_never_created"}]


# ---- the sweeper and lost webhooks --------------------------------------------------------------------------------

def test_an_expired_session_is_expired_at_stripe_and_released_by_the_sweeper(api, platform, db, org, member, on_sale,
                                                                             healthy_stripe):
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    body = checkout(api, member, [type_id]).json()
    healthy_stripe.pause_webhooks()  # Stripe's own expiry webhook is late
    age(db, body["orderId"], expiresAt=timedelta(minutes=1))

    assert sweep(platform)["expired"] == 1

    assert healthy_stripe.sessions[body["sessionId"]]["status"] == "expired"  # nobody can pay for released seats
    assert order_status(db, body["orderId"]) == "CANCELLED" and stock(db, type_id) == (2, 0, 0)
    healthy_stripe.pause_webhooks(False)  # the late expired webhook changes nothing
    assert wait_until(lambda: any(d["type"] == "checkout.session.expired" and d["status"] == 200
                                  for d in healthy_stripe.deliveries), timeout=10)
    assert order_status(db, body["orderId"]) == "CANCELLED" and stock(db, type_id) == (2, 0, 0)


def test_a_lost_completed_webhook_is_made_up_for_by_the_sweeper(api, platform, db, org, member, on_sale,
                                                                healthy_stripe):
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    body = checkout(api, member, [type_id]).json()
    healthy_stripe.pause_webhooks()
    pay_on_hosted_page(body["redirectUrl"])
    age(db, body["orderId"], expiresAt=timedelta(minutes=1))

    assert sweep(platform)["confirmed"] == 1

    assert order_status(db, body["orderId"]) == "COMPLETED" and stock(db, type_id) == (1, 1, 0)
    assert db["tickets"].count_documents({"orderId": body["orderId"], "status": "ACTIVE"}) == 1
    healthy_stripe.pause_webhooks(False)
    assert wait_until(lambda: any(d["type"] == "checkout.session.completed" and d["status"] == 200
                                  for d in healthy_stripe.deliveries if d["event"] in healthy_stripe.events
                                  and healthy_stripe.events[d["event"]]["data"]["object"]["id"] == body["sessionId"]),
                      timeout=10)
    assert db["tickets"].count_documents({"orderId": body["orderId"]}) == 1


def test_orders_stripe_no_longer_knows_are_released_and_never_hide_the_ones_behind(api, platform, db, org, member,
                                                                                 on_sale, healthy_stripe):
    """Bug: a missing session was a provider error, deferred on every tick; with a batch of such orders first, the
    orders behind them (live sessions, units held) were never looked at."""
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    live = checkout(api, member, [type_id]).json()
    healthy_stripe.pause_webhooks()
    lost_at = datetime.now(timezone.utc) - timedelta(hours=1)
    db["orders"].insert_many([  # what a crash and a reset test account at Stripe leave: sessions nobody knows
        {"_id": f"order_lost_{i:03d}", "userId": member.id, "eventId": on_sale, "items": [], "tickets": [],
         "total": 10.0, "currency": "USD", "status": "PENDING", "sessionId": f"cs_lost_{i:03d}", "createdAt": lost_at,
         "expiresAt": lost_at + timedelta(seconds=i), "updatedAt": lost_at, "settled": False}
        for i in range(120)])
    age(db, live["orderId"], expiresAt=timedelta(seconds=5))  # due, and behind every lost one

    first, second = sweep(platform), sweep(platform)

    assert (first["expired"], second["expired"], first["deferred"] + second["deferred"]) == (100, 21, 0)
    assert db["orders"].count_documents({"_id": {"$regex": "^order_lost_"}, "status": "CANCELLED",
                                         "reason": "session_missing"}) == 120
    assert order_status(db, live["orderId"]) == "CANCELLED" and stock(db, type_id) == (2, 0, 0)
    assert healthy_stripe.sessions[live["sessionId"]]["status"] == "expired"
