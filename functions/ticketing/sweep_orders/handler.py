"""Scheduled: repairs what a crash, a lost webhook or an abandoned checkout left behind.

Each tick (``ctx.now`` is the tick's time, so tests drive the clock):

1. PENDING orders without a session after a grace period (the process died between the saga's phases, or Stripe
   failed and compensation did not finish): cancelled and released.
2. PENDING orders whose session should have expired: Stripe is asked. An open session is expired first, so nobody
   can pay for released tickets; a paid one confirms the order (a lost ``completed`` webhook); an expired one
   releases it, and so does a session Stripe no longer knows (final: nobody can pay it). When Stripe cannot answer,
   the order is looked at again only after ``DEFER`` (it steps aside, so a batch of such orders never hides the
   ones behind it), oldest expiry first.
3. Decided orders not settled yet (crash after the decision): their holds and tickets are settled.
"""
from datetime import timedelta

from runtime import Response, entry_points, every, function

from functions.ticketing import model, payments, saga

DEFAULT_GRACE_SECONDS = 120  # longer than checkout's timeout + lease: phase 2 cannot still be running
SETTLE_AFTER = timedelta(seconds=30)
DEFER = timedelta(minutes=5)  # an order Stripe could not answer about waits this long before it is asked again
BATCH = 100


@function("ticketing-sweep-orders", every("* * * * *"), emits=["payments.order.rejected", "payments.order.confirmed"],
          secrets=["stripe-secret-key"], timeout_seconds=60, indexes=model.INDEXES)
def main(event, ctx):
    orders, now = ctx.db[model.ORDERS], ctx.now
    grace = timedelta(seconds=ctx.config.get_int("CHECKOUT_SESSION_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))
    counts = {"neverCreated": 0, "expired": 0, "confirmed": 0, "settled": 0, "deferred": 0}
    ok = Response(200)

    for order in orders.find({"status": "PENDING", "sessionId": None, "createdAt": {"$lt": now - grace}}).limit(BATCH):
        if saga.cancel(ctx.scoped(order["_id"]), order, "session_never_created", ok) is not None:
            counts["neverCreated"] += 1

    due = {"status": "PENDING", "sessionId": {"$ne": None}, "expiresAt": {"$lt": now},
           "$or": [{"sweepAgainAt": {"$exists": False}}, {"sweepAgainAt": {"$lte": now}}]}
    for order in orders.find(due).sort([("expiresAt", 1), ("_id", 1)]).limit(BATCH):
        sub = ctx.scoped(order["_id"])
        try:
            session = payments.expire_session(ctx.config, order["sessionId"]) or \
                payments.retrieve_session(ctx.config, order["sessionId"])
        except payments.SessionMissing:
            counts["expired"] += saga.cancel(sub, order, "session_missing", ok) is not None
            continue
        except payments.PaymentProviderError:
            orders.update_one({"_id": order["_id"], "status": "PENDING"}, {"$set": {"sweepAgainAt": now + DEFER}})
            counts["deferred"] += 1
            continue
        if session.get("status") == "complete" and session.get("payment_status") in ("paid", "no_payment_required"):
            counts["confirmed"] += saga.complete(sub, order, session, ok) is not None
        elif session.get("status") == "expired":
            counts["expired"] += saga.cancel(sub, order, "session_expired", ok) is not None

    for order in orders.find({"status": {"$ne": "PENDING"}, "settled": False, "updatedAt": {"$lt": now - SETTLE_AFTER}},
                             {"_id": 1}).limit(BATCH):
        saga.settle(ctx.db, order["_id"])
        counts["settled"] += 1
    if any(counts.values()):
        ctx.log.info("orders swept", fields=counts)
    return Response(200, counts)


handle, new = entry_points(main)
