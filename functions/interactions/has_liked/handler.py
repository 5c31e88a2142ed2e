"""GET interactions.<HOST>/users/{userId}/likes/{eventId}: ``{hasLiked}``, asked by every event card of the SPA.
The user and the event must exist (404; a draft is visible to its organizers only)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model


@function("interactions-has-liked", http("GET", "/users/{userId}/likes/{eventId}"), auth="optional",
          indexes=model.INDEXES)
def main(event, ctx):
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    liked = ctx.db[model.LIKES].count_documents({"_id": model.pair_id("like", event_id, user_id), "active": True})
    return Response(200, {"hasLiked": liked == 1})


handle, new = entry_points(main)
