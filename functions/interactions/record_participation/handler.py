"""Participations from ticketing: ``payments.order.confirmed`` adds the order to the user's participation in the
event, ``payments.order.refunded`` withdraws it (``participations.py``); the user takes part while an order is left.

Accepted even when the events mirror does not know the event yet (ticketing confirms orders of events on sale
only; the mirror may lag). Orders of a deleted user or event are acknowledged and change nothing. Duplicates and
a refund arriving before its confirmation change nothing either.
"""
from runtime import ACCEPTED, BadRequest, entry_points, function, on_event

from functions.interactions import mirror, model, participations

FIELDS = ("orderId", "userId", "eventId")


def read_order(event, ctx) -> dict[str, str]:
    data = event.get_data() if isinstance(event.get_data(), dict) else {}
    missing = [name for name in FIELDS if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise BadRequest(f"{event.get_type()} needs {', '.join(missing)}", code="invalid_event")
    return {name: data[name] for name in FIELDS}


@function("interactions-record-participation", on_event("payments.order.confirmed", "payments.order.refunded"),
          body=read_order, indexes=model.INDEXES)
def main(event, ctx):
    order = ctx.input
    if mirror.is_deleted_user(ctx, order["userId"]) or mirror.is_deleted_event(ctx, order["eventId"]):
        return ACCEPTED
    if event.get_type() == "payments.order.confirmed":
        participations.confirm(ctx, order["eventId"], order["userId"], order["orderId"], event.get_time() or ctx.now)
    else:
        participations.refund(ctx, order["eventId"], order["userId"], order["orderId"])
    return ACCEPTED


handle, new = entry_points(main)
