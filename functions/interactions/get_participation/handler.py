"""GET interactions.<HOST>/users/{userId}/participations/{eventId}: ``{hasParticipated, hasReviewed}``.
The user and the event must exist (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, participations


@function("interactions-get-participation", http("GET", "/users/{userId}/participations/{eventId}"),
          auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    reviewed = ctx.db[model.REVIEWS].count_documents(
        {"_id": model.pair_id("review", event_id, user_id), "active": True})
    return Response(200, {"hasParticipated": participations.takes_part(ctx, event_id, user_id),
                          "hasReviewed": reviewed == 1})


handle, new = entry_points(main)
