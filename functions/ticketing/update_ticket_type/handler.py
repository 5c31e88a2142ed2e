"""PUT ticketing.<HOST>/ticket-types/{ticketTypeId}: the creator changes price, total quantity, description.

Checkouts change the stock concurrently, so the update is optimistic on the document's version *and* its sold
count (every reservation or release changes it); it is recomputed and retried on a conflict. A total below what is
sold (reserved included) is clamped to it: the type is then sold out, nothing sold is taken back. A new price
applies to later checkouts; reserved orders keep the price they were shown.
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model

ATTEMPTS = 5


@function("ticketing-update-ticket-type", http("PUT", "/ticket-types/{ticketTypeId}"), auth="required",
          emits=["ticket-type.updated"], body=model.TicketTypeChange, indexes=model.INDEXES)
def main(event, ctx):
    fields, type_id = ctx.input, ctx.http.path_params["ticketTypeId"]
    types = ctx.db[model.TICKET_TYPES]
    for _ in range(ATTEMPTS):
        doc = types.find_one({"_id": type_id, "deleted": {"$ne": True}})
        if doc is None:
            raise NotFound(f"Ticket type {type_id} not found")
        model.require_creator(mirror.find_event(ctx, doc["eventId"], read_through=False), ctx.principal.user_id)
        change = {"price": fields.price, "available": max(fields.quantity - doc["sold"], 0),
                  "_version": doc.get("_version", 1) + 1, "updatedAt": ctx.now}
        if fields.description:
            change["description"] = fields.description
        updated = {**doc, **change}
        result = ctx.commit(model.TICKET_TYPES, {"_id": type_id, "_version": doc.get("_version", 1),
                                                 "sold": doc["sold"]}, {"$set": change},
                            reply=Response(200, model.ticket_type_view(updated)),
                            emit=[model.ticket_type_event("ticket-type.updated", updated)])
        if result is not None:
            return result
    raise Conflict("The ticket type is changing too fast (a sale is on); try again.", code="busy",
                   retry_after_seconds=1)


handle, new = entry_points(main)
