"""POST ticketing.<HOST>/events/{eventId}/ticket-types: the event's creator adds its STANDARD or VIP tickets.

At most one of each per event (a unique index on (eventId, type)). The event is looked up in the mirror and, when
the mirror has not heard of it yet (the SPA creates the event and its ticket types back to back), read through
from the events group with the caller's token.
"""
from runtime import Conflict, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-create-ticket-type", http("POST", "/events/{eventId}/ticket-types"), auth="required",
          emits=["ticket-type.created"], body=model.NewTicketType, indexes=model.INDEXES)
def main(event, ctx):
    fields, event_id = ctx.input, ctx.http.path_params["eventId"]
    event_doc = model.require_creator(mirror.find_event(ctx, event_id), ctx.principal.user_id)
    if event_doc.get("status") in mirror.TERMINAL:
        raise Conflict(f"Event {event_id} is {event_doc['status'].lower()}: it takes no new ticket types.",
                       code="event_closed")
    doc = {"_id": ctx.derived_id("ett"), "eventId": event_id, "type": fields.type,
           "price": fields.price, "currency": model.CURRENCY, "available": fields.quantity, "sold": 0, "holds": [],
           "createdAt": ctx.now, "updatedAt": ctx.now, "_version": 1}
    if fields.description:
        doc["description"] = fields.description
    result = ctx.commit(model.TICKET_TYPES, {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True,
                        reply=Response(201, model.ticket_type_view(doc)),
                        emit=[model.ticket_type_event("ticket-type.created", doc)])
    if result is None:
        raise Conflict(f"Ticket type '{fields.type}' already exists for event '{event_id}'", code="duplicate_type")
    return result


handle, new = entry_points(main)
