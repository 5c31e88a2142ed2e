"""POST interactions.<HOST>/events/{eventId}/likes: the caller likes an event (``interactions.like.created``).

The liker is the caller (the token); the SPA's ``{userId}`` must agree (403). The event must exist and be
visible (404; a draft to its organizers only), the caller must be a user (404); then a draft is refused (400),
and a like already there is 409 with nothing written and nothing emitted. The like is one document per (event,
user) switched on with a new version (``relations.py``); its event carries that version.
"""
from dataclasses import dataclass
from typing import Any

from runtime import BadRequest, Conflict, Forbidden, entry_points, function, http, parse

from functions.interactions import mirror, model
from functions.interactions.relations import Pair, switch


@dataclass(frozen=True)
class Like:
    event: dict[str, Any]
    liker: dict[str, Any]


def read_like(event, ctx) -> Like:
    sent = parse(model.LikeRequest, event.get_data() if event.get_data() is not None else {})
    if sent.userId is not None and sent.userId != ctx.principal.user_id:
        raise Forbidden("You are not allowed to like on behalf of another user")
    liked = mirror.require_event(ctx, ctx.http.path_params["eventId"])
    return Like(liked, mirror.require_user(ctx, ctx.principal.user_id))


@function("interactions-like-event", http("POST", "/events/{eventId}/likes"), auth="required", body=read_like,
          request=model.LikeRequest,
          emits=["interactions.like.created"], indexes=model.INDEXES, single_commit=True)
def main(event, ctx):
    liked, user_id = ctx.input.event, ctx.principal.user_id
    if liked.get("status") == "DRAFT":
        raise BadRequest("It is not possible to like a draft event")
    pair = Pair(model.LIKES, model.pair_id("like", liked["_id"], user_id),
                {"eventId": liked["_id"], "userId": user_id}, since="likedAt")
    done = switch(ctx, pair, True, reply=model.message(201, "Event liked successfully"),
                  emits=lambda doc, version: [model.like_created(liked, ctx.input.liker, user_id, version)])
    if done is None:
        raise Conflict("Already liked this event")
    return done


handle, new = entry_points(main)
