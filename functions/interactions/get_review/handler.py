"""GET interactions.<HOST>/users/{userId}/reviews/{eventId}: the user's review of the event (``Review``).
The user and the event must exist (404), and the review (404 "Review not found")."""
from runtime import NotFound, Response, entry_points, function, http

from functions.interactions import mirror, model


@function("interactions-get-review", http("GET", "/users/{userId}/reviews/{eventId}"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    review = ctx.db[model.REVIEWS].find_one({"_id": model.pair_id("review", event_id, user_id), "active": True})
    if review is None:
        raise NotFound("Review not found")
    return Response(200, model.review_view(review))


handle, new = entry_points(main)
