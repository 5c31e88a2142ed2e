"""GET ticketing.<HOST>/events/{eventId}: ticketing's view of an event (``{id, creatorId, status, date?, title?}``).

From the mirror, read through to the events group when the mirror has not heard of the event yet. Drafts (and
deleted events) answer 404 to everyone but their organizers, as their ticket types do (the reference: 403).
"""
from runtime import NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-get-event", http("GET", "/events/{eventId}"), auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.http.path_params["eventId"]
    viewer = ctx.principal.user_id if ctx.principal else None
    doc = mirror.find_event(ctx, event_id)
    if not model.visible(doc, viewer):
        raise NotFound(f"Event with id {event_id} not found")
    return Response(200, model.event_view(doc))


handle, new = entry_points(main)
