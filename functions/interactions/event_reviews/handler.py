"""GET interactions.<HOST>/events/{eventId}/reviews: an event's reviews, newest first, with the statistics of all
of them (``rating`` 1-5 filters both). The event must exist and be visible (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging, reviews


@function("interactions-event-reviews", http("GET", "/events/{eventId}/reviews"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    query = paging.Query(ctx.http)
    window, rating = query.window(), query.rating()
    query.check()
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    return Response(200, reviews.review_page(ctx, reviews.active({"eventId": event_id}, rating), window))


handle, new = entry_points(main)
