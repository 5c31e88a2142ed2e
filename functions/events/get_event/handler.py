"""GET events.<HOST>/{eventId}: one event; drafts only to their creator and collaborators (404 to others)."""
from runtime.contract import Response, function, http
from runtime.errors import NotFound

from functions.events import model


@function("events-get-event", http("GET", "/{eventId}"), auth="optional")
def main(event, ctx):
    event_id = ctx.http.path_params["eventId"]
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    viewer = ctx.principal.user_id if ctx.principal else None
    if doc is None or not model.can_see(doc, viewer):
        raise NotFound(f"Event with id {event_id} not found")
    return Response(200, model.view(doc))


handle, new = main.handle, main.new
