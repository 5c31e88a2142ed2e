"""The checkout saga under pressure: concurrent buyers, Stripe failing, a process dying between the phases, lost,
replayed, forged, stale and out-of-order webhooks, and refunds when an event is cancelled."""
import time
import uuid

import pytest

from localrunner.bus import wait_until
from ticketing_support import (
    CANCEL_URL,
    add_type,
    checkout,
    on_wire,
    order_status,
    pay_on_hosted_page,
    sent_for,
    stock,
    wait_status,
)

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead


def post_webhook(api, body, signature):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return api.call("POST", "ticketing", "/webhooks/stripe", content=body, headers=headers)


@pytest.fixture
def healthy_stripe(stripe):
    yield stripe
    stripe.fail_creates = 0
    stripe.pause_webhooks(False)


# ---- no oversell --------------------------------------------------------------------------------------------------

def test_concurrent_checkouts_never_oversell_and_released_units_return_to_stock(
        api, platform, db, org, people, on_sale, stripe, concurrently):
    type_id = add_type(api, org, on_sale, quantity=5)["id"]
    buyers = [people("member") for _ in range(16)]

    responses = concurrently(16, lambda i: checkout(api, buyers[i], [type_id] * (1 + i % 2)))

    won = [r.json() for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} == {409} and {r.json()["error"] for r in refused} == {"sold_out"}
    held = sum(stripe.line_items[w["sessionId"]][0]["quantity"] for w in won)
    available, sold, holds = stock(db, type_id)
    assert held == sold <= 5 and available == 5 - held and holds == len(won) and available < 2
    assert db["orders"].count_documents({"eventId": on_sale, "status": "PENDING"}) == len(won)

    for w in won:  # every reservation ends: expired by Stripe, or cancelled by the buyer
        stripe.expire_now(w["sessionId"])
    assert wait_until(lambda: stock(db, type_id) == (5, 0, 0), timeout=20)
    assert all(order_status(db, w["orderId"]) == "CANCELLED" for w in won)


# ---- compensation -------------------------------------------------------------------------------------------------

def test_stripe_failing_in_phase_two_compensates(api, db, org, member, on_sale, healthy_stripe, tap):
    wire = tap("payments.order.rejected")
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    healthy_stripe.fail_creates = True

    response = checkout(api, member, [type_id, type_id])

    assert response.status_code == 503 and response.json()["error"] == "payment_provider_unavailable"
    order = db["orders"].find_one({"userId": member.id})
    assert order["status"] == "CANCELLED" and order["reason"] == "payment_provider_error" and order["settled"]
    assert stock(db, type_id) == (2, 0, 0)
    assert sent_for(wire, "payments.order.rejected", orderId=order["_id"]) == [
        {"orderId": order["_id"], "userId": member.id, "eventId": on_sale, "reason": "payment_provider_error"}]


def test_a_transient_stripe_error_is_retried_with_the_same_idempotency_key(api, db, org, member, on_sale,
                                                                           healthy_stripe):
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    healthy_stripe.fail_creates = 1

    response = checkout(api, member, [type_id])

    assert response.status_code == 201, response.text
    assert stock(db, type_id) == (1, 1, 1)
    assert [p for m, p in healthy_stripe.requests if p == "/v1/checkout/sessions"].count("/v1/checkout/sessions") >= 2


def test_retrying_after_a_crash_resumes_the_same_order_without_reserving_twice(api, db, org, member, on_sale,
                                                                               monkeypatch):
    from functions.ticketing import payments

    type_id = add_type(api, org, on_sale, quantity=3)["id"]
    key = f"checkout-{uuid.uuid4()}"
    monkeypatch.setattr(payments, "create_session", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    assert checkout(api, member, [type_id], key=key).status_code == 500
    monkeypatch.undo()

    response = checkout(api, member, [type_id], key=key)

    assert response.status_code == 201, response.text
    assert stock(db, type_id) == (2, 1, 1) and db["orders"].count_documents({"userId": member.id}) == 1


# ---- webhooks -----------------------------------------------------------------------------------------------------

def test_forged_tampered_stale_and_unsigned_webhooks_are_refused_and_write_nothing(api, db, org, member, on_sale,
                                                                                   stripe):
    type_id = add_type(api, org, on_sale)["id"]
    body = checkout(api, member, [type_id]).json()
    session = dict(stripe.sessions[body["sessionId"]], status="complete", payment_status="paid",
                   payment_intent="pi_forged")
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
             "created": int(time.time()), "data": {"object": session}}

    payload, forged = stripe.signed(event, secret="whsec_not_ours")
    assert post_webhook(api, payload, forged).json()["error"] == "invalid_signature"
    payload, good = stripe.signed(event)
    tampered = payload.replace(b'"pi_forged"', b'"pi_other"')
    assert post_webhook(api, tampered, good).json()["error"] == "invalid_signature"
    _, stale = stripe.signed(event, timestamp=int(time.time()) - 600)
    assert post_webhook(api, payload, stale).json()["error"] == "invalid_signature"
    assert post_webhook(api, payload, None).json()["error"] == "missing_signature"

    # Only this event's own record counts: schedules and other deliveries write ledger records meanwhile.
    assert db["idempotency"].count_documents({"key": f"stripe:{event['id']}"}) == 0
    assert order_status(db, body["orderId"]) == "PENDING" and stock(db, type_id) == (9, 1, 1)


