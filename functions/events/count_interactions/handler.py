"""Feeds the "popular" ranking: a like (``interactions.like.created``) or a confirmed order
(``payments.order.confirmed``, a participation) adds its time-decayed weight to the event (``ranking.py``).

One atomic ``$inc`` per delivery, weighted by when it happened (the CloudEvent's ``time``), so a late delivery
counts as of then. Duplicates are dropped by the ledger, then by the event's receipts. An unknown or deleted
event is acknowledged and ignored (it has nothing to rank).
"""
from runtime import ACCEPTED, BadRequest, entry_points, function, on_event

from functions.events import model
from functions.events.ranking import decayed_weight

KINDS = {"interactions.like.created": ("like", "likes"),
         "payments.order.confirmed": ("participation", "participations")}


@function("events-count-interactions", on_event(*KINDS), indexes=model.INDEXES)
def main(event, ctx):
    event_id = (event.get_data() or {}).get("eventId")
    if not event_id:
        raise BadRequest(f"{event.get_type()} needs data.eventId", code="invalid_event")
    kind, counter = KINDS[event.get_type()]
    when = event.get_time() or ctx.now
    ctx.commit(model.EVENTS, {"_id": event_id, "status": {"$in": ["PUBLISHED", "COMPLETED", "CANCELLED"]}},
               {"$inc": {counter: 1, "popularity": decayed_weight(kind, when)}}, reply=ACCEPTED)
    return ACCEPTED


handle, new = entry_points(main)
