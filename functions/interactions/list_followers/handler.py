"""GET interactions.<HOST>/users/{userId}/followers: who follows a user, most recent first (``UserInfo`` items).
The user must exist (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging


@function("interactions-list-followers", http("GET", "/users/{userId}/followers"), indexes=model.INDEXES)
def main(event, ctx):
    window = paging.window_of(ctx.http)
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    follows = {"followedId": user_id, "active": True}
    return Response(200, paging.people_page(ctx, model.FOLLOWS, follows, "followedAt", "followerId", window))


handle, new = entry_points(main)