def test_a_replayed_webhook_is_answered_from_the_ledger_and_confirms_once(api, db, org, member, on_sale, stripe, tap):
    wire = tap("payments.order.confirmed")
    type_id = add_type(api, org, on_sale)["id"]
    body = checkout(api, member, [type_id]).json()
    pay_on_hosted_page(body["redirectUrl"])
    assert wait_status(db, body["orderId"], "COMPLETED")
    completed = next(e for e in stripe.events_of("checkout.session.completed")
                     if e["data"]["object"]["id"] == body["sessionId"])
    assert wait_until(lambda: {"event": completed["id"], "type": completed["type"], "attempt": 1, "status": 200}
                      in stripe.deliveries)  # the first delivery was answered (before, a replay is 409 in_progress)

    payload, signature = stripe.signed(completed)  # Stripe re-signs every attempt
    replay = post_webhook(api, payload, signature)

    assert replay.status_code == 200 and replay.json() == {"received": True}
    assert replay.headers.get("idempotent-replayed") == "true"
    stripe.resend(completed["id"])
    assert wait_until(lambda: sum(d["event"] == completed["id"] for d in stripe.deliveries) >= 2, timeout=10)
    assert [c["orderId"] for c in on_wire(wire.settle(), "payments.order.confirmed")] == [body["orderId"]]
    assert db["tickets"].count_documents({"orderId": body["orderId"]}) == 1 and stock(db, type_id) == (9, 1, 0)


def test_out_of_order_webhooks_never_move_an_order_backwards(api, db, org, member, on_sale, stripe):
    type_id = add_type(api, org, on_sale)["id"]
    body = checkout(api, member, [type_id]).json()
    pay_on_hosted_page(body["redirectUrl"])
    assert wait_status(db, body["orderId"], "COMPLETED")
    expired = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.expired",
               "created": int(time.time()) - 3600,
               "data": {"object": dict(stripe.sessions[body["sessionId"]], status="expired", payment_status="unpaid")}}

    response = post_webhook(api, *stripe.signed(expired))

    assert response.status_code == 200 and response.json() == {"received": True}
    assert order_status(db, body["orderId"]) == "COMPLETED" and stock(db, type_id) == (9, 1, 0)
    assert db["tickets"].find_one({"orderId": body["orderId"]})["status"] == "ACTIVE"


def test_a_payment_landing_on_a_released_order_is_refunded(api, db, org, member, on_sale, stripe):
    type_id = add_type(api, org, on_sale)["id"]
    body = checkout(api, member, [type_id]).json()
    api.call("GET", "ticketing", f"/checkout-sessions/{body['orderId']}/cancel", follow_redirects=False)
    assert wait_status(db, body["orderId"], "CANCELLED")
    intent = f"pi_test_{uuid.uuid4().hex}"
    stripe.charges[intent] = {"amount": 2500, "refunded": 0, "currency": "usd"}
    late = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
            "created": int(time.time()), "data": {"object": dict(
                stripe.sessions[body["sessionId"]], status="complete", payment_status="paid", payment_intent=intent)}}

    assert post_webhook(api, *stripe.signed(late)).status_code == 200

    assert order_status(db, body["orderId"]) == "CANCELLED" and stock(db, type_id) == (10, 0, 0)
    assert [r["payment_intent"] for r in stripe.refunds.values()].count(intent) == 1
    assert db["tickets"].count_documents({"orderId": body["orderId"]}) == 0


def test_other_stripe_events_and_unknown_orders_are_acknowledged(api, stripe):
    other = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.created",
             "created": int(time.time()), "data": {"object": {"id": "pi_x", "object": "payment_intent"}}}
    stray = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
             "created": int(time.time()), "data": {"object": {"id": "cs_x", "object": "checkout.session",
                                                             "metadata": {"orderId": "order_nope"},
                                                             "payment_status": "paid"}}}

    assert post_webhook(api, *stripe.signed(other)).json() == {"received": False}
    assert post_webhook(api, *stripe.signed(stray)).json() == {"received": True}


# ---- refunds ------------------------------------------------------------------------------------------------------

