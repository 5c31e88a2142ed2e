"""POST ticketing.<HOST>/webhooks/stripe: Stripe's Checkout events confirm or release orders.

- The signature is verified on the raw body before anything is written (forged, altered or stale deliveries are a
  400 and change nothing).
- The invocation's idempotency key is the Stripe event id, so a retried or replayed delivery answers the stored
  reply without running again.
- Orders only move forward: each transition is conditional on PENDING, so an ``expired`` after ``completed`` (or the
  other way round) and the cancel link or sweeper racing the webhook change nothing once one of them decided.
- A payment that lands on an order already released (it cannot, as sessions are expired before release, but
  Stripe is another system) is refunded at once rather than kept without tickets.
- The reply is quick: a few single-document updates, no call out except that refund.
"""
from runtime import BadRequest, Response, entry_points, function, http

from functions.ticketing import model, payments, saga

PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
RELEASED = {"checkout.session.expired": "session_expired", "checkout.session.async_payment_failed": "payment_failed"}
DEFAULT_TOLERANCE_SECONDS = 300  # Stripe's default: older signatures are replays
TOLERANCE_BOUNDS_SECONDS = (60, 900)  # 0 would switch Stripe's check off; more than 15 minutes invites replays


def verified_event(event, ctx) -> dict:
    import stripe

    signature = ctx.http.header("stripe-signature")
    if not signature:
        raise BadRequest("Missing stripe-signature header", code="missing_signature")
    if not ctx.http.body:
        raise BadRequest("Missing raw body", code="missing_body")
    secret = ctx.config.secret("stripe-webhook-secret").reveal()
    low, high = TOLERANCE_BOUNDS_SECONDS
    tolerance = min(high, max(low, ctx.config.get_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS)))
    try:
        verified = stripe.Webhook.construct_event(ctx.http.body, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise BadRequest(f"The Stripe signature does not verify: {exc.user_message}", code="invalid_signature")
    except ValueError:
        raise BadRequest("The body is not a Stripe event.", code="invalid_json") from None
    data = verified.to_dict()
    if not data.get("id") or not data.get("type"):
        raise BadRequest("The body is not a Stripe event.", code="invalid_event")
    return data


@function("ticketing-stripe-webhook", http("POST", "/webhooks/stripe"),
          emits=["payments.order.confirmed", "payments.order.rejected"],
          secrets=["stripe-webhook-secret", "stripe-secret-key"], body=verified_event,
          idempotency_key=lambda event, ctx: f"stripe:{ctx.input['id']}", indexes=model.INDEXES)
def main(event, ctx):
    kind, session = ctx.input["type"], ctx.input["data"]["object"]
    if kind not in PAID and kind not in RELEASED:
        return Response(200, {"received": False})
    received = Response(200, {"received": True})
    order_id = (session.get("metadata") or {}).get("orderId") or session.get("client_reference_id")
    order = ctx.db[model.ORDERS].find_one({"_id": order_id}) if order_id else None
    if order is None:
        ctx.log.warning("stripe event for an unknown order", fields={"order": order_id, "stripe_event": kind})
        return received
    if kind in PAID:
        if session.get("payment_status") not in ("paid", "no_payment_required"):
            return received  # a delayed payment method: async_payment_succeeded or _failed follows
        mismatch = session_mismatch(order, session)
        if mismatch:
            ctx.log.warning("a paid session does not match the order it names",
                            fields={"order": order["_id"], "session": session.get("id"), "mismatch": mismatch})
            return refuse_mismatch(ctx, order, session, mismatch, received)
        if order["status"] == "PENDING":
            return saga.complete(ctx, order, session, received) or received
        if order["status"] == "CANCELLED" and session.get("payment_intent") and not order.get("lateRefundId"):
            refund_late_payment(ctx, order, session)
        return received
    if order["status"] == "PENDING":
        return saga.cancel(ctx, order, RELEASED[kind], received) or received
    return received


def session_mismatch(order: dict, session: dict) -> str | None:
    """What differs between a paid session and the order it names: the session (ours is recorded on the order), the
    amount or the currency; ``None`` when they agree."""
    if session.get("id") != order.get("sessionId"):
        return "session"
    if session.get("amount_total") != model.minor_units(order["total"]):
        return "amount"
    if str(session.get("currency") or "").upper() != order["currency"]:
        return "currency"
    return None


def refuse_mismatch(ctx, order: dict, session: dict, mismatch: str, received: Response) -> Response:
    """No tickets for a payment the order did not ask for. Another session than the order's: the order is left as
    it is, and the payment refunded unless it is some other order's own (that order's flow settles it). The
    order's own session for another amount or currency: the order cannot be fulfilled by it, so it is cancelled
    (its units released) and the payment refunded."""
    intent = session.get("payment_intent")
    if mismatch == "session":
        if intent and ctx.db[model.ORDERS].count_documents({"sessionId": session.get("id")}, limit=1) == 0:
            payments.refund(ctx.config, intent, f"mismatch-{session.get('id')}",
                            {"orderId": order["_id"], "reason": "session_mismatch"})
        return received
    if intent and not order.get("lateRefundId"):
        refund = payments.refund(ctx.config, intent, f"mismatch-{order['_id']}",
                                 {"orderId": order["_id"], "reason": f"{mismatch}_mismatch"})
        ctx.db[model.ORDERS].update_one({"_id": order["_id"]}, {"$set": {"lateRefundId": refund.get("id") or "refunded",
                                                                        "latePaymentIntentId": intent}})
    if order["status"] == "PENDING":
        return saga.cancel(ctx, order, f"{mismatch}_mismatch", received) or received
    return received


def refund_late_payment(ctx, order: dict, session: dict) -> None:
    refund = payments.refund(ctx.config, session["payment_intent"], f"late-{order['_id']}",
                             {"orderId": order["_id"], "reason": "order_released"})
    ctx.db[model.ORDERS].update_one({"_id": order["_id"]}, {"$set": {"lateRefundId": refund.get("id") or "refunded",
                                                                    "latePaymentIntentId": session["payment_intent"]}})
    ctx.log.warning("payment for a released order refunded", fields={"order": order["_id"]})


handle, new = entry_points(main)
