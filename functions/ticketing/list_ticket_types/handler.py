"""GET ticketing.<HOST>/events/{eventId}/ticket-types: an event's ticket types with their stock.

Drafts' ticket types are visible to the event's organizers only (404 to others, as the event itself).
"""
from runtime import NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-list-ticket-types", http("GET", "/events/{eventId}/ticket-types"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.http.path_params["eventId"]
    viewer = ctx.principal.user_id if ctx.principal else None
    if not model.visible(mirror.find_event(ctx, event_id), viewer):
        raise NotFound(f"Event with id {event_id} not found")
    docs = ctx.db[model.TICKET_TYPES].find({"eventId": event_id, "deleted": {"$ne": True}}).sort([("type", 1)])
    return Response(200, [model.ticket_type_view(d) for d in docs])


handle, new = entry_points(main)
