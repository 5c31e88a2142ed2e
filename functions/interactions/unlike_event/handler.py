"""DELETE interactions.<HOST>/events/{eventId}/likes/{userId}: a user takes their like back.

Only for oneself (403). The event and the user must exist (404); a like that is not there is 404 with nothing
written and nothing emitted. The removal emits ``interactions.like.deleted`` with the removed like's ``likedAt``,
so the events group's popularity goes down by exactly what the like added (the reference emitted nothing).
"""
from runtime import Forbidden, NotFound, entry_points, function, http

from functions.interactions import mirror, model
from functions.interactions.relations import Pair, switch


def read_unlike(event, ctx) -> str:
    user_id = ctx.http.path_params["userId"]
    if user_id != ctx.principal.user_id:
        raise Forbidden("You are not allowed to unlike on behalf of another user")
    event_id = mirror.require_event(ctx, ctx.http.path_params["eventId"])["_id"]
    mirror.require_user(ctx, user_id)
    return event_id


@function("interactions-unlike-event", http("DELETE", "/events/{eventId}/likes/{userId}"), auth="required",
          body=read_unlike, emits=["interactions.like.deleted"], indexes=model.INDEXES, single_commit=True)
def main(event, ctx):
    event_id, user_id = ctx.input, ctx.principal.user_id
    pair = Pair(model.LIKES, model.pair_id("like", event_id, user_id))
    done = switch(ctx, pair, False, reply=model.message(200, "Event unliked successfully"),
                  emits=lambda doc, version: [model.like_deleted(doc, version)])
    if done is None:
        raise NotFound("Like not found")
    return done


handle, new = entry_points(main)
