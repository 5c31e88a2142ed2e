"""GET events.<HOST>/{eventId}: one event; drafts only to their creator and collaborators (404 to others)."""
from runtime import Response, entry_points, function, http

from functions.events import access, model


@function("events-get-event", http("GET", "/{eventId}"), auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.http.path_params["eventId"]
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    if not model.can_see(doc, ctx.principal.user_id if ctx.principal else None):
        raise access.not_found(event_id)
    return Response(200, model.view(doc))


handle, new = entry_points(main)
