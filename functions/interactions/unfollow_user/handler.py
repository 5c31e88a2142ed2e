"""DELETE interactions.<HOST>/users/{userId}/following/{followedId}: the caller stops following a user.

Only for oneself (403); both users exist (404); a follow that is not there is 404 with nothing written or
emitted. Emits ``interactions.follow.deleted`` with the follow's new version.
"""
from runtime import Forbidden, NotFound, entry_points, function, http

from functions.interactions import mirror, model
from functions.interactions.relations import Pair, switch


def read_unfollow(event, ctx) -> str:
    if ctx.http.path_params["userId"] != ctx.principal.user_id:
        raise Forbidden("You are not allowed to unfollow on behalf of another user")
    mirror.require_user(ctx, ctx.principal.user_id)
    return mirror.require_user(ctx, ctx.http.path_params["followedId"])["_id"]


@function("interactions-unfollow-user", http("DELETE", "/users/{userId}/following/{followedId}"), auth="required",
          body=read_unfollow, emits=["interactions.follow.deleted"], indexes=model.INDEXES,
          single_commit=True)
def main(event, ctx):
    pair = Pair(model.FOLLOWS, model.pair_id("follow", ctx.principal.user_id, ctx.input))
    done = switch(ctx, pair, False, reply=model.message(200, "Follow removed successfully"),
                  emits=lambda doc, version: [model.follow_deleted(doc, version)])
    if done is None:
        raise NotFound("Follow relationship not found")
    return done


handle, new = entry_points(main)
