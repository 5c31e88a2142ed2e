"""PUT interactions.<HOST>/events/{eventId}/reviews/{userId}: the author edits their review while the event is
COMPLETED (which it stays).

Only the author (403); ``rating`` (1-5) is required, ``title`` and ``comment`` change when sent (the reference
ignored ``title``; an empty ``comment`` removes it); the event and the user exist (404); the event is COMPLETED
(400); the review exists (404). No event is emitted, as the reference; statistics are read from the reviews.
"""
from dataclasses import dataclass
from typing import Any

from runtime import NotFound, entry_points, function, http, parse

from functions.interactions import mirror, model, reviews


@dataclass(frozen=True)
class Change:
    event: dict[str, Any]
    user_id: str
    fields: model.ReviewChange


def read_change(event, ctx) -> Change:
    user_id = reviews.own_review(ctx, "change")
    fields = parse(model.ReviewChange, event.get_data())
    reviews.check_author(fields, user_id)
    reviewed = mirror.require_event(ctx, ctx.http.path_params["eventId"])
    mirror.require_user(ctx, user_id)
    reviews.check_creator(fields, reviewed)
    return Change(reviewed, user_id, fields)


@function("interactions-update-review", http("PUT", "/events/{eventId}/reviews/{userId}"), auth="required",
          body=read_change, request=model.ReviewChange, indexes=model.INDEXES)
def main(event, ctx):
    reviewed, fields = ctx.input.event, ctx.input.fields
    reviews.require_completed(reviewed, "update a review of")
    changes: dict = {"$set": {"rating": fields.rating, "updatedAt": ctx.now}, "$inc": {"_version": 1}}
    if fields.title is not None:
        changes["$set"]["title"] = fields.title
    if "comment" in fields.model_fields_set:
        if fields.comment:
            changes["$set"]["comment"] = fields.comment
        else:
            changes["$unset"] = {"comment": ""}
    review_id = model.pair_id("review", reviewed["_id"], ctx.input.user_id)
    done = ctx.commit(model.REVIEWS, {"_id": review_id, "active": True}, changes,
                      reply=model.message(200, "Review updated successfully"))
    if done is None:
        raise NotFound("Review not found")
    return done


handle, new = entry_points(main)
