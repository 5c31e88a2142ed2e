"""DELETE ticketing.<HOST>/ticket-types/{ticketTypeId}: the creator removes a ticket type nobody has bought.

A type with sold or reserved units is refused (409): its buyers hold tickets, and cancelling the event is what
refunds them. The document stays as a tombstone (it carries the outbox of ``ticket-type.deleted``); its type name
is freed so the event may get a new one.
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-delete-ticket-type", http("DELETE", "/ticket-types/{ticketTypeId}"), auth="required",
          emits=["ticket-type.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    type_id = ctx.http.path_params["ticketTypeId"]
    types = ctx.db[model.TICKET_TYPES]
    doc = types.find_one({"_id": type_id})
    if doc is None or doc.get("deleted"):
        raise NotFound(f"Ticket type {type_id} not found")
    model.require_creator(mirror.find_event(ctx, doc["eventId"], read_through=False), ctx.principal.user_id)
    update, deleted = model.ticket_type_deletion(doc, ctx.now)
    result = ctx.commit(model.TICKET_TYPES, {"_id": type_id, "sold": 0, "deleted": {"$ne": True}}, update,
                        reply=Response(204), emit=[deleted])
    if result is None:
        raise Conflict("Tickets of this type are sold or reserved; cancel the event to refund them.", code="has_sales")
    return result


handle, new = entry_points(main)
