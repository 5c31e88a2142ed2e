"""``event.deleted`` → the event's ``like``, ``review`` and ``new_event`` notifications go, and a tombstone keeps
late likes, reviews or a redelivered publication of it from storing them again."""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model


@function("notifications-forget-event", on_event("event.deleted"), body=model.needs("eventId"),
          indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.input["eventId"]
    ctx.commit(model.GONE, {"_id": f"event:{event_id}"}, {"$set": {"at": ctx.now}}, upsert=True, reply=ACCEPTED)
    ctx.purge(model.NOTIFICATIONS, {"metadata.eventId": event_id})
    return ACCEPTED


handle, new = entry_points(main)
