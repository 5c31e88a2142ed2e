"""POST interactions.<HOST>/users/{userId}/following: the caller follows a user (``interactions.follow.created``).

Checks in the reference's order: only for oneself (403), ``{followedId}`` (400), both users exist (404), not
oneself (409 "Cannot follow yourself"); then a follow already there is 409 with nothing written or emitted.
Any role may follow any role. One document per (follower, followed), switched on with a new version.
"""
from dataclasses import dataclass
from typing import Any

from runtime import Conflict, Forbidden, entry_points, function, http, parse

from functions.interactions import mirror, model
from functions.interactions.relations import Pair, switch


@dataclass(frozen=True)
class Follow:
    follower: dict[str, Any]
    followed_id: str


def read_follow(event, ctx) -> Follow:
    if ctx.http.path_params["userId"] != ctx.principal.user_id:
        raise Forbidden("You are not allowed to follow on behalf of another user")
    followed_id = parse(model.FollowRequest, event.get_data()).followedId
    follower = mirror.require_user(ctx, ctx.principal.user_id)
    mirror.require_user(ctx, followed_id)
    if followed_id == follower["_id"]:
        raise Conflict("Cannot follow yourself")
    return Follow(follower, followed_id)


@function("interactions-follow-user", http("POST", "/users/{userId}/following"), auth="required", body=read_follow,
          request=model.FollowRequest,
          emits=["interactions.follow.created"], indexes=model.INDEXES, single_commit=True)
def main(event, ctx):
    follower, followed_id = ctx.input.follower, ctx.input.followed_id
    pair = Pair(model.FOLLOWS, model.pair_id("follow", follower["_id"], followed_id),
                {"followerId": follower["_id"], "followedId": followed_id}, since="followedAt")
    done = switch(ctx, pair, True, reply=model.message(201, "Follow created successfully"),
                  emits=lambda doc, version: [model.follow_created(follower, follower["_id"], followed_id, version)])
    if done is None:
        raise Conflict("Already following this user")
    return done


handle, new = entry_points(main)
