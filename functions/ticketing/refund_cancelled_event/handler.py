"""On ``event.cancelled``: refunds every paid order of the event through Stripe and cancels its tickets.

Idempotent at every step, so the broker may redeliver or retry after a Stripe outage (503): each refund carries
the Stripe idempotency key ``refund-<orderId>``, an order moves COMPLETED → REFUNDED once (with
``payments.order.refunded``), and its tickets are cancelled after that. Orders still waiting for payment have their
session expired and are released (a payment that slips in meanwhile is confirmed, then refunded on the same pass).
"""
from runtime import ACCEPTED, BadRequest, entry_points, function, on_event

from functions.ticketing import model, payments, saga

BATCH = 500


@function("ticketing-refund-cancelled-event", on_event("event.cancelled"), timeout_seconds=60,
          emits=["payments.order.refunded", "payments.order.rejected", "payments.order.confirmed"],
          secrets=["stripe-secret-key"], indexes=model.INDEXES)
def main(event, ctx):
    event_id = (event.get_data() or {}).get("eventId")
    if not event_id:
        raise BadRequest("event.cancelled needs data.eventId", code="invalid_event")
    orders, failures = ctx.db[model.ORDERS], []
    query = {"eventId": event_id, "$or": [{"status": {"$in": ["PENDING", "COMPLETED"]}},
                                          {"status": "REFUNDED", "ticketsCancelled": {"$ne": True}}]}
    for order in list(orders.find(query).limit(BATCH)):
        sub = ctx.scoped(order["_id"])
        try:
            if order["status"] == "PENDING":
                order = release_pending(sub, order)
            if order["status"] == "COMPLETED":
                refund(sub, order)
            if orders.find_one({"_id": order["_id"], "status": "REFUNDED"}):
                cancel_tickets(sub, order["_id"])
        except payments.PaymentProviderError as exc:
            failures.append(exc)
    if failures:
        raise failures[0]  # 503: the broker retries; what is done stays done
    return ACCEPTED


def release_pending(ctx, order: dict) -> dict:
    if order.get("sessionId") and payments.expire_session(ctx.config, order["sessionId"]) is None:
        session = payments.retrieve_session(ctx.config, order["sessionId"])
        if session.get("status") == "complete":
            saga.complete(ctx, order, session, ACCEPTED)
    saga.cancel(ctx, order, "event_cancelled", ACCEPTED)
    return ctx.db[model.ORDERS].find_one({"_id": order["_id"]})


def refund(ctx, order: dict) -> None:
    result = {"id": None}  # free tickets: nothing was paid, nothing to give back at Stripe
    if order.get("paymentIntentId"):
        result = payments.refund(ctx.config, order["paymentIntentId"], f"refund-{order['_id']}",
                                 {"orderId": order["_id"], "reason": "event_cancelled"})
    ctx.commit(model.ORDERS, {"_id": order["_id"], "status": "COMPLETED"},
               {"$set": {"status": "REFUNDED", "refundId": result.get("id"), "refundedAt": ctx.now,
                         "updatedAt": ctx.now}},
               reply=ACCEPTED, emit=[model.order_event("payments.order.refunded", order, amount=order["total"],
                                                       currency=order.get("currency", model.CURRENCY),
                                                       reason="event_cancelled")])


def cancel_tickets(ctx, order_id: str) -> None:
    saga.settle(ctx.db, order_id)  # issue first if the confirmation's settle has not run yet, then cancel
    ctx.db[model.TICKETS].update_many({"orderId": order_id, "status": {"$in": ["ACTIVE", "USED"]}},
                                      {"$set": {"status": "CANCELLED", "cancelledAt": ctx.now,
                                                "cancelReason": "event_cancelled"}})
    ctx.db[model.ORDERS].update_one({"_id": order_id}, {"$set": {"ticketsCancelled": True}})


handle, new = entry_points(main)
