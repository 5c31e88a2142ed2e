"""GET ticketing.<HOST>/ticket-types/{ticketTypeId}: one ticket type (its event's visibility rules apply)."""
from runtime import NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-get-ticket-type", http("GET", "/ticket-types/{ticketTypeId}"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    type_id = ctx.http.path_params["ticketTypeId"]
    doc = ctx.db[model.TICKET_TYPES].find_one({"_id": type_id, "deleted": {"$ne": True}})
    viewer = ctx.principal.user_id if ctx.principal else None
    if doc is None or not model.visible(mirror.find_event(ctx, doc["eventId"], read_through=False), viewer):
        raise NotFound(f"Ticket type {type_id} not found")
    return Response(200, model.ticket_type_view(doc))


handle, new = entry_points(main)
