"""DELETE events.<HOST>/{eventId}: the creator removes an event.

A PUBLISHED event is cancelled instead (``event.cancelled``: tickets were on sale); a DRAFT, CANCELLED or
COMPLETED one is deleted (``event.deleted``): it leaves every read at once and its tombstone, which carries the
outbox and the receipt a retry replays, is purged a day later by ``events-complete-events``.
"""
from runtime import Response, entry_points, function, http

from functions.events import access, model

DELETED = {"message": "Event deleted successfully"}


def read_target(event, ctx) -> access.Target:
    event_id = ctx.http.path_params["eventId"]
    access.owned_event(ctx, event_id)
    return access.Target(event_id)


@function("events-delete-event", http("DELETE", "/{eventId}"), auth="required", body=read_target,
          emits=["event.cancelled", "event.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    def plan(doc):
        if doc["status"] == "PUBLISHED":  # on sale: cancelled and kept (its paid tickets are refunded)
            update, kind = {"$set": {"status": "CANCELLED"}, "$inc": {"_version": 1}}, "event.cancelled"
        else:
            update, kind = model.tombstone_update(ctx.now), "event.deleted"
        return update, [model.id_event(kind, {**doc, "_version": doc["_version"] + 1})], Response(200, DELETED)

    return access.change(ctx, ctx.input.event_id, plan)


handle, new = entry_points(main)