def test_cancelling_an_event_refunds_paid_orders_cancels_tickets_and_releases_pending_ones(
        api, broker, db, org, people, on_sale, stripe, tap):
    wire = tap("payments.order.refunded")
    type_id = add_type(api, org, on_sale, price=12.5, quantity=10)["id"]
    buyers = [people("member") for _ in range(3)]
    paid = []
    for buyer in buyers[:2]:
        body = checkout(api, buyer, [type_id, type_id]).json()
        pay_on_hosted_page(body["redirectUrl"])
        paid.append(body)
    pending = checkout(api, buyers[2], [type_id]).json()
    assert all(wait_status(db, p["orderId"], "COMPLETED") for p in paid)

    cancelled = broker.publish("event.cancelled", {"eventId": on_sale}, sequence=2)

    assert all(wait_status(db, p["orderId"], "REFUNDED", timeout=20) for p in paid)
    assert wait_status(db, pending["orderId"], "CANCELLED")
    assert wait_until(lambda: db["tickets"].count_documents({"eventId": on_sale, "status": "CANCELLED"}) == 4)
    intents = {db["orders"].find_one({"_id": p["orderId"]})["paymentIntentId"] for p in paid}
    refunds = [r for r in stripe.refunds.values() if r["payment_intent"] in intents]
    assert sorted(r["amount"] for r in refunds) == [2500, 2500]
    assert stripe.sessions[pending["sessionId"]]["status"] == "expired" and stock(db, type_id) == (6, 4, 0)
    sent = sent_for(wire, "payments.order.refunded", count=2, eventId=on_sale)
    assert sorted((d["orderId"], d["amount"], d["currency"]) for d in sent) == sorted(
        (p["orderId"], 25.0, "USD") for p in paid)

    broker.publish("event.cancelled", {"eventId": on_sale}, sequence=2, event_id=str(uuid.uuid4()))  # again
    assert wait_until(lambda: db["idempotency"].count_documents(
        {"_id": {"$regex": "^ticketing-refund-cancelled-event:"}, "status": "COMPLETED"}) >= 2, timeout=10)
    assert len([r for r in stripe.refunds.values() if r["payment_intent"] in intents]) == 2
    refused = checkout(api, buyers[0], [type_id])
    assert refused.status_code == 400 and refused.json()["error"] == "event_not_on_sale"
    assert cancelled  # the first delivery is what refunded


# ---- races on the decision ----------------------------------------------------------------------------------------

def test_concurrent_retries_with_one_key_create_one_order_and_one_hold(api, db, org, member, on_sale, concurrently):
    type_id = add_type(api, org, on_sale, quantity=5)["id"]
    key = f"checkout-{uuid.uuid4()}"

    responses = concurrently(6, lambda i: checkout(api, member, [type_id, type_id], key=key))

    done = [r for r in responses if r.status_code == 201]
    assert done and {r.json()["orderId"] for r in done} == {done[0].json()["orderId"]}
    assert {r.status_code for r in responses} <= {201, 409}  # 409 in_progress while the first one runs
    assert db["orders"].count_documents({"userId": member.id}) == 1 and stock(db, type_id) == (3, 2, 1)


def test_the_cancel_link_racing_a_payment_never_releases_a_paid_order(api, db, org, member, on_sale, healthy_stripe,
                                                                      concurrently):
    type_id = add_type(api, org, on_sale, quantity=2)["id"]
    body = checkout(api, member, [type_id]).json()
    healthy_stripe.pause_webhooks()
    pay_on_hosted_page(body["redirectUrl"])  # paid at Stripe; our webhook is late

    def act(i):
        if i == 0:
            answer = api.call("GET", "ticketing", f"/checkout-sessions/{body['orderId']}/cancel",
                              follow_redirects=False)
            return answer.status_code, answer.headers.get("location") or answer.json()["error"]
        healthy_stripe.pause_webhooks(False)
        return None

    # Whoever wins: the link saw the order pending (302 back to the SPA; Stripe says paid, so it confirms), or the
    # webhook settled it first and the link, which only acts on pending orders, says so.
    assert concurrently(2, act)[0] in [(302, CANCEL_URL), (409, "checkout_settled")]
    assert wait_status(db, body["orderId"], "COMPLETED")
    assert stock(db, type_id) == (1, 1, 0)
    assert db["tickets"].count_documents({"orderId": body["orderId"], "status": "ACTIVE"}) == 1


def test_free_tickets_skip_stripe_and_are_cancelled_with_the_event(api, broker, db, org, member, on_sale, stripe):
    type_id = add_type(api, org, on_sale, price=0, quantity=3)["id"]
    sessions_before = len(stripe.sessions)

    response = checkout(api, member, [type_id, type_id])

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sessionId"] is None and body["redirectUrl"] == "http://localhost:5173/events/e1"
    assert wait_status(db, body["orderId"], "COMPLETED") and len(stripe.sessions) == sessions_before
    assert stock(db, type_id) == (1, 2, 0)
    assert db["tickets"].count_documents({"orderId": body["orderId"], "status": "ACTIVE"}) == 2
    assert checkout(api, member, [type_id, type_id]).status_code == 409  # only 1 left

    broker.publish("event.cancelled", {"eventId": on_sale}, sequence=2)

    assert wait_status(db, body["orderId"], "REFUNDED")
    assert wait_until(lambda: db["tickets"].count_documents({"orderId": body["orderId"], "status": "CANCELLED"}) == 2)
