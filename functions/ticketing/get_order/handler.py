"""GET ticketing.<HOST>/orders/{orderId}: the caller's order with its status and ticket ids."""
from runtime import Forbidden, NotFound, Response, entry_points, function, http

from functions.ticketing import model


@function("ticketing-get-order", http("GET", "/orders/{orderId}"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    order = ctx.db[model.ORDERS].find_one({"_id": ctx.http.path_params["orderId"]})
    if order is None:
        raise NotFound("Order not found")
    if order["userId"] != ctx.principal.user_id:
        raise Forbidden("User is not authorized to access this order")
    return Response(200, model.order_view(order))


handle, new = entry_points(main)
