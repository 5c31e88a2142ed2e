"""GET interactions.<HOST>/events/{eventId}/participants: who takes part in an event (``UserInfo`` items, newest
first); ``totalItems`` is the participant count the SPA shows. The event must exist and be visible (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging, participations


@function("interactions-event-participants", http("GET", "/events/{eventId}/participants"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    window = paging.window_of(ctx.http)
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    taking_part = {"eventId": event_id, **participations.TAKES_PART}
    return Response(200, paging.people_page(ctx, model.PARTICIPATIONS, taking_part, "createdAt", "userId", window))


handle, new = entry_points(main)
