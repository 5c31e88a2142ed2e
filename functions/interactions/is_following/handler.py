"""GET interactions.<HOST>/users/{userId}/following/{followedId}: ``{isFollowing}``. Both users must exist (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model


@function("interactions-is-following", http("GET", "/users/{userId}/following/{followedId}"),
          indexes=model.INDEXES)
def main(event, ctx):
    follower_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    followed_id = mirror.require_user(ctx, ctx.http.path_params["followedId"])["_id"]
    following = ctx.db[model.FOLLOWS].count_documents(
        {"_id": model.pair_id("follow", follower_id, followed_id), "active": True})
    return Response(200, {"isFollowing": following == 1})


handle, new = entry_points(main)
