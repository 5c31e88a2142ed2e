"""POST interactions.<HOST>/events/{eventId}/reviews: a participant reviews a completed event
(``interactions.review.created``).

The author is the caller; the SPA's ``userId`` must agree (403) and its ``creatorId`` must be the event's (400),
its ``collaboratorsId`` is ignored. Then, in the reference's order: the user exists (404), the event exists (404)
and is COMPLETED (400), the user is neither its creator nor a collaborator (400), took part (404), has not
reviewed it yet (409). Rating 1-5, title 1-200 characters, comment up to 2000. The review keeps the event's
organizers as they are now, so later collaborator changes do not move it.
"""
from dataclasses import dataclass
from typing import Any

from runtime import BadRequest, Conflict, NotFound, entry_points, function, http, parse

from functions.interactions import mirror, model, participations, reviews
from functions.interactions.relations import Pair, switch


@dataclass(frozen=True)
class Review:
    event: dict[str, Any]
    author: dict[str, Any]
    fields: model.NewReview


def read_review(event, ctx) -> Review:
    fields = parse(model.NewReview, event.get_data())
    reviews.check_author(fields, ctx.principal.user_id)
    author = mirror.require_user(ctx, ctx.principal.user_id)
    reviewed = mirror.require_event(ctx, ctx.http.path_params["eventId"])
    reviews.check_creator(fields, reviewed)
    return Review(reviewed, author, fields)


@function("interactions-create-review", http("POST", "/events/{eventId}/reviews"), auth="required",
          body=read_review, request=model.NewReview, emits=["interactions.review.created"], indexes=model.INDEXES)
def main(event, ctx):
    reviewed, author, fields = ctx.input.event, ctx.input.author, ctx.input.fields
    event_id, user_id = reviewed["_id"], author["_id"]
    reviews.require_completed(reviewed, "review")
    if model.is_organizer(reviewed, user_id):
        raise BadRequest("User cannot review their own event")
    if not participations.takes_part(ctx, event_id, user_id):
        raise NotFound(f"User with ID {user_id} has not participated in event {event_id}")
    review = {"eventId": event_id, "userId": user_id, "creatorId": reviewed["creatorId"],
              "collaboratorIds": reviewed.get("collaboratorIds") or [], "rating": fields.rating,
              "title": fields.title, "comment": fields.comment, "updatedAt": ctx.now}
    pair = Pair(model.REVIEWS, model.pair_id("review", event_id, user_id), since="createdAt")
    done = switch(ctx, pair, True, reply=model.message(201, "Review created successfully"), fields=review,
                  emits=lambda doc, version: [model.review_created(review, author, version)])
    if done is None:
        raise Conflict("You have already reviewed this event")
    return done


handle, new = entry_points(main)
