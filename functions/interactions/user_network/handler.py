"""GET interactions.<HOST>/users/{userId}: a user's followers and following together,
``{followers, totalFollowers, following, totalFollowing}`` (``UserInfo`` items, most recent first).

The reference answered every follow at once; ``limit`` (default 20, at most 100) and ``offset`` page both lists
here, and the totals are exact. The user must exist (404).
"""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging


@function("interactions-user-network", http("GET", "/users/{userId}"), indexes=model.INDEXES)
def main(event, ctx):
    window = paging.window_of(ctx.http)
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    followers = paging.people_page(ctx, model.FOLLOWS, {"followedId": user_id, "active": True}, "followedAt",
                                   "followerId", window)
    following = paging.people_page(ctx, model.FOLLOWS, {"followerId": user_id, "active": True}, "followedAt",
                                   "followedId", window)
    return Response(200, {"followers": followers["items"], "totalFollowers": followers["totalItems"],
                          "following": following["items"], "totalFollowing": following["totalItems"]})


handle, new = entry_points(main)
