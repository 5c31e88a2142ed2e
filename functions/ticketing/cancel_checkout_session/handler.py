"""GET ticketing.<HOST>/checkout-sessions/{sessionId}/cancel: Stripe's cancel link; releases the order, redirects.

The path takes the order id (what we put in the session's cancel URL, known before the session exists) or the
Stripe session id. The order is marked as cancelled by its buyer first, then its open session is expired at Stripe:
if Stripe says it was paid meanwhile, the payment wins and the order is confirmed instead; otherwise the order is
cancelled with the reason ``cancelled_by_user``, whether this link or the ``expired`` webhook that expiring the
session triggers decides it. The answer is a 302 to the order's own cancel URL, a page of the SPA checked at
checkout (never an arbitrary ``redirect_to``: no open redirect), and only while the order is pending: once it is
settled, the link answers 409 ``checkout_settled``.
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http

from functions.ticketing import model, payments, saga


@function("ticketing-cancel-checkout-session", http("GET", "/checkout-sessions/{sessionId}/cancel"),
          state_changing=True, emits=["payments.order.rejected", "payments.order.confirmed"],
          secrets=["stripe-secret-key"], timeout_seconds=20, indexes=model.INDEXES)
def main(event, ctx):
    ref = ctx.http.path_params["sessionId"]
    orders = ctx.db[model.ORDERS]
    order = orders.find_one({"_id": ref}) or orders.find_one({"sessionId": ref})
    if order is None:
        raise NotFound("Checkout session not found")
    if order["status"] != "PENDING":  # the link redirects only while it can still cancel something
        raise Conflict("This checkout is already settled.", code="checkout_settled")
    back = Response(302, None, {"Location": order["cancelUrl"]})
    saga.request_cancellation(ctx.db, order["_id"])
    if order.get("sessionId"):
        try:
            if payments.expire_session(ctx.config, order["sessionId"]) is None:
                session = payments.retrieve_session(ctx.config, order["sessionId"])
                if session.get("status") == "complete":
                    saga.complete(ctx, order, session, back)
                    return back
        except payments.PaymentProviderError:
            ctx.log.warning("cancel link: Stripe unavailable; the sweeper will release the order",
                            fields={"order": order["_id"]})
            return back
    saga.cancel(ctx, order, "cancelled_by_user", back)
    return back


handle, new = entry_points(main)
