"""GET interactions.<HOST>/events/{eventId}/likes: who likes an event, newest first (``UserInfo`` items);
``totalItems`` is the event's like count. The event must exist and be visible to the caller (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging


@function("interactions-event-likes", http("GET", "/events/{eventId}/likes"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    window = paging.window_of(ctx.http)
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    likes = {"eventId": event_id, "active": True}
    return Response(200, paging.people_page(ctx, model.LIKES, likes, "likedAt", "userId", window))


handle, new = entry_points(main)
