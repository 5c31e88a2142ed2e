"""GET interactions.<HOST>/users/{userId}/likes: the ids of the events a user likes, most recently liked first.
The user must exist (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging


@function("interactions-user-likes", http("GET", "/users/{userId}/likes"), indexes=model.INDEXES)
def main(event, ctx):
    window = paging.window_of(ctx.http)
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    docs, total = paging.find_page(ctx.db[model.LIKES], {"userId": user_id, "active": True},
                                   [("likedAt", -1), ("_id", 1)], window, {"eventId": 1})
    return Response(200, paging.page([d["eventId"] for d in docs], total, window))


handle, new = entry_points(main)
