"""DELETE interactions.<HOST>/events/{eventId}/reviews/{userId}: the author deletes their review while the event
is COMPLETED.

Only the author (403); the event and the user exist (404); the event is COMPLETED (400); the review exists (404).
The review document stays, inactive (it keeps its receipts); the author may review the event again.
"""
from runtime import NotFound, entry_points, function, http

from functions.interactions import mirror, model, reviews


def read_target(event, ctx) -> tuple:
    user_id = reviews.own_review(ctx, "delete")
    reviewed = mirror.require_event(ctx, ctx.http.path_params["eventId"])
    mirror.require_user(ctx, user_id)
    return reviewed, user_id


@function("interactions-delete-review", http("DELETE", "/events/{eventId}/reviews/{userId}"), auth="required",
          body=read_target, indexes=model.INDEXES)
def main(event, ctx):
    reviewed, user_id = ctx.input
    reviews.require_completed(reviewed, "delete a review of")
    review_id = model.pair_id("review", reviewed["_id"], user_id)
    done = ctx.commit(model.REVIEWS, {"_id": review_id, "active": True},
                      {"$set": {"active": False, "removedAt": ctx.now}, "$inc": {"_version": 1}},
                      reply=model.message(200, "Review deleted successfully"))
    if done is None:
        raise NotFound("Review not found")
    return done


handle, new = entry_points(main)
