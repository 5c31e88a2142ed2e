"""Feeds the "popular" ranking: a like (``interactions.like.created``) or a confirmed order
(``payments.order.confirmed``, a participation) adds its time-decayed weight to the event (``ranking.py``); a like
taken back (``interactions.like.deleted``) takes exactly that weight back.

One atomic ``$inc`` per delivery, weighted by when it happened: the CloudEvent's ``time`` for what is added (so a
late delivery counts as of then), the removed like's ``likedAt`` for what is taken back (the time its
``like.created`` was weighted by), so a like and its removal leave the score where it was. The like count never
goes below zero: a removal whose like has not been counted yet (deliveries in another order) answers 409 and the
broker redelivers it. Duplicates are dropped by the ledger, then by the event's receipts. An unknown or deleted
event is acknowledged and ignored (it has nothing to rank).
"""
from datetime import datetime

from runtime import ACCEPTED, BadRequest, Conflict, entry_points, function, on_event

from functions.events import model
from functions.events.ranking import decayed_weight

KINDS = {"interactions.like.created": ("like", "likes"),
         "payments.order.confirmed": ("participation", "participations")}
LIKE_DELETED = "interactions.like.deleted"
RANKED = ["PUBLISHED", "COMPLETED", "CANCELLED"]


@function("events-count-interactions", on_event(*KINDS, LIKE_DELETED), indexes=model.INDEXES,
          single_commit=True)
def main(event, ctx):
    data = event.get_data() or {}
    event_id = data.get("eventId")
    if not event_id:
        raise BadRequest(f"{event.get_type()} needs data.eventId", code="invalid_event")
    if event.get_type() == LIKE_DELETED:
        return take_back_like(ctx, event_id, liked_at(data))
    kind, counter = KINDS[event.get_type()]
    when = event.get_time() or ctx.now
    ctx.commit(model.EVENTS, {"_id": event_id, "status": {"$in": RANKED}},
               {"$inc": {counter: 1, "popularity": decayed_weight(kind, when)}}, reply=ACCEPTED)
    return ACCEPTED


def liked_at(data) -> datetime:
    try:
        moment = datetime.fromisoformat(str(data.get("likedAt")))
    except ValueError:
        raise BadRequest("interactions.like.deleted needs data.likedAt, an ISO date-time", code="invalid_event") \
            from None
    if moment.tzinfo is None:
        raise BadRequest("data.likedAt needs its zone", code="invalid_event")
    return moment


def take_back_like(ctx, event_id: str, when: datetime):
    counted = {"_id": event_id, "status": {"$in": RANKED}, "likes": {"$gte": 1}}
    done = ctx.commit(model.EVENTS, counted, {"$inc": {"likes": -1, "popularity": -decayed_weight("like", when)}},
                      reply=ACCEPTED)
    if done is None and ctx.db[model.EVENTS].count_documents(
            {"_id": event_id, "status": {"$in": RANKED}, "likes": {"$lt": 1}}, limit=1):
        raise Conflict("The like taken back has not been counted yet; retrying.")
    return ACCEPTED


handle, new = entry_points(main)
