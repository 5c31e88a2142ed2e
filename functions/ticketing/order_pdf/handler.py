"""GET ticketing.<HOST>/orders/{orderId}/pdf: every ticket of the caller's order, one page and QR code each."""
from runtime import Forbidden, NotFound, entry_points, function, http

from functions.ticketing import model, pdf


@function("ticketing-order-pdf", http("GET", "/orders/{orderId}/pdf"), auth="required", requirements=pdf.REQUIREMENTS,
          indexes=model.INDEXES)
def main(event, ctx):
    order_id = ctx.http.path_params["orderId"]
    order = ctx.db[model.ORDERS].find_one({"_id": order_id}, {"userId": 1})
    if order is None:
        raise NotFound("Order not found")
    if order["userId"] != ctx.principal.user_id:
        raise Forbidden("User is not authorized to access this order")
    tickets = list(ctx.db[model.TICKETS].find({"orderId": order_id}).sort([("_id", 1)]))
    if not tickets:
        raise NotFound("This order has no tickets yet (it is not paid).")
    return pdf.response(tickets, ctx.db, ctx.config.public_host, f"order-{order_id}.pdf")


handle, new = entry_points(main)
